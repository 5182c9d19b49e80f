//! Sequence replay (`idscope replay FILE --to …`, the TUI's `R`): re-send captured requests in
//! capture order to a target, refresh the credentials each sequence needs, and compare every
//! answer with the recorded one on the decoded trees.
//!
//! * **Plan** ([`plan`]): the selected flows plus, for each, the earlier flow that issued a
//!   credential it carries (the token step: the token response that issued its `Authorization`
//!   bearer or SOAP `BearerToken`, the ADFS answer whose assertion it posts), transitively, even
//!   when a filter left those out — they run first, marked `token step for #N`.
//! * **Routing and safety** ([`Router::route`], security.md §2.7): a request goes to its own
//!   origin (`--to origin`), to the reference server for every host it serves (`--to fixture`,
//!   an explicit mapping), to a `--map HOST=ADDR:PORT` address, or, with `--to URL`, to that
//!   URL's origin. Recorded credentials (Authorization, cookies, BearerToken, passwords, client
//!   assertions, anything the decoders mark secret) never go to another origin unless the host is
//!   mapped explicitly: the flow is **refused** with the reason. With `--to fixture` nothing at
//!   all goes to a host the fixture does not serve and nobody mapped.
//! * **Credentials** ([`super::correlate`]): fresh tokens, assertions, codes, nonces and ids from
//!   earlier answers replace the recorded ones in later requests, and each replacement is noted.
//! * **Comparison** ([`crate::analysis::compare`]): status, then the best decoder's tree of the answer
//!   (volatile values ignored) → matched, diverged (first differing path, both values) or
//!   failed (no answer).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use anyhow::Context as _;
use idscope_decoders::registry::GENERIC;
use idscope_decoders::{Kind, Limits, Node, Registry, Trust};
use serde::Serialize;

use super::correlate::{Correlation, Outgoing};
use crate::analysis::compare::{self, Difference, Rules, comparable};
use crate::analysis::{FlowReport, decode_flow};
use crate::flow::{
    Body, DEFAULT_DECODED_CAP, Extra, Flow, FlowError, FlowId, Headers, Outcome, Request, Response,
    Timings, header,
};

/// Where replayed requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The reference server the caller started ([`Options::served`]): every host it serves is
    /// mapped to it, and nothing goes anywhere else unless mapped.
    Fixture,
    /// Each request to the origin it was captured from.
    Origin,
    /// Every request to this origin (`scheme://host[:port]`), path and query kept, with this
    /// path prefix (no trailing `/`).
    Url {
        /// `https://staging.example:8443`.
        origin: String,
        /// `/prefix` or empty.
        prefix: String,
    },
}

impl Target {
    /// Parses `fixture`, `origin` or an absolute `http(s)://` URL.
    pub fn parse(s: &str) -> Result<Target, String> {
        match s {
            "fixture" => return Ok(Target::Fixture),
            "origin" => return Ok(Target::Origin),
            _ => {}
        }
        let u = reqwest::Url::parse(s)
            .map_err(|e| format!("--to {s:?}: expected fixture, origin or a URL ({e})"))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(format!("--to {s:?}: expected an http(s) URL with a host"));
        }
        Ok(Target::Url {
            origin: u.origin().ascii_serialization(),
            prefix: u.path().trim_end_matches('/').to_string(),
        })
    }
}

/// How to replay.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where requests go.
    pub target: Target,
    /// Explicit mappings: host → address (Host header and TLS name stay the host).
    pub maps: Vec<(String, SocketAddr)>,
    /// Comparison rules.
    pub rules: Rules,
    /// The server the caller started for `--to fixture` (the reference server): every host it
    /// serves is mapped to it and its CA is trusted. `None` with [`Target::Fixture`] maps nothing,
    /// so only `--map` hosts are sent.
    pub served: Option<Served>,
    /// Extra trusted roots (PEM or DER) for the target's TLS.
    pub extra_roots: Vec<Vec<u8>>,
    /// How long one request may take.
    pub timeout: std::time::Duration,
}

/// A server that answers for a set of hosts, started by the caller (the reference server of
/// `--to fixture`).
#[derive(Debug, Clone)]
pub struct Served {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The hosts it serves, each mapped to [`Served::addr`].
    pub hosts: Vec<String>,
    /// Its CA certificate (PEM), trusted for the replay's TLS.
    pub ca_pem: Vec<u8>,
}

/// How one flow's replay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The answer matches the recorded one (volatile values aside).
    Matched,
    /// The answer differs.
    Diverged,
    /// No answer (connection, TLS or timeout error).
    Failed,
    /// Not sent: it would have carried recorded credentials elsewhere (or to an unmapped host).
    Refused,
}

impl Status {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Matched => "matched",
            Status::Diverged => "diverged",
            Status::Failed => "failed",
            Status::Refused => "refused",
        }
    }
}

/// Most differences kept per flow.
pub const MAX_DIFFERENCES: usize = 50;

/// One replayed (or refused) flow.
#[derive(Debug, Clone, Serialize)]
pub struct FlowResult {
    /// The recorded flow (`#N`).
    #[serde(serialize_with = "ser_id")]
    pub flow: FlowId,
    /// Method.
    pub method: String,
    /// The URL as recorded.
    pub url: String,
    /// Where it was sent (after mapping or `--to URL`), when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// The result.
    pub status: Status,
    /// Set for flows run only because a selected flow needs their credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Why it failed or was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Recorded and replayed status codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<(u16, u16)>,
    /// The differences (at most [`MAX_DIFFERENCES`]), the first one first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// How many differences there were in all.
    #[serde(skip_serializing_if = "is_zero")]
    pub difference_count: usize,
    /// What replay did to the request (credentials refreshed, what it could not refresh).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The replayed exchange (not serialised).
    #[serde(skip)]
    pub replayed: Option<Flow>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn ser_id<S: serde::Serializer>(id: &FlowId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

impl FlowResult {
    /// The first difference, if any.
    pub fn first(&self) -> Option<&Difference> {
        self.differences.first()
    }
}

/// A whole replay.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per-flow results in the order they ran.
    pub results: Vec<FlowResult>,
    /// Notes about the run (the caller adds the reference server's seed and clock).
    pub notes: Vec<String>,
}

impl Report {
    /// How many results have this status.
    pub fn count(&self, s: Status) -> usize {
        self.results.iter().filter(|r| r.status == s).count()
    }

    /// True when everything matched.
    pub fn all_matched(&self) -> bool {
        self.results.iter().all(|r| r.status == Status::Matched)
    }
}

/// Why a request carries recorded credentials, if it does: `Authorization header, password`.
/// Headers and decoded values count as the secrets policy says
/// ([`idscope_decoders::secrets::is_credential_header`], the decoders' `Kind::Secret` marks).
pub fn credentials(flow: &Flow, report: &FlowReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (n, _) in &flow.request.headers {
        if idscope_decoders::secrets::is_credential_header(n)
            && !out
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&format!("{n} header")))
        {
            out.push(format!("{n} header"));
        }
    }
    for o in &report.request {
        if let Ok(d) = &o.result {
            d.root.walk(&mut |_, n| {
                if n.kind == Kind::Secret && !out.contains(&n.label) {
                    out.push(n.label.clone());
                }
            });
        }
    }
    out
}

/// Where one request goes, or why it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Send to this URL; `mapped` when a host mapping (resolve override) applies.
    Send {
        /// The URL to request.
        url: String,
        /// Where it connects, for the report.
        to: String,
    },
    /// Do not send.
    Refuse(String),
}

/// The routing and safety decision (security.md §2.7).
#[derive(Debug, Clone)]
pub struct Router {
    /// The target.
    pub target: Target,
    /// Hosts mapped explicitly (from `--map`, or served by [`Options::served`]).
    pub mapped: BTreeMap<String, SocketAddr>,
    /// Which of the mapped hosts the fixture serves (for messages).
    pub fixture_hosts: Vec<String>,
}

impl Router {
    /// Decides where `flow` goes, given the credentials it carries.
    pub fn route(&self, flow: &Flow, creds: &[String]) -> Route {
        let host = flow.host();
        let url = &flow.request.url;
        if let Some(addr) = self.mapped.get(&host) {
            let by = if self.fixture_hosts.contains(&host) {
                "reference server"
            } else {
                "--map"
            };
            return Route::Send {
                url: url.clone(),
                to: format!("{addr} ({by})"),
            };
        }
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Route::Refuse(format!("not an absolute URL: {url}"));
        };
        let origin = parsed.origin().ascii_serialization();
        match &self.target {
            Target::Origin => Route::Send {
                url: url.clone(),
                to: origin,
            },
            Target::Fixture => Route::Refuse(format!(
                "{host} is not served by the reference server and not mapped \
                 (--map {host}=ADDR:PORT); replay against the fixture sends nothing elsewhere"
            )),
            Target::Url { origin: to, prefix } => {
                if *to == origin {
                    return Route::Send {
                        url: url.clone(),
                        to: origin,
                    };
                }
                if !creds.is_empty() {
                    return Route::Refuse(format!(
                        "carries recorded credentials ({}) captured for {origin}; they are never \
                         sent to another origin ({to}) unless the host is mapped explicitly \
                         (--map {host}=ADDR:PORT)",
                        creds.join(", ")
                    ));
                }
                let path = flow.path_and_query();
                Route::Send {
                    url: format!("{to}{prefix}{path}"),
                    to: to.clone(),
                }
            }
        }
    }
}

/// The flows to run, in capture order: the selected ones and, before them, the token steps they
/// need (with the role `token step for #N`). `flows` and `reports` are parallel.
pub fn plan(
    flows: &[Flow],
    reports: &[FlowReport],
    selected: &[FlowId],
) -> Vec<(usize, Option<String>)> {
    let mut chosen: BTreeMap<usize, Option<String>> = BTreeMap::new();
    let mut work: Vec<usize> = Vec::new();
    for (i, f) in flows.iter().enumerate() {
        if selected.contains(&f.id) {
            chosen.insert(i, None);
            work.push(i);
        }
    }
    let bodies: Vec<String> = flows
        .iter()
        .map(|f| {
            f.response()
                .map(|r| {
                    String::from_utf8_lossy(&r.body.decoded_lossy(DEFAULT_DECODED_CAP)).into_owned()
                })
                .unwrap_or_default()
        })
        .collect();
    // Earliest first, so a token step is labelled with the first flow that needs it.
    work.reverse();
    while let Some(i) = work.pop() {
        let (Some(f), Some(rep)) = (flows.get(i), reports.get(i)) else {
            continue;
        };
        for v in credential_values(f, rep) {
            let issuer = (0..i)
                .rev()
                .find(|&j| bodies.get(j).is_some_and(|b| b.contains(&v)));
            if let Some(j) = issuer
                && !chosen.contains_key(&j)
            {
                chosen.insert(j, Some(format!("token step for {}", f.id)));
                work.push(j);
            }
        }
    }
    chosen.into_iter().collect()
}

/// Credential values a request carries that an earlier answer may have issued.
fn credential_values(flow: &Flow, report: &FlowReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: &str| {
        let v = v.trim();
        if v.len() >= 16 && !v.starts_with('«') && !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    };
    if let Some(a) = header(&flow.request.headers, "authorization")
        && let Some((_, tok)) = a.split_once(' ')
    {
        add(tok);
    }
    for o in &report.request {
        if let Ok(d) = &o.result {
            d.root.walk(&mut |_, n| {
                if n.kind == Kind::Secret
                    && let Some(v) = &n.value
                {
                    add(v);
                }
            });
        }
    }
    out
}

/// Decodes every flow (no trust: both sides of a comparison are decoded alike).
pub fn decode_all(flows: &[Flow]) -> Vec<FlowReport> {
    let trust = Trust::default();
    flows
        .iter()
        .map(|f| decode_flow(f, Registry::builtin(), &trust, Limits::default()))
        .collect()
}

/// Replays `selected` (with the token steps they need) from `flows` per `opts`.
pub async fn run(flows: &[Flow], selected: &[FlowId], opts: &Options) -> anyhow::Result<Report> {
    let reports = decode_all(flows);
    let plan = plan(flows, &reports, selected);
    let mut report = Report::default();

    let mut mapped: BTreeMap<String, SocketAddr> = BTreeMap::new();
    let mut fixture_hosts = Vec::new();
    let mut roots = opts.extra_roots.clone();
    if let Some(s) = &opts.served {
        for h in &s.hosts {
            mapped.insert(h.clone(), s.addr);
            fixture_hosts.push(h.clone());
        }
        roots.push(s.ca_pem.clone());
    }
    for (h, a) in &opts.maps {
        mapped.insert(h.to_ascii_lowercase(), *a);
    }
    let router = Router {
        target: opts.target.clone(),
        mapped,
        fixture_hosts,
    };
    let client = build_client(&roots, &router.mapped, opts.timeout)?;

    let mut corr = Correlation::default();
    for (i, role) in plan {
        let (Some(flow), Some(rep)) = (flows.get(i), reports.get(i)) else {
            continue;
        };
        let result = replay_one(&client, &router, flow, rep, role, &mut corr, &opts.rules).await;
        report.results.push(result);
    }
    Ok(report)
}

fn build_client(
    roots: &[Vec<u8>],
    mapped: &BTreeMap<String, SocketAddr>,
    timeout: std::time::Duration,
) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .timeout(timeout);
    if !mapped.is_empty() {
        b = b.no_proxy();
    }
    for root in roots {
        let cert = reqwest::Certificate::from_pem(root)
            .or_else(|_| reqwest::Certificate::from_der(root))
            .context("an extra trusted root is neither PEM nor DER")?;
        b = b.add_root_certificate(cert);
    }
    for (h, a) in mapped {
        b = b.resolve(h, *a);
    }
    Ok(b.build()?)
}

async fn replay_one(
    client: &reqwest::Client,
    router: &Router,
    flow: &Flow,
    rep: &FlowReport,
    role: Option<String>,
    corr: &mut Correlation,
    rules: &Rules,
) -> FlowResult {
    let mut res = FlowResult {
        flow: flow.id,
        method: flow.request.method.clone(),
        url: flow.request.url.clone(),
        sent_to: None,
        status: Status::Refused,
        role,
        reason: None,
        statuses: None,
        differences: Vec::new(),
        difference_count: 0,
        notes: Vec::new(),
        replayed: None,
    };
    let creds = credentials(flow, rep);
    let (url, to) = match router.route(flow, &creds) {
        Route::Refuse(why) => {
            res.reason = Some(why);
            return res;
        }
        Route::Send { url, to } => (url, to),
    };
    res.sent_to = Some(to);
    let mut out = outgoing(flow);
    out.url = url;
    res.notes.extend(corr.rewrite(&mut out));
    res.notes.extend(corr.signed_notes(&out));

    let started_at = SystemTime::now();
    let started = Instant::now();
    let sent = send(client, &out).await;
    let mut replayed = Flow {
        id: flow.id,
        started_at,
        client_addr: None,
        server_addr: None,
        request: to_request(&out, &flow.request.http_version),
        outcome: Outcome::Error(FlowError {
            message: String::new(),
            incomplete: false,
        }),
        timings: Timings {
            total: Some(started.elapsed().as_secs_f64() * 1000.0),
            ..Timings::default()
        },
        tags: vec!["replay".into(), format!("replay-of:{}", flow.id)],
        comment: None,
        marked: false,
        extra: Extra::new(),
    };
    match sent {
        Err(e) => {
            let msg = format!("replay failed: {e:#}");
            replayed.outcome = Outcome::Error(FlowError {
                message: msg.clone(),
                incomplete: false,
            });
            res.status = Status::Failed;
            res.reason = Some(msg);
        }
        Ok(r) => {
            replayed.outcome = Outcome::Response(r);
            corr.learn_with(flow, &replayed, rules);
            let diffs = compare_flows(flow, rep, &replayed, rules, corr);
            res.statuses = match (flow.response(), replayed.response()) {
                (Some(a), Some(b)) => Some((a.status, b.status)),
                _ => None,
            };
            res.status = if diffs.is_empty() {
                Status::Matched
            } else {
                Status::Diverged
            };
            res.difference_count = diffs.len();
            res.differences = diffs.into_iter().take(MAX_DIFFERENCES).collect();
        }
    }
    res.replayed = Some(replayed);
    res
}

/// The request as it will be sent: hop-by-hop and framing headers dropped, content-encoding
/// removed from the body.
pub fn outgoing(flow: &Flow) -> Outgoing {
    let mut headers = Vec::new();
    for (n, v) in &flow.request.headers {
        let lower = n.to_ascii_lowercase();
        // The body goes out decoded, so its content-encoding header goes too.
        if super::HOP_BY_HOP.contains(&lower.as_str())
            || lower == "content-encoding"
            || lower.starts_with(':')
        {
            continue;
        }
        headers.push((n.to_string(), v.to_string()));
    }
    Outgoing {
        method: flow.request.method.clone(),
        url: flow.request.url.clone(),
        headers,
        body: flow
            .request
            .body
            .decoded_lossy(DEFAULT_DECODED_CAP)
            .into_owned(),
    }
}

fn to_request(out: &Outgoing, http_version: &str) -> Request {
    let mut headers: Headers = Headers::default();
    for (n, v) in &out.headers {
        headers.push((n.clone(), v.clone()));
    }
    Request {
        method: out.method.clone(),
        url: out.url.clone(),
        http_version: http_version.to_string(),
        headers,
        body: Body::plain(out.body.clone()),
        extra: Extra::new(),
    }
}

async fn send(client: &reqwest::Client, out: &Outgoing) -> anyhow::Result<Response> {
    let method = reqwest::Method::from_bytes(out.method.as_bytes())?;
    let mut b = client.request(method, &out.url);
    for (n, v) in &out.headers {
        b = b.header(n.as_str(), v.as_str());
    }
    super::read_response(b.body(out.body.clone()).send().await?).await
}

/// The answer's comparable trees: a synthetic `http` tree (status, Location) and the best
/// decoders' trees (specific ones when any applied, else the generic fallbacks), by decoder id.
fn answer_trees(flow: &Flow, report: &FlowReport) -> Vec<(&'static str, Node)> {
    let mut out = Vec::new();
    let Some(r) = flow.response() else {
        return out;
    };
    let mut http =
        Node::section("http").with_child(Node::leaf("status", r.status.to_string(), Kind::Number));
    if let Some(loc) = header(&r.headers, "location") {
        http.push(Node::field("location", loc));
    }
    out.push(("http", http));
    for d in compare::best(&report.response) {
        out.push((d.decoder, d.root.clone()));
    }
    out
}

/// Compares the recorded answer of `recorded` with `replayed`'s.
pub fn compare_flows(
    recorded: &Flow,
    recorded_report: &FlowReport,
    replayed: &Flow,
    rules: &Rules,
    corr: &Correlation,
) -> Vec<Difference> {
    // Decoders read the request URL for context: decode the answer as an answer to the
    // recorded URL, whatever origin it was sent to.
    let mut replayed = replayed.clone();
    replayed.request.url = recorded.request.url.clone();
    let rep2 = decode_flow(
        &replayed,
        Registry::builtin(),
        &Trust::default(),
        Limits::default(),
    );
    let a = answer_trees(recorded, recorded_report);
    let b = answer_trees(&replayed, &rep2);
    let norm = |s: &str| corr.normalize(s);
    let mut diffs = Vec::new();
    for (id, tree) in &a {
        let la = comparable(compare::flatten(tree, ""));
        match b.iter().find(|(bid, _)| bid == id) {
            Some((_, t2)) => {
                let lb = comparable(compare::flatten(t2, ""));
                diffs.extend(compare::diff(&la, &lb, rules, &norm));
            }
            None => diffs.push(Difference {
                path: tree.label.clone(),
                left: Some(format!("decoded as {id}")),
                right: Some(format!("not decoded as {id} (answer: {})", {
                    let ids: Vec<&str> = rep2
                        .response
                        .iter()
                        .filter(|o| o.result.is_ok())
                        .map(|o| o.decoder)
                        .collect();
                    if ids.is_empty() {
                        "nothing decoded".to_string()
                    } else {
                        ids.join(",")
                    }
                })),
                section: false,
                volatile: false,
            }),
        }
    }
    for (id, tree) in &b {
        if !a.iter().any(|(aid, _)| aid == id) && !GENERIC.contains(id) {
            diffs.push(Difference {
                path: tree.label.clone(),
                left: Some(format!("not decoded as {id}")),
                right: Some(format!("decoded as {id}")),
                section: false,
                volatile: false,
            });
        }
    }
    diffs
}

impl Correlation {
    /// [`Correlation::learn`], keeping only pairs whose name the rules call volatile (or that
    /// are tokens, cookies, assertions or locations): a value that differs for another reason is
    /// a divergence to report, not something to carry forward silently.
    pub fn learn_with(&mut self, recorded: &Flow, replayed: &Flow, rules: &Rules) -> usize {
        let mut all = Correlation::default();
        all.learn(recorded, replayed);
        let mut n = 0;
        for p in all.pairs() {
            let w = p.what.to_ascii_lowercase();
            let keep = rules.is_volatile(&p.what, Kind::Field)
                || w.contains("token")
                || w.contains("cookie")
                || w.contains("assertion")
                || w.contains("certificate")
                || w.contains("rawbody")
                || w == "location";
            if keep && self.push(p.clone()) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, request_with, response};

    fn router(target: Target) -> Router {
        Router {
            target,
            mapped: BTreeMap::from([(
                "mapped.example".to_string(),
                SocketAddr::from(([127, 0, 0, 1], 9)),
            )]),
            fixture_hosts: vec![],
        }
    }

    #[test]
    fn credentials_never_go_to_another_origin_unless_mapped() {
        let req = request_with(
            "GET",
            "https://login.example/me",
            &[("Authorization", "Bearer abc")],
        );
        let f = flow(0, req, response(200, "text/plain", b""));
        let rep = decode_all(std::slice::from_ref(&f));
        let creds = credentials(&f, &rep[0]);
        assert_eq!(creds, vec!["Authorization header".to_string()]);
        let to = Target::parse("https://other.example:8443/base/").unwrap();
        match router(to.clone()).route(&f, &creds) {
            Route::Refuse(why) => {
                assert!(why.contains("Authorization header"), "{why}");
                assert!(why.contains("https://login.example"), "{why}");
                assert!(why.contains("--map login.example=ADDR:PORT"), "{why}");
            }
            r => panic!("{r:?}"),
        }
        // Without credentials the request is rewritten to the target.
        let plain = flow(
            0,
            request("GET", "https://login.example/x?y=1"),
            response(200, "text/plain", b""),
        );
        assert_eq!(
            router(to).route(&plain, &[]),
            Route::Send {
                url: "https://other.example:8443/base/x?y=1".into(),
                to: "https://other.example:8443".into()
            }
        );
        // A mapped host keeps its URL; the origin target keeps everything.
        let mut m = f.clone();
        m.request.url = "https://mapped.example/me".into();
        assert!(matches!(
            router(Target::Fixture).route(&m, &creds),
            Route::Send { .. }
        ));
        assert!(matches!(
            router(Target::Origin).route(&f, &creds),
            Route::Send { .. }
        ));
        assert!(matches!(
            router(Target::Fixture).route(&f, &creds),
            Route::Refuse(why) if why.contains("not served by the reference server")
        ));
    }

    #[test]
    fn targets_parse() {
        assert_eq!(Target::parse("fixture"), Ok(Target::Fixture));
        assert_eq!(Target::parse("origin"), Ok(Target::Origin));
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("nonsense").is_err());
    }

    #[test]
    fn the_plan_runs_the_token_step_a_selected_flow_needs() {
        let tok = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
        let t = flow(
            0,
            request("POST", "https://login.example/t/oauth2/token"),
            response(
                200,
                "application/json",
                format!(r#"{{"token_type":"Bearer","access_token":"{tok}"}}"#).as_bytes(),
            ),
        );
        let other = flow(
            1,
            request("GET", "https://x/"),
            response(200, "text/plain", b""),
        );
        let req = request_with(
            "GET",
            "https://api.example/me",
            &[("Authorization", &format!("Bearer {tok}"))],
        );
        let used = flow(2, req, response(200, "text/plain", b""));
        let flows = vec![t, other, used];
        let reports = decode_all(&flows);
        let p = plan(&flows, &reports, &[FlowId(2)]);
        assert_eq!(
            p,
            vec![(0, Some("token step for #3".to_string())), (2, None)]
        );
    }
}
