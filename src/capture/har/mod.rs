//! HAR 1.2: the streaming reader (with repair of truncated files), the entry → [`Flow`](crate::flow::Flow)
//! conversion, and the crash-safe writer used for recordings and exports. The flow → entry
//! direction is [`super::har_entry`]; what both directions must agree on (idscope's own field
//! names, the time format, recognising a stored body's encoding) is `har_fields`.
//!
//! The reader never parses the whole document: it walks the top-level structure with the byte
//! scanner, hands each element of `log.entries` to `serde_json` on its own, and converts it with
//! [`har_entry_to_flow`]. It accepts what peers really write (UTF-8 BOM, `[name, value]` header
//! arrays, base64 bodies, missing optional fields, `_`-prefixed custom fields, `-1` timings).
//! The writer emits one compact entry per line with one `write` call each (security.md §3), so a
//! crash leaves a file this reader repairs. This module does not redact and does not decode
//! bodies beyond undoing `content.encoding: "base64"`.
//!
//! `reader` finds the entries, `to_flow` converts each, `writer` writes recordings.

mod reader;
mod to_flow;
mod writer;

pub(crate) use reader::HarReader;
pub use reader::MAX_ENTRY_BYTES;
pub use to_flow::har_entry_to_flow;
pub(crate) use to_flow::parse_time;
pub use writer::HarWriter;

#[cfg(test)]
use super::har_entry::write_entry;
#[cfg(test)]
use super::har_fields::{IDSCOPE_FIELD, INCOMPLETE_FIELD};
#[cfg(test)]
use super::{CaptureError, CaptureErrorKind};
#[cfg(test)]
use crate::flow::{Body, Flow, FlowError, FlowId, Headers, Outcome, Request, Timings};
#[cfg(test)]
use serde_json::{Map, Value};
#[cfg(test)]
use std::io::{self, Write};
#[cfg(test)]
use std::path::{Path, PathBuf};
#[cfg(test)]
use std::time::{Duration, UNIX_EPOCH};

#[cfg(test)]
mod tests {
    use super::super::har_fields::format_time;
    use super::*;
    use crate::capture::{flow_to_har_entry, from_bytes, open, read_all};
    use crate::flow::header;
    use crate::flow::testing;
    use proptest::prelude::*;
    use serde_json::json;

    /// `shared/corpus/har-peers` beside the repository (`/work/main` and worktrees such as
    /// `/work/wt/NAME` sit at different depths, so the nearest ancestor that has it wins).
    pub(crate) fn corpus() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/corpus/har-peers"))
            .find(|p| p.is_dir())
            .expect("shared/corpus/har-peers next to the repository")
    }

    fn read_str(s: &str) -> Result<Vec<Flow>, CaptureError> {
        from_bytes(Path::new("t.har"), s.as_bytes().to_vec())?.collect()
    }

    fn entry(extra: &str) -> String {
        format!(
            r#"{{"startedDateTime":"2024-05-01T10:00:00.5+02:00","time":12,"request":{{"method":"GET","url":"https://idp.example/a","httpVersion":"h3","headers":[]}},"response":{{"status":200,"headers":[]{extra}}}}}"#
        )
    }

    #[test]
    fn every_peer_file_loads_and_the_broken_one_is_refused() {
        let mut count = 0;
        for f in std::fs::read_dir(corpus()).unwrap() {
            let p = f.unwrap().path();
            let res = read_all(&p);
            if p.ends_with("broken-brokenfile.har") {
                let e = res.unwrap_err();
                assert_eq!(e.location().offset, Some(8), "{e}");
                assert!(
                    e.to_string()
                        .contains("broken-brokenfile.har: at byte 8: not a HAR file"),
                    "{e}"
                );
            } else {
                let flows = res.unwrap_or_else(|e| panic!("{e}"));
                assert!(!flows.is_empty(), "{}", p.display());
                count += 1;
            }
        }
        assert_eq!(count, 14);
    }

    #[test]
    fn bom_h3_and_array_headers_are_accepted() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(
            br#"{"log":{"version":"1.2","entries":[{"startedDateTime":"2024-05-01T10:00:00Z","request":{"method":"GET","url":"https://x/","httpVersion":"h3","headers":[["Accept","*/*"],{"name":"X","value":"1"}]},"response":{"status":204,"httpVersion":"","headers":[["Server","s"]]}}]}}"#,
        );
        let flows: Vec<Flow> = from_bytes(Path::new("b.har"), bytes)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let f = &flows[0];
        assert_eq!(f.request.http_version, "h3");
        assert_eq!(f.request.headers, vec![("Accept", "*/*"), ("X", "1")]);
        assert_eq!(f.response().unwrap().headers, vec![("Server", "s")]);
        assert_eq!(f.timings, Timings::default());
    }

    #[test]
    fn started_date_time_with_offset_becomes_utc_system_time() {
        let flows = read_str(&format!(r#"{{"log":{{"entries":[{}]}}}}"#, entry(""))).unwrap();
        // 10:00:00.5+02:00 is 08:00:00.5Z.
        let want = UNIX_EPOCH + Duration::from_millis(1_714_550_400_500);
        assert_eq!(flows[0].started_at, want);
        assert_eq!(flows[0].timings.total, Some(12.0));
        assert_eq!(format_time(want), "2024-05-01T08:00:00.5Z");
    }

    #[test]
    fn base64_content_and_custom_fields_are_kept() {
        let e = entry(
            r#","content":{"text":"aGk=","encoding":"base64"},"_transferSize":9,"comment":"c""#,
        );
        let e = e.replacen(
            "{\"startedDateTime\"",
            "{\"_custom\":[1],\"pageref\":\"p\",\"startedDateTime\"",
            1,
        );
        let flows = read_str(&format!(r#"{{"log":{{"entries":[{e}]}}}}"#)).unwrap();
        let f = &flows[0];
        let r = f.response().unwrap();
        assert_eq!(&r.body.raw[..], b"hi");
        assert_eq!(r.body.encoding, None);
        assert_eq!(r.extra.get("_transferSize"), Some(&json!(9)));
        assert_eq!(r.extra.get("comment"), Some(&json!("c")));
        assert_eq!(f.extra.get("_custom"), Some(&json!([1])));
        assert_eq!(f.extra.get("pageref"), Some(&json!("p")));
    }

    #[test]
    fn mitmproxy_error_entries_become_errors_and_chrome_null_error_is_a_response() {
        let flows = read_all(&corpus().join("mitmproxy-error_log.har")).unwrap();
        let err = flows[0].error().unwrap();
        assert!(err.message.starts_with("Multiple exceptions"));
        assert!(!err.incomplete);
        assert_eq!(flows[1].response().unwrap().status, 405);
        let flows = read_all(&corpus().join("mitmproxy-incomplete_log.har")).unwrap();
        assert!(
            flows
                .iter()
                .all(|f| f.error().is_some_and(|e| e.incomplete))
        );
        let flows = read_all(&corpus().join("postdata.har")).unwrap();
        let r = flows[0].response().unwrap();
        assert_eq!(r.extra.get("_error"), Some(&Value::Null));
        assert!(
            flows[0]
                .request
                .body
                .raw
                .starts_with(b"{\"metadata\":{\"pageViewId\"")
        );
    }

    #[test]
    fn still_gzipped_har_body_keeps_its_encoding_but_decoded_text_does_not() {
        let flows = read_all(&corpus().join("mitmproxy-corrupted_gzip_body.har")).unwrap();
        let body = &flows[0].response().unwrap().body;
        assert_eq!(body.encoding.as_deref(), Some("gzip"));
        assert!(body.raw.starts_with(&[0x1f, 0x8b]));
        let flows = read_all(&corpus().join("safari.har")).unwrap();
        let r = flows[0].response().unwrap();
        assert!(header(&r.headers, "content-encoding").is_some());
        assert_eq!(r.body.encoding, None);
    }

    #[test]
    fn minus_one_timings_are_unknown_and_params_rebuild_a_form_body() {
        let e = entry("").replace(
            r#""headers":[]},"response""#,
            r#""headers":[],"postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"grant_type","value":"password"},{"name":"u","value":"a b&c"}]}},"response""#,
        );
        let e = e.replacen(
            '{',
            r#"{"timings":{"connect":-1,"dns":-1,"send":1.5,"wait":-1,"receive":0},"#,
            1,
        );
        let flows = read_str(&format!(r#"{{"log":{{"entries":[{e}]}}}}"#)).unwrap();
        let f = &flows[0];
        assert_eq!(&f.request.body.raw[..], b"grant_type=password&u=a+b%26c");
        assert_eq!(f.timings.connect, None);
        assert_eq!(f.timings.wait, None);
        assert_eq!(f.timings.send, Some(1.5));
        assert_eq!(f.timings.receive, Some(0.0));
    }

    #[test]
    fn bad_entry_error_names_file_entry_and_offset_and_reading_continues() {
        let good = entry("");
        let bad = good.replace(r#""url":"https://idp.example/a","#, "");
        let doc = format!("{{\"log\":{{\"entries\":[{good},\n{bad},{good}]}}}}");
        let at = doc.find(&format!("\n{bad}")).unwrap() + 1;
        let items: Vec<_> = from_bytes(Path::new("corpus/x.har"), doc.into_bytes())
            .unwrap()
            .collect();
        assert_eq!(items.len(), 3);
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("corpus/x.har: entry 1 at byte {at}: missing field `request.url`")
        );
        assert_eq!(items[2].as_ref().unwrap().id, FlowId(2));
    }

    #[test]
    fn invalid_json_inside_an_entry_points_at_the_bad_byte() {
        let doc = r#"{"log":{"entries":[{"startedDateTime":"2024-05-01T10:00:00Z",
"request":{"method":"GET","url":"u" "x":1}}]}}"#;
        let e = read_str(doc).unwrap_err();
        assert_eq!(e.location().entry, Some(0));
        assert_eq!(e.location().offset, Some(doc.find("\"x\"").unwrap() as u64));
        assert!(matches!(e.kind(), CaptureErrorKind::Json(_)));
    }

    #[test]
    fn malformed_structure_is_an_error_not_a_repair() {
        let e = entry("");
        for (doc, want) in [
            (format!(r#"{{"log":{{"entries":[{e}}}]}}}}"#), None),
            (format!(r#"{{"log":{{"entries":[{e},]}}}}"#), Some(1)),
            (r#"{"log":{"entries":[{"a":1}]}}"#.to_string(), Some(0)),
            (r#"{"log":{"entries":[1]}}"#.to_string(), Some(0)),
            (r#"{"log":{"entries":[]}} x"#.to_string(), None),
            (r#"{"log":{"version":"1.2"}}"#.to_string(), None),
            (
                r#"{"log":{"version":1.2.3,"entries":[]}}"#.to_string(),
                None,
            ),
            ("[]".to_string(), None),
        ] {
            let res: Result<Vec<Flow>, _> =
                from_bytes(Path::new("m.har"), doc.clone().into_bytes()).and_then(|r| r.collect());
            let err = res.expect_err(&doc);
            assert_eq!(err.location().entry, want, "{doc}: {err}");
            assert!(err.location().offset.is_some(), "{doc}: {err}");
        }
    }

    /// Small but varied flows: strings with escapes and brackets, non-ASCII, binary bodies,
    /// errors (complete and in flight), unknown timings, tags, marks and client addresses.
    fn sample_flows(n: u64) -> Vec<Flow> {
        (0..n)
            .map(|i| {
                let post = i % 3 == 0;
                let mut req = testing::request(
                    if post { "POST" } else { "GET" },
                    &format!("https://l.example/{i}?q=é"),
                );
                if i % 4 == 0 {
                    req.headers.push(("Cookie".into(), "s=\"}]\"".into()));
                }
                if post {
                    req.body = Body::plain(format!("p={i}\\\"}}"));
                }
                let body: Vec<u8> = if i % 4 == 1 {
                    vec![0xff, 0x00, i as u8, b'{']
                } else {
                    format!("[\"]\n{i}\"]").into_bytes()
                };
                let mut resp = testing::response(200, "text/plain", &body);
                resp.headers.clear();
                let mut f = testing::flow(i, req, resp);
                if i % 5 == 2 {
                    f.outcome = Outcome::Error(FlowError {
                        message: format!("reset {i}"),
                        incomplete: i % 2 == 0,
                    });
                }
                f.timings.total = (i % 2 == 0).then_some(i as f64 + 0.25);
                f.timings.wait = Some(1.0);
                f.tags = if i % 6 == 0 {
                    vec!["replay".into()]
                } else {
                    vec![]
                };
                f.marked = i % 7 == 0;
                f.client_addr = (i % 2 == 1).then(|| "127.0.0.1:5000".parse().unwrap());
                f.started_at += Duration::from_nanos(i * 1001);
                f
            })
            .collect()
    }

    fn write(path: &Path, flows: &[Flow]) {
        HarWriter::write_all(path, flows).unwrap();
    }

    #[test]
    fn writer_output_is_valid_har_with_one_entry_per_line_and_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rec.har");
        let flows = sample_flows(5);
        write(&p, &flows);
        let text = std::fs::read_to_string(&p).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["log"]["creator"]["name"], "idscope");
        assert_eq!(doc["log"]["entries"].as_array().unwrap().len(), 5);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(lines[1].starts_with('{') && lines[2].starts_with(",{"));
        assert_eq!(lines[6], "]}}");
        let e = &doc["log"]["entries"][0];
        for k in [
            "cookies",
            "queryString",
            "headersSize",
            "bodySize",
            "postData",
        ] {
            assert!(e["request"].get(k).is_some(), "request.{k}");
        }
        for k in ["content", "redirectURL", "cookies", "headersSize"] {
            assert!(e["response"].get(k).is_some(), "response.{k}");
        }
        assert_eq!(e["cache"], json!({}));
        for k in ["send", "wait", "receive"] {
            assert!(e["timings"][k].as_f64().unwrap() >= 0.0);
        }
        assert_eq!(e["request"]["cookies"][0]["name"], "s");
        assert_eq!(e["request"]["queryString"][0]["value"], "é");
        let binary = &doc["log"]["entries"][1]["response"]["content"];
        assert_eq!(binary["encoding"], "base64");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(read_all(&p).unwrap(), flows);
    }

    #[test]
    fn writer_refuses_to_clobber_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.har");
        std::fs::write(&p, "precious").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let e = HarWriter::create(&p).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "precious");
        let w = HarWriter::create_or_overwrite(&p).unwrap();
        w.finish().unwrap();
        assert!(read_all(&p).unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn idscope_fields_round_trip_through_the_underscore_object() {
        let mut flows = sample_flows(1);
        let f = &mut flows[0];
        f.client_addr = Some("[::1]:4444".parse().unwrap());
        f.tags = vec!["replay-of:#3".into()];
        f.marked = true;
        f.comment = Some("look".into());
        f.server_addr = Some("10.0.0.1:443".into());
        let mut body = Body::plain(vec![b'x'; 10]);
        body.size = 4096;
        body.truncated = true;
        body.sha256 = Some("ab".repeat(32));
        f.request.body = body;
        f.timings = Timings::default();
        let e = flow_to_har_entry(f);
        assert_eq!(e["_idscope"]["request_body"]["truncated"], true);
        assert_eq!(e["_idscope"]["marked"], true);
        assert_eq!(har_entry_to_flow(e, FlowId(0)).unwrap(), flows[0]);
    }

    #[test]
    fn in_flight_flows_carry_the_entry_level_incomplete_marker() {
        let mut f = sample_flows(1).remove(0);
        f.outcome = Outcome::Error(FlowError {
            message: "proxy stopped".into(),
            incomplete: true,
        });
        let e = flow_to_har_entry(&f);
        assert_eq!(e["_incomplete"], true, "security.md §3 names `_incomplete`");
        assert_eq!(har_entry_to_flow(e.clone(), FlowId(0)).unwrap(), f);
        // A file that carries only the entry-level marker reads as incomplete too.
        let mut only_entry = e;
        only_entry.as_object_mut().unwrap().remove("_idscope");
        let back = har_entry_to_flow(only_entry, FlowId(0)).unwrap();
        assert!(back.error().is_some_and(|e| e.incomplete));
    }

    #[test]
    fn encoded_bodies_are_stored_decoded_unless_they_cannot_be_decoded() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"access_token\":\"x\"}").unwrap();
        let gz = gz.finish().unwrap();
        let mut f = sample_flows(1).remove(0);
        let mut resp = testing::response(200, "application/json", b"");
        resp.headers
            .push(("Content-Encoding".into(), "gzip".into()));
        resp.body = Body::encoded(gz.clone(), "gzip");
        f.outcome = Outcome::Response(resp.clone());
        let back = har_entry_to_flow(flow_to_har_entry(&f), FlowId(0)).unwrap();
        let b = &back.response().unwrap().body;
        assert_eq!(&b.raw[..], b"{\"access_token\":\"x\"}");
        assert_eq!((b.encoding.as_deref(), b.size), (None, gz.len() as u64));
        // A corrupt gzip body is stored as-is and reads back still encoded.
        resp.body = Body::encoded(&b"\x1f\x8b\x08\x00broken"[..], "gzip");
        f.outcome = Outcome::Response(resp.clone());
        let back = har_entry_to_flow(flow_to_har_entry(&f), FlowId(0)).unwrap();
        assert_eq!(back.response().unwrap().body, resp.body);
        // Plain bytes that merely look gzipped keep `encoding: None`.
        resp.body = Body::plain(gz);
        f.outcome = Outcome::Response(resp.clone());
        let back = har_entry_to_flow(flow_to_har_entry(&f), FlowId(0)).unwrap();
        assert_eq!(back.response().unwrap().body, resp.body);
    }

    /// Byte offsets just past each entry's closing `}` in a file written by [`HarWriter`]:
    /// an entry is *complete* in a prefix of the file exactly when the prefix contains that
    /// closing brace (the newline and the next entry's comma are not needed).
    fn entry_ends(bytes: &[u8]) -> Vec<usize> {
        let mut ends = vec![];
        let mut pos = 0;
        for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
            let t = line.strip_suffix(b"\n").unwrap_or(line);
            // Line 0 is the header and `]}}` the footer; every other line is one entry.
            if i > 0 && t != b"]}}" {
                assert!(t.ends_with(b"}"));
                ends.push(pos + t.len());
            }
            pos += line.len();
        }
        ends
    }

    #[test]
    fn truncation_at_every_offset_keeps_exactly_the_complete_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.har");
        let flows = sample_flows(50);
        write(&p, &flows);
        let bytes = std::fs::read(&p).unwrap();
        let ends = entry_ends(&bytes);
        assert_eq!(ends.len(), 50);
        assert!(bytes.len() > 50 * 400, "entries are realistic HAR entries");
        let footer_end = bytes.len() - 1; // `]}}` present, final newline optional
        // An empty file is refused (`empty_file_is_refused_as_empty`); any first byte is a start.
        for cut in 1..=bytes.len() {
            let mut r = from_bytes(Path::new("cut.har"), bytes[..cut].to_vec())
                .unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            let got: Vec<Flow> = r
                .by_ref()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(got.len(), complete, "cut at {cut}");
            assert_eq!(got[..], flows[..complete], "cut at {cut}");
            assert_eq!(
                r.repaired().is_some(),
                cut < footer_end,
                "cut at {cut}: {:?}",
                r.repaired()
            );
        }
    }

    #[test]
    fn empty_file_is_refused_as_empty() {
        let e = from_bytes(Path::new("e.har"), vec![]).unwrap_err();
        assert_eq!(*e.kind(), crate::capture::CaptureErrorKind::Empty);
        assert_eq!(e.to_string(), "e.har is empty");
    }

    #[test]
    fn reader_reports_progress_and_creator() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.har");
        write(&p, &sample_flows(3));
        let mut r = open(&p).unwrap();
        assert_eq!(r.creator().unwrap()["name"], "idscope");
        assert_eq!(r.by_ref().count(), 3);
        assert_eq!(Some(r.bytes_read()), r.total_bytes());
    }

    #[test]
    fn a_creator_note_is_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.har");
        let note = serde_json::json!({"fixture_seed": 42});
        let mut w = HarWriter::create_with_note(&p, &note).unwrap();
        for f in sample_flows(2) {
            w.write_flow(&f).unwrap();
        }
        w.finish().unwrap();
        let mut r = open(&p).unwrap();
        assert_eq!(r.creator().unwrap()["_idscope"], note);
        assert_eq!(r.creator().unwrap()["name"], "idscope");
        assert_eq!(r.by_ref().count(), 2);
        // Still a HAR any reader accepts.
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["log"]["creator"]["_idscope"]["fixture_seed"], 42);
    }

    /// The corpus files under 100 KB (the larger ones would make each mutation case slow).
    fn corpus_files() -> Vec<Vec<u8>> {
        let mut v: Vec<_> = std::fs::read_dir(corpus())
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .filter(|b| b.len() < 100_000)
            .collect();
        assert!(!v.is_empty(), "no corpus file under 100 KB");
        v.sort();
        v
    }

    /// Reads `bytes` to the end: every error names the file, and a byte offset inside it.
    fn drain(bytes: Vec<u8>) {
        let len = bytes.len() as u64;
        let check = |e: &crate::capture::CaptureError| {
            assert_eq!(e.path(), Path::new("fuzz.har"), "{e}");
            assert!(e.location().offset.is_none_or(|o| o <= len), "{e}");
        };
        match from_bytes(Path::new("fuzz.har"), bytes) {
            Ok(r) => {
                for item in r {
                    match item {
                        Ok(_) => {}
                        Err(e) => check(&e),
                    }
                }
            }
            Err(e) => check(&e),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_read_or_fail_naming_file_and_offset(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            drain(bytes);
        }

        #[test]
        fn random_json_like_bytes_read_or_fail_naming_file_and_offset(s in r#"[{}\[\]",:\\a-z0-9 \n-]{0,400}"#) {
            drain(format!("{{\"log\":{{\"entries\":[{s}").into_bytes());
        }

        #[test]
        fn mutated_corpus_files_read_or_fail_naming_file_and_offset(
            file in 0usize..64,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        ) {
            let files = corpus_files();
            let mut bytes = files[file % files.len()].clone();
            for (at, byte, op) in edits {
                if bytes.is_empty() { break; }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => { bytes.remove(i); }
                }
            }
            drain(bytes);
        }
    }
}

#[cfg(test)]
mod direct_writer_equivalence {
    use super::super::har_entry::{mime_type, response_cookies, store_body};
    use super::super::har_fields::format_time;
    use super::*;
    use crate::flow::{FlowError, header};
    use serde_json::json;

    fn har_headers(h: &Headers) -> Value {
        Value::Array(
            h.iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect(),
        )
    }

    fn request_cookies(h: &Headers) -> Value {
        let cookies = h
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .map(|(n, v)| json!({"name": n.trim(), "value": v.trim()}))
            .collect();
        Value::Array(cookies)
    }

    fn request_to_har(r: &Request, ours: &mut Map<String, Value>) -> Value {
        let mut o = r.extra.clone();
        let stored = store_body(&r.body, &r.headers);
        o.insert("method".into(), r.method.clone().into());
        o.insert("url".into(), r.url.clone().into());
        o.insert("httpVersion".into(), r.http_version.clone().into());
        o.insert("cookies".into(), request_cookies(&r.headers));
        o.insert("headers".into(), har_headers(&r.headers));
        let query: Vec<Value> = idscope_decoders::util::url_query_pairs(&r.url)
            .into_iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        o.insert("queryString".into(), Value::Array(query));
        o.insert("headersSize".into(), (-1).into());
        o.insert("bodySize".into(), r.body.size.into());
        if stored.len > 0 {
            let mut pd = Map::new();
            pd.insert("mimeType".into(), mime_type(&r.headers).into());
            pd.insert("text".into(), stored.text.into());
            if stored.base64 {
                pd.insert("encoding".into(), "base64".into());
            }
            o.insert("postData".into(), Value::Object(pd));
        }
        if !stored.meta.is_empty() {
            ours.insert("request_body".into(), Value::Object(stored.meta.to_map()));
        }
        Value::Object(o)
    }

    fn response_to_har(outcome: &Outcome, ours: &mut Map<String, Value>) -> Value {
        let r = match outcome {
            Outcome::Response(r) => r,
            Outcome::Error(e) => {
                if e.incomplete {
                    ours.insert("incomplete".into(), true.into());
                }
                // mitmproxy's shape for a flow without a response.
                return json!({
                    "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                    "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
                    "headersSize": -1, "bodySize": -1, "_error": e.message,
                });
            }
        };
        let mut o = r.extra.clone();
        let stored = store_body(&r.body, &r.headers);
        o.insert("status".into(), r.status.into());
        o.insert("statusText".into(), r.reason.clone().into());
        o.insert("httpVersion".into(), r.http_version.clone().into());
        o.insert("cookies".into(), response_cookies(&r.headers));
        o.insert("headers".into(), har_headers(&r.headers));
        let mut content = Map::new();
        content.insert("size".into(), stored.len.into());
        content.insert("mimeType".into(), mime_type(&r.headers).into());
        if stored.len > 0 {
            content.insert("text".into(), stored.text.into());
            if stored.base64 {
                content.insert("encoding".into(), "base64".into());
            }
        }
        o.insert("content".into(), Value::Object(content));
        o.insert(
            "redirectURL".into(),
            header(&r.headers, "location").unwrap_or_default().into(),
        );
        o.insert("headersSize".into(), (-1).into());
        o.insert("bodySize".into(), r.body.size.into());
        if !stored.meta.is_empty() {
            ours.insert("response_body".into(), Value::Object(stored.meta.to_map()));
        }
        Value::Object(o)
    }

    fn timings_to_har(t: &Timings, unknown: &mut Vec<Value>) -> Value {
        let optional = |v: Option<f64>| v.map_or(json!(-1), |v| json!(v));
        // HAR requires send, wait and receive to be non-negative numbers: write 0 for unknown ones
        // and list them in `_idscope.unknown_timings` so they read back as unknown.
        let mut required = |name: &str, v: Option<f64>| match v {
            Some(v) => json!(v),
            None => {
                unknown.push(name.into());
                json!(0)
            }
        };
        json!({
            "blocked": optional(t.blocked),
            "dns": optional(t.dns),
            "connect": optional(t.connect),
            "ssl": optional(t.ssl),
            "send": required("send", t.send),
            "wait": required("wait", t.wait),
            "receive": required("receive", t.receive),
        })
    }

    /// A writer that builds a `serde_json::Value` tree and serialises it, the oracle of these
    /// tests: the direct writer (`har_entry::write_entry`) must produce exactly its bytes.
    pub(crate) fn reference_entry(f: &Flow) -> Value {
        let mut e = f.extra.clone();
        let mut ours = Map::new();
        let mut unknown = Vec::new();
        e.insert("startedDateTime".into(), format_time(f.started_at).into());
        let time = match f.timings.total {
            Some(t) => json!(t),
            None => {
                unknown.push(Value::from("time"));
                json!(0)
            }
        };
        e.insert("time".into(), time);
        e.insert("request".into(), request_to_har(&f.request, &mut ours));
        e.insert("response".into(), response_to_har(&f.outcome, &mut ours));
        e.entry("cache").or_insert_with(|| json!({}));
        e.insert("timings".into(), timings_to_har(&f.timings, &mut unknown));
        if let Some(s) = &f.server_addr {
            e.insert("serverIPAddress".into(), s.clone().into());
        }
        if let Some(c) = &f.comment {
            e.insert("comment".into(), c.clone().into());
        }
        if let Some(c) = f.client_addr {
            ours.insert("client".into(), c.to_string().into());
        }
        if let Some(m) = e.remove(crate::flow::FIDDLER_EXTRA) {
            ours.insert("fiddler".into(), m);
        }
        if !f.tags.is_empty() {
            ours.insert("tags".into(), f.tags.clone().into());
        }
        if f.marked {
            ours.insert("marked".into(), true.into());
        }
        if !unknown.is_empty() {
            ours.insert("unknown_timings".into(), Value::Array(unknown));
        }
        if ours.get("incomplete") == Some(&Value::Bool(true)) {
            e.insert(INCOMPLETE_FIELD.into(), true.into());
        }
        if ours.is_empty() {
            e.remove(IDSCOPE_FIELD);
        } else {
            e.insert(IDSCOPE_FIELD.into(), Value::Object(ours));
        }
        Value::Object(e)
    }

    fn check(f: &Flow, what: &str) {
        let mut direct = Vec::new();
        write_entry(&mut direct, f);
        let reference = serde_json::to_vec(&reference_entry(f)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&direct),
            String::from_utf8_lossy(&reference),
            "{what} flow {}",
            f.id
        );
    }

    #[test]
    fn the_direct_writer_writes_the_bytes_of_the_value_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("../shared/corpus/har-peers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.push(root.join("captures/aadconnect-sync.har"));
        files.push(root.join("captures/federated-signin.har"));
        files.push(root.join("captures/fiddler-sample.saz"));
        let mut n = 0;
        for file in files {
            if file.ends_with("broken-brokenfile.har") {
                continue;
            }
            let reader = super::super::open(&file).unwrap_or_else(|e| panic!("{e}"));
            for f in reader.map(|f| f.unwrap_or_else(|e| panic!("{e}"))) {
                check(&f, &file.display().to_string());
                let mut g = f.clone();
                g.tags = vec!["t".into()];
                g.marked = true;
                g.comment = Some("c\"x".into());
                g.server_addr = Some("10.0.0.1".into());
                g.client_addr = Some("127.0.0.1:9".parse().unwrap());
                g.timings = Timings::default();
                g.extra.insert("_zz".into(), 1.into());
                g.extra.insert("cache".into(), json!({"x": 1}));
                g.extra.insert("_idscope".into(), json!({"stale": 1}));
                g.extra.insert("_incomplete".into(), false.into());
                g.request.extra.insert("_a".into(), json!([1, "x"]));
                g.request.extra.insert("method".into(), "OVERRIDDEN".into());
                check(&g, "altered");
                g.outcome = Outcome::Error(FlowError {
                    message: "upstream \"x\" failed".into(),
                    incomplete: true,
                });
                check(&g, "error");
                n += 1;
            }
        }
        assert!(n > 50, "only {n} flows compared");
    }

    #[test]
    fn the_direct_writer_agrees_on_encoded_binary_truncated_and_cookie_flows() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}").unwrap();
        let gz = gz.finish().unwrap();
        let mut req = crate::flow::testing::request_with(
            "POST",
            "https://h.example/p?a=1&b=%20x#f",
            &[
                ("Cookie", "x=1; y=2"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
        );
        req.body = Body::plain(b"grant_type=password".to_vec());
        let mut res = crate::flow::testing::response(302, "text/html", b"");
        res.headers.push((
            "Set-Cookie".into(),
            "s=1; Path=/; HttpOnly; Secure; Domain=h".into(),
        ));
        res.headers
            .push(("Location".into(), "https://h.example/next".into()));
        let mut f = crate::flow::testing::flow(1, req.clone(), res);
        check(&f, "cookies");
        // The client address is formatted straight into the entry.
        let v6 = std::net::SocketAddrV6::new(
            std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
            51000,
            0,
            3,
        );
        for client in [
            std::net::SocketAddr::V6(v6),
            "[::1]:8080".parse().unwrap(),
            "10.0.0.7:443".parse().unwrap(),
        ] {
            f.client_addr = Some(client);
            check(&f, "client address");
        }
        for (body, enc) in [
            (Body::encoded(gz.clone(), "gzip"), "gzip"),
            (Body::encoded(b"not gzip".to_vec(), "gzip"), "gzip"),
            (Body::plain(vec![0xff, 0x00, 0x1f, 0x8b]), ""),
            (
                Body::encoded(gz.get(..10).unwrap().to_vec(), "gzip"),
                "gzip",
            ),
        ] {
            let mut res = crate::flow::testing::response(200, "application/json", b"");
            if !enc.is_empty() {
                res.headers.push(("Content-Encoding".into(), enc.into()));
            }
            res.body = body;
            let mut f = crate::flow::testing::flow(2, req.clone(), res.clone());
            check(&f, "body");
            if let Outcome::Response(r) = &mut f.outcome {
                r.body.truncated = true;
                r.body.size = 99_999;
                r.body.sha256 = Some("ab".repeat(32));
            }
            check(&f, "truncated body");
        }
    }
}
