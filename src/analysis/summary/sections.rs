//! The rows of a [`Summary`]: its sections in reading order, each row with the filter that
//! selects the flows it counts, and the `--json` object.

use std::collections::BTreeSet;

use idscope_decoders::Severity;
use serde::Serialize;

use super::{ANY_OAUTH_ERROR, Group, Host, MAX_IDS, Summary, TOP, TokenResult, rfc3339, sev_slot};

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

/// `~c A | ~c B` for the codes, then `| E` for each of `extra` that is `Some`.
fn codes_filter(codes: &BTreeSet<u16>, extra: &[Option<&str>]) -> String {
    codes
        .iter()
        .map(|c| format!("~c {c}"))
        .chain(extra.iter().flatten().map(|e| (*e).to_string()))
        .collect::<Vec<_>>()
        .join(" | ")
}

impl Summary {
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
            self.correlation_section(),
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
                Some(codes_filter(&codes, &[])),
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

    pub(super) fn hosts_section(&self) -> Section {
        let mut hosts: Vec<(&String, &Host)> = self.hosts.iter().collect();
        hosts.sort_by(|a, b| b.1.failing.cmp(&a.1.failing).then(a.0.cmp(b.0)));
        let mut rows: Vec<Row> = hosts
            .iter()
            .take(TOP)
            .map(|(name, h)| {
                let what = codes_filter(&h.codes, &[h.errors.then_some("~e")]);
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
                        what
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
            let what = codes_filter(&self.failing_codes, &[self.failing_errors.then_some("~e")]);
            rows.push(self.row(
                format!(
                    "… {}{} more hosts",
                    hosts.len().saturating_sub(TOP),
                    if self.other_failing > 0 { "+" } else { "" }
                ),
                rest,
                Some(what),
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

    pub(super) fn findings_section(&self) -> Section {
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
        let more = groups.len().saturating_sub(TOP);
        if more > 0 || self.other_groups > 0 {
            // Past MAX_GROUPS, and when the digests' interner had no room for their message,
            // findings are counted without telling their kinds apart.
            let occurrences = groups
                .iter()
                .skip(TOP)
                .map(|(_, g)| g.flows.count)
                .sum::<usize>()
                + self.other_groups;
            let plus = if self.other_groups > 0 { "+" } else { "" };
            rows.push(self.row(
                format!("… {more}{plus} more kinds of finding ({occurrences} flow-findings)"),
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
                let what = codes_filter(
                    &self.adfs_codes,
                    &[Some("~finding error"), self.adfs_errors.then_some("~e")],
                );
                format!("~u /adfs/ & ({what})")
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

    pub(super) fn correlation_section(&self) -> Section {
        let mut shared: Vec<(&String, &usize)> =
            self.corr.iter().filter(|(_, n)| **n > 1).collect();
        shared.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        Section {
            title: "Correlation ids on several flows",
            rows: shared
                .into_iter()
                .take(TOP)
                .map(|(id, n)| {
                    self.row(
                        id.clone(),
                        *n,
                        Some(format!("~corr {}", arg(id))),
                        !self.corr_pruned,
                    )
                })
                .collect(),
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
    /// How many flows (the `… more kinds of finding` row: how many findings, a flow with two of
    /// those kinds counting twice).
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
        // That the filter reads `'it\'s\d'` back as the regex `it's\d` is tested in `filter`.
    }
}
