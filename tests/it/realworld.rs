//! The real-world corpus (`../shared/corpus/realworld`: vectors from other projects' test suites
//! and the RFCs) against the verdicts their sources assert, written down per vector in
//! `tests/realworld/expected.tsv` (its header explains the columns and the vocabulary).
//!
//! A ratchet: a row without a `gap` mark must reach its verdict, and a row with one must not (the
//! test then says to remove the mark), so the list of known gaps can only shrink.
//!
//! Each vector is decoded in-process the way `idscope decode` does it (the builtin registry, all
//! outcomes, trust and key files loaded by the function behind `--trust-cert`, `--jwks` and
//! `--key`), and
//! [`verdict`] reads idscope's answer from the outcomes in the shape `idscope decode --json`
//! prints, so that a sample can also be run through the real binary and compared.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::SystemTime;

use idscope_decoders::registry::GENERIC;
use idscope_decoders::xml::dsig::{CertInfo, TrustedCert};
use idscope_decoders::{Context, Limits, Message, Outcome, Registry, Trust, util as dutil, x509};
use serde_json::{Value, json};

use crate::util;

/// The expectations, relative to the project root.
const EXPECTED: &str = "tests/realworld/expected.tsv";

/// The columns of [`EXPECTED`], in order.
const COLUMNS: [&str; 8] = [
    "path", "input", "decoder", "anchors", "expect", "checks", "gap", "note",
];

/// Words of an error finding that flags an attack on the message rather than a bad signature:
/// signature wrapping, duplicate IDs, comment truncation in names, a DTD, an unsigned JWT.
const ATTACKS: &[&str] = &[
    "signature wrapping",
    "duplicate ID",
    "comment inside",
    "DOCTYPE",
    "alg none",
    "algorithm confusion",
];

/// Words of a finding that says a document carries no signature at all.
const UNSIGNED: &[&str] = &["carries no XML signature", "nothing protects the claims"];

/// What idscope says about a vector; the expected outcomes use the same words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Valid,
    Invalid,
    NotChecked,
    Unsigned,
    Rejected,
    Decodes,
    /// Only a generic fallback (JSON, XML, form, URL, base64) understood it; never expected.
    Generic,
    Refused,
}

impl Verdict {
    const ALL: [Verdict; 8] = [
        Verdict::Valid,
        Verdict::Invalid,
        Verdict::NotChecked,
        Verdict::Unsigned,
        Verdict::Rejected,
        Verdict::Decodes,
        Verdict::Generic,
        Verdict::Refused,
    ];

    fn name(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::NotChecked => "not-checked",
            Verdict::Unsigned => "unsigned",
            Verdict::Rejected => "rejected",
            Verdict::Decodes => "decodes",
            Verdict::Generic => "generic",
            Verdict::Refused => "refused",
        }
    }
}

/// The `expect` column.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// Supporting material (a key, certificate, JWKS or reference file), not decoded here.
    Support,
    /// The source asserts nothing: decoding must not panic, and the checks must hold.
    Unknown,
    /// One of these verdicts.
    OneOf(Vec<Verdict>),
}

impl Expect {
    fn parse(s: &str) -> Option<Expect> {
        match s {
            "support" => Some(Expect::Support),
            "unknown" => Some(Expect::Unknown),
            _ => s
                .split('|')
                .map(|w| {
                    Verdict::ALL
                        .into_iter()
                        .find(|v| v.name() == w && *v != Verdict::Generic)
                })
                .collect::<Option<Vec<_>>>()
                .map(Expect::OneOf),
        }
    }

    fn text(&self) -> String {
        match self {
            Expect::Support => "support".into(),
            Expect::Unknown => "unknown".into(),
            Expect::OneOf(v) => v.iter().map(|v| v.name()).collect::<Vec<_>>().join("|"),
        }
    }
}

/// One row of [`EXPECTED`].
#[derive(Debug, Clone)]
struct Row {
    line: usize,
    path: String,
    input: String,
    decoder: String,
    anchors: Vec<String>,
    expect: Expect,
    checks: Vec<String>,
    gap: Option<String>,
}

impl Row {
    /// `path [input; anchors]`, enough to find the row.
    fn label(&self) -> String {
        format!(
            "{} [{}; {}] (expected.tsv line {})",
            self.path,
            self.input,
            if self.anchors.is_empty() {
                "no anchors".to_string()
            } else {
                self.anchors.join(",")
            },
            self.line
        )
    }
}

fn list(field: &str, sep: char) -> Vec<String> {
    if field == "-" {
        Vec::new()
    } else {
        field.split(sep).map(str::to_string).collect()
    }
}

/// The rows of [`EXPECTED`]; a malformed row is a test failure that names its line.
fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(util::root().join(EXPECTED)).unwrap();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (_, header) = lines.next().expect("a header row");
    assert_eq!(
        header.split('\t').collect::<Vec<_>>(),
        COLUMNS,
        "{EXPECTED}"
    );
    lines
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), COLUMNS.len(), "{EXPECTED}:{}: {l}", i + 1);
            Row {
                line: i + 1,
                path: f[0].to_string(),
                input: f[1].to_string(),
                decoder: f[2].to_string(),
                anchors: list(f[3], ','),
                expect: Expect::parse(f[4])
                    .unwrap_or_else(|| panic!("{EXPECTED}:{}: expect `{}`", i + 1, f[4])),
                checks: list(f[5], ';'),
                gap: (f[6] != "-").then(|| f[6].to_string()),
            }
        })
        .collect()
}

/// The paths listed in the corpus manifest.
fn manifest(corpus: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("{}/MANIFEST.tsv: {e}", corpus.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Removes the whitespace between tags (`>  <` becomes `><`).
fn strip_ws(s: &str) -> String {
    static RE: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new(r">\s+<").unwrap());
    RE.replace_all(s.trim(), "><").into_owned()
}

fn looks_like_xml(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    b.trim_ascii_start().starts_with(b"<")
}

/// The bytes idscope decodes for a row (trimmed, as `idscope decode` trims its input), and the
/// document they hold, as text, for resolving `sha1:` and `embedded` anchors. A wrong `input`
/// column fails here.
fn prepare(corpus: &Path, row: &Row) -> (Vec<u8>, String) {
    let file = std::fs::read(corpus.join(&row.path)).unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let unbase64 = || {
        let s: String = text(&file).split_whitespace().collect();
        dutil::b64_decode_any(&s, 64 << 20)
            .unwrap_or_else(|| panic!("{}: input base64, but it is not", row.label()))
    };
    match row.input.as_str() {
        "raw" => (file.trim_ascii().to_vec(), text(&file)),
        "base64" => {
            let doc = unbase64();
            assert!(looks_like_xml(&doc), "{}: not base64 of XML", row.label());
            (file.trim_ascii().to_vec(), text(&doc))
        }
        "deflate+base64" => {
            let packed = unbase64();
            assert!(
                !looks_like_xml(&packed),
                "{}: base64, not deflated",
                row.label()
            );
            let mut doc = Vec::new();
            flate2::read::DeflateDecoder::new(packed.as_slice())
                .read_to_end(&mut doc)
                .unwrap_or_else(|e| panic!("{}: not raw DEFLATE: {e}", row.label()));
            (file.trim_ascii().to_vec(), text(&doc))
        }
        "strip-ws" => {
            let doc = strip_ws(&text(&file));
            (doc.clone().into_bytes(), doc)
        }
        other => {
            let ptr = other
                .strip_prefix("json:")
                .unwrap_or_else(|| panic!("{}: input `{other}`", row.label()));
            let v = json_at(corpus, &row.path, ptr);
            let s = match v {
                Value::String(s) => s,
                v => v.to_string(),
            };
            (s.clone().into_bytes(), s)
        }
    }
}

/// The value at a JSON pointer of a corpus file.
fn json_at(corpus: &Path, path: &str, ptr: &str) -> Value {
    let doc: Value = serde_json::from_slice(&std::fs::read(corpus.join(path)).unwrap())
        .unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
    doc.pointer(ptr)
        .cloned()
        .unwrap_or_else(|| panic!("{path}: nothing at {ptr}"))
}

/// The certificates of a document's `X509Certificate` elements, as DER. A PEM text inside one
/// (ruby-saml's ADFS samples) is unwrapped; text that is not base64 is skipped.
fn embedded_certs(doc: &str) -> Vec<Vec<u8>> {
    static RE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"<(?:[\w.-]+:)?X509Certificate\b[^>]*>([^<]*)<").unwrap()
    });
    let mut out = Vec::new();
    for cap in RE.captures_iter(doc) {
        let b64: String = cap[1].split_whitespace().collect();
        let Some(bytes) = dutil::b64_decode_any(&b64, 1 << 20).filter(|b| !b.is_empty()) else {
            continue;
        };
        if bytes.starts_with(b"-----BEGIN") {
            let certs = TrustedCert::from_pem_or_der(&bytes, "").unwrap_or_default();
            out.extend(certs.into_iter().map(|c| c.der));
        } else {
            out.push(bytes);
        }
    }
    out
}

fn thumbprint(der: &[u8]) -> String {
    dutil::hex_lower(&x509::sha1(der))
}

/// The trust a row's anchors give, built as `idscope decode` builds it: certificate and JWKS
/// files through `load_user_trust` (the function behind `--trust-cert` and `--jwks`), the other
/// kinds with the same `Trust` calls. Also returns the anchors idscope cannot take.
fn trust(corpus: &Path, row: &Row, doc: &str, manifest: &BTreeSet<String>) -> (Trust, Vec<String>) {
    let mut opts = idscope::cli::DecodeOpts::default();
    // Key files written for `--key` (JWKs at a pointer, hex session keys, passwords).
    let scratch = tempfile::tempdir().unwrap();
    let mut written = 0;
    let mut key_file = |bytes: &[u8]| {
        written += 1;
        let path = scratch.path().join(format!("key-{written}"));
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let mut certs: Vec<(Vec<u8>, String)> = Vec::new();
    let mut jwks: Vec<(Value, String)> = Vec::new();
    let mut not_given = Vec::new();
    for a in &row.anchors {
        let (kind, arg) = a.split_once(':').unwrap_or((a.as_str(), ""));
        match kind {
            "cert" => opts.trust_cert.push(corpus.join(arg)),
            "jwks" => {
                opts.jwks.push(corpus.join(arg));
                let v: Value = serde_json::from_slice(&std::fs::read(corpus.join(arg)).unwrap())
                    .unwrap_or(Value::Null);
                if has_private_jwk(&v) {
                    opts.key.push(corpus.join(arg));
                }
            }
            "jwk" => {
                let (file, ptr) = arg.split_once('#').expect("jwk:PATH#POINTER");
                let v = match json_at(corpus, file, ptr) {
                    Value::Array(keys) => json!({ "keys": keys }),
                    v => v,
                };
                if has_private_jwk(&v) {
                    opts.key.push(key_file(v.to_string().as_bytes()));
                }
                jwks.push((v, format!("--jwks {arg}")));
            }
            // A decryption key file, given as --key when idscope reads it.
            "key" => {
                let path = corpus.join(arg);
                let bytes = std::fs::read(&path).unwrap();
                match idscope_decoders::keys::Keys::default().add_file(&bytes, a, None) {
                    Ok(_) => opts.key.push(path),
                    Err(e) => not_given.push(format!("{a} (refused: {e})")),
                }
            }
            // A PRT session key (hex) or a PBES2 password at a JSON pointer: a symmetric key in
            // hex, as --key takes it.
            // The detached content of a JWS (the string at a JSON pointer), as --payload takes it.
            "payload" => {
                let (file, ptr) = arg.split_once('#').expect("payload:PATH#POINTER");
                let text = json_at(corpus, file, ptr);
                let text = text.as_str().expect("a string");
                opts.payload.push(key_file(text.as_bytes()));
            }
            "session-key" | "password" => {
                let (file, ptr) = arg.split_once('#').expect("KIND:PATH#POINTER");
                let text = json_at(corpus, file, ptr);
                let text = text.as_str().expect("a string");
                let hex = if kind == "password" {
                    dutil::hex_lower(text.as_bytes())
                } else {
                    text.to_string()
                };
                opts.key.push(key_file(hex.as_bytes()));
            }
            "metadata" => {
                let xml = std::fs::read_to_string(corpus.join(arg)).unwrap();
                let found = idscope_decoders::saml::signing_certificates(&xml, &Limits::default());
                assert!(
                    !found.is_empty(),
                    "{}: no signing cert in {arg}",
                    row.label()
                );
                certs.extend(found.into_iter().map(|d| (d, format!("metadata {arg}"))));
            }
            "sha1" => {
                let want = arg.replace(':', "").to_ascii_lowercase();
                let files = manifest
                    .iter()
                    .filter(|p| [".pem", ".crt", ".cert"].iter().any(|e| p.ends_with(e)))
                    .filter_map(|p| std::fs::read(corpus.join(p)).ok())
                    .filter_map(|b| TrustedCert::from_pem_or_der(&b, "").ok())
                    .flatten()
                    .map(|c| c.der);
                let der = embedded_certs(doc)
                    .into_iter()
                    .chain(files)
                    .find(|d| thumbprint(d) == want)
                    .unwrap_or_else(|| panic!("{}: no certificate has sha1 {want}", row.label()));
                // Pinned as --trust-thumbprint does when the message carries the certificate;
                // a certificate only in a corpus file is given as --trust-cert would give it.
                if embedded_certs(doc).contains(&der) {
                    opts.trust_thumbprint.push(want.parse().unwrap());
                } else {
                    certs.push((der, format!("pinned sha1 {want}")));
                }
            }
            // Every certificate the document embeds; none when none decodes.
            "embedded" => certs.extend(
                embedded_certs(doc)
                    .into_iter()
                    .map(|d| (d, "pinned embedded certificate".to_string())),
            ),
            // A decryption key the corpus lacks (or holds broken) that this project keeps with
            // its own test data, provenance in decoders/tests/data/*/MANIFEST.tsv; given as --key.
            "project-key" => opts.key.push(crate::util::root().join(arg)),
            // A bare public key, as --trust-cert takes it.
            "pubkey" => opts.trust_cert.push(corpus.join(arg)),
            _ => panic!("{}: anchor kind `{kind}`", row.label()),
        }
        let file = arg.split('#').next().unwrap_or_default();
        assert!(
            matches!(kind, "sha1" | "embedded" | "project-key") || manifest.contains(file),
            "{}: anchor {a} names a file outside the manifest",
            row.label()
        );
    }
    let mut trust = idscope::commands::load_user_trust(&opts)
        .unwrap_or_else(|e| panic!("{}: {e:#}", row.label()));
    for (der, source) in certs {
        trust.add_cert(der, &source);
    }
    for (v, source) in jwks {
        assert!(trust.add_jwks(&v, &source) > 0, "{}: {source}", row.label());
    }
    (trust, not_given)
}

/// Whether a JWK, or any key of a JWKS, has private members that can decrypt (`d`, or `k` of an
/// `oct` key; an EdDSA key only signs).
fn has_private_jwk(v: &Value) -> bool {
    let private = |k: &Value| {
        let eddsa = matches!(
            k.get("crv").and_then(Value::as_str),
            Some("Ed25519" | "Ed448")
        );
        (k.get("d").is_some() && !eddsa) || k.get("kty") == Some(&json!("oct"))
    };
    match v.get("keys").and_then(Value::as_array) {
        Some(keys) => keys.iter().any(private),
        None => private(v),
    }
}

/// Every outcome of decoding `bytes` (all applicable decoders, or the one forced), as
/// `idscope decode --json` serializes them.
fn decode(bytes: &[u8], decoder: &str, trust: &Trust) -> Value {
    let cx = Context::new(SystemTime::now(), trust).with_limits(Limits::default());
    let registry = Registry::builtin();
    let msg = Message::blob(bytes);
    let outcomes = if decoder == "auto" {
        registry.decode_all(&msg, &cx)
    } else {
        let d = registry
            .get(decoder)
            .unwrap_or_else(|| panic!("no decoder `{decoder}`"));
        vec![Outcome {
            decoder: d.id(),
            priority: 1.0,
            result: d.decode(&msg, &cx),
        }]
    };
    serde_json::to_value(&outcomes).unwrap()
}

/// The successful outcomes' decoded views, in the registry's order (best first).
fn decoded(outcomes: &Value) -> impl Iterator<Item = &Value> {
    outcomes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o.pointer("/result/ok"))
}

/// idscope's verdict on one vector, read from its decode outcomes in the shape
/// `idscope decode --json` prints them, with the decoded view it was read from.
///
/// The verdict is read from one view: the first successful one by a specific decoder (the
/// registry ranks outcomes best first), else the first generic fallback's. Its findings decide,
/// first match wins:
/// 1. `rejected`: an error finding flags an attack ([`ATTACKS`]);
/// 2. `rejected`, `invalid`, then `not-checked`, then `valid`: the signature verdict findings, worst
///    first.
///    XML-DSig ones start with "XML signature" (info: verified with a trusted certificate;
///    warning: not verified for want of one; error: ": INVALID", ": REJECTED" (malformed or
///    ambiguous, e.g. two `SignedInfo`) or could not be checked); JOSE
///    ones are "signature verified with …", "signature does NOT verify …", "invalid JWS: …",
///    "not verified: …" and "not checked: …", and for a JWE "JWE decrypted with …" (it opened
///    and authenticated) and "JWE does NOT authenticate …";
/// 3. `unsigned`: a finding that the document carries no signature ([`UNSIGNED`]);
/// 4. `decodes` from a specific decoder, `generic` from a fallback only.
///
/// `refused` when nothing decoded it. Findings about expiry, audiences and other claims never
/// count: the verdicts are about signatures.
fn verdict(outcomes: &Value) -> (Verdict, Option<&Value>) {
    let is_generic = |d: &&Value| GENERIC.contains(&d["decoder"].as_str().unwrap_or(""));
    let Some(view) = decoded(outcomes)
        .find(|d| !is_generic(d))
        .or_else(|| decoded(outcomes).next())
    else {
        return (Verdict::Refused, None);
    };
    let findings: Vec<(&str, &str)> = view["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["severity"].as_str().unwrap_or(""),
                f["message"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let signature = |(severity, m): &(&str, &str)| {
        if m.starts_with("XML signature") {
            Some(match *severity {
                "info" => Verdict::Valid,
                "error" if m.contains(": INVALID") => Verdict::Invalid,
                "error" if m.contains(": REJECTED") => Verdict::Rejected,
                _ => Verdict::NotChecked,
            })
        } else if m.starts_with("signature verified with") || m.starts_with("JWE decrypted with") {
            Some(Verdict::Valid)
        } else if m.starts_with("signature does NOT verify")
            || m.starts_with("invalid JWS:")
            || m.starts_with("JWE does NOT authenticate")
        {
            Some(Verdict::Invalid)
        } else if m.starts_with("not verified:") || m.starts_with("not checked:") {
            Some(Verdict::NotChecked)
        } else {
            None
        }
    };
    let signatures: BTreeSet<Verdict> = findings.iter().filter_map(signature).collect();
    let verdict = if findings
        .iter()
        .any(|(s, m)| *s == "error" && ATTACKS.iter().any(|a| m.contains(a)))
    {
        Verdict::Rejected
    } else if let Some(v) = [
        Verdict::Rejected,
        Verdict::Invalid,
        Verdict::NotChecked,
        Verdict::Valid,
    ]
    .into_iter()
    .find(|v| signatures.contains(v))
    {
        v
    } else if findings
        .iter()
        .any(|(_, m)| UNSIGNED.iter().any(|u| m.contains(u)))
    {
        Verdict::Unsigned
    } else if is_generic(&view) {
        Verdict::Generic
    } else {
        Verdict::Decodes
    };
    (verdict, Some(view))
}

/// Every node of a decoded view as (label, value).
fn nodes(view: &Value) -> Vec<(&str, &str)> {
    fn walk<'a>(n: &'a Value, out: &mut Vec<(&'a str, &'a str)>) {
        out.push((
            n["label"].as_str().unwrap_or(""),
            n["value"].as_str().unwrap_or(""),
        ));
        for c in n["children"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(&view["root"], &mut out);
    out
}

/// Checks one `checks` item (syntax in the header of [`EXPECTED`]) against the view the verdict
/// came from, or the `[decoder]` named; `Err` says what was shown instead.
fn check(c: &str, view: Option<&Value>, outcomes: &Value, corpus: &Path) -> Result<(), String> {
    let (view, spec) = match c.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((d, spec)) => (decoded(outcomes).find(|v| v["decoder"] == d), spec),
        None => (view, c),
    };
    let view = view.ok_or_else(|| format!("{c}: no such decoded view"))?;
    let at = spec.find(['=', '~']);
    let (label, op, want) = match at {
        Some(i) => (&spec[..i], &spec[i..=i], spec[i + 1..].to_string()),
        None => (spec, "", String::new()),
    };
    let (want, xml) = match want.strip_prefix('@') {
        Some(file) if op == "=" => {
            let text = std::fs::read_to_string(corpus.join(file)).unwrap();
            (strip_ws(&text), true)
        }
        _ => (want, false),
    };
    let labelled: Vec<&str> = nodes(view)
        .into_iter()
        .filter(|(l, _)| label == "*" || *l == label)
        .map(|(_, v)| v)
        .collect();
    let ok = labelled.iter().any(|v| match op {
        "=" if xml => strip_ws(v) == want,
        "=" => *v == want,
        "~" => v.contains(want.as_str()),
        _ => true,
    });
    if ok {
        return Ok(());
    }
    let seen: Vec<String> = labelled.iter().take(3).map(|v| format!("{v:?}")).collect();
    Err(format!(
        "check `{c}` fails{}",
        if label == "*" || seen.is_empty() {
            String::new()
        } else {
            format!(" ({label} shows {})", seen.join(", "))
        }
    ))
}

/// What one row came to.
struct Run {
    got: Verdict,
    checks_ok: bool,
    reached: bool,
    /// For a miss: what idscope showed.
    detail: String,
}

/// Decodes one row's vector and compares idscope's verdict with the expected one.
fn run(corpus: &Path, row: &Row, manifest: &BTreeSet<String>) -> (Run, Value) {
    let (bytes, doc) = prepare(corpus, row);
    let (trust, not_given) = trust(corpus, row, &doc, manifest);
    let outcomes = decode(&bytes, &row.decoder, &trust);
    let (got, view) = verdict(&outcomes);
    let failed: Vec<String> = row
        .checks
        .iter()
        .filter_map(|c| check(c, view, &outcomes, corpus).err())
        .collect();
    let reached = failed.is_empty()
        && match &row.expect {
            Expect::OneOf(v) => v.contains(&got),
            Expect::Unknown | Expect::Support => true,
        };
    let mut detail = String::new();
    if !reached {
        for f in &failed {
            detail.push_str(&format!("\n    {f}"));
        }
        for c in &trust.certs {
            let key = CertInfo::from_der(&c.der).map_or("unparsable".into(), |i| i.key);
            let sha1 = thumbprint(&c.der);
            detail.push_str(&format!("\n    trusted: certificate {sha1} ({key})"));
        }
        if !not_given.is_empty() {
            detail.push_str(&format!(
                "\n    not given (idscope takes no such anchor): {}",
                not_given.join(", ")
            ));
        }
        match view {
            Some(v) => {
                detail.push_str(&format!(
                    "\n    [{}] {}",
                    v["decoder"].as_str().unwrap_or(""),
                    v["summary"].as_str().unwrap_or("")
                ));
                for f in v["findings"].as_array().into_iter().flatten().take(6) {
                    let m = f["message"].as_str().unwrap_or("");
                    detail.push_str(&format!(
                        "\n    [{}] {}",
                        f["severity"].as_str().unwrap_or(""),
                        m.chars().take(300).collect::<String>()
                    ));
                }
            }
            None => {
                for o in outcomes.as_array().into_iter().flatten() {
                    detail.push_str(&format!(
                        "\n    {}: {}",
                        o["decoder"].as_str().unwrap_or(""),
                        o.pointer("/result/err")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                    ));
                }
            }
        }
    }
    (
        Run {
            got,
            checks_ok: failed.is_empty(),
            reached,
            detail,
        },
        outcomes,
    )
}

/// The corpus directory; its absence is a failure, never a skip.
fn corpus() -> PathBuf {
    util::shared_corpus("realworld")
}

#[test]
fn realworld_vectors_reach_their_source_verdicts() {
    let corpus = corpus();
    let manifest = manifest(&corpus);
    let rows = rows();
    let mut failures = Vec::new();

    // Every manifest path is accounted for, and nothing else is listed.
    let listed: BTreeSet<String> = rows.iter().map(|r| r.path.clone()).collect();
    for p in manifest.difference(&listed) {
        failures.push(format!("{p}: in MANIFEST.tsv but not in {EXPECTED}"));
    }
    for p in listed.difference(&manifest) {
        failures.push(format!("{p}: in {EXPECTED} but not in MANIFEST.tsv"));
    }
    let mut seen = BTreeSet::new();
    for r in &rows {
        if !seen.insert((&r.path, &r.input, &r.anchors)) {
            failures.push(format!("{}: listed twice", r.label()));
        }
        if r.expect == Expect::Support && rows.iter().any(|o| o.path == r.path && o.line != r.line)
        {
            failures.push(format!("{}: support material and a vector", r.label()));
        }
    }

    // `REALWORLD_VERBOSE=1` prints every row's verdict, for whoever maintains the gap marks.
    let verbose = std::env::var_os("REALWORLD_VERBOSE").is_some();
    let (mut total, mut reached, mut unknown) = (0, 0, 0);
    let mut gaps: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.expect != Expect::Support) {
        total += 1;
        let result = catch_unwind(AssertUnwindSafe(|| run(&corpus, row, &manifest)));
        let Ok((r, _)) = result else {
            failures.push(format!("{}: PANIC (see the output above)", row.label()));
            continue;
        };
        if verbose {
            println!(
                "{}: expected {}, got {}{}",
                row.label(),
                row.expect.text(),
                r.got.name(),
                row.gap
                    .as_ref()
                    .map(|g| format!(" (gap {g})"))
                    .unwrap_or_default()
            );
        }
        match (&row.gap, r.reached) {
            (None, true) => {
                reached += 1;
                unknown += usize::from(row.expect == Expect::Unknown);
            }
            (None, false) => failures.push(format!(
                "{}: expected {}, got {}{}{}",
                row.label(),
                row.expect.text(),
                r.got.name(),
                if r.checks_ok {
                    ""
                } else {
                    " (and a check fails)"
                },
                r.detail
            )),
            (Some(gap), false) => *gaps.entry(gap).or_default() += 1,
            (Some(gap), true) => failures.push(format!(
                "remove the gap mark `{gap}` on {}: it now reaches {} (got {})",
                row.label(),
                row.expect.text(),
                r.got.name()
            )),
        }
    }

    let mut by_count: Vec<(&str, usize)> = gaps.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let known: usize = by_count.iter().map(|(_, n)| n).sum();
    println!(
        "realworld: {reached} of {total} vectors reach their verdict ({unknown} of them `unknown`: \
         decoded without panic, checks hold); {known} known gaps: {}",
        by_count
            .iter()
            .map(|(g, n)| format!("{g} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} of the real-world corpus rows disagree with {EXPECTED}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The command line agrees with the library path: for a sample of rows whose anchors are files,
/// the real binary's `decode --json` (secrets shown, so that checks could read them) gives the
/// verdict the in-process decode gives.
#[test]
fn realworld_cli_agrees_with_the_library() {
    const SAMPLE: &[&str] = &[
        "jwt/azuread/aad-idtoken-v1.jwt",
        "jwt/rfc7515/rfc7515-a5.jws",
        "saml/gosaml2/okta_response.xml",
        "saml/gosaml2/oktadev/response_16.b64",
        "saml/gosaml2/onelogin/olgn09_response_11.b64",
        "saml/python3-saml/invalids/no_signature.xml.base64",
        "saml/xml-crypto/invalids/valid_saml_signature_wrapping.xml",
        "scim/rfc/rfc7643-8.4-group.json",
        "msbin1/msbingo/1.bin",
        "jwt/rfc7515/rfc7515-a4.jws",
    ];
    let corpus = corpus();
    let manifest = manifest(&corpus);
    let rows = rows();
    for path in SAMPLE {
        let row = rows
            .iter()
            .find(|r| r.path == *path)
            .unwrap_or_else(|| panic!("{path}: not in {EXPECTED}"));
        let (lib, outcomes) = run(&corpus, row, &manifest);
        let file = corpus.join(path);
        let mut args = vec![
            "decode".to_string(),
            "--json".into(),
            "--show-secrets".into(),
        ];
        if row.decoder != "auto" {
            args.extend(["--as".into(), row.decoder.clone()]);
        }
        for a in &row.anchors {
            let (flag, arg) = match a.split_once(':') {
                Some(("cert", p)) => ("--trust-cert", p),
                Some(("jwks", p)) => ("--jwks", p),
                _ => panic!("{path}: the sample takes file anchors only, not {a}"),
            };
            args.extend([flag.to_string(), corpus.join(arg).display().to_string()]);
        }
        args.push(file.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = util::idscope(&args, None);
        let cli: Value = if out.status.success() {
            serde_json::from_slice(&out.stdout).unwrap()
        } else {
            assert_eq!(out.status.code(), Some(2), "{path}: {}", util::stderr(&out));
            json!([])
        };
        let (got, view) = verdict(&cli);
        let (_, lib_view) = verdict(&outcomes);
        assert_eq!(got, lib.got, "{path}: the CLI says {}", got.name());
        assert_eq!(
            view.map(|v| &v["decoder"]),
            lib_view.map(|v| &v["decoder"]),
            "{path}"
        );
    }
}
