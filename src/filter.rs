//! Filter expressions in mitmproxy's language (`~d login & !~c 200`), plus idscope's
//! decoded-aware operators `~k KIND`, `~claim NAME=REGEX`, `~op REGEX` and `~finding [SEVERITY]`
//! (conventions.md), and `~noise`, a browser's own background request (the host list is
//! [`noise`]'s). Three more read the flow itself: `~corr ID`, every flow carrying a correlation
//! id in one of its id headers (request or response: `client-request-id`, `request-id`,
//! `x-ms-request-id`, `x-ms-correlation-id`, …, see [`correlation::ID_HEADERS`]) or in its URL's
//! `client-request-id` query parameter; `~grant REGEX`, a token request whose form body's
//! `grant_type` matches; and `~id LIST`, flows by number (`~id 3,7,12-20`, the numbers of
//! `analyze`'s `#` column and of the TUI's list), which the trace summary's rows use to name
//! flows no other operator singles out. [`parse`] turns text into a [`Filter`], or into a [`FilterError`] that says
//! at which column the expression is wrong; [`Filter::matches`] tests one flow.
//!
//! The decoded-aware operators read a flow's [`Digest`] when the caller has one (the TUI keeps one
//! per flow, built by the capture loader's workers) or else its full [`FlowReport`] (what
//! `analyze` has); with neither, they match nothing (see [`Filter::reads_decoded`]). This module
//! neither decodes nor reads files (but [`noise`] reads its host list, once), and matching one
//! flow allocates nothing for the HTTP operators except `~b` (which removes content-encoding)
//! and `~src`, so a pass over 100,000 flows costs milliseconds.
//!
//! ```
//! let f = idscope::filter::parse("~m POST & ~d login").unwrap();
//! assert!(!f.reads_decoded());
//! let e = idscope::filter::parse("~c abc").unwrap_err();
//! assert_eq!(e.column(), 4);
//! ```

pub mod noise;

use std::fmt;
use std::sync::Arc;

use idscope_decoders::{Registry, Severity};
use regex::bytes::{Regex, RegexBuilder};

use crate::analysis::FlowReport;
use crate::analysis::digest::{self, Digest};
use crate::analysis::{correlation, summary};
use crate::flow::{DEFAULT_DECODED_CAP, Flow, Headers, header};

/// Why an expression could not be parsed: a message and the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at column {})", .pos + 1)]
pub struct FilterError {
    /// Byte offset into the expression.
    pub pos: usize,
    /// What is wrong there, lowercase.
    pub message: String,
}

impl FilterError {
    /// The 1-based column (in bytes) of the error, for messages.
    pub fn column(&self) -> usize {
        self.pos + 1
    }
}

/// Which half of a flow an operator looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Any,
    Request,
    Response,
}

#[derive(Debug, Clone)]
enum Pred {
    All,
    NoResponse,
    HasResponse,
    Error,
    Method(Regex),
    Domain(Regex),
    Url(Regex),
    Code(u16),
    Header(Half, Regex),
    ContentType(Half, Regex),
    Body(Half, Regex),
    Src(Regex),
    Dst(Regex),
    Marked,
    Replay,
    Comment(Regex),
    Kind(String),
    Claim(String, Regex),
    Op(Regex),
    Finding(Option<Severity>),
    Noise(Arc<noise::NoiseHosts>),
    Corr(String),
    Grant(Regex),
    /// Inclusive ranges of 1-based flow numbers.
    Id(Vec<(u64, u64)>),
}

#[derive(Debug, Clone)]
enum Expr {
    Pred(Pred),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed filter expression.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Expr,
    text: String,
    /// [`Filter::reads_decoded`], worked out once: callers ask per flow.
    decoded: bool,
}

/// What a filter looks at for one flow.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The flow.
    pub flow: &'a Flow,
    /// True while the flow waits for its response (live sessions).
    pub in_flight: bool,
    /// The flow's digest, when the caller keeps one.
    pub digest: Option<&'a Digest>,
    /// The flow's full decoded report, when the caller has it.
    pub report: Option<&'a FlowReport>,
}

impl<'a> Subject<'a> {
    /// A subject with neither digest nor report (only the HTTP operators can match).
    pub fn plain(flow: &'a Flow) -> Self {
        Subject {
            flow,
            in_flight: false,
            digest: None,
            report: None,
        }
    }
}

impl Filter {
    /// The expression as the user wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the expression uses a decoded-aware operator (`~k`, `~claim`, `~op`,
    /// `~finding`). Those read the subject's [`Digest`], or its [`FlowReport`] when it has no
    /// digest; a subject with neither has nothing decoded, so they do not match it (and `!~k jwt`
    /// does).
    pub fn reads_decoded(&self) -> bool {
        self.decoded
    }
}

fn reads_decoded(e: &Expr) -> bool {
    match e {
        Expr::Pred(Pred::Kind(_) | Pred::Claim(..) | Pred::Op(_) | Pred::Finding(_)) => true,
        Expr::Pred(_) => false,
        Expr::Not(a) => reads_decoded(a),
        Expr::And(a, b) | Expr::Or(a, b) => reads_decoded(a) || reads_decoded(b),
    }
}

impl Filter {
    /// True when the flow matches.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        eval(&self.expr, s)
    }
}

fn eval(e: &Expr, s: &Subject<'_>) -> bool {
    match e {
        Expr::Pred(p) => pred(p, s),
        Expr::Not(a) => !eval(a, s),
        Expr::And(a, b) => eval(a, s) && eval(b, s),
        Expr::Or(a, b) => eval(a, s) || eval(b, s),
    }
}

thread_local! {
    /// Where `~h` builds each `name: value` line: one buffer per thread, reused, so matching
    /// headers allocates nothing per flow.
    static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn any_header(headers: &Headers, re: &Regex) -> bool {
    LINE.with(|line| {
        let Ok(mut line) = line.try_borrow_mut() else {
            // Not reachable (matching does not re-enter), but never panic over a scratch buffer.
            return headers
                .iter()
                .any(|(n, v)| re.is_match(format!("{n}: {v}").as_bytes()));
        };
        headers.iter().any(|(n, v)| {
            line.clear();
            line.extend_from_slice(n.as_bytes());
            line.extend_from_slice(b": ");
            line.extend_from_slice(v.as_bytes());
            re.is_match(&line)
        })
    })
}

/// The host of a URL as written (no port, no user info; IPv6 with its brackets), borrowed.
/// [`Flow::host`] lowercases into a new string; regexes here are case-insensitive, so the
/// borrowed form matches the same and allocates nothing.
fn host_of(url: &str) -> &str {
    let Some(after) = url.find("://").and_then(|i| url.get(i + 3..)) else {
        return "";
    };
    let authority = after.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or("");
    if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => hostport.get(..=end).unwrap_or(hostport),
            None => hostport,
        }
    } else {
        hostport.split(':').next().unwrap_or("")
    }
}

fn pred(p: &Pred, s: &Subject<'_>) -> bool {
    let f = s.flow;
    let resp = f.response();
    let halves = |half: Half| -> (bool, bool) {
        (
            half != Half::Response,
            half != Half::Request && resp.is_some(),
        )
    };
    match p {
        Pred::All => true,
        Pred::NoResponse => resp.is_none() && (s.in_flight || f.error().is_none()),
        Pred::HasResponse => resp.is_some(),
        Pred::Error => f.error().is_some() && !s.in_flight,
        Pred::Method(re) => re.is_match(f.request.method.as_bytes()),
        Pred::Domain(re) => re.is_match(host_of(&f.request.url).as_bytes()),
        Pred::Noise(list) => list.matches(
            host_of(&f.request.url),
            idscope_decoders::util::url_path(&f.request.url),
        ),
        Pred::Url(re) => re.is_match(f.request.url.as_bytes()),
        Pred::Code(c) => resp.is_some_and(|r| r.status == *c),
        Pred::Header(half, re) => {
            let (q, r) = halves(*half);
            (q && any_header(&f.request.headers, re))
                || (r && resp.is_some_and(|x| any_header(&x.headers, re)))
        }
        Pred::ContentType(half, re) => {
            let (q, r) = halves(*half);
            let ct =
                |h: &Headers| header(h, "content-type").is_some_and(|v| re.is_match(v.as_bytes()));
            (q && ct(&f.request.headers)) || (r && resp.is_some_and(|x| ct(&x.headers)))
        }
        Pred::Body(half, re) => {
            let (q, r) = halves(*half);
            (q && re.is_match(&f.request.body.decoded_lossy(DEFAULT_DECODED_CAP)))
                || (r
                    && resp
                        .is_some_and(|x| re.is_match(&x.body.decoded_lossy(DEFAULT_DECODED_CAP))))
        }
        Pred::Src(re) => f
            .client_addr
            .is_some_and(|a| re.is_match(a.to_string().as_bytes())),
        Pred::Dst(re) => match &f.server_addr {
            Some(a) => re.is_match(a.as_bytes()),
            None => re.is_match(host_of(&f.request.url).as_bytes()),
        },
        Pred::Marked => f.marked,
        Pred::Corr(id) => correlation::carries(f, id),
        Pred::Grant(re) => summary::grant_type(f).is_some_and(|g| re.is_match(g.as_bytes())),
        Pred::Id(ranges) => {
            let n = f.id.0 + 1;
            ranges.iter().any(|(a, b)| (*a..=*b).contains(&n))
        }
        Pred::Replay => f
            .tags
            .iter()
            .any(|t| t == "replay" || t.starts_with("replay-of:")),
        Pred::Comment(re) => f
            .comment
            .as_deref()
            .is_some_and(|c| re.is_match(c.as_bytes())),
        Pred::Kind(k) => match (s.digest, s.report) {
            (Some(d), _) => d.decoders.iter().any(|id| id.eq_ignore_ascii_case(k)),
            (None, Some(r)) => r
                .request
                .iter()
                .chain(&r.response)
                .any(|o| o.result.is_ok() && o.decoder.eq_ignore_ascii_case(k)),
            (None, None) => false,
        },
        Pred::Op(re) => match (s.digest, s.report) {
            (Some(d), _) => d.ops.iter().any(|o| re.is_match(o.as_bytes())),
            (None, Some(r)) => digest::ops(f, r).iter().any(|o| re.is_match(o.as_bytes())),
            (None, None) => false,
        },
        Pred::Finding(min) => {
            let at_least = |sev: Severity| min.is_none_or(|m| sev >= m);
            match (s.digest, s.report) {
                (Some(d), _) => d.worst.is_some_and(at_least),
                (None, Some(r)) => r.worst().is_some_and(at_least),
                (None, None) => false,
            }
        }
        Pred::Claim(name, re) => match (s.digest, s.report) {
            (Some(d), _) => d
                .claims
                .iter()
                .any(|(n, v)| claim_name_matches(n, name) && re.is_match(v.as_bytes())),
            (None, Some(r)) => digest::claims(r)
                .iter()
                .any(|(n, v)| claim_name_matches(n, name) && re.is_match(v.as_bytes())),
            (None, None) => false,
        },
    }
}

/// A claim name matches exactly (case-insensitively) or as the last segment of a claim URI
/// (`upn` matches `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn`).
fn claim_name_matches(label: &str, name: &str) -> bool {
    label.eq_ignore_ascii_case(name)
        || label
            .rsplit(['/', ':'])
            .next()
            .is_some_and(|last| last.eq_ignore_ascii_case(name))
}

// ---------------------------------------------------------------------------------------------
// Parser

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Not,
    And,
    Or,
    Open,
    Close,
    Op(String),
    Word(String),
}

fn err(pos: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        pos,
        message: message.into(),
    }
}

fn lex(input: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '!' | '&' | '|' | '(' | ')' => {
                chars.next();
                let tok = match c {
                    '!' => Tok::Not,
                    '&' => Tok::And,
                    '|' => Tok::Or,
                    '(' => Tok::Open,
                    _ => Tok::Close,
                };
                out.push((i, tok));
            }
            '"' | '\'' => {
                chars.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some((_, d)) = chars.next() {
                    if d == '\\' {
                        match chars.next() {
                            Some((_, e)) if e == c || e == '\\' => s.push(e),
                            // Keep other escapes for the regex (`\d`, `\.`).
                            Some((_, e)) => {
                                s.push('\\');
                                s.push(e);
                            }
                            None => break,
                        }
                    } else if d == c {
                        closed = true;
                        break;
                    } else {
                        s.push(d);
                    }
                }
                if !closed {
                    return Err(err(i, format!("unterminated quote {c}")));
                }
                out.push((i, Tok::Word(s)));
            }
            _ => {
                let mut s = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_whitespace() || matches!(d, '(' | ')' | '|' | '&') {
                        break;
                    }
                    s.push(d);
                    chars.next();
                }
                if s.starts_with('~') {
                    out.push((i, Tok::Op(s)));
                } else {
                    out.push((i, Tok::Word(s)));
                }
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    _input: &'a str,
    /// The host list `~noise` matches; [`noise::active`] when not given.
    noise: Option<Arc<noise::NoiseHosts>>,
}

fn regex(pos: usize, pattern: &str) -> Result<Regex, FilterError> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let msg = e.to_string();
            let last = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or(&msg);
            err(pos, format!("invalid regex `{pattern}`: {}", last.trim()))
        })
}

impl Parser<'_> {
    fn peek(&self) -> Option<&(usize, Tok)> {
        self.toks.get(self.at)
    }

    fn pos(&self) -> usize {
        self.peek().map_or(self.end, |(p, _)| *p)
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some((_, Tok::Or))) {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some((_, Tok::And)) => {
                    self.at += 1;
                }
                Some((_, Tok::Not | Tok::Open | Tok::Op(_) | Tok::Word(_))) => {}
                _ => break,
            }
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let pos = self.pos();
        match self.peek().cloned() {
            Some((_, Tok::Not)) => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some((_, Tok::Open)) => {
                self.at += 1;
                let inner = self.or()?;
                match self.peek() {
                    Some((_, Tok::Close)) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err(err(
                        self.pos(),
                        format!("missing `)` for the `(` at column {}", pos + 1),
                    )),
                }
            }
            Some((_, Tok::Word(w))) => {
                self.at += 1;
                Ok(Expr::Pred(Pred::Url(regex(pos, &w)?)))
            }
            Some((_, Tok::Op(op))) => {
                self.at += 1;
                self.operator(pos, &op).map(Expr::Pred)
            }
            Some((_, Tok::Close)) => Err(err(pos, "unexpected `)`")),
            Some((_, Tok::And | Tok::Or)) => {
                Err(err(pos, "expected a filter before this operator"))
            }
            None => Err(err(pos, "expected a filter")),
        }
    }

    fn arg(&mut self, op: &str) -> Result<(usize, String), FilterError> {
        match self.peek().cloned() {
            Some((p, Tok::Word(w))) => {
                self.at += 1;
                Ok((p, w))
            }
            _ => Err(err(self.pos(), format!("`{op}` needs an argument"))),
        }
    }

    fn re_arg(&mut self, op: &str) -> Result<Regex, FilterError> {
        let (p, w) = self.arg(op)?;
        regex(p, &w)
    }

    fn operator(&mut self, pos: usize, op: &str) -> Result<Pred, FilterError> {
        let lower = op.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "~all" => Pred::All,
            "~q" => Pred::NoResponse,
            "~s" => Pred::HasResponse,
            "~e" => Pred::Error,
            "~marked" => Pred::Marked,
            "~replay" => Pred::Replay,
            "~noise" => Pred::Noise(match &self.noise {
                Some(list) => Arc::clone(list),
                None => noise::active().map_err(|e| err(pos, e.to_string()))?,
            }),
            "~m" => Pred::Method(self.re_arg(op)?),
            "~d" => Pred::Domain(self.re_arg(op)?),
            "~u" => Pred::Url(self.re_arg(op)?),
            "~h" => Pred::Header(Half::Any, self.re_arg(op)?),
            "~hq" => Pred::Header(Half::Request, self.re_arg(op)?),
            "~hs" => Pred::Header(Half::Response, self.re_arg(op)?),
            "~t" => Pred::ContentType(Half::Any, self.re_arg(op)?),
            "~tq" => Pred::ContentType(Half::Request, self.re_arg(op)?),
            "~ts" => Pred::ContentType(Half::Response, self.re_arg(op)?),
            "~b" => Pred::Body(Half::Any, self.re_arg(op)?),
            "~bq" => Pred::Body(Half::Request, self.re_arg(op)?),
            "~bs" => Pred::Body(Half::Response, self.re_arg(op)?),
            "~src" => Pred::Src(self.re_arg(op)?),
            "~dst" => Pred::Dst(self.re_arg(op)?),
            "~comment" => Pred::Comment(self.re_arg(op)?),
            "~op" => Pred::Op(self.re_arg(op)?),
            "~corr" => Pred::Corr(self.arg(op)?.1),
            "~grant" => Pred::Grant(self.re_arg(op)?),
            "~id" => {
                let (p, w) = self.arg(op)?;
                Pred::Id(id_list(&w).ok_or_else(|| {
                    err(
                        p,
                        format!("`~id` needs flow numbers like 3,7,12-20, not `{w}`"),
                    )
                })?)
            }
            "~c" => {
                let (p, w) = self.arg(op)?;
                match w.parse::<u16>() {
                    Ok(c) if (100..=999).contains(&c) => Pred::Code(c),
                    _ => return Err(err(p, format!("`~c` needs a status code, not `{w}`"))),
                }
            }
            "~k" => {
                let (p, w) = self.arg(op)?;
                let known: Vec<&str> = Registry::builtin().ids().collect();
                if !known.iter().any(|k| k.eq_ignore_ascii_case(&w)) {
                    return Err(err(
                        p,
                        format!("unknown kind `{w}` (known: {})", known.join(", ")),
                    ));
                }
                Pred::Kind(w.to_ascii_lowercase())
            }
            "~claim" => {
                let (p, w) = self.arg(op)?;
                let Some((name, value)) = w.split_once('=') else {
                    return Err(err(p, "`~claim` needs NAME=REGEX"));
                };
                if name.is_empty() {
                    return Err(err(p, "`~claim` needs a claim name before `=`"));
                }
                Pred::Claim(name.to_string(), regex(p + name.len() + 1, value)?)
            }
            "~finding" => {
                let sev = match self.peek() {
                    Some((_, Tok::Word(w))) => match w.to_ascii_lowercase().as_str() {
                        "info" => Some(Severity::Info),
                        "warning" | "warn" => Some(Severity::Warning),
                        "error" => Some(Severity::Error),
                        _ => None,
                    },
                    _ => None,
                };
                if sev.is_some() {
                    self.at += 1;
                }
                Pred::Finding(sev)
            }
            _ => return Err(err(pos, format!("unknown filter `{op}`"))),
        })
    }
}

/// `3,7,12-20` as inclusive ranges; `None` when any part is not a number or a range `A-B` with
/// `A ≤ B`.
fn id_list(text: &str) -> Option<Vec<(u64, u64)>> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b) = (a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?);
            (a <= b).then_some((a, b))
        })
        .collect()
}

/// Parses a filter expression. Regexes are case-insensitive; a bare word is a URL regex (`~u`);
/// terms written side by side are joined with `&`. `~noise` matches the hosts of
/// [`noise::active`].
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    parse_inner(input, None)
}

/// [`parse`], with `~noise` matching the hosts of `noise` instead of the active list.
pub fn parse_with_noise(input: &str, noise: Arc<noise::NoiseHosts>) -> Result<Filter, FilterError> {
    parse_inner(input, Some(noise))
}

fn parse_inner(input: &str, noise: Option<Arc<noise::NoiseHosts>>) -> Result<Filter, FilterError> {
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err(err(0, "empty filter"));
    }
    let mut p = Parser {
        toks,
        at: 0,
        end: input.len(),
        _input: input,
        noise,
    };
    let expr = p.or()?;
    if let Some((pos, t)) = p.peek() {
        let what = if *t == Tok::Close {
            "unexpected `)`"
        } else {
            "unexpected input"
        };
        return Err(err(*pos, what));
    }
    Ok(Filter {
        decoded: reads_decoded(&expr),
        expr,
        text: input.trim().to_string(),
    })
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::FlowReport;
    use crate::flow::testing::{flow, request, request_with, response};
    use crate::flow::{Body, FlowError, FlowId, Outcome};
    use idscope_decoders::{Decoded, Finding, Node, Outcome as DecOutcome};

    fn sample() -> Flow {
        let mut req = request_with(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
        );
        req.body = Body::plain(&b"grant_type=password&username=alice"[..]);
        let mut f = flow(
            0,
            req,
            response(400, "application/json", br#"{"error":"invalid_grant"}"#),
        );
        f.client_addr = Some("10.0.0.5:51000".parse().unwrap());
        f.server_addr = Some("20.190.1.1:443".into());
        f.comment = Some("the failing one".into());
        f
    }

    fn report() -> FlowReport {
        let jwt = Decoded::new(
            "jwt",
            "JWT",
            Node::section("jwt").with_child(
                Node::section("claims")
                    .with_child(Node::field("upn", "alice@contoso.test"))
                    .with_child(Node::field(
                        "http://schemas.xmlsoap.org/claims/Group",
                        "admins",
                    )),
            ),
        )
        .with_finding(Finding::warning("expires soon"));
        let soap = Decoded::new(
            "soap",
            "SOAP",
            Node::section("soap").with_child(Node::field(
                "wsa:Action",
                "http://schemas.microsoft.com/online/aws/change/2010/01/IProvisioningWebService/ProvisionAzureADSyncObjects",
            )),
        );
        FlowReport {
            id: FlowId(0),
            request: vec![
                DecOutcome {
                    decoder: "soap",
                    priority: 1.0,
                    result: Ok(soap),
                },
                DecOutcome {
                    decoder: "saml",
                    priority: 0.5,
                    result: Err(idscope_decoders::DecodeError::Missing("assertion")),
                },
            ],
            response: vec![DecOutcome {
                decoder: "jwt",
                priority: 1.0,
                result: Ok(jwt),
            }],
            flow_findings: vec![],
        }
    }

    /// A finished flow with its decode report, as the filter sees it.
    fn subject<'a>(flow: &'a Flow, report: &'a FlowReport) -> Subject<'a> {
        Subject {
            flow,
            in_flight: false,
            digest: None,
            report: Some(report),
        }
    }

    fn m(expr: &str) -> bool {
        let (f, r) = (sample(), report());
        let subject = subject(&f, &r);
        parse(expr).unwrap().matches(&subject)
    }

    #[test]
    fn a_quoted_argument_with_an_escaped_quote_is_one_regex() {
        // How the trace summary quotes a regex holding a quote (`summary::sections::arg`).
        let f = parse(r"~b 'it\'s\d'").unwrap();
        let flow = |body: &'static [u8]| {
            let mut q = crate::flow::testing::request("POST", "https://x/");
            q.body = crate::flow::Body::plain(body);
            crate::flow::testing::flow(0, q, crate::flow::testing::response(200, "", b""))
        };
        assert!(f.matches(&Subject::plain(&flow(b"it's7"))));
        assert!(!f.matches(&Subject::plain(&flow(b"it's\\d"))));
    }

    #[test]
    fn http_operators_match_like_mitmproxy() {
        assert!(m("~all"));
        assert!(m("~s") && !m("~q") && !m("~e"));
        assert!(m("~m post") && !m("~m ^GET$"));
        assert!(m("~d microsoftonline") && !m("~d example"));
        assert!(m("~u oauth2/token") && m("oauth2/TOKEN"));
        assert!(m("~c 400") && !m("~c 200"));
        assert!(m("~h content-type:.*form") && m("~hq urlencoded") && !m("~hs urlencoded"));
        assert!(m("~hs application/json"));
        assert!(m("~t json") && m("~tq form") && !m("~ts form"));
        assert!(m("~b invalid_grant") && m("~bq username=alice") && !m("~bs username"));
        assert!(m("~src 10\\.0\\.0\\.5") && !m("~src 192"));
        assert!(m("~dst 20\\.190") && !m("~dst 10\\.0"));
        assert!(!m("~marked") && !m("~replay"));
        assert!(m("~comment failing") && !m("~comment passing"));
    }

    #[test]
    fn corr_grant_and_id_read_the_flow() {
        assert!(m("~grant ^password$") && !m("~grant refresh"));
        assert!(m("~id 1") && m("~id 3,1-2") && !m("~id 2,4-9"));
        assert!(!m("~corr 0b6f3c9e"), "no correlation header");
        let mut f = sample();
        f.request
            .headers
            .push_str("client-request-id", "0b6f3c9e-aa");
        let s = Subject::plain(&f);
        assert!(parse("~corr 0B6F3C9E-AA").unwrap().matches(&s));
        assert!(!parse("~corr 0b6f3c9e").unwrap().matches(&s));
        assert_eq!(parse("~id 3-1").unwrap_err().column(), 5);
        assert_eq!(parse("~id x").unwrap_err().column(), 5);
        assert_eq!(parse("~corr").unwrap_err().column(), 6);
    }

    #[test]
    fn no_response_error_marked_and_replay_follow_the_flow_state() {
        let mut f = sample();
        f.outcome = Outcome::Error(FlowError {
            message: "reset".into(),
            incomplete: false,
        });
        f.marked = true;
        f.tags.push("replay-of:#3".into());
        let s = Subject::plain(&f);
        assert!(parse("~e").unwrap().matches(&s));
        assert!(!parse("~q").unwrap().matches(&s));
        assert!(parse("~marked & ~replay").unwrap().matches(&s));
        let live = Subject {
            in_flight: true,
            ..s
        };
        assert!(parse("~q").unwrap().matches(&live));
        assert!(!parse("~e").unwrap().matches(&live));
    }

    #[test]
    fn decoded_operators_read_the_report() {
        assert!(m("~k soap") && m("~k JWT"));
        assert!(!m("~k saml"), "a failed decode is not a kind");
        assert!(m("~claim upn=alice@") && !m("~claim upn=bob"));
        assert!(
            m("~claim group=admins"),
            "URI claim names match by last segment"
        );
        assert!(m("~op ProvisionAzureADSyncObjects") && !m("~op FinalizeExport"));
        assert!(m("~finding") && m("~finding warning") && !m("~finding error"));
        assert!(m("~finding info"), "at least info");
    }

    #[test]
    fn decoded_operators_read_the_digest_claims_included() {
        let f = sample();
        let r = report();
        let d = Digest::of(&f, &r);
        let s = Subject {
            flow: &f,
            in_flight: false,
            digest: Some(&d),
            report: None,
        };
        assert!(
            parse("~k jwt & ~op Provision & ~finding")
                .unwrap()
                .matches(&s)
        );
        let claim = parse("~claim upn=alice").unwrap();
        assert!(claim.reads_decoded());
        assert!(
            claim.matches(&s),
            "claims are in the digest: no report needed"
        );
        assert!(parse("~claim group=admins").unwrap().matches(&s));
        assert!(!parse("~claim upn=bob").unwrap().matches(&s));
        assert!(parse("~k jwt").unwrap().reads_decoded());
        assert!(parse("!~d x & (~op a | ~c 200)").unwrap().reads_decoded());
        assert!(!parse("~d x | ~h y").unwrap().reads_decoded());
        // Nothing decoded: decoded-aware operators do not match, their negation does.
        let plain = Subject::plain(&f);
        assert!(!parse("~k jwt").unwrap().matches(&plain));
        assert!(!claim.matches(&plain));
        assert!(parse("!~claim upn=alice").unwrap().matches(&plain));
    }

    #[test]
    fn noise_matches_the_hosts_of_its_list_and_composes_with_the_rest() {
        let list = Arc::new(
            noise::NoiseHosts::parse(
                "update.googleapis.com\n*.gvt1.com\naccounts.google.com/ListAccounts\n",
                "test list",
            )
            .unwrap(),
        );
        let noise = parse_with_noise("~noise", Arc::clone(&list)).unwrap();
        let quiet = parse_with_noise("!~noise & ~c 200", Arc::clone(&list)).unwrap();
        assert!(!noise.reads_decoded());
        for (url, is_noise) in [
            (
                "https://update.googleapis.com/service/update2/json?cup2key=1",
                true,
            ),
            ("http://Update.GoogleAPIs.com:80/", true),
            (
                "https://redirector.gvt1.com/edgedl/chrome/dict/en-us.bdic",
                true,
            ),
            (
                "https://accounts.google.com/ListAccounts?gpsia=1&source=ChromiumBrowser",
                true,
            ),
            (
                "https://accounts.google.com/o/oauth2/v2/auth?client_id=x",
                false,
            ),
            (
                "https://login.microsoftonline.com/common/oauth2/token",
                false,
            ),
            ("https://notupdate.googleapis.com/", false),
        ] {
            let f = flow(0, request("GET", url), response(200, "text/plain", b""));
            let s = Subject::plain(&f);
            assert_eq!(noise.matches(&s), is_noise, "{url}");
            assert_eq!(quiet.matches(&s), !is_noise, "{url}");
        }
        // The built-in list knows the browsers' update and telemetry hosts.
        let builtin = parse_with_noise("~noise", Arc::new(noise::NoiseHosts::builtin())).unwrap();
        for url in [
            "https://update.googleapis.com/service/update2/json",
            "https://optimizationguide-pa.googleapis.com/v1:GetModels",
            "http://detectportal.firefox.com/canonical.html",
            "https://config.edge.skype.com/config/v1/Edge/1",
        ] {
            let f = flow(0, request("GET", url), response(200, "text/plain", b""));
            assert!(builtin.matches(&Subject::plain(&f)), "{url}");
        }
        let f = sample();
        assert!(!builtin.matches(&Subject::plain(&f)));
    }

    #[test]
    fn host_of_borrows_what_flow_host_returns_up_to_case() {
        for url in [
            "https://Login.Example:443/x",
            "http://user:pw@h.test/p?q",
            "https://[::1]:8443/",
            "https://h.test?x=1",
            "https://h.test#f",
            "no-scheme/path",
            "https://",
        ] {
            let f = flow(0, request("GET", url), response(200, "x", b""));
            assert_eq!(host_of(url).to_ascii_lowercase(), f.host(), "{url}");
        }
    }

    #[test]
    fn header_lines_match_name_and_value_together() {
        let f = sample();
        let s = Subject::plain(&f);
        assert!(
            parse("~hq '^content-type: application/x-www'")
                .unwrap()
                .matches(&s)
        );
        assert!(!parse("~hq '^application'").unwrap().matches(&s));
    }

    #[test]
    fn boolean_operators_group_and_bind_like_mitmproxy() {
        assert!(m("~m POST & ~c 400"));
        assert!(m("~m POST ~c 400"), "juxtaposition is and");
        assert!(m("~m GET | ~c 400"));
        assert!(!m("!~m POST"));
        assert!(m("!(~m GET | ~c 200)"));
        assert!(!m("~m GET | ~c 200 & ~d login"));
        assert!(m("~c 400 | ~m GET & ~d nowhere"), "& binds tighter than |");
        assert!(m("'oauth2/token' & \"~notanop\" | ~all"));
    }

    #[test]
    fn errors_name_the_column() {
        let e = parse("~m POST & ~zz x").unwrap_err();
        assert_eq!((e.pos, e.message.as_str()), (10, "unknown filter `~zz`"));
        assert_eq!(e.to_string(), "unknown filter `~zz` (at column 11)");
        let e = parse("~d").unwrap_err();
        assert_eq!((e.pos, e.message.as_str()), (2, "`~d` needs an argument"));
        let e = parse("~c abc").unwrap_err();
        assert_eq!(e.pos, 3);
        let e = parse("~u (").unwrap_err();
        assert_eq!(e.pos, 3, "{e}");
        let e = parse("~u \"a(\"").unwrap_err();
        assert_eq!(e.pos, 3);
        assert!(e.message.starts_with("invalid regex `a(`"), "{e}");
        let e = parse("(~s | ~q").unwrap_err();
        assert_eq!(e.pos, 8);
        assert!(e.message.contains("missing `)`"));
        let e = parse("~s )").unwrap_err();
        assert_eq!((e.pos, e.message.as_str()), (3, "unexpected `)`"));
        let e = parse("& ~s").unwrap_err();
        assert_eq!(e.pos, 0);
        let e = parse("~k nosuch").unwrap_err();
        assert_eq!(e.pos, 3);
        assert!(e.message.contains("known: jwt"), "{e}");
        let e = parse("~claim upn").unwrap_err();
        assert_eq!(e.message, "`~claim` needs NAME=REGEX");
        let e = parse("~claim upn=[").unwrap_err();
        assert_eq!(e.pos, 11);
        let e = parse("'open").unwrap_err();
        assert_eq!((e.pos, e.message.as_str()), (0, "unterminated quote '"));
        assert_eq!(parse("   ").unwrap_err().message, "empty filter");
    }

    /// Every prefix of a set of expressions (cut at every character boundary) either parses, or
    /// is refused with a message at a position inside the input; a parsed prefix keeps its text
    /// and can be matched.
    #[test]
    fn every_prefix_parses_or_is_refused_at_a_column_inside_it() {
        let (f, r) = (sample(), report());
        let subject = subject(&f, &r);
        let (mut parsed, mut refused) = (0, 0);
        for full in [
            "!(~m GET | ~c 200) & ~d login",
            "~hq '^content-type: application/x-www' ~b \"invalid_grant\"",
            "~claim upn=alice@ | ~k jwt & !~finding error",
            "(~u \"oauth2/(token|authorize)\" | ~src 10\\.0) & ~comment 'é ü'",
            "~op ProvisionAzureADSyncObjects ~t json ~marked ~replay ~e ~q ~s ~all",
        ] {
            for (end, _) in full.char_indices().skip(1).chain([(full.len(), ' ')]) {
                let cut = &full[..end];
                match parse(cut) {
                    Ok(filter) => {
                        assert_eq!(filter.to_string(), cut.trim(), "{cut:?}");
                        let _ = filter.matches(&subject);
                        parsed += 1;
                    }
                    Err(e) => {
                        assert!(!e.message.is_empty(), "{cut:?}");
                        assert!(e.pos <= cut.len(), "{cut:?}: {e} beyond the input");
                        assert!(
                            cut.is_char_boundary(e.pos),
                            "{cut:?}: {e} inside a character"
                        );
                        assert!(
                            e.to_string()
                                .ends_with(&format!("(at column {})", e.column())),
                            "{e}"
                        );
                        refused += 1;
                    }
                }
            }
        }
        assert!(
            parsed > 20 && refused > 20,
            "{parsed} parsed, {refused} refused"
        );
    }
}
