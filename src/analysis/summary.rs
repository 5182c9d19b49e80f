//! The trace-wide summary: what a support engineer reads first about a capture. A [`Summary`] is
//! fed one flow at a time ([`FlowFacts::of`] distils a flow and its decoded [`FlowReport`],
//! [`FlowFacts::of_digest`] the same facts from the flow's [`Digest`], as the TUI keeps it; the
//! distilling can run on the decoding workers, the folding in capture order), then given the
//! stories at the end ([`Summary::finish`]), and turned into [`Section`]s of [`Row`]s (built in
//! `summary/sections.rs`).
//!
//! Every row carries the filter expression (`crate::filter`) that selects the flows it counts:
//! `~c 500 | ~c 502` for a status family, `~d ^host$ & (~c 401 | ~e)` for a failing host,
//! `~grant … & ~bs …` for token requests by grant and result, `~u AADSTS50126\b | …` for an
//! AADSTS code, and `~id 3,7-9` for sets no other operator singles out (slowest flows, a finding
//! message, a story's steps). A row whose flow list outgrew [`MAX_IDS`] gets a broader filter and
//! is marked inexact.
//!
//! Memory is bounded whatever the capture's size: at most [`MAX_HOSTS`] hosts,
//! [`MAX_GROUPS`] finding groups (a finding whose message the digests' bounded
//! [`Interner`](super::digest::Interner) had no room for is counted as one of the other kinds
//! too), [`MAX_CODES`] AADSTS codes and grant results,
//! [`MAX_CORRELATION_IDS`] correlation ids (the ids seen once are dropped when full, and the
//! correlation rows are then marked inexact) and [`MAX_IDS`] flow numbers per row are kept; what
//! does not fit is counted. This module neither reads files nor prints.

mod sections;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;
use std::time::SystemTime;

use idscope_decoders::Severity;
use regex::bytes::{Regex, RegexBuilder};

pub use sections::{Row, Section, id_filter};

use super::digest::{Digest, FindingKinds};
use super::story::{Story, Verdict};
use super::{FlowReport, correlation};
use crate::flow::{DEFAULT_DECODED_CAP, Flow};

/// Rows listed for the failing hosts, the slowest flows and the finding groups.
pub const TOP: usize = 10;
/// Hosts counted one by one; the rest are counted together.
pub const MAX_HOSTS: usize = 10_000;
/// Finding groups (same severity, decoder and message) counted one by one.
pub const MAX_GROUPS: usize = 2_000;
/// AADSTS codes and (grant, result) pairs counted one by one.
pub const MAX_CODES: usize = 1_000;
/// Flow numbers a row keeps for its `~id` filter.
pub const MAX_IDS: usize = 200;
/// Correlation ids counted at once; when full, the ids seen on one flow only are dropped.
pub const MAX_CORRELATION_IDS: usize = 10_000;
/// The shortest correlation id listed (shorter tokens are parts of ids, not ids).
const MIN_ID_LEN: usize = 8;

/// `AADSTS` and its number, as the summary counts and its filters select them.
static AADSTS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    RegexBuilder::new(r"AADSTS(\d{1,9})\b")
        .case_insensitive(true)
        .build()
        .ok()
});
/// The OAuth `error` member of a JSON answer.
static OAUTH_ERROR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    RegexBuilder::new(r#""error"\s*:\s*"([^"\\]*)""#)
        .case_insensitive(true)
        .build()
        .ok()
});
/// The filter text that matches [`OAUTH_ERROR`] with any code.
const ANY_OAUTH_ERROR: &str = r#"'"error"\s*:\s*"'"#;

/// The `grant_type` of a token request: the form body's parameter (the body as decoded, up to the
/// usual cap).
pub fn grant_type(flow: &Flow) -> Option<String> {
    let body = flow.request.body.decoded_lossy(DEFAULT_DECODED_CAP);
    if !idscope_decoders::util::contains(&body, b"grant_type=") {
        return None;
    }
    form_urlencoded::parse(&body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned())
}

/// How a token request ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenResult {
    /// The answer names an OAuth `error`.
    Error(String),
    /// No OAuth error; the HTTP status.
    Status(u16),
    /// No response.
    NoResponse,
}

/// What one flow contributes to the summary.
#[derive(Debug, Clone)]
pub struct FlowFacts {
    /// The flow's number (from 1, as `analyze` shows it).
    pub number: u64,
    started: SystemTime,
    host: String,
    status: Option<u16>,
    error: bool,
    duration_ms: Option<f64>,
    line: String,
    worst: Option<Severity>,
    /// Its distinct findings and whether a signature was not verified.
    findings: FindingKinds,
    grant: Option<(String, TokenResult)>,
    aadsts: BTreeSet<u64>,
    adfs_failed: bool,
    /// Its correlation ids ([`correlation::ids`]).
    ids: Vec<String>,
}

impl FlowFacts {
    /// Distils `flow` and its decoding.
    pub fn of(flow: &Flow, report: &FlowReport) -> Self {
        Self::new(flow, report.worst(), FindingKinds::of(report))
    }

    /// Distils `flow` and its digest: the same facts as [`FlowFacts::of`] on the report the
    /// digest was made from.
    pub fn of_digest(flow: &Flow, digest: &Digest) -> Self {
        Self::new(flow, digest.worst, digest.finding_kinds.clone())
    }

    fn new(flow: &Flow, worst: Option<Severity>, findings: FindingKinds) -> Self {
        let resp = flow.response();
        let status = resp.map(|r| r.status);
        let resp_body = resp.map(|r| r.body.decoded_lossy(DEFAULT_DECODED_CAP));
        let grant = grant_type(flow).map(|g| {
            let error = resp_body.as_deref().and_then(|b| {
                let re = OAUTH_ERROR.as_ref()?;
                let c = re.captures(b)?;
                Some(String::from_utf8_lossy(c.get(1)?.as_bytes()).into_owned())
            });
            let result = match (error, status) {
                (Some(e), _) => TokenResult::Error(e),
                (None, Some(s)) => TokenResult::Status(s),
                (None, None) => TokenResult::NoResponse,
            };
            (g, result)
        });
        let mut aadsts = BTreeSet::new();
        if let Some(re) = AADSTS.as_ref() {
            let mut scan = |b: &[u8]| {
                for c in re.captures_iter(b).take(64) {
                    if let Some(n) = c
                        .get(1)
                        .and_then(|m| std::str::from_utf8(m.as_bytes()).ok()?.parse::<u64>().ok())
                    {
                        aadsts.insert(n);
                    }
                }
            };
            scan(flow.request.url.as_bytes());
            scan(&flow.request.body.decoded_lossy(DEFAULT_DECODED_CAP));
            // `~h` matches `name: value` lines; a code cannot straddle the `: `, so the name and
            // the value are scanned apart.
            let headers = flow
                .request
                .headers
                .iter()
                .chain(resp.into_iter().flat_map(|r| r.headers.iter()));
            for (n, v) in headers {
                scan(n.as_bytes());
                scan(v.as_bytes());
            }
            if let Some(b) = &resp_body {
                scan(b);
            }
        }
        let error = flow.error().is_some();
        let adfs_failed = flow.request.url.to_ascii_lowercase().contains("/adfs/")
            && (error || status.is_some_and(|s| s >= 400) || worst == Some(Severity::Error));
        FlowFacts {
            number: flow.id.0 + 1,
            started: flow.started_at,
            host: flow.host(),
            status,
            error,
            duration_ms: flow.timings.total.filter(|t| t.is_finite() && *t > 0.0),
            line: format!(
                "{} {}{}",
                flow.request.method,
                flow.host(),
                idscope_decoders::util::clip(flow.path_and_query(), 60)
            ),
            worst,
            findings,
            grant,
            aadsts,
            adfs_failed,
            ids: correlation::ids(flow)
                .into_iter()
                .filter(|i| i.len() >= MIN_ID_LEN)
                .collect(),
        }
    }
}

/// Flow numbers kept for a row, up to [`MAX_IDS`], and how many there are.
#[derive(Debug, Clone, Default)]
struct Ids {
    first: Vec<u64>,
    count: usize,
}

impl Ids {
    fn push(&mut self, n: u64) {
        if self.first.last() == Some(&n) {
            return;
        }
        self.count += 1;
        if self.first.len() < MAX_IDS {
            self.first.push(n);
        }
    }

    /// `~id 3,7-9`, or `None` when some numbers were not kept.
    fn filter(&self) -> Option<String> {
        (self.count == self.first.len() && !self.first.is_empty()).then(|| id_filter(&self.first))
    }
}

#[derive(Debug, Default)]
struct Host {
    failing: usize,
    codes: BTreeSet<u16>,
    errors: bool,
}

#[derive(Debug, Default)]
struct Group {
    flows: Ids,
    decoder: &'static str,
}

/// The summary being built.
#[derive(Debug, Default)]
pub struct Summary {
    /// The filter the summarized flows were selected with; every row's filter is joined to it.
    base: Option<String>,
    flows: usize,
    first: Option<SystemTime>,
    last: Option<SystemTime>,
    statuses: BTreeMap<u16, usize>,
    errors: usize,
    no_response: usize,
    hosts: HashMap<String, Host>,
    other_failing: usize,
    failing_codes: BTreeSet<u16>,
    failing_errors: bool,
    slowest: Vec<(f64, u64, String, Option<u16>)>,
    by_worst: [usize; 3],
    groups: HashMap<(Severity, String), Group>,
    other_groups: usize,
    grants: BTreeMap<(String, TokenResult), usize>,
    other_grants: usize,
    aadsts: BTreeMap<u64, usize>,
    other_aadsts: usize,
    adfs: Ids,
    adfs_codes: BTreeSet<u16>,
    adfs_errors: bool,
    unverified: Ids,
    /// Flows per correlation id.
    corr: HashMap<String, usize>,
    /// Ids seen on one flow were dropped to make room: counts may be short.
    corr_pruned: bool,
    /// Pruning freed too little: new ids are no longer counted.
    corr_full: bool,
    stories: Vec<StoryRow>,
}

#[derive(Debug)]
struct StoryRow {
    title: &'static str,
    stories: usize,
    steps: Vec<u64>,
    checks: [usize; 3],
    failed_steps: usize,
}

fn sev_slot(s: Severity) -> usize {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
    }
}

impl Summary {
    /// An empty summary of the flows selected by `base` (`None`: every flow).
    pub fn new(base: Option<&str>) -> Self {
        Summary {
            base: base.map(str::to_string),
            ..Summary::default()
        }
    }

    /// How many flows were added.
    pub fn flows(&self) -> usize {
        self.flows
    }

    /// Adds one flow and its decoding.
    pub fn add_flow(&mut self, flow: &Flow, report: &FlowReport) {
        self.add(FlowFacts::of(flow, report));
    }

    /// Adds one flow's facts.
    pub fn add(&mut self, f: FlowFacts) {
        self.flows += 1;
        self.first = Some(self.first.map_or(f.started, |t| t.min(f.started)));
        self.last = Some(self.last.map_or(f.started, |t| t.max(f.started)));
        match (f.status, f.error) {
            (Some(s), _) => *self.statuses.entry(s).or_default() += 1,
            (None, true) => self.errors += 1,
            (None, false) => self.no_response += 1,
        }
        let failing = f.error || f.status.is_some_and(|s| s >= 400);
        if failing {
            if let Some(s) = f.status {
                self.failing_codes.insert(s);
            } else {
                self.failing_errors = true;
            }
            if self.hosts.len() < MAX_HOSTS || self.hosts.contains_key(&f.host) {
                let h = self.hosts.entry(f.host.clone()).or_default();
                h.failing += 1;
                match f.status {
                    Some(s) => {
                        h.codes.insert(s);
                    }
                    None => h.errors = true,
                }
            } else {
                self.other_failing += 1;
            }
        }
        if let Some(d) = f.duration_ms {
            self.slowest.push((d, f.number, f.line.clone(), f.status));
            self.slowest
                .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            self.slowest.truncate(TOP);
        }
        if let Some(w) = f.worst {
            self.by_worst[sev_slot(w)] += 1;
        }
        for k in f.findings.kinds.iter() {
            // A message the digests' interner had no room for is counted with the rest.
            let key = k
                .message
                .as_ref()
                .map(|m| (k.severity, format!("{}: {m}", k.decoder)))
                .filter(|key| self.groups.len() < MAX_GROUPS || self.groups.contains_key(key));
            match key {
                Some(key) => {
                    let g = self.groups.entry(key).or_default();
                    g.decoder = k.decoder;
                    g.flows.push(f.number);
                }
                None => self.other_groups += 1,
            }
        }
        if let Some(key) = f.grant {
            if self.grants.len() < MAX_CODES || self.grants.contains_key(&key) {
                *self.grants.entry(key).or_default() += 1;
            } else {
                self.other_grants += 1;
            }
        }
        for code in f.aadsts {
            if self.aadsts.len() < MAX_CODES || self.aadsts.contains_key(&code) {
                *self.aadsts.entry(code).or_default() += 1;
            } else {
                self.other_aadsts += 1;
            }
        }
        if f.adfs_failed {
            self.adfs.push(f.number);
            match f.status {
                Some(s) if s >= 400 => {
                    self.adfs_codes.insert(s);
                }
                None if f.error => self.adfs_errors = true,
                _ => {}
            }
        }
        for id in f.ids {
            if !self.corr.contains_key(&id) && self.corr.len() >= MAX_CORRELATION_IDS {
                if !self.corr_full {
                    // Drop the ids seen once; when that frees less than half, stop taking new ones
                    // (so the pruning is paid at most once per half-filling).
                    self.corr.retain(|_, n| *n > 1);
                    self.corr_pruned = true;
                    self.corr_full = self.corr.len() >= MAX_CORRELATION_IDS / 2;
                }
                if self.corr_full || self.corr.len() >= MAX_CORRELATION_IDS {
                    continue;
                }
            }
            *self.corr.entry(id).or_default() += 1;
        }
        if f.findings.unverified {
            self.unverified.push(f.number);
        }
    }

    /// Adds the stories (built from every flow of the capture, as `analyze` shows them).
    pub fn finish(&mut self, stories: &[Story]) {
        for s in stories {
            let title = s.kind.title();
            let i = match self.stories.iter().position(|r| r.title == title) {
                Some(i) => i,
                None => {
                    self.stories.push(StoryRow {
                        title,
                        stories: 0,
                        steps: vec![],
                        checks: [0; 3],
                        failed_steps: 0,
                    });
                    self.stories.len() - 1
                }
            };
            let row = &mut self.stories[i];
            row.stories += 1;
            row.steps.extend(s.steps.iter().map(|st| st.id.0 + 1));
            row.checks[0] += s.count(Verdict::Pass);
            row.checks[1] += s.count(Verdict::Fail);
            row.checks[2] += s.count(Verdict::Unknown);
            row.failed_steps += s.failed_steps();
        }
        for row in &mut self.stories {
            row.steps.sort_unstable();
            row.steps.dedup();
        }
    }

    /// The first and last flow start, when there are flows.
    pub fn window(&self) -> Option<(SystemTime, SystemTime)> {
        Some((self.first?, self.last?))
    }
}

impl Extend<FlowFacts> for Summary {
    fn extend<I: IntoIterator<Item = FlowFacts>>(&mut self, facts: I) {
        for f in facts {
            self.add(f);
        }
    }
}

/// RFC 3339 text of a time.
pub fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_finding_groups_past_their_bounds_are_counted_together() {
        use crate::analysis::digest::FindingKind;
        use crate::flow::testing::{flow, request, response};
        let mut s = Summary::new(None);
        let n = MAX_HOSTS + 5;
        for i in 0..n as u64 {
            let f = flow(
                i,
                request("GET", &format!("https://h{i}.example/")),
                response(503, "text/plain", b""),
            );
            let findings = FindingKinds {
                kinds: Box::new([FindingKind {
                    severity: Severity::Warning,
                    decoder: "x",
                    message: Some(format!("message {i}").into()),
                }]),
                unverified: false,
            };
            s.add(FlowFacts::new(&f, Some(Severity::Warning), findings));
        }
        assert_eq!(s.hosts.len(), MAX_HOSTS);
        assert_eq!(s.groups.len(), MAX_GROUPS);
        let hosts = s.hosts_section();
        let more = hosts.rows.last().unwrap();
        assert_eq!(more.count, n - TOP);
        assert!(more.label.starts_with("… "), "{}", more.label);
        assert_eq!(more.filter.as_deref(), Some("~c 503"));
        assert!(!more.exact);
        let findings = s.findings_section();
        let more = findings.rows.last().unwrap();
        assert_eq!(more.count, n - TOP);
        assert!(!more.exact);
        assert_eq!(
            hosts.rows.iter().take(TOP).map(|r| r.count).sum::<usize>(),
            TOP
        );
    }

    #[test]
    fn a_digest_gives_the_summary_the_facts_its_report_gives() {
        use crate::analysis::digest::Digest;
        use crate::flow::FlowId;
        use crate::flow::testing::{flow, request, response};
        use idscope_decoders::{Decoded, Finding, Node, Outcome};
        let jwt = |findings: &[Finding]| {
            let mut d = Decoded::new("jwt", "JWT RS256", Node::section("jwt"));
            for f in findings {
                d = d.with_finding(f.clone());
            }
            vec![Outcome {
                decoder: "jwt",
                priority: 1.0,
                result: Ok(d),
            }]
        };
        let unverified = Finding::info("not verified: no trusted key with kid=k");
        let expired = Finding::error("expired");
        let found = [
            vec![unverified.clone()],
            vec![unverified.clone(), expired.clone(), expired],
            vec![],
            vec![unverified, Finding::warning("audience")],
        ];
        let (mut of_reports, mut of_digests) = (Summary::new(None), Summary::new(None));
        for (i, findings) in found.iter().enumerate() {
            let f = flow(
                i as u64,
                request("GET", "https://graph.example/me"),
                response(200, "application/json", b"{}"),
            );
            let report = FlowReport {
                id: FlowId(i as u64),
                request: jwt(findings),
                response: vec![],
                flow_findings: vec![],
            };
            of_reports.add_flow(&f, &report);
            of_digests.add(FlowFacts::of_digest(&f, &Digest::of(&f, &report)));
        }
        let rows = |s: &Summary| {
            s.sections()
                .into_iter()
                .map(|x| (x.title, x.rows))
                .collect::<Vec<_>>()
        };
        assert_eq!(rows(&of_digests), rows(&of_reports));
        let all = rows(&of_digests);
        let labels: Vec<(&str, usize, Option<&str>)> = all
            .iter()
            .flat_map(|(_, r)| r)
            .map(|r| (r.label.as_str(), r.count, r.filter.as_deref()))
            .collect();
        for row in [
            (
                "[info] jwt: not verified: no trusted key with kid=k",
                3,
                Some("~id 1-2,4"),
            ),
            ("[error] jwt: expired", 1, Some("~id 2")),
            ("[warning] jwt: audience", 1, Some("~id 4")),
            ("flows with a signature not verified", 3, Some("~id 1-2,4")),
        ] {
            assert!(labels.contains(&row), "{row:?} in {labels:#?}");
        }
    }

    #[test]
    fn a_finding_whose_message_was_not_interned_counts_with_the_other_kinds() {
        use crate::analysis::digest::FindingKind;
        use crate::flow::testing::{flow, request, response};
        let mut s = Summary::new(None);
        let f = flow(
            0,
            request("GET", "https://x.example/"),
            response(200, "text/plain", b""),
        );
        let kind = |message: Option<&str>| FindingKind {
            severity: Severity::Warning,
            decoder: "x",
            message: message.map(Into::into),
        };
        let findings = FindingKinds {
            kinds: Box::new([kind(Some("kept")), kind(None), kind(None)]),
            unverified: true,
        };
        s.add(FlowFacts::new(&f, Some(Severity::Warning), findings));
        let rows = s.findings_section().rows;
        let last = rows.last().unwrap();
        assert_eq!(
            (last.label.as_str(), last.count, last.exact),
            ("… 0+ more kinds of finding (2 flow-findings)", 2, false)
        );
        assert!(rows.iter().any(|r| r.label == "[warning] x: kept"));
        assert_eq!(s.unverified.count, 1);
    }

    #[test]
    fn correlation_ids_seen_once_make_room_and_the_rows_say_they_may_be_short() {
        use crate::flow::testing::{flow, request_with, response};
        let mut s = Summary::new(None);
        let mut add = |i: u64, id: &str| {
            let q = request_with("GET", "https://x.example/", &[("client-request-id", id)]);
            let f = flow(i, q, response(200, "text/plain", b""));
            s.add(FlowFacts::new(&f, None, FindingKinds::default()));
        };
        add(0, "shared-id-0001");
        add(1, "shared-id-0001");
        for i in 0..MAX_CORRELATION_IDS as u64 + 10 {
            add(i + 2, &format!("single-id-{i:08}"));
        }
        add(99_999, "shared-id-0001");
        assert!(s.corr_pruned && !s.corr_full);
        assert!(s.corr.len() < MAX_CORRELATION_IDS / 2);
        let rows = s.correlation_section().rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].label, "shared-id-0001");
        assert_eq!(rows[0].count, 3);
        assert_eq!(rows[0].filter.as_deref(), Some("~corr shared-id-0001"));
        assert!(!rows[0].exact, "counts after a pruning may be short");
    }

    #[test]
    fn ids_past_the_bound_drop_the_exact_filter() {
        let mut ids = Ids::default();
        for n in 1..=(MAX_IDS as u64 + 1) {
            ids.push(n);
        }
        assert_eq!(ids.count, MAX_IDS + 1);
        assert_eq!(ids.filter(), None);
        let mut few = Ids::default();
        few.push(4);
        few.push(4);
        assert_eq!(few.count, 1);
        assert_eq!(few.filter().as_deref(), Some("~id 4"));
    }
}
