//! Generator of the `provisioning` golden-test inputs (protocols.md §9 items 13–22):
//! `tests/fixtures/provisioning/<case>.http` from the `<case>.xml` beside them, encoded with this
//! crate's own MC-NBFX encoder (`soap::nbfx::encode` / `encode_session`) in the style each case
//! names, plus the hand-mutated malformed binary cases and the text-SOAP MSOnline case.
//!
//! Not a test of anything: it is an `#[ignore]`d test so that it runs only when asked:
//!
//! ```text
//! cargo test -p idscope-decoders --lib make_sync_fixtures -- --ignored
//! INSTA_UPDATE=always cargo test -p idscope-decoders --test snapshots   # then review
//! ```
//!
//! The `{{BEARER_TOKEN}}` placeholder in the XML becomes an RS256 access token signed with a
//! SYNTHETIC RSA key generated in memory on each run; only its public JWKS is written (as
//! `<case>.keys.json` for the cases that should verify) and the private key is dropped, so nothing
//! secret is committed. Re-running changes the token and therefore the snapshots.
//!
//! Compiled into the crate's unit tests through `#[path]` from `src/soap/mod.rs`, because the
//! crate's `Cargo.toml` auto-discovers only `tests/*.rs` as test targets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;

use crate::soap::nbfx::{Session, Style, encode, encode_session};

const SYNC_URL: &str = "https://adminwebservice.microsoftonline.com/provisioningservice.svc";
const TID: &str = "4d3c2b1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const KID: &str = "synthetic-sync-fixture-key";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/provisioning")
}

fn b64u(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A fresh synthetic RS256 access token for AAD Graph and the public JWKS that verifies it.
fn token_and_jwks() -> (String, String) {
    let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let header = format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{KID}"}}"#);
    let claims = format!(
        concat!(
            r#"{{"aud":"https://graph.windows.net","iss":"https://sts.windows.net/{tid}/","#,
            r#""iat":1699999700,"nbf":1699999700,"exp":1700003599,"acr":"1","amr":["pwd"],"#,
            r#""appid":"1b730954-1685-4b74-9bfd-dac224a7b894","appidacr":"0","#,
            r#""ipaddr":"203.0.113.10","name":"On-Premises Directory Synchronization Service Account","#,
            r#""oid":"a1b2c3d4-e5f6-4789-9abc-def012345678","scp":"user_impersonation","#,
            r#""sub":"Zk3l9xW8synthetic-pairwise-subject-value","tid":"{tid}","#,
            r#""unique_name":"Sync_DC01_5f3e2a1b9c7d@contoso.onmicrosoft.com","#,
            r#""upn":"Sync_DC01_5f3e2a1b9c7d@contoso.onmicrosoft.com","uti":"syntheticUTI0000000AA","#,
            r#""ver":"1.0","wids":["d29b2b05-8046-44ba-8758-1e26182fcf32"]}}"#
        ),
        tid = TID
    );
    let input = format!("{}.{}", b64u(header.as_bytes()), b64u(claims.as_bytes()));
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    let public = key.public_key();
    let n = b64u(public.modulus().big_endian_without_leading_zero());
    let e = b64u(public.exponent().big_endian_without_leading_zero());
    let jwks = format!(
        "{{\n  \"keys\": [\n    {{\"kty\": \"RSA\", \"use\": \"sig\", \"kid\": \"{KID}\", \"n\": \"{n}\", \"e\": \"{e}\"}}\n  ]\n}}\n"
    );
    (format!("{input}.{}", b64u(&sig)), jwks)
}

/// How one case is framed on the wire.
#[derive(Clone, Copy)]
enum Wire {
    Msbin1(Style),
    Text,
}

struct Case {
    name: &'static str,
    /// The XML source (`<source>.xml`), when it differs from the case name.
    source: &'static str,
    /// `None` for a request; the status for a response.
    status: Option<u16>,
    /// `x-ms-aadmsods-apiaction` for requests (the AADInternals client sends it).
    api_action: Option<&'static str>,
    wire: Wire,
    keys: bool,
}

const fn req(name: &'static str, op: &'static str, style: Style, keys: bool) -> Case {
    Case {
        name,
        source: name,
        status: None,
        api_action: Some(op),
        wire: Wire::Msbin1(style),
        keys,
    }
}

const fn resp(name: &'static str, status: u16, style: Style) -> Case {
    Case {
        name,
        source: name,
        status: Some(status),
        api_action: None,
        wire: Wire::Msbin1(style),
        keys: false,
    }
}

fn cases() -> Vec<Case> {
    use Style::{DataContract as Dcs, XmlDocument as Xd};
    vec![
        req(
            "get_company_configuration_request",
            "GetCompanyConfiguration",
            Xd,
            true,
        ),
        resp("get_company_configuration_response", 200, Dcs),
        req(
            "readback2_full_request",
            "ReadBackAzureADSyncObjects2",
            Xd,
            false,
        ),
        resp("readback2_response", 200, Dcs),
        req(
            "update_dirsync_configuration_request",
            "UpdateDirSyncConfiguration",
            Xd,
            false,
        ),
        resp("update_dirsync_configuration_response", 200, Xd),
        req(
            "provision_objects_request",
            "ProvisionAzureADSyncObjects",
            Xd,
            true,
        ),
        Case {
            name: "provision_objects_request_dcs",
            source: "provision_objects_request",
            ..req("", "ProvisionAzureADSyncObjects", Dcs, true)
        },
        resp("provision_objects_response", 200, Dcs),
        req(
            "provision_objects2_reference_changes_request",
            "ProvisionAzureADSyncObjects2",
            Dcs,
            false,
        ),
        req("finalize_export_request", "FinalizeExport", Xd, false),
        resp("finalize_export_response", 200, Xd),
        req(
            "provision_credentials_request",
            "ProvisionCredentials",
            Xd,
            false,
        ),
        resp("provision_credentials_response", 200, Dcs),
        resp("get_service_account_response", 200, Dcs),
        resp("capabilities_response", 200, Xd),
        resp("redirect_fault_500", 500, Dcs),
        resp("error_description_fault_500", 500, Xd),
        Case {
            name: "msonline_set_domain_federation_settings_request",
            source: "msonline_set_domain_federation_settings_request",
            status: None,
            api_action: None,
            wire: Wire::Text,
            keys: true,
        },
    ]
}

fn wrap_b64(bytes: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::from("base64:\n");
    for chunk in s.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out
}

fn head(
    status: Option<u16>,
    url: &str,
    content_type: &str,
    api_action: Option<&str>,
    tracking: Option<&str>,
) -> String {
    let mut h = String::new();
    match status {
        None => {
            writeln!(h, "POST {url}").unwrap();
            writeln!(h, "content-type: {content_type}").unwrap();
            if let Some(op) = api_action {
                writeln!(
                    h,
                    "x-ms-aadmsods-appid: 1651564e-7ce4-4d99-88be-0a65050d8dc3"
                )
                .unwrap();
                writeln!(h, "x-ms-aadmsods-apiaction: {op}").unwrap();
                if let Some(t) = tracking {
                    writeln!(h, "client-request-id: {t}").unwrap();
                }
                writeln!(h, "x-ms-aadmsods-clientversion: 8.0").unwrap();
                writeln!(h, "x-ms-aadmsods-dirsyncbuildnumber: 2.2.8.0").unwrap();
                writeln!(h, "x-ms-aadmsods-fimbuildnumber: 2.2.8.0").unwrap();
                writeln!(h, "x-ms-aadmsods-tenantid: {TID}").unwrap();
            }
        }
        Some(s) => {
            writeln!(h, "HTTP {s}").unwrap();
            writeln!(h, "for: POST {url}").unwrap();
            writeln!(h, "content-type: {content_type}").unwrap();
        }
    }
    h
}

/// The TrackingId of a request source, to mirror it in `client-request-id`.
fn tracking_id(xml: &str) -> Option<String> {
    let start = xml.find("<TrackingId")?;
    let rest = &xml[start..];
    let open = rest.find('>')? + 1;
    let close = rest.find("</TrackingId>")?;
    Some(rest[open..close].to_string())
}

fn write_case(c: &Case, token: &str, jwks: &str) {
    let d = dir();
    let xml = std::fs::read_to_string(d.join(format!("{}.xml", c.source)))
        .unwrap()
        .replace("{{BEARER_TOKEN}}", token);
    let tracking = tracking_id(&xml);
    let text = match c.wire {
        Wire::Msbin1(style) => {
            let bytes = encode(&xml, style).unwrap();
            let mut t = head(
                c.status,
                SYNC_URL,
                "application/soap+msbin1",
                c.api_action,
                tracking.as_deref(),
            );
            t.push('\n');
            t.push_str(&wrap_b64(&bytes));
            t
        }
        Wire::Text => {
            let mut t = head(
                c.status,
                "https://provisioningapi.microsoftonline.com/provisioningwebservice.svc",
                "application/soap+xml; charset=utf-8",
                None,
                None,
            );
            t.push('\n');
            t.push_str(&xml);
            t
        }
    };
    std::fs::write(d.join(format!("{}.http", c.name)), text).unwrap();
    if c.keys {
        std::fs::write(d.join(format!("{}.keys.json", c.name)), jwks).unwrap();
    }
}

fn write_raw(
    name: &str,
    status: Option<u16>,
    content_type: &str,
    api_action: Option<&str>,
    bytes: &[u8],
) {
    let mut t = head(status, SYNC_URL, content_type, api_action, None);
    t.push('\n');
    t.push_str(&wrap_b64(bytes));
    std::fs::write(dir().join(format!("{name}.http")), t).unwrap();
}

/// The byte offset of the first occurrence of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
#[ignore = "writes tests/fixtures/provisioning/*.http; run on purpose, then review the snapshots"]
fn make_sync_fixtures() {
    let (token, jwks) = token_and_jwks();
    for c in cases() {
        write_case(&c, &token, &jwks);
    }
    let d = dir();
    let src = |name: &str| {
        std::fs::read_to_string(d.join(format!("{name}.xml")))
            .unwrap()
            .replace("{{BEARER_TOKEN}}", &token)
    };

    // MC-NBFSE: the first message of a session (its string table names the SyncToken fields)…
    let mut session = Session::new();
    let first = encode_session(
        &src("get_company_configuration_request"),
        Style::DataContract,
        &mut session,
    )
    .unwrap();
    write_raw(
        "nbfse_session_first_request",
        None,
        "application/soap+msbinsession1",
        Some("GetCompanyConfiguration"),
        &first,
    );
    // …and a later message of the same session, captured without the first: the names sent
    // earlier are odd ids this capture cannot resolve.
    let later = encode_session(
        &src("finalize_export_request"),
        Style::DataContract,
        &mut session,
    )
    .unwrap();
    write_raw(
        "nbfse_mid_session_request",
        None,
        "application/soap+msbinsession1",
        Some("FinalizeExport"),
        &later,
    );

    // Malformed binary, derived from a valid GetCompanyConfiguration request.
    let good = encode(
        &src("get_company_configuration_request"),
        Style::XmlDocument,
    )
    .unwrap();
    // 1. Truncated: the body ends inside the Action string (Chars8Text length says more).
    let action = find(&good, b"http://schemas.microsoft.com/online/aws/change");
    write_raw(
        "malformed_truncated_string",
        None,
        "application/soap+msbin1",
        Some("GetCompanyConfiguration"),
        &good[..action + 20],
    );
    // 2. A dictionary id written as a 6-byte MultiByteInt31 (at most 5 bytes are allowed):
    //    <s:Envelope xmlns:s=…><s:Header><a:Action with the name id as 80 80 80 80 80 01.
    let mbi = [
        0x56, 0x02, 0x0B, 0x01, 0x73, 0x04, 0x0B, 0x01, 0x61, 0x06, 0x56, 0x08, 0x44, 0x80, 0x80,
        0x80, 0x80, 0x80, 0x01, 0x01, 0x01, 0x01,
    ];
    write_raw(
        "malformed_mbi31_6_bytes",
        None,
        "application/soap+msbin1",
        Some("GetCompanyConfiguration"),
        &mbi,
    );
    // 3. The reserved record type 0x7F right inside the Body.
    let mut reserved = good.clone();
    let body_at = find(&reserved, &[0x56, 0x0E]) + 2;
    reserved.insert(body_at, 0x7F);
    write_raw(
        "malformed_reserved_0x7f",
        None,
        "application/soap+msbin1",
        Some("GetCompanyConfiguration"),
        &reserved,
    );
    // 4. An unknown static dictionary id (0x7D0, past the last MC-NBFS id 0x3CC) as the
    //    `ReplyTo` element name: rendered as a placeholder, decoding goes on.
    let mut unknown = good.clone();
    let reply_to = find(&unknown, &[0x44, 0x2C]);
    unknown.splice(reply_to..reply_to + 2, [0x44, 0xD0, 0x0F]);
    write_raw(
        "malformed_unknown_dict_id",
        None,
        "application/soap+msbin1",
        Some("GetCompanyConfiguration"),
        &unknown,
    );
}
