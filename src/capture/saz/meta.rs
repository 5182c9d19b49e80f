//! Session metadata (`_m.xml`): Fiddler's `SessionTimers` and `SessionFlag`s, turned into the
//! flow's start time, timings, addresses and comment, and kept whole on the flow (the
//! [`FIDDLER_EXTRA`] member of its `extra`: `{"timers":{…},"flags":{…}}`, each value as Fiddler
//! wrote it), so nothing is lost on the way to HAR and the views can show them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::capture::har::parse_time;
use crate::flow::{Extra, FIDDLER_EXTRA, Flow, FlowId, Outcome, Request, Timings};

/// The interesting parts of `<Session>`: `SessionTimers` attributes and `SessionFlag`s.
#[derive(Debug, Default)]
pub(super) struct Meta {
    timers: BTreeMap<String, String>,
    flags: Vec<(String, String)>,
}

fn attrs(e: &quick_xml::events::BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = a.key.as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

/// Parses `_m.xml`. No DTD is processed and no entity beyond the five predefined ones is
/// expanded (quick-xml never resolves them without a resolver, and none is given); a DOCTYPE is
/// refused outright since Fiddler never writes one.
pub(super) fn parse_meta(bytes: &[u8]) -> Result<Meta, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut meta = Meta::default();
    let mut saw_session = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "Session" => saw_session = true,
                "SessionTimers" => meta.timers.extend(attrs(&e)?),
                "SessionFlag" => {
                    let a = attrs(&e)?;
                    let get = |k: &str| a.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    if let (Some(n), Some(v)) = (get("N"), get("V")) {
                        meta.flags.push((n, v));
                    }
                }
                _ => {}
            },
            Event::DocType(_) => return Err("a DOCTYPE is not allowed".into()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_session {
        return Err("no <Session> element".into());
    }
    Ok(meta)
}

impl Meta {
    fn time(&self, name: &str) -> Option<SystemTime> {
        // Fiddler writes unset timers as `0001-01-01T00:00:00` (no offset), which does not parse.
        self.timers.get(name).and_then(|t| parse_time(t))
    }

    fn between(&self, from: &str, to: &str) -> Option<f64> {
        let d = self.time(to)?.duration_since(self.time(from)?).ok()?;
        // Whole microseconds (Fiddler's clock has 100 ns ticks), so the milliseconds print short.
        Some(d.as_micros() as f64 / 1000.0)
    }

    /// Fiddler's whole-millisecond phase timers (`DNSTime`, `TCPConnectTime`, …); negative means
    /// not applicable.
    fn millis(&self, name: &str) -> Option<f64> {
        self.timers
            .get(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| *v >= 0.0 && v.is_finite())
    }

    fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn into_flow(self, id: FlowId, request: Request, outcome: Outcome) -> Flow {
        let started_at = self
            .time("ClientBeginRequest")
            .or_else(|| self.time("ClientConnected"))
            .unwrap_or(UNIX_EPOCH);
        let timings = Timings {
            total: self.between("ClientBeginRequest", "ClientDoneResponse"),
            blocked: None,
            dns: self.millis("DNSTime"),
            connect: self.millis("TCPConnectTime"),
            ssl: self.millis("HTTPSHandshakeTime"),
            send: self.between("FiddlerBeginRequest", "ServerGotRequest"),
            wait: self.between("ServerGotRequest", "ServerBeginResponse"),
            receive: self.between("ServerBeginResponse", "ServerDoneResponse"),
        };
        let client_addr = match (self.flag("x-clientip"), self.flag("x-clientport")) {
            (Some(ip), Some(port)) => match (ip.parse::<IpAddr>(), port.parse::<u16>()) {
                (Ok(ip), Ok(port)) => Some(SocketAddr::new(ip, port)),
                _ => None,
            },
            _ => None,
        };
        let server_addr = self.flag("x-hostip").map(String::from);
        let comment = self.flag("ui-comments").map(String::from);
        let mut extra = Extra::new();
        if !self.flags.is_empty() || !self.timers.is_empty() {
            // Kept whole, so a SAZ -> HAR conversion loses none of Fiddler's annotations.
            let strings = |pairs: Vec<(String, String)>| -> Map<String, Value> {
                pairs
                    .into_iter()
                    .map(|(n, v)| (n, Value::String(v)))
                    .collect()
            };
            let mut fiddler = Map::new();
            fiddler.insert(
                "timers".into(),
                Value::Object(strings(self.timers.into_iter().collect())),
            );
            fiddler.insert("flags".into(), Value::Object(strings(self.flags)));
            extra.insert(FIDDLER_EXTRA.into(), Value::Object(fiddler));
        }
        Flow {
            id,
            started_at,
            client_addr,
            server_addr,
            request,
            outcome,
            timings,
            tags: Vec::new(),
            comment,
            marked: false,
            extra,
        }
    }
}
