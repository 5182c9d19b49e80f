//! Fiddler archives as support engineers receive them: password-protected (ZipCrypto written by
//! Info-ZIP `zip -P`, WinZip AES-128/256 written by Python's `pyzipper` and by `7z`), built in the
//! test from the members of a real Fiddler 5 archive and of `captures/fiddler-sample.saz`; the
//! real archive's `_m.xml` metadata in `analyze --json` and in a converted HAR; empty and
//! non-capture files; an archive with broken sessions.
//!
//! A missing tool (`pyzipper`, `zip`, `7z`) FAILS the test unless `IDSCOPE_SKIP_INTEROP` is set,
//! in which case the test prints `SKIPPED: <test>: <reason>` to stderr and returns.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::util::{root, shared_corpus};

const PASSWORD: &str = "Tr0ub4dor & 3";

/// The real Fiddler 5 archive of the shared corpus.
fn real_saz() -> PathBuf {
    shared_corpus("saz-peers").join("fiddler5-update-check.saz")
}

fn sample_saz() -> PathBuf {
    root().join("captures/fiddler-sample.saz")
}

/// True when the tools are there; otherwise fails, or (with `IDSCOPE_SKIP_INTEROP`) says so and
/// returns false.
fn have_tools(test: &str) -> bool {
    let checks: [(&str, &[&str], &str); 3] = [
        (
            "python3",
            &["-c", "import pyzipper"],
            "pip install pyzipper",
        ),
        ("zip", &["-v"], "apt-get install zip"),
        ("7z", &["i"], "apt-get install p7zip-full"),
    ];
    for (tool, args, install) in checks {
        let ok = Command::new(tool)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let reason = format!("`{tool} {}` failed ({install})", args.join(" "));
            if std::env::var_os("IDSCOPE_SKIP_INTEROP").is_some() {
                eprintln!("SKIPPED: {test}: {reason}");
                return false;
            }
            panic!("{reason} (set IDSCOPE_SKIP_INTEROP=1 to skip this test)");
        }
    }
    true
}

/// Unpacks `saz` into `dir` (Python's zipfile: the members as Fiddler wrote them).
fn unpack(saz: &Path, dir: &Path) {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
        ])
        .arg(saz)
        .arg(dir)
        .status()
        .unwrap();
    assert!(ok.success());
}

/// How an encrypted copy is written, and by which independent tool.
#[derive(Clone, Copy, Debug)]
enum Writer {
    /// Info-ZIP `zip -P`: traditional PKWARE encryption.
    ZipCrypto,
    /// pyzipper, WinZip AES with a 128-bit key.
    PyAes128,
    /// pyzipper, WinZip AES with a 256-bit key (what Fiddler offers).
    PyAes256,
    /// 7-Zip, `-mem=AES256`.
    SevenZipAes256,
}

const WRITERS: [Writer; 4] = [
    Writer::ZipCrypto,
    Writer::PyAes128,
    Writer::PyAes256,
    Writer::SevenZipAes256,
];

const PYZIPPER: &str = r#"
import os, sys, pyzipper
src, out, bits, password = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
with pyzipper.AESZipFile(out, 'w', compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as z:
    z.setpassword(password)
    z.setencryption(pyzipper.WZ_AES, nbits=bits)
    for root, _, files in os.walk(src):
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))
"#;

/// Writes the members unpacked in `members` as an archive encrypted with `password` by `w`.
fn encrypt(w: Writer, members: &Path, out: &Path, password: &str) {
    let status = match w {
        Writer::ZipCrypto => Command::new("zip")
            .current_dir(members)
            .args(["-q", "-r", "-P", password])
            .arg(out)
            .arg(".")
            .status(),
        Writer::PyAes128 | Writer::PyAes256 => {
            let bits = if matches!(w, Writer::PyAes128) {
                "128"
            } else {
                "256"
            };
            Command::new("python3")
                .args(["-c", PYZIPPER])
                .arg(members)
                .arg(out)
                .args([bits, password])
                .status()
        }
        Writer::SevenZipAes256 => Command::new("7z")
            .current_dir(members)
            .args(["a", "-tzip", "-mem=AES256", "-bd", "-bso0", "-bsp0"])
            .arg(format!("-p{password}"))
            .arg(out)
            .arg(".")
            .status(),
    }
    .unwrap();
    assert!(status.success(), "{w:?} could not write {}", out.display());
}

/// Runs idscope with `env` added and stdin not a terminal.
fn run(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idscope"));
    cmd.args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("IDSCOPE_SAZ_PASSWORD")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The `log.entries` of a HAR file.
fn entries(har: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(har).unwrap()).unwrap();
    v["log"]["entries"].as_array().unwrap().clone()
}

/// Encrypted copies of `source` by every writer, with the password in a file.
struct Encrypted {
    dir: tempfile::TempDir,
    copies: Vec<(Writer, PathBuf)>,
    password_file: PathBuf,
}

fn encrypted_copies(source: &Path) -> Encrypted {
    let dir = tempfile::tempdir().unwrap();
    let members = dir.path().join("members");
    unpack(source, &members);
    let copies = WRITERS
        .iter()
        .map(|&w| {
            let out = dir.path().join(format!("{w:?}.saz"));
            encrypt(w, &members, &out, PASSWORD);
            (w, out)
        })
        .collect();
    let password_file = dir.path().join("password.txt");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    Encrypted {
        dir,
        copies,
        password_file,
    }
}

#[test]
fn encrypted_archives_read_like_the_plain_one_with_the_password_from_a_file_or_the_environment() {
    if !have_tools("encrypted_archives_read_like_the_plain_one") {
        return;
    }
    for source in [real_saz(), sample_saz()] {
        let plain = run(&[os("analyze"), os("--json"), source.as_os_str()], &[]);
        let (plain_json, _) = text(&plain);
        assert!(plain_json.lines().count() >= 4, "{}", text(&plain).1);
        let enc = encrypted_copies(&source);
        let plain_har = enc.dir.path().join("plain.har");
        let o = run(
            &[
                os("convert"),
                source.as_os_str(),
                os("-o"),
                plain_har.as_os_str(),
            ],
            &[],
        );
        assert!(o.status.success(), "{:?}", text(&o));
        for (w, saz) in &enc.copies {
            let what = format!("{w:?} copy of {}", source.display());
            let mut outputs = Vec::new();
            // The password from --password-file (a global option: before or after the command).
            let o = run(
                &[
                    os("--password-file"),
                    enc.password_file.as_os_str(),
                    os("analyze"),
                    os("--json"),
                    saz.as_os_str(),
                ],
                &[],
            );
            assert_eq!(
                o.status.code(),
                plain.status.code(),
                "{what}: {}",
                text(&o).1
            );
            assert_eq!(text(&o).0, plain_json, "{what} via --password-file");
            outputs.push(o);
            // The password from the environment.
            let o = run(
                &[os("analyze"), os("--json"), saz.as_os_str()],
                &[("IDSCOPE_SAZ_PASSWORD", PASSWORD)],
            );
            assert_eq!(
                o.status.code(),
                plain.status.code(),
                "{what}: {}",
                text(&o).1
            );
            assert_eq!(text(&o).0, plain_json, "{what} via the environment");
            outputs.push(o);
            // convert writes the same entries as from the plain archive.
            let har = enc.dir.path().join(format!("{w:?}.har"));
            let o = run(
                &[
                    os("convert"),
                    saz.as_os_str(),
                    os("-o"),
                    har.as_os_str(),
                    os("--password-file"),
                    enc.password_file.as_os_str(),
                ],
                &[],
            );
            assert!(o.status.success(), "{what}: {}", text(&o).1);
            assert_eq!(entries(&har), entries(&plain_har), "{what}: convert");
            outputs.push(o);
            // view opens it (and, without a terminal, stops there).
            let o = run(
                &[os("view"), saz.as_os_str()],
                &[("IDSCOPE_SAZ_PASSWORD", PASSWORD)],
            );
            let (_, err) = text(&o);
            assert!(
                err.contains("idscope view needs a terminal"),
                "{what}: {err}"
            );
            outputs.push(o);
            for o in &outputs {
                let (out, err) = text(o);
                assert!(
                    !out.contains(PASSWORD) && !err.contains(PASSWORD),
                    "{what}: the password was written out"
                );
            }
        }
    }
}

#[test]
fn wrong_or_missing_password_is_exit_2_saying_so_and_never_echoed() {
    if !have_tools("wrong_or_missing_password_is_exit_2_saying_so") {
        return;
    }
    let enc = encrypted_copies(&real_saz());
    let wrong = enc.dir.path().join("wrong.txt");
    std::fs::write(&wrong, "not the password\n").unwrap();
    for (w, saz) in &enc.copies {
        let name = saz.display().to_string();
        for cmd in ["analyze", "view", "convert"] {
            let out_har = enc.dir.path().join(format!("{w:?}-{cmd}.har"));
            let mut args = vec![os(cmd), saz.as_os_str()];
            if cmd == "convert" {
                args.extend([os("-o"), out_har.as_os_str()]);
            }
            let mut with_file = args.clone();
            with_file.extend([os("--password-file"), wrong.as_os_str()]);
            let o = run(&with_file, &[]);
            let (out, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{w:?} {cmd}: {err}");
            assert!(
                err.contains(&format!("wrong password for {name}")),
                "{w:?} {cmd}: {err}"
            );
            assert!(!err.contains("corrupt") && !err.contains("not the password"));
            assert!(!out.contains("not the password"));
            let o = run(&args, &[("IDSCOPE_SAZ_PASSWORD", "not the password")]);
            assert_eq!(o.status.code(), Some(2), "{w:?} {cmd}");
            assert!(text(&o).1.contains("wrong password for"), "{:?}", text(&o));
            // No password anywhere and no terminal to ask on.
            let o = run(&args, &[]);
            let (_, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{w:?} {cmd}: {err}");
            assert!(
                err.contains(
                    "the archive is password-protected: use --password-file or IDSCOPE_SAZ_PASSWORD"
                ),
                "{w:?} {cmd}: {err}"
            );
        }
    }
}

#[test]
fn the_prompt_on_a_terminal_asks_once_without_echo() {
    if !have_tools("the_prompt_on_a_terminal_asks_once_without_echo") {
        return;
    }
    let enc = encrypted_copies(&real_saz());
    let saz = &enc
        .copies
        .iter()
        .find(|(w, _)| matches!(w, Writer::PyAes256))
        .unwrap()
        .1;
    let mut pty = crate::tui_pty::ViewPty::start(&[saz.to_str().unwrap()], enc.dir.path(), &[]);
    pty.screen.wait_for("password for");
    pty.send(&format!("{PASSWORD}\r"));
    // The flow list: the capture was read (view opens the file twice; it asked once).
    pty.screen.wait_for("cdn.walkme.com");
    pty.send("q");
    assert!(pty.exit_status().success());
    let screen = pty.close();
    let raw = screen.raw();
    assert_eq!(
        raw.matches("password for").count(),
        1,
        "asked more than once"
    );
    assert!(!raw.contains(PASSWORD), "the password was echoed");
}

#[test]
fn real_fiddler_metadata_is_in_analyze_json_and_in_the_converted_har() {
    let saz = real_saz();
    let o = run(&[os("analyze"), os("--json"), saz.as_os_str()], &[]);
    assert!(o.status.success(), "{:?}", text(&o));
    let flows: Vec<Value> = text(&o)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["type"] == "flow")
        .collect();
    assert_eq!(flows.len(), 14);
    // raw/01_m.xml
    let f = &flows[0]["fiddler"];
    assert_eq!(
        f["timers"]["ClientConnected"],
        "2020-09-01T13:57:52.211861-06:00"
    );
    assert_eq!(
        f["timers"]["ServerGotRequest"],
        "2020-09-01T13:57:52.4173141-06:00"
    );
    assert_eq!(f["timers"]["DNSTime"], "23");
    assert_eq!(f["timers"]["HTTPSHandshakeTime"], "120");
    assert_eq!(f["flags"]["x-egressport"], "52996");
    assert_eq!(f["flags"]["x-hostip"], "50.56.19.116");
    assert_eq!(f["flags"]["x-responsebodytransferlength"], "785");
    assert_eq!(f["phases"]["dns"], 23.0);
    assert_eq!(f["phases"]["connect"], 56.0);
    assert_eq!(f["phases"]["ssl"], 120.0);
    // ServerGotRequest 52.4173141 to ServerBeginResponse 52.5051189, whole microseconds.
    assert_eq!(f["phases"]["wait"], 87.804);
    // raw/04_m.xml: a CONNECT tunnel from Chrome.
    let f = &flows[3]["fiddler"];
    assert_eq!(f["flags"]["x-processinfo"], "chrome:4412");
    assert_eq!(f["flags"]["https-client-snihostname"], "cdn.walkme.com");
    assert_eq!(f["flags"]["x-clientport"], "53008");
    assert_eq!(f["timers"]["ServerBeginResponse"], "0001-01-01T00:00:00");
    assert!(
        f["phases"].get("wait").is_none(),
        "an unset timer is no phase"
    );

    // A HAR flow has no `fiddler` object.
    let har_flows = run(
        &[
            os("analyze"),
            os("--json"),
            os("captures/aadconnect-sync.har"),
        ],
        &[],
    );
    assert!(!text(&har_flows).0.contains("\"fiddler\""));

    // convert: HAR timings from the timers, timers and flags under `_idscope.fiddler`.
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("f.har");
    let o = run(
        &[os("convert"), saz.as_os_str(), os("-o"), har.as_os_str()],
        &[],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let e = entries(&har);
    let t = &e[0]["timings"];
    assert_eq!(
        (t["dns"].as_f64(), t["connect"].as_f64()),
        (Some(23.0), Some(56.0))
    );
    assert_eq!(
        (t["ssl"].as_f64(), t["wait"].as_f64()),
        (Some(120.0), Some(87.804))
    );
    assert_eq!(e[0]["_idscope"]["fiddler"]["timers"]["DNSTime"], "23");
    assert_eq!(
        e[1]["_idscope"]["fiddler"]["flags"]["x-processinfo"],
        "fiddler:15708"
    );
    assert!(e[0].get("_fiddler").is_none());
    // Read back: the HAR's analyze shows the same metadata, and a second convert keeps it.
    let o = run(&[os("analyze"), os("--json"), har.as_os_str()], &[]);
    let again: Value = serde_json::from_str(text(&o).0.lines().next().unwrap()).unwrap();
    assert_eq!(again["fiddler"], flows[0]["fiddler"]);
    let har2 = dir.path().join("f2.har");
    let o = run(
        &[os("convert"), har.as_os_str(), os("-o"), har2.as_os_str()],
        &[],
    );
    assert!(o.status.success());
    assert_eq!(entries(&har2), e);
}

#[test]
fn empty_and_non_capture_files_are_exit_2_saying_what_they_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.har");
    std::fs::write(&empty, b"").unwrap();
    let png = dir.path().join("picture.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01").unwrap();
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, b"Fiddler trace from the customer\n").unwrap();
    let out = dir.path().join("out.har");
    for (file, want) in [
        (&empty, format!("{} is empty", empty.display())),
        (
            &png,
            format!(
                r#"{} is not a HAR, idscope recording or SAZ archive (starts with "\x89PNG\r\n\x1a\n")"#,
                png.display()
            ),
        ),
        (
            &txt,
            format!(
                r#"{} is not a HAR, idscope recording or SAZ archive (starts with "Fiddler ")"#,
                txt.display()
            ),
        ),
    ] {
        for args in [
            vec![os("analyze"), file.as_os_str()],
            vec![os("analyze"), os("--json"), file.as_os_str()],
            vec![os("view"), file.as_os_str()],
            vec![os("convert"), file.as_os_str(), os("-o"), out.as_os_str()],
            vec![os("redact"), file.as_os_str(), os("-o"), out.as_os_str()],
        ] {
            let o = run(&args, &[]);
            let (stdout, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(&want), "{args:?}: {err}");
            assert!(
                !stdout.contains("METHOD"),
                "{args:?}: no table for a non-capture"
            );
        }
    }
}

/// Zips `members` (Python's zipfile, deflate).
fn zip_dir(members: &Path, out: &Path) {
    let script = r#"
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))
"#;
    let ok = Command::new("python3")
        .args(["-c", script])
        .arg(members)
        .arg(out)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn broken_sessions_are_skipped_and_listed_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let members = dir.path().join("m");
    unpack(&real_saz(), &members);
    // raw/03_s.txt cut inside its headers; raw/05_c.txt gone.
    let s3 = members.join("raw/03_s.txt");
    let bytes = std::fs::read(&s3).unwrap();
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    std::fs::write(&s3, &bytes[..head_end - 10]).unwrap();
    std::fs::remove_file(members.join("raw/05_c.txt")).unwrap();
    let saz = dir.path().join("partial.saz");
    zip_dir(&members, &saz);

    let o = run(&[os("analyze"), saz.as_os_str()], &[]);
    let (out, err) = text(&o);
    let table_rows = crate::util::table_rows(&out).len();
    assert_eq!(table_rows, 12, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("Skipped "))
        .unwrap_or_else(|| panic!("no skipped line: {out}"));
    assert!(
        line.starts_with("Skipped 2 of 14 sessions: raw/03_s.txt ("),
        "{line}"
    );
    assert!(
        line.contains(&format!("truncated at byte {}", head_end - 10)),
        "{line}"
    );
    assert!(
        line.contains("raw/05_c.txt (missing archive member `raw/05_c.txt`)"),
        "{line}"
    );
    assert!(err.contains("12 flows reported, 2 unreadable"), "{err}");

    let o = run(&[os("analyze"), os("--json"), saz.as_os_str()], &[]);
    let objects: Vec<Value> = text(&o)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flows: Vec<u64> = objects
        .iter()
        .filter(|v| v["type"] == "flow")
        .map(|v| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(flows, [1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    let skipped = objects
        .iter()
        .find(|v| v["type"] == "skipped")
        .expect("a skipped object");
    assert_eq!(skipped["count"], 2);
    assert_eq!(skipped["of"], 14);
    assert_eq!(skipped["unit"], "sessions");
    assert_eq!(skipped["skipped"][0]["member"], "raw/03_s.txt");
    assert_eq!(skipped["skipped"][1]["member"], "raw/05_c.txt");
    assert_eq!(
        skipped["skipped"][1]["reason"],
        "missing archive member `raw/05_c.txt`"
    );

    // convert keeps the readable sessions too, names the skipped ones and exits 2.
    let har = dir.path().join("partial.har");
    let o = run(
        &[os("convert"), saz.as_os_str(), os("-o"), har.as_os_str()],
        &[],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("wrote 12 flows"), "{err}");
    assert!(
        err.contains("2 unreadable entries or sessions skipped"),
        "{err}"
    );
    assert!(err.contains("raw/05_c.txt"), "{err}");
    assert_eq!(idscope::capture::read_all(&har).unwrap().len(), 12);
}

/// One WebSocket message as Fiddler Classic saves it in `_w.txt` (its
/// `WebSocketMessage.SerializeToStream`): header lines, an empty line, the frame as it crossed
/// the wire (client frames masked), a CRLF. Binary frames under 126 bytes.
fn fiddler_ws_message(from_client: bool, id: u32, payload: &[u8]) -> Vec<u8> {
    let mask = [0xA1u8, 0xB2, 0xC3, 0xD4];
    let mut frame = vec![
        0x82,
        payload.len() as u8 | if from_client { 0x80 } else { 0 },
    ];
    if from_client {
        frame.extend(mask);
        frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    } else {
        frame.extend(payload);
    }
    let side = if from_client { "Request" } else { "Response" };
    let mut out = format!(
        "{side}-Length: {}\r\nID: {id}\r\nBitFlags: 0\r\nDoneRead: 2024-03-01T10:15:02.1234567+01:00\r\n\r\n",
        frame.len()
    )
    .into_bytes();
    out.extend(frame);
    out.extend(b"\r\n");
    out
}

#[test]
fn a_relay_websocket_session_in_a_fiddler_archive_is_decoded_as_a_relay_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let members = dir.path().join("m");
    std::fs::create_dir_all(members.join("raw")).unwrap();
    let host = "contoso-sb.servicebus.windows.net";
    std::fs::write(
        members.join("raw/1_c.txt"),
        format!("GET https://{host}/$servicebus/websocket HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: wsrelayedamqp\r\n\r\n"),
    )
    .unwrap();
    std::fs::write(
        members.join("raw/1_s.txt"),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: wsrelayedamqp\r\n\r\n",
    )
    .unwrap();
    std::fs::write(
        members.join("raw/1_m.xml"),
        r#"<?xml version="1.0" encoding="utf-8"?><Session SID="1" BitFlags="0"><SessionTimers ClientConnected="2024-03-01T10:15:01.0000000+01:00" ClientBeginRequest="2024-03-01T10:15:01.0000000+01:00" /><SessionFlags /></Session>"#,
    )
    .unwrap();
    // AADInternals' listener bytes (`MSAppProxy_utils.ps1` `$AMQP3`, `$AMQP0`; `AMQP.ps1`
    // `New-AMQPBegin`).
    let begin = [
        0x00, 0x00, 0x00, 0x23, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x11, 0xC0, 0x16, 0x08, 0x40,
        0x52, 0x01, 0x70, 0x00, 0x00, 0x13, 0x88, 0x70, 0x00, 0x00, 0x13, 0x88, 0x70, 0x00, 0x03,
        0xFF, 0xFF, 0x40, 0x40, 0x40,
    ];
    let mut w = b"\r\n".to_vec();
    w.extend(fiddler_ws_message(true, 1, b"AMQP\x03\x01\x00\x00"));
    w.extend(fiddler_ws_message(false, 2, b"AMQP\x03\x01\x00\x00"));
    w.extend(fiddler_ws_message(true, 3, b"AMQP\x00\x01\x00\x00"));
    w.extend(fiddler_ws_message(true, 4, &begin));
    std::fs::write(members.join("raw/1_w.txt"), w).unwrap();
    let saz = dir.path().join("relay.saz");
    zip_dir(&members, &saz);

    let o = run(
        &[
            os("analyze"),
            os("--json"),
            os("--fail-on"),
            os("never"),
            saz.as_os_str(),
        ],
        &[],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let flow: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(flow["kinds"], serde_json::json!(["relay"]), "{out}");
    let summary = flow["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("relay AMQP: SASL, AMQP, begin"),
        "{summary}"
    );

    // The messages survive `convert`, in the HAR shape.
    let har = dir.path().join("relay.har");
    let o = run(
        &[os("convert"), saz.as_os_str(), os("-o"), har.as_os_str()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    let e = &entries(&har)[0];
    let m = e["_webSocketMessages"].as_array().unwrap();
    assert_eq!(m.len(), 4);
    assert_eq!(
        (m[1]["type"].as_str(), m[1]["opcode"].as_u64()),
        (Some("receive"), Some(2))
    );
    assert_eq!(m[0]["time"], 1_709_284_502.123_456_7);
}
