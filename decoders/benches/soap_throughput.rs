//! Throughput of the sync-API decode path (issue 3): MB/s of (a) quick-xml event parsing alone
//! over the XML text of a large, realistic ProvisionAzureADSyncObjects request (the floor any
//! XML-based decoder pays), (b) the MC-NBFX decoder over the msbin1 form of the same message,
//! and (c) the full `provisioning` decoder over the msbin1 message (nbfx, XML tree, envelope,
//! sync objects, JWT), with the ratios between them.
//!
//! A plain `harness = false` bench timed with `std::time::Instant` (criterion is not a
//! dependency). Run: `cargo bench -p idscope-decoders --bench soap_throughput`. Not a test: it
//! asserts only that every decode succeeds.

// A bench binary: failing loudly on a broken decode is the point.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

use idscope_decoders::soap::nbfx::{self, DecodeOptions, Style};
use idscope_decoders::soap::provisioning::Provisioning;
use idscope_decoders::{Context, Decoder, Message, Trust};

const C: &str = "http://schemas.microsoft.com/online/aws/change/2010/01";
const OBJECTS: usize = 500;

/// A synthetic, unsigned-but-JWT-shaped bearer token of realistic size (~1.4 KB).
fn token() -> String {
    let seg = |n: usize| "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo".repeat(n);
    format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.{}",
        seg(28),
        seg(10)
    )
}

fn kv(key: &str, ty: &str, v: &str) -> String {
    format!(
        r#"<c:KeyValueOfstringanyType><c:Key>{key}</c:Key><c:Value i:type="{ty}">{v}</c:Value></c:KeyValueOfstringanyType>"#
    )
}

/// A ProvisionAzureADSyncObjects request with `OBJECTS` users of ~20 attributes each, the
/// shape AAD Connect exports in a batch.
fn message() -> String {
    let mut objs = String::new();
    for i in 0..OBJECTS {
        let guid: [u8; 16] = std::array::from_fn(|j| (i * 31 + j * 7) as u8);
        let anchor = base64(&guid);
        let props = [
            kv("SourceAnchor", "d:string", &anchor),
            kv("accountEnabled", "d:boolean", "true"),
            kv("commonName", "d:string", &format!("User {i}")),
            kv("countryCode", "d:long", "276"),
            kv("displayName", "d:string", &format!("User Number {i}")),
            kv("dnsDomainName", "d:string", "corp.contoso.com"),
            kv("givenName", "d:string", "User"),
            kv("surname", "d:string", &format!("Number{i}")),
            kv("lastPasswordChangeTimestamp", "d:string", "20231101093015.0Z"),
            kv("netBiosName", "d:string", "CONTOSO"),
            kv("onPremiseSecurityIdentifier", "d:base64Binary", "AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA=="),
            kv("onPremisesDistinguishedName", "d:string", &format!("CN=User {i},OU=Users,DC=corp,DC=contoso,DC=com")),
            kv("onPremisesSamAccountName", "d:string", &format!("user{i}")),
            kv("userPrincipalName", "d:string", &format!("user{i}@contoso.com")),
            kv("cloudMastered", "d:boolean", "false"),
            kv("usageLocation", "d:string", "DE"),
            format!(
                r#"<c:KeyValueOfstringanyType><c:Key>proxyAddresses</c:Key><c:Value i:type="c:ArrayOfstring"><c:string>SMTP:user{i}@contoso.com</c:string><c:string>smtp:user{i}@contoso.onmicrosoft.com</c:string></c:Value></c:KeyValueOfstringanyType>"#
            ),
            kv("userType", "d:string", "Member"),
        ]
        .concat();
        objs.push_str(&format!(
            r#"<b:AzureADSyncObject><b:PropertyValues xmlns:c="http://schemas.microsoft.com/2003/10/Serialization/Arrays">{props}</b:PropertyValues><b:SyncObjectType>User</b:SyncObjectType><b:SyncOperation>Add</b:SyncOperation></b:AzureADSyncObject>"#
        ));
    }
    format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">{C}/IProvisioningWebService/ProvisionAzureADSyncObjects</a:Action><SyncToken s:role="urn:microsoft.online.administrativeservice" xmlns="urn:microsoft.online.administrativeservice" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><ApplicationId xmlns="{C}">1651564e-7ce4-4d99-88be-0a65050d8dc3</ApplicationId><BearerToken xmlns="{C}">{tok}</BearerToken><ClientVersion xmlns="{C}">8.0</ClientVersion><TrackingId xmlns="{C}">5b1f0a7e-2c3d-4e5f-8a9b-0c1d2e3f4a5b</TrackingId></SyncToken><a:MessageID>urn:uuid:5b1f0a7e-2c3d-4e5f-8a9b-0c1d2e3f4a5b</a:MessageID><a:To s:mustUnderstand="1">https://adminwebservice.microsoftonline.com/provisioningservice.svc</a:To></s:Header><s:Body><ProvisionAzureADSyncObjects xmlns="{C}"><syncRequest xmlns:b="http://schemas.microsoft.com/online/aws/change/2014/06" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:d="http://www.w3.org/2001/XMLSchema"><b:SyncObjects>{objs}</b:SyncObjects></syncRequest></ProvisionAzureADSyncObjects></s:Body></s:Envelope>"#,
        tok = token()
    )
}

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (u32::from(*x) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Runs `f` repeatedly for about `budget` (after a warm-up) and returns MB/s over `bytes` input
/// bytes per run.
fn measure(name: &str, bytes: usize, budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < budget {
        f();
        runs += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let mbps = bytes as f64 * f64::from(runs) / secs / 1e6;
    println!(
        "{name:<44} {:>9.1} MB/s  ({runs} runs, {:.2} ms/run, {bytes} B input)",
        mbps,
        secs * 1e3 / f64::from(runs)
    );
    mbps
}

fn main() {
    let xml = message();
    let bin = nbfx::encode(&xml, Style::DataContract).expect("encode");
    let budget = Duration::from_secs(3);
    println!(
        "ProvisionAzureADSyncObjects, {OBJECTS} users: XML text {} B, msbin1 {} B",
        xml.len(),
        bin.len()
    );

    let a = measure(
        "(a) quick-xml events over the XML text",
        xml.len(),
        budget,
        || {
            let mut r = quick_xml::Reader::from_str(&xml);
            let mut n = 0usize;
            loop {
                match r.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => n += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            black_box(n);
        },
    );

    let opts = DecodeOptions::default();
    let b = measure(
        "(b) nbfx::decode of the msbin1 body",
        bin.len(),
        budget,
        || {
            black_box(nbfx::decode(&bin, &opts).expect("nbfx"));
        },
    );

    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
    let msg = Message::request(
        "POST",
        "https://adminwebservice.microsoftonline.com/provisioningservice.svc",
        vec![
            ("content-type", "application/soap+msbin1"),
            ("x-ms-aadmsods-apiaction", "ProvisionAzureADSyncObjects"),
        ],
        &bin,
    );
    let c = measure(
        "(c) provisioning decoder on the msbin1 body",
        bin.len(),
        budget,
        || {
            black_box(Provisioning.decode(&msg, &cx).expect("provisioning"));
        },
    );

    let d = measure(
        "(d) nbfx::encode of the XML text to msbin1",
        xml.len(),
        budget,
        || {
            black_box(nbfx::encode(&xml, Style::DataContract).expect("encode"));
        },
    );

    println!(
        "ratios: nbfx/quick-xml = {:.2}, provisioning/nbfx = {:.2}, provisioning/quick-xml = {:.2}, \
         encode/quick-xml = {:.2}",
        b / a,
        c / b,
        c / a,
        d / a
    );
    println!("(MB/s are per input byte: XML text for (a) and (d), msbin1 bytes for (b) and (c))");
}
