//! SCIM filter expressions (RFC 7644 §3.4.2.2): the [`Filter`] tree, its tokenizer and
//! recursive-descent parser ([`parse_filter`], bounded in length and nesting), and its explanation
//! as a view tree ([`filter_node`]). The reference fixture evaluates the same [`Filter`] tree, so
//! the decoder and the fixture read filters alike.

use serde_json::Value;

use super::vocabulary::attr_note;
use crate::Context;
use crate::view::{Finding, Kind, Node};

/// Longest filter expression parsed, in bytes (real filters are a few dozen characters).
const MAX_FILTER_LEN: usize = 8 * 1024;

/// Meaning of a filter comparison operator (RFC 7644 §3.4.2.2).
fn op_meaning(op: &str) -> &'static str {
    match op {
        "eq" => "equal",
        "ne" => "not equal",
        "co" => "contains",
        "sw" => "starts with",
        "ew" => "ends with",
        "pr" => "present (has a non-empty value)",
        "gt" => "greater than",
        "ge" => "greater than or equal",
        "lt" => "less than",
        "le" => "less than or equal",
        _ => "unknown operator",
    }
}

/// A parsed SCIM filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value` or `attrPath pr` (then `value` is `None`).
    Compare {
        /// The attribute path (`userName`, `emails.value`, a URN-qualified name).
        path: String,
        /// The operator, lowercased (`eq`, `co`, `pr` …).
        op: String,
        /// The comparison value as JSON (string, number, boolean or null).
        value: Option<Value>,
    },
    /// Both sides must match.
    And(Box<Filter>, Box<Filter>),
    /// Either side matches.
    Or(Box<Filter>, Box<Filter>),
    /// `not ( … )`.
    Not(Box<Filter>),
    /// `attr[filter]`: a filter on the values of a multi-valued attribute.
    ValuePath {
        /// The multi-valued attribute.
        path: String,
        /// The filter applied to each of its values.
        filter: Box<Filter>,
    },
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Compare { path, op, value } => match value {
                Some(v) => write!(f, "{path} {op} {v}"),
                None => write!(f, "{path} {op}"),
            },
            Filter::And(a, b) => write!(f, "({a} and {b})"),
            Filter::Or(a, b) => write!(f, "({a} or {b})"),
            Filter::Not(a) => write!(f, "not ({a})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Word(String),
    Str(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            '[' => out.push(Tok::LBracket),
            ']' => out.push(Tok::RBracket),
            '"' => {
                let mut text = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                text.push(e);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => text.push(c),
                    }
                }
                if !closed {
                    return Err(format!("unterminated string starting at byte {i}"));
                }
                out.push(Tok::Str(text));
            }
            _ => {
                let mut w = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct FilterParser {
    toks: Vec<Tok>,
    pos: usize,
    max_depth: usize,
}

impl FilterParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth >= self.max_depth {
            return Err(format!("nested deeper than {} levels", self.max_depth));
        }
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.group(depth + 1)?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            return self.group(depth + 1);
        }
        let path = match self.next() {
            Some(Tok::Word(w)) => w,
            Some(t) => return Err(format!("expected an attribute name, found {t:?}")),
            None => return Err("expected an attribute name, found the end".to_string()),
        };
        if self.peek() == Some(&Tok::LBracket) {
            self.pos += 1;
            let inner = self.or(depth + 1)?;
            if self.next() != Some(Tok::RBracket) {
                return Err(format!("missing ']' after {path}["));
            }
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner),
            });
        }
        let op = match self.next() {
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            _ => return Err(format!("expected an operator after {path}")),
        };
        if !matches!(
            op.as_str(),
            "eq" | "ne" | "co" | "sw" | "ew" | "pr" | "gt" | "ge" | "lt" | "le"
        ) {
            return Err(format!("unknown operator {op:?} after {path}"));
        }
        if op == "pr" {
            return Ok(Filter::Compare {
                path,
                op,
                value: None,
            });
        }
        let value = match self.next() {
            Some(Tok::Str(s)) => Value::String(s),
            Some(Tok::Word(w)) => match w.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<serde_json::Number>(&w) {
                    Ok(n) => Value::Number(n),
                    Err(_) => {
                        return Err(format!(
                            "value {w:?} after {path} {op} is neither a quoted string, a number, \
                             true, false nor null"
                        ));
                    }
                },
            },
            _ => return Err(format!("expected a value after {path} {op}")),
        };
        Ok(Filter::Compare {
            path,
            op,
            value: Some(value),
        })
    }

    fn group(&mut self, depth: usize) -> Result<Filter, String> {
        if self.next() != Some(Tok::LParen) {
            return Err("expected '('".to_string());
        }
        let inner = self.or(depth)?;
        if self.next() != Some(Tok::RParen) {
            return Err("missing ')'".to_string());
        }
        Ok(inner)
    }
}

/// Parses a SCIM filter (`userName eq "x"`, `emails[type eq "work" and value co "@"]`,
/// `title pr and not (userType eq "Guest")`). Nesting is bounded by `max_depth`; the text by
/// 8 KiB. The error says what is wrong and where.
pub fn parse_filter(text: &str, max_depth: usize) -> Result<Filter, String> {
    if text.len() > MAX_FILTER_LEN {
        return Err(format!("longer than {MAX_FILTER_LEN} bytes"));
    }
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("empty filter".to_string());
    }
    let mut p = FilterParser {
        toks,
        pos: 0,
        max_depth: max_depth.max(1),
    };
    let f = p.or(0)?;
    match p.peek() {
        None => Ok(f),
        Some(t) => Err(format!("unexpected {t:?} after a complete expression")),
    }
}

/// Explains a parsed filter as a tree.
pub fn filter_node(f: &Filter) -> Node {
    match f {
        Filter::Compare { path, op, value } => {
            let mut note = match value {
                Some(v) => format!("{path} {} {v}", op_meaning(op)),
                None => format!("{path} is {}", op_meaning(op)),
            };
            if path.eq_ignore_ascii_case("username") && op == "eq" {
                note.push_str(
                    "; userName is caseExact=false, so the match ignores case (Entra ID checks \
                     whether the user already exists this way before creating it)",
                );
            } else if path.eq_ignore_ascii_case("externalid") && op == "eq" {
                note.push_str(
                    "; externalId is the client's anchor: this finds the resource the client \
                     created earlier",
                );
            } else if let Some(n) = attr_note(path.rsplit(['.', ':']).next().unwrap_or(path)) {
                note.push_str(&format!(" ({n})"));
            }
            Node::field("condition", f.to_string()).with_note(note)
        }
        Filter::And(a, b) => Node::field("and", f.to_string())
            .with_note("both conditions must hold")
            .with_children([filter_node(a), filter_node(b)]),
        Filter::Or(a, b) => Node::field("or", f.to_string())
            .with_note("either condition may hold")
            .with_children([filter_node(a), filter_node(b)]),
        Filter::Not(a) => Node::field("not", f.to_string())
            .with_note("the condition must not hold")
            .with_child(filter_node(a)),
        Filter::ValuePath { path, filter } => Node::field("value filter", f.to_string())
            .with_note(format!(
                "matches when at least one value of the multi-valued attribute {path} satisfies \
                 the bracketed filter"
            ))
            .with_child(filter_node(filter)),
    }
}

/// The filter as a node (parsed or with the parse error), with an `invalidFilter` finding on error.
pub(super) fn filter_param_node(
    text: &str,
    at: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut n = Node::field("filter", text)
        .with_note("which resources to return (RFC 7644 §3.4.2.2; attribute names ignore case)");
    match parse_filter(text, cx.limits.max_depth) {
        Ok(f) => n.push(filter_node(&f)),
        Err(e) => {
            n.push(Node::leaf("parse", e.clone(), Kind::Error));
            findings.push(
                Finding::warning(format!(
                    "the filter does not parse ({e}); a server answers 400 scimType=invalidFilter"
                ))
                .at(at.to_string()),
            );
        }
    }
    n
}
