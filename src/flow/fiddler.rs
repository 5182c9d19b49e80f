//! A Fiddler session's own metadata on a flow read from a SAZ archive (or from a HAR converted
//! from one): the `_m.xml` timers and flags kept in [`super::FIDDLER_EXTRA`], and the phases of
//! the session's waterfall. Read-only views for the report, the JSON output and the TUI.

use serde::Serialize;
use serde_json::{Map, Value};

use super::Flow;

/// The metadata of one Fiddler session. Serializes as
/// `{"timers":{…},"flags":{…},"phases":{"dns":23.0,…}}` (phases in milliseconds, known ones only).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Fiddler<'a> {
    /// `SessionTimers` attributes as Fiddler wrote them (`ClientConnected`, `DNSTime`, …).
    pub timers: &'a Map<String, Value>,
    /// `SessionFlag`s (`x-clientip`, `x-processinfo`, `ui-comments`, …).
    pub flags: &'a Map<String, Value>,
    /// The waterfall: see [`Phases`].
    pub phases: Phases,
}

/// The durations of a session's phases in milliseconds, from the flow's timings (which the SAZ
/// reader derives from the timers); `None` when Fiddler did not record the phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Phases {
    /// DNS lookup (`DNSTime`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<f64>,
    /// TCP connect (`TCPConnectTime`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<f64>,
    /// HTTPS handshake (`HTTPSHandshakeTime`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl: Option<f64>,
    /// Request sent: `FiddlerBeginRequest` to `ServerGotRequest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<f64>,
    /// Waiting for the server: `ServerGotRequest` to `ServerBeginResponse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<f64>,
    /// Response received: `ServerBeginResponse` to `ServerDoneResponse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive: Option<f64>,
}

impl Phases {
    /// The phases with their labels, in waterfall order.
    pub fn labelled(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("DNS", self.dns),
            ("TCP connect", self.connect),
            ("HTTPS handshake", self.ssl),
            ("request sent", self.send),
            ("waiting", self.wait),
            ("response received", self.receive),
        ]
    }
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl<'a> Fiddler<'a> {
    /// The metadata of `flow`, when it came from a Fiddler session.
    pub fn of(flow: &'a Flow) -> Option<Self> {
        let meta = flow.extra.get(super::FIDDLER_EXTRA)?.as_object()?;
        let map = |key: &str| meta.get(key).and_then(Value::as_object).unwrap_or(&EMPTY);
        let t = &flow.timings;
        Some(Fiddler {
            timers: map("timers"),
            flags: map("flags"),
            phases: Phases {
                dns: t.dns,
                connect: t.connect,
                ssl: t.ssl,
                send: t.send,
                wait: t.wait,
                receive: t.receive,
            },
        })
    }

    /// A flag's value (names compare case-insensitively, as Fiddler's do).
    pub fn flag(&self, name: &str) -> Option<&'a str> {
        self.flags
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }

    /// The client process from `x-processinfo` (`chrome:4412`): its name and id.
    pub fn process(&self) -> Option<(&'a str, Option<u32>)> {
        let info = self.flag("x-processinfo")?;
        Some(match info.rsplit_once(':') {
            Some((name, pid)) => (name, pid.trim().parse().ok()),
            None => (info, None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing;

    #[test]
    fn metadata_is_read_from_extra_with_process_and_phases() {
        let mut flow = testing::flow(
            0,
            testing::request("GET", "https://login.example/x"),
            testing::response(200, "text/plain", b""),
        );
        assert!(Fiddler::of(&flow).is_none());
        flow.extra.insert(
            crate::flow::FIDDLER_EXTRA.into(),
            serde_json::json!({"timers": {"DNSTime": "23"}, "flags": {"X-ProcessInfo": "chrome:4412"}}),
        );
        flow.timings.dns = Some(23.0);
        let f = Fiddler::of(&flow).unwrap();
        assert_eq!(f.process(), Some(("chrome", Some(4412))));
        assert_eq!(f.timers["DNSTime"], "23");
        assert_eq!(f.phases.labelled()[0], ("DNS", Some(23.0)));
        let json = serde_json::to_value(f).unwrap();
        assert_eq!(json["phases"], serde_json::json!({"dns": 23.0}));
    }
}
