//! A client refusing the interception certificate: telling a refusal apart from the other ways
//! a TLS handshake inside CONNECT ends, the error flow (and warning) that says what happened and
//! what to run, and the per-host limit on those flows (browsers retry and open several
//! connections at once).
//!
//! A refusal is a certificate-related TLS alert from the client during the handshake
//! (`unknown_ca`, `bad_certificate`, `certificate_unknown`, …), or the client closing the
//! connection during the handshake after it sent its ClientHello, that is once our
//! ServerHello and certificate were on their way, without an alert (as some browsers do). A client
//! that never starts TLS, sends half a ClientHello, or runs into the handshake timeout is not a
//! refusal.

use std::collections::HashMap;
use std::io;

use rustls::AlertDescription;

use super::*;

/// The `ca trust-help` targets, for a refusal whose client the User-Agent does not name.
pub(crate) const ALL_TARGETS: &str = "chrome-linux|firefox|linux|macos|windows|java|aadconnect";

/// Bound of the per-host table; expired entries are swept when it is reached.
const MAX_HOSTS: usize = 1024;

/// How a client refused the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// A TLS alert about the certificate (or `close_notify` in the middle of the handshake).
    Alert(AlertDescription),
    /// The connection closed (or was reset) after the ClientHello, without an alert.
    Closed,
}

/// The refusal in a failed server handshake, if it is one.
pub(super) fn classify(e: &io::Error) -> Option<Refusal> {
    if let Some(rustls::Error::AlertReceived(alert)) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return alert_name(*alert).map(|_| Refusal::Alert(*alert));
    }
    match e.kind() {
        // tokio-rustls: "tls handshake eof", the peer closed while we were handshaking.
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => Some(Refusal::Closed),
        _ => None,
    }
}

/// The RFC 8446 name of the alerts that count as a refusal; `None` for the others.
fn alert_name(a: AlertDescription) -> Option<&'static str> {
    Some(match a {
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::CloseNotify => "close_notify",
        AlertDescription::UserCanceled => "user_canceled",
        _ => return None,
    })
}

/// The `ca trust-help` target for the client a User-Agent names, with how it reads.
pub(super) fn target_for(user_agent: &str) -> Option<(&'static str, &'static str)> {
    let ua = user_agent;
    let has = |s: &str| ua.contains(s);
    if has("Firefox/") {
        return Some(("firefox", "Firefox"));
    }
    let chromium = has("Chrome/") || has("Chromium/") || has("HeadlessChrome/") || has("Edg/");
    if chromium && has("Linux") && !has("Android") && !has("CrOS") {
        return Some(("chrome-linux", "Chrome/Chromium on Linux"));
    }
    if has("Windows NT") || has("Windows-AzureAD") || has("Microsoft-CryptoAPI") {
        return Some(("windows", "a Windows client"));
    }
    if has("Mac OS X") || has("Darwin/") || has("CFNetwork/") {
        return Some(("macos", "a macOS client"));
    }
    if has("Java/") || has("Apache-HttpClient/") {
        return Some(("java", "a Java client"));
    }
    None
}

/// The error flow's message.
pub(super) fn message(
    refusal: Refusal,
    host: &str,
    port: u16,
    user_agent: Option<&str>,
    earlier: u64,
) -> String {
    let (how, why) = match refusal {
        Refusal::Alert(a) => {
            let name = alert_name(a).unwrap_or("unknown");
            let why = match a {
                AlertDescription::UnknownCA => "it does not trust the idscope CA",
                AlertDescription::CertificateExpired => {
                    "it finds the certificate expired or not yet valid (check the client's clock \
                     and `idscope ca show`), or it does not trust the idscope CA"
                }
                AlertDescription::CertificateRevoked => {
                    "it considers the certificate revoked, or it does not trust the idscope CA"
                }
                _ => {
                    "it most likely does not trust the idscope CA (or it pins the origin's own \
                     certificate)"
                }
            };
            (format!("TLS alert {name}"), why)
        }
        Refusal::Closed => (
            "closed the connection after idscope's certificate, without a TLS alert".to_string(),
            "it most likely does not trust the idscope CA (or it pins the origin's own \
             certificate)",
        ),
    };
    let target = match user_agent.and_then(target_for) {
        Some((t, client)) => format!("{t} (the User-Agent is {client})"),
        None => ALL_TARGETS.to_string(),
    };
    let mut m = format!(
        "the client rejected idscope's certificate for {host}:{port} ({how}): {why} — run \
         idscope ca trust-help --target {target}"
    );
    if earlier > 0 {
        m.push_str(&format!(
            "; {earlier} more refused connection(s) to this host since the previous report \
             are not listed"
        ));
    }
    m
}

/// At most one refusal flow per host per window: the first refusal is reported, the next ones
/// within the window are counted and the count goes into the next report.
#[derive(Debug)]
pub(crate) struct Limiter {
    window: Duration,
    hosts: Mutex<HashMap<String, Seen>>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    reported: Instant,
    suppressed: u64,
}

impl Limiter {
    pub(crate) fn new(window: Duration) -> Self {
        Limiter {
            window,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` when a refusal for `host` at `now` is to be reported (`n` refusals were left
    /// out since the previous report); `None` when it falls in the window of the previous one.
    pub(super) fn admit(&self, host: &str, now: Instant) -> Option<u64> {
        let Ok(mut hosts) = self.hosts.lock() else {
            return Some(0);
        };
        let window = self.window;
        if let Some(seen) = hosts.get_mut(host) {
            if now.saturating_duration_since(seen.reported) < window {
                seen.suppressed += 1;
                return None;
            }
            let earlier = seen.suppressed;
            *seen = Seen {
                reported: now,
                suppressed: 0,
            };
            return Some(earlier);
        }
        if hosts.len() >= MAX_HOSTS {
            hosts.retain(|_, s| now.saturating_duration_since(s.reported) < window);
            if hosts.len() >= MAX_HOSTS {
                // Every host is within its window: forget them rather than grow (the cost is at
                // most one more report per host).
                hosts.clear();
            }
        }
        hosts.insert(
            host.to_string(),
            Seen {
                reported: now,
                suppressed: 0,
            },
        );
        Some(0)
    }
}

/// What of the CONNECT request a refusal flow records.
#[derive(Debug, Clone)]
pub(super) struct ConnectRequest {
    pub(super) http_version: &'static str,
    pub(super) headers: flow::Headers,
}

impl ConnectRequest {
    pub(super) fn of<B>(req: &Request<B>) -> Self {
        ConnectRequest {
            http_version: version_str(req.version()),
            headers: record_headers(req.headers()),
        }
    }

    fn user_agent(&self) -> Option<&str> {
        flow::header(&self.headers, "user-agent")
    }
}

/// Reports a refusal: a warning in the log and, once per host per window, an error flow
/// `CONNECT https://HOST:PORT` with the message.
pub(super) fn report(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    connect: &ConnectRequest,
    authority: &Authority,
    server_name: &str,
    refusal: Refusal,
) {
    let (_, port) = host_port(authority, 443);
    let key = format!("{}:{port}", server_name.to_ascii_lowercase());
    let Some(earlier) = shared.refusals.admit(&key, Instant::now()) else {
        debug!(host = %key, ?refusal, "certificate refused again (within the report window)");
        return;
    };
    let text = message(refusal, server_name, port, connect.user_agent(), earlier);
    tracing::warn!(client = %ctx.client_addr, "{text}");
    if shared.settings.passthrough {
        return;
    }
    let Some(slot) = shared.flows.begin(ctx.client_addr) else {
        return;
    };
    let mut extra = flow::Extra::new();
    extra.insert(
        "_tlsRefusal".into(),
        json!({
            "alert": match refusal {
                Refusal::Alert(a) => alert_name(a),
                Refusal::Closed => None,
            },
            "serverName": server_name,
            "notListedBefore": earlier,
        }),
    );
    slot.request(flow::Request {
        method: "CONNECT".into(),
        url: format!("https://{authority}"),
        http_version: connect.http_version.into(),
        headers: connect.headers.clone(),
        body: flow::Body::default(),
        extra,
    });
    slot.fail(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_alerts_and_a_close_are_refusals_other_failures_are_not() {
        let alert = |a| io::Error::new(io::ErrorKind::InvalidData, rustls::Error::AlertReceived(a));
        for (a, name) in [
            (AlertDescription::UnknownCA, "unknown_ca"),
            (AlertDescription::BadCertificate, "bad_certificate"),
            (AlertDescription::CertificateUnknown, "certificate_unknown"),
            (
                AlertDescription::UnsupportedCertificate,
                "unsupported_certificate",
            ),
            (AlertDescription::AccessDenied, "access_denied"),
        ] {
            assert_eq!(classify(&alert(a)), Some(Refusal::Alert(a)));
            assert!(message(Refusal::Alert(a), "h", 443, None, 0).contains(name));
        }
        for a in [
            AlertDescription::ProtocolVersion,
            AlertDescription::HandshakeFailure,
            AlertDescription::DecodeError,
        ] {
            assert_eq!(classify(&alert(a)), None, "{a:?}");
        }
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert_eq!(classify(&eof), Some(Refusal::Closed));
        let other = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::General("x".into()),
        );
        assert_eq!(classify(&other), None);
        assert_eq!(classify(&io::Error::other("timed out")), None);
    }

    #[test]
    fn the_message_names_host_alert_and_the_target_the_user_agent_suggests() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      HeadlessChrome/126.0.0.0 Safari/537.36";
        let m = message(
            Refusal::Alert(AlertDescription::UnknownCA),
            "login.microsoftonline.com",
            443,
            Some(chrome),
            0,
        );
        assert_eq!(
            m,
            "the client rejected idscope's certificate for login.microsoftonline.com:443 (TLS \
             alert unknown_ca): it does not trust the idscope CA — run idscope ca trust-help \
             --target chrome-linux (the User-Agent is Chrome/Chromium on Linux)"
        );
        let m = message(Refusal::Closed, "a.example", 8443, Some("curl/8.5.0"), 3);
        assert!(m.contains("a.example:8443"), "{m}");
        assert!(m.contains("without a TLS alert"), "{m}");
        assert!(m.contains(&format!("--target {ALL_TARGETS}")), "{m}");
        assert!(m.contains("3 more refused"), "{m}");
        for (ua, want) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "firefox",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                 Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
                "windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, \
                 like Gecko) Version/17.5 Safari/605.1.15",
                "macos",
            ),
            ("Java/17.0.11", "java"),
        ] {
            assert_eq!(target_for(ua).map(|t| t.0), Some(want), "{ua}");
        }
        let android = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile";
        assert_eq!(target_for(android), None);
    }

    #[test]
    fn one_report_per_host_per_window_and_the_next_counts_the_rest() {
        let l = Limiter::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(l.admit("a:443", t0), Some(0));
        assert_eq!(l.admit("a:443", t0 + Duration::from_secs(1)), None);
        assert_eq!(l.admit("a:443", t0 + Duration::from_secs(59)), None);
        assert_eq!(l.admit("b:443", t0 + Duration::from_secs(2)), Some(0));
        assert_eq!(l.admit("a:443", t0 + Duration::from_secs(60)), Some(2));
        assert_eq!(l.admit("a:443", t0 + Duration::from_secs(61)), None);
        assert_eq!(l.admit("a:443", t0 + Duration::from_secs(200)), Some(1));
    }

    #[test]
    fn the_host_table_stays_bounded() {
        let l = Limiter::new(Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..(3 * MAX_HOSTS) {
            assert_eq!(l.admit(&format!("h{i}:443"), t0), Some(0));
        }
        assert!(l.hosts.lock().unwrap().len() <= MAX_HOSTS);
        // Entries past their window are swept first, keeping the recent ones.
        let l = Limiter::new(Duration::from_secs(60));
        for i in 0..MAX_HOSTS {
            l.admit(&format!("old{i}:443"), t0);
        }
        let later = t0 + Duration::from_secs(120);
        l.admit("new:443", later);
        assert_eq!(l.admit("new:443", later), None);
        assert_eq!(l.hosts.lock().unwrap().len(), 1);
    }
}
