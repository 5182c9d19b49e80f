//! The trace-wide summary: what a support engineer reads first about a capture. A [`Summary`] is
//! fed one flow at a time ([`FlowFacts::of`] distils a flow and its decoded [`FlowReport`]; the
//! distilling can run on the decoding workers, the folding in capture order), then given the
//! stories at the end ([`Summary::finish`]), and turned into [`Section`]s of [`Row`]s.
//!
//! Every row carries the filter expression (`crate::filter`) that selects the flows it counts:
//! `~c 500 | ~c 502` for a status family, `~d '^host$' & (~e | ~c 401)` for a failing host,
//! `~grant … & ~bs …` for token requests by grant and result, `~u AADSTS50126\b | …` for an
//! AADSTS code, and `~id 3,7-9` for sets no other operator singles out (slowest flows, a finding
//! message, a story's steps). A row whose flow list outgrew [`MAX_IDS`] gets a broader filter and
//! is marked inexact.
//!
//! Memory is bounded whatever the capture's size: at most [`MAX_HOSTS`] hosts,
//! [`MAX_GROUPS`] finding groups, [`MAX_CODES`] AADSTS codes and grant results, and
//! [`MAX_IDS`] flow numbers per row are kept; what does not fit is counted. This module neither
//! reads files nor prints.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;
use std::time::SystemTime;

use idscope_decoders::Severity;
use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;

use super::FlowReport;
use super::story::{Story, Verdict};
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
    /// Distinct (severity, decoder, message) of its findings.
    findings: Vec<(Severity, &'static str, String)>,
    grant: Option<(String, TokenResult)>,
    aadsts: BTreeSet<u64>,
    adfs_failed: bool,
    unverified: bool,
}

impl FlowFacts {
    /// Distils `flow` and its decoding.
    pub fn of(flow: &Flow, report: &FlowReport) -> Self {
        let mut findings: Vec<(Severity, &'static str, String)> = Vec::new();
        let mut unverified = false;
        for (_, decoder, f) in report.findings() {
            unverified |= f.message.to_ascii_lowercase().contains("not verified");
            let key = (f.severity, decoder, f.message.clone());
            if !findings.contains(&key) {
                findings.push(key);
            }
        }
        Self::new(flow, report.worst(), findings, unverified)
    }

    /// Distils `flow` and its digest: as [`FlowFacts::of`] but without the findings' messages
    /// (a digest keeps only the worst severity), so the finding groups and the unverified
    /// signatures are not counted.
    pub fn of_digest(flow: &Flow, digest: &super::digest::Digest) -> Self {
        Self::new(flow, digest.worst, vec![], false)
    }

    fn new(
        flow: &Flow,
        worst: Option<Severity>,
        findings: Vec<(Severity, &'static str, String)>,
        unverified: bool,
    ) -> Self {
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
            for (n, v) in flow.request.headers.iter() {
                scan(format!("{n}: {v}").as_bytes());
            }
            if let Some(r) = resp {
                for (n, v) in r.headers.iter() {
                    scan(format!("{n}: {v}").as_bytes());
                }
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
            unverified,
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

/// `~id` with `numbers` (ascending) as ranges.
pub fn id_filter(numbers: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while numbers.get(i + 1) == Some(&(end + 1)) {
            end += 1;
            i += 1;
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    format!("~id {}", parts.join(","))
}

/// A filter argument, quoted when the filter's lexer would split or misread it.
fn arg(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with('~')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '|' | '&' | '!' | '"' | '\''));
    if plain {
        s.to_string()
    } else {
        // The lexer turns `\\` into `\` and `\'` into `'` inside quotes and keeps every other
        // escape (`\s`, `\.`) for the regex.
        let mut out = String::from("'");
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => out.push_str("\\'"),
                '\\' if matches!(chars.peek(), None | Some('\\' | '\'')) => out.push_str("\\\\"),
                _ => out.push(c),
            }
        }
        out.push('\'');
        out
    }
}

/// `~c A | ~c B` for the codes.
fn codes_filter(codes: &BTreeSet<u16>) -> String {
    codes
        .iter()
        .map(|c| format!("~c {c}"))
        .collect::<Vec<_>>()
        .join(" | ")
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
        for (sev, decoder, message) in f.findings {
            let key = (sev, format!("{decoder}: {message}"));
            if self.groups.len() < MAX_GROUPS || self.groups.contains_key(&key) {
                let g = self.groups.entry(key).or_default();
                g.decoder = decoder;
                g.flows.push(f.number);
            } else {
                self.other_groups += 1;
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
        if f.unverified {
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

    /// `expr` joined to the base filter.
    fn with_base(&self, expr: String) -> String {
        match &self.base {
            Some(b) => format!("({b}) & ({expr})"),
            None => expr,
        }
    }

    fn row(&self, label: String, count: usize, filter: Option<String>, exact: bool) -> Row {
        Row {
            label,
            count,
            filter: filter.map(|f| self.with_base(f)),
            exact,
        }
    }

    /// The summary's sections, in reading order.
    pub fn sections(&self) -> Vec<Section> {
        vec![
            Section {
                title: "Sessions",
                rows: vec![self.row("sessions".into(), self.flows, Some("~all".into()), true)],
            },
            self.status_section(),
            self.hosts_section(),
            self.slowest_section(),
            self.findings_section(),
            self.auth_section(),
            self.stories_section(),
        ]
    }

    fn status_section(&self) -> Section {
        let mut rows = Vec::new();
        for family in 1..=9u16 {
            let codes: BTreeSet<u16> = self
                .statuses
                .keys()
                .copied()
                .filter(|c| c / 100 == family)
                .collect();
            if codes.is_empty() {
                continue;
            }
            let count = codes.iter().map(|c| self.statuses[c]).sum();
            let detail = codes
                .iter()
                .map(|c| format!("{c}×{}", self.statuses[c]))
                .collect::<Vec<_>>()
                .join(", ");
            rows.push(self.row(
                format!("{family}xx ({detail})"),
                count,
                Some(codes_filter(&codes)),
                true,
            ));
        }
        if self.errors > 0 {
            rows.push(self.row(
                "errors (no response)".into(),
                self.errors,
                Some("~e".into()),
                true,
            ));
        }
        if self.no_response > 0 {
            rows.push(self.row(
                "no response recorded".into(),
                self.no_response,
                Some("~q".into()),
                true,
            ));
        }
        Section {
            title: "Status",
            rows,
        }
    }

    fn hosts_section(&self) -> Section {
        let mut hosts: Vec<(&String, &Host)> = self.hosts.iter().collect();
        hosts.sort_by(|a, b| b.1.failing.cmp(&a.1.failing).then(a.0.cmp(b.0)));
        let mut rows: Vec<Row> = hosts
            .iter()
            .take(TOP)
            .map(|(name, h)| {
                let mut what: Vec<String> = h.codes.iter().map(|c| format!("~c {c}")).collect();
                if h.errors {
                    what.push("~e".into());
                }
                let codes = h
                    .codes
                    .iter()
                    .map(u16::to_string)
                    .chain(h.errors.then(|| "errors".to_string()))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.row(
                    format!("{name} ({codes})"),
                    h.failing,
                    Some(format!(
                        "~d {} & ({})",
                        arg(&format!("^{}$", regex::escape(name))),
                        what.join(" | ")
                    )),
                    true,
                )
            })
            .collect();
        let rest: usize = hosts
            .iter()
            .skip(TOP)
            .map(|(_, h)| h.failing)
            .sum::<usize>()
            + self.other_failing;
        if rest > 0 {
            let mut what: Vec<String> = self
                .failing_codes
                .iter()
                .map(|c| format!("~c {c}"))
                .collect();
            if self.failing_errors {
                what.push("~e".into());
            }
            rows.push(self.row(
                format!(
                    "… {} more hosts",
                    hosts.len().saturating_sub(TOP) + usize::from(self.other_failing > 0)
                ),
                rest,
                Some(what.join(" | ")),
                false,
            ));
        }
        Section {
            title: "Failing hosts (status ≥ 400 or no response)",
            rows,
        }
    }

    fn slowest_section(&self) -> Section {
        Section {
            title: "Slowest flows",
            rows: self
                .slowest
                .iter()
                .map(|(ms, n, line, status)| {
                    let status = status.map_or_else(|| "ERR".to_string(), |s| s.to_string());
                    self.row(
                        format!("#{n} {ms:.0} ms {line} → {status}"),
                        1,
                        Some(format!("~id {n}")),
                        true,
                    )
                })
                .collect(),
        }
    }

    fn findings_section(&self) -> Section {
        let mut rows = Vec::new();
        let at_least = |s: Severity| self.by_worst[sev_slot(s)..].iter().sum::<usize>();
        for (sev, label, expr) in [
            (
                Severity::Error,
                "flows with an error finding",
                "~finding error",
            ),
            (
                Severity::Warning,
                "flows with a warning or worse",
                "~finding warning",
            ),
            (Severity::Info, "flows with any finding", "~finding"),
        ] {
            let n = at_least(sev);
            if n > 0 {
                rows.push(self.row(label.into(), n, Some(expr.into()), true));
            }
        }
        let mut groups: Vec<(&(Severity, String), &Group)> = self.groups.iter().collect();
        groups.sort_by(|a, b| {
            b.0.0
                .cmp(&a.0.0)
                .then(b.1.flows.count.cmp(&a.1.flows.count))
                .then(a.0.1.cmp(&b.0.1))
        });
        for ((sev, message), g) in groups.iter().take(TOP) {
            let (filter, exact) = match g.flows.filter() {
                Some(f) => (f, true),
                None => (format!("~finding {sev} & ~k {}", g.decoder), false),
            };
            rows.push(self.row(
                format!("[{sev}] {}", idscope_decoders::util::clip(message, 160)),
                g.flows.count,
                Some(filter),
                exact,
            ));
        }
        let more = groups.len().saturating_sub(TOP) + self.other_groups;
        if more > 0 {
            let occurrences = groups.iter().skip(TOP).map(|(_, g)| g.flows.count).sum();
            rows.push(self.row(
                format!("… {more} more kinds of finding ({occurrences} flow-findings)"),
                occurrences,
                Some("~finding".into()),
                false,
            ));
        }
        Section {
            title: "Findings",
            rows,
        }
    }

    fn auth_section(&self) -> Section {
        let mut rows = Vec::new();
        for ((grant, result), n) in &self.grants {
            let g = format!("~grant {}", arg(&format!("^{}$", regex::escape(grant))));
            let (what, expr) = match result {
                TokenResult::Error(e) => (
                    e.clone(),
                    format!(
                        "{g} & ~bs {}",
                        arg(&format!(r#""error"\s*:\s*"{}""#, regex::escape(e)))
                    ),
                ),
                TokenResult::Status(s) if *s < 400 => (
                    format!("success ({s})"),
                    format!("{g} & ~c {s} & !~bs {ANY_OAUTH_ERROR}"),
                ),
                TokenResult::Status(s) => (
                    format!("HTTP {s}"),
                    format!("{g} & ~c {s} & !~bs {ANY_OAUTH_ERROR}"),
                ),
                TokenResult::NoResponse => ("no response".into(), format!("{g} & !~s")),
            };
            rows.push(self.row(
                format!("token request grant_type={grant}: {what}"),
                *n,
                Some(expr),
                true,
            ));
        }
        if self.other_grants > 0 {
            rows.push(self.row(
                "… other token requests".into(),
                self.other_grants,
                Some("~grant .".into()),
                false,
            ));
        }
        for (code, n) in &self.aadsts {
            let meaning = idscope_decoders::aadsts::aadsts_meaning(*code)
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let re = format!(r"AADSTS{code}\b");
            rows.push(self.row(
                format!("AADSTS{code}{meaning}"),
                *n,
                Some(format!("~u {re} | ~h {re} | ~b {re}")),
                true,
            ));
        }
        if self.other_aadsts > 0 {
            rows.push(self.row(
                "… other AADSTS codes".into(),
                self.other_aadsts,
                Some(r"~u AADSTS\d | ~h AADSTS\d | ~b AADSTS\d".into()),
                false,
            ));
        }
        if self.adfs.count > 0 {
            let filter = self.adfs.filter().unwrap_or_else(|| {
                let mut what: Vec<String> =
                    self.adfs_codes.iter().map(|c| format!("~c {c}")).collect();
                what.push("~finding error".into());
                if self.adfs_errors {
                    what.push("~e".into());
                }
                format!("~u /adfs/ & ({})", what.join(" | "))
            });
            rows.push(
                self.row(
                    "sign-ins failed at ADFS (an /adfs/ URL with status ≥ 400, no response or an \
                 error finding)"
                        .into(),
                    self.adfs.count,
                    Some(filter),
                    true,
                ),
            );
        }
        if self.unverified.count > 0 {
            let (filter, exact) = match self.unverified.filter() {
                Some(f) => (f, true),
                None => ("~finding".to_string(), false),
            };
            rows.push(self.row(
                "flows with a signature not verified".into(),
                self.unverified.count,
                Some(filter),
                exact,
            ));
        }
        Section {
            title: "Authentication",
            rows,
        }
    }

    fn stories_section(&self) -> Section {
        Section {
            title: "Stories",
            rows: self
                .stories
                .iter()
                .map(|r| {
                    let failed = if r.failed_steps > 0 {
                        format!(", {} failed steps", r.failed_steps)
                    } else {
                        String::new()
                    };
                    let filter = (r.steps.len() <= MAX_IDS).then(|| id_filter(&r.steps));
                    let exact = filter.is_some();
                    self.row(
                        format!(
                            "{} ×{}: checks {} ✓, {} ✗, {} ?{failed}",
                            r.title, r.stories, r.checks[0], r.checks[1], r.checks[2]
                        ),
                        r.steps.len(),
                        filter,
                        exact,
                    )
                })
                .collect(),
        }
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

impl Summary {
    /// The `--json` object: `{"type": "summary", "flows", "first", "last", "duration_seconds",
    /// "sections": [{"title", "rows": [{"label", "count", "filter", "exact"}]}]}`.
    pub fn json(&self) -> serde_json::Value {
        let window = self.window();
        serde_json::json!({
            "type": "summary",
            "flows": self.flows,
            "first": window.map(|(a, _)| rfc3339(a)),
            "last": window.map(|(_, b)| rfc3339(b)),
            "duration_seconds": window.map(|(a, b)| {
                b.duration_since(a).map_or(0.0, |d| d.as_secs_f64())
            }),
            "sections": self.sections(),
        })
    }
}

/// A titled group of rows.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The heading.
    pub title: &'static str,
    /// Its rows; empty when the capture has nothing for it.
    pub rows: Vec<Row>,
}

/// One line of the summary: what it counts, how many flows, and the filter that selects them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// What is counted.
    pub label: String,
    /// How many flows.
    pub count: usize,
    /// The filter expression that selects the counted flows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// False when the filter selects more than the counted flows (a list outgrew its bound).
    pub exact: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_filters_fold_runs_and_arguments_are_quoted_when_needed() {
        assert_eq!(id_filter(&[1, 2, 3, 5, 7, 8]), "~id 1-3,5,7-8");
        assert_eq!(arg(r"^login\.x$"), r"^login\.x$");
        assert_eq!(arg(r#""error":"a b""#), r#"'"error":"a b"'"#);
        assert_eq!(arg(r"it's\d"), r"'it\'s\d'");
        assert_eq!(arg(r"a b\\"), r"'a b\\\\'");
        let f = crate::filter::parse(&format!("~b {}", arg(r"it's\d"))).unwrap();
        let flow = |body: &'static [u8]| {
            let mut q = crate::flow::testing::request("POST", "https://x/");
            q.body = crate::flow::Body::plain(body);
            crate::flow::testing::flow(0, q, crate::flow::testing::response(200, "", b""))
        };
        assert!(f.matches(&crate::filter::Subject::plain(&flow(b"it's7"))));
        assert!(!f.matches(&crate::filter::Subject::plain(&flow(b"it's\\d"))));
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
