//! The Detail tab's "Fiddler session" block for a flow read from a SAZ archive: the client
//! process, the phases as a small waterfall of durations, then every `_m.xml` timer and flag as
//! Fiddler wrote them. The session's `ui-comments` flag is the flow's comment (shown above).

use serde_json::Value;

use super::{TextLine, Tone};
use crate::flow::Flow;
use crate::flow::fiddler::Fiddler;

/// Width of the longest bar of the waterfall, in cells.
const BAR_CELLS: usize = 30;

/// Appends the block when `flow` carries Fiddler metadata; nothing otherwise.
pub fn fiddler_lines(out: &mut Vec<TextLine>, flow: &Flow) {
    let Some(f) = Fiddler::of(flow) else {
        return;
    };
    out.push(TextLine::new("", Tone::Normal));
    out.push(TextLine::new("Fiddler session", Tone::Heading));
    if let Some((name, pid)) = f.process() {
        let pid = pid.map_or(String::new(), |p| format!(" (pid {p})"));
        out.push(TextLine::new(
            format!("  {:<20}{name}{pid}", "process"),
            Tone::Normal,
        ));
    }
    let phases = f.phases.labelled();
    let longest = phases
        .iter()
        .filter_map(|(_, v)| *v)
        .fold(0.0_f64, f64::max);
    for (label, v) in phases {
        let line = match v {
            Some(ms) => {
                let cells = if longest > 0.0 {
                    ((ms / longest) * BAR_CELLS as f64).round() as usize
                } else {
                    0
                };
                let cells = if ms > 0.0 { cells.max(1) } else { 0 };
                format!("  {label:<20}{ms:>10.1} ms  {}", "█".repeat(cells))
            }
            None => format!("  {label:<20}{:>10}", "—"),
        };
        out.push(TextLine::new(line, Tone::Normal));
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (heading, map) in [("timers", f.timers), ("flags", f.flags)] {
        if map.is_empty() {
            continue;
        }
        out.push(TextLine::new(format!("  {heading}"), Tone::Dim));
        for (n, v) in map {
            out.push(TextLine::new(
                format!("    {n:<22}{}", text(v)),
                Tone::Normal,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing;

    #[test]
    fn block_shows_process_waterfall_timers_and_flags_only_for_fiddler_flows() {
        let mut flow = testing::flow(
            0,
            testing::request("GET", "https://login.example/x"),
            testing::response(200, "text/plain", b""),
        );
        let mut out = Vec::new();
        fiddler_lines(&mut out, &flow);
        assert!(out.is_empty());
        flow.extra.insert(
            crate::flow::FIDDLER_EXTRA.into(),
            serde_json::json!({
                "timers": {"DNSTime": "23", "ClientConnected": "2020-09-01T13:57:52.211861-06:00"},
                "flags": {"x-processinfo": "chrome:4412", "ui-color": "red"},
            }),
        );
        flow.timings.dns = Some(20.0);
        flow.timings.wait = Some(80.0);
        fiddler_lines(&mut out, &flow);
        let text: Vec<&str> = out.iter().map(|l| l.text.as_str()).collect();
        assert!(text.contains(&"Fiddler session"), "{text:#?}");
        assert!(text.iter().any(|l| l.contains("chrome (pid 4412)")));
        let dns = text
            .iter()
            .find(|l| l.trim_start().starts_with("DNS"))
            .unwrap();
        let wait = text
            .iter()
            .find(|l| l.trim_start().starts_with("waiting"))
            .unwrap();
        assert!(dns.contains("20.0 ms"), "{dns}");
        assert_eq!(dns.matches('█').count(), 8);
        assert_eq!(wait.matches('█').count(), BAR_CELLS);
        assert!(
            text.iter()
                .any(|l| l.contains("ClientConnected") && l.contains("13:57:52.211861"))
        );
        assert!(
            text.iter()
                .any(|l| l.contains("ui-color") && l.contains("red"))
        );
    }
}
