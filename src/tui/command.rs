//! The `:` command prompt: the command names ([`COMMANDS`], which the help overlay lists), the
//! parser that turns a typed line into a [`Command`] (or an error with the column, shown under
//! the prompt like a filter error), name completion for the tab key, and the list orders
//! ([`Order`]) that `set order` and the `o` key choose from. Every command maps to
//! an action a key already has (mitmproxy console's `:` commands, with shorter names); running
//! it is [`super::App`]'s job, not this module's.

use crate::filter::FilterError;

/// One command, as listed in the help.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Its name (any unique prefix is accepted: `:q`, `:exp`).
    pub name: &'static str,
    /// Its arguments, for the help.
    pub args: &'static str,
    /// What it does.
    pub help: &'static str,
}

const fn c(name: &'static str, args: &'static str, help: &'static str) -> CommandSpec {
    CommandSpec { name, args, help }
}

/// Every command, in help order.
pub static COMMANDS: &[CommandSpec] = &[
    c("filter", "[EXPR]", "set the filter; none clears it"),
    c("search", "EXPR", "select the next flow matching EXPR"),
    c("goto", "N", "select flow #N"),
    c("mark", "", "mark / unmark the selected flow"),
    c("marked", "", "show marked flows only (toggle)"),
    c(
        "export",
        "har|redacted FILE",
        "write marked (or shown) flows",
    ),
    c("replay", "", "replay the selected flow"),
    c("clear", "", "clear the list (asks first)"),
    c(
        "set",
        "order NAME|reverse on|off|follow on|off|noise on|off",
        "list settings",
    ),
    c(
        "summary",
        "",
        "trace summary (enter on a row applies its filter)",
    ),
    c("help", "", "this help"),
    c("quit", "", "quit"),
];

/// How the list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Arrival (capture) order.
    Time,
    /// By method.
    Method,
    /// By host.
    Host,
    /// By status code (errors last).
    Status,
    /// By response size.
    Size,
    /// By duration.
    Duration,
}

impl Order {
    /// The next order for the `o` key.
    pub fn next(self) -> Self {
        match self {
            Order::Time => Order::Method,
            Order::Method => Order::Host,
            Order::Host => Order::Status,
            Order::Status => Order::Size,
            Order::Size => Order::Duration,
            Order::Duration => Order::Time,
        }
    }

    /// The name shown in the status bar.
    pub fn name(self) -> &'static str {
        match self {
            Order::Time => "time",
            Order::Method => "method",
            Order::Host => "host",
            Order::Status => "status",
            Order::Size => "size",
            Order::Duration => "duration",
        }
    }
}

/// What `set` can change.
const SETTINGS: &[&str] = &["order", "reverse", "follow", "noise"];
/// What `export` writes.
const FORMATS: &[&str] = &["har", "redacted"];
/// The orders `set order` takes.
const ORDERS: &[Order] = &[
    Order::Time,
    Order::Method,
    Order::Host,
    Order::Status,
    Order::Size,
    Order::Duration,
];

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Set the filter (`None` clears it).
    Filter(Option<String>),
    /// Select the next shown flow matching the expression.
    Search(String),
    /// Select the flow with this id.
    Goto(crate::flow::FlowId),
    /// Toggle the mark of the selected flow.
    Mark,
    /// Toggle marked-only.
    MarkedOnly,
    /// Write marked (or shown) flows as a redacted HTML report (`export report FILE`).
    ExportReport(String),
    /// Export marked (or shown) flows.
    Export {
        /// Redacted HAR.
        redacted: bool,
        /// Where.
        path: String,
    },
    /// Replay the selected flow.
    Replay,
    /// Clear the list, after the y/n question.
    Clear,
    /// Sort the list.
    Order(Order),
    /// Reverse the list or not.
    Reverse(bool),
    /// Follow new flows or not.
    Follow(bool),
    /// Hide browsers' background requests (`~noise`) or not.
    HideNoise(bool),
    /// Show the help overlay.
    Help,
    /// Show the trace summary screen.
    Summary,
    /// Leave.
    Quit,
}

fn err(pos: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        pos,
        message: message.into(),
    }
}

/// Words of `input` with their byte offsets.
fn words(input: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in input.char_indices() {
        match (ch.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, input.get(s..i).unwrap_or("")));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, input.get(s..).unwrap_or("")));
    }
    out
}

/// The byte offset of the first argument of a command line (its length when there is none),
/// to place errors found inside an argument (a filter expression) on the whole line.
pub fn arg_offset(input: &str) -> usize {
    words(input).get(1).map_or(input.len(), |(p, _)| *p)
}

/// The command a typed name means: an exact name, else the only name it is a prefix of.
fn resolve(name: &str) -> Result<&'static CommandSpec, String> {
    let lower = name.to_ascii_lowercase();
    if let Some(spec) = COMMANDS.iter().find(|c| c.name == lower) {
        return Ok(spec);
    }
    let matching: Vec<&CommandSpec> = COMMANDS
        .iter()
        .filter(|c| c.name.starts_with(&lower))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "unknown command `{name}` (tab completes; :help lists them)"
        )),
        many => Err(format!(
            "`{name}` is ambiguous: {}",
            many.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn on_off(pos: usize, word: Option<&(usize, &str)>, what: &str) -> Result<bool, FilterError> {
    match word.map(|(p, w)| (*p, w.to_ascii_lowercase())) {
        Some((_, w)) if w == "on" || w == "true" => Ok(true),
        Some((_, w)) if w == "off" || w == "false" => Ok(false),
        Some((p, w)) => Err(err(p, format!("`set {what}` takes on or off, not `{w}`"))),
        None => Err(err(pos, format!("`set {what}` needs on or off"))),
    }
}

/// Parses a command line (without the `:`). Errors carry the byte offset of the offending word.
pub fn parse(input: &str) -> Result<Command, FilterError> {
    let ws = words(input);
    let Some(&(at, name)) = ws.first() else {
        return Err(err(0, "no command (tab completes; :help lists them)"));
    };
    let spec = resolve(name).map_err(|m| err(at, m))?;
    let end = input.len();
    // Everything after the name, as typed (filter expressions keep their spacing and quotes).
    let rest_at = ws.get(1).map_or(end, |(p, _)| *p);
    let rest = input.get(rest_at..).unwrap_or("").trim_end();
    let no_args = |cmd: Command| match ws.get(1) {
        None => Ok(cmd),
        Some((p, _)) => Err(err(*p, format!("`{}` takes no argument", spec.name))),
    };
    match spec.name {
        "filter" => Ok(Command::Filter(
            (!rest.is_empty()).then(|| rest.to_string()),
        )),
        "search" if rest.is_empty() => Err(err(end, "`search` needs a filter expression")),
        "search" => Ok(Command::Search(rest.to_string())),
        "goto" => match ws.get(1) {
            None => Err(err(end, "`goto` needs a flow number")),
            Some((p, w)) => match w.trim_start_matches('#').parse::<u64>() {
                Ok(n) if n >= 1 && ws.len() == 2 => Ok(Command::Goto(crate::flow::FlowId(n - 1))),
                _ => Err(err(
                    *p,
                    format!("`goto` needs a flow number (as in the # column), not `{rest}`"),
                )),
            },
        },
        "mark" => no_args(Command::Mark),
        "marked" => no_args(Command::MarkedOnly),
        "replay" => no_args(Command::Replay),
        "clear" => no_args(Command::Clear),
        "help" => no_args(Command::Help),
        "summary" => no_args(Command::Summary),
        "quit" => no_args(Command::Quit),
        "export"
            if ws
                .get(1)
                .is_some_and(|(_, w)| w.eq_ignore_ascii_case("report")) =>
        {
            match ws.get(2) {
                Some((p, _)) => Ok(Command::ExportReport(
                    input.get(*p..).unwrap_or("").trim().to_string(),
                )),
                None => Err(err(end, "`export report` needs a file name")),
            }
        }
        "export" => {
            let (redacted, path_word) = match ws.get(1).map(|(p, w)| (*p, w.to_ascii_lowercase())) {
                Some((_, w)) if w == "har" => (false, 2),
                Some((_, w)) if w == "redacted" => (true, 2),
                Some(_) => (false, 1),
                None => return Err(err(end, "`export` needs [har|redacted] FILE")),
            };
            match ws.get(path_word) {
                Some((p, _)) => Ok(Command::Export {
                    redacted,
                    path: input.get(*p..).unwrap_or("").trim().to_string(),
                }),
                None => Err(err(end, "`export` needs a file name")),
            }
        }
        "set" => {
            let Some(&(p, what)) = ws.get(1) else {
                return Err(err(
                    end,
                    format!("`set` needs one of {}", SETTINGS.join(", ")),
                ));
            };
            let value = ws.get(2);
            let after = value.map_or(end, |(q, _)| *q);
            let cmd = match what.to_ascii_lowercase().as_str() {
                "order" => match value {
                    Some((q, v)) => {
                        match ORDERS.iter().find(|o| o.name().eq_ignore_ascii_case(v)) {
                            Some(o) => Command::Order(*o),
                            None => {
                                return Err(err(
                                    *q,
                                    format!("unknown order `{v}` (one of {})", order_names()),
                                ));
                            }
                        }
                    }
                    None => {
                        return Err(err(
                            end,
                            format!("`set order` needs one of {}", order_names()),
                        ));
                    }
                },
                "reverse" => Command::Reverse(on_off(after, value, "reverse")?),
                "follow" => Command::Follow(on_off(after, value, "follow")?),
                "noise" => Command::HideNoise(!on_off(after, value, "noise")?),
                _ => {
                    return Err(err(
                        p,
                        format!("cannot set `{what}` (one of {})", SETTINGS.join(", ")),
                    ));
                }
            };
            match ws.get(3) {
                Some((q, _)) => Err(err(*q, "unexpected input")),
                None => Ok(cmd),
            }
        }
        // Every name in COMMANDS is handled above.
        other => Err(err(at, format!("`{other}` is not implemented"))),
    }
}

fn order_names() -> String {
    ORDERS
        .iter()
        .map(|o| o.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The result of pressing tab in the command prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The new input.
    pub input: String,
    /// What could follow, when more than one thing could (shown as a hint).
    pub candidates: Vec<String>,
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in words.iter().skip(1) {
        len = len.min(
            first
                .char_indices()
                .zip(w.chars())
                .take_while(|((_, a), b)| a == b)
                .map(|((i, a), _)| i + a.len_utf8())
                .last()
                .unwrap_or(0),
        );
    }
    first.get(..len).unwrap_or("").to_string()
}

/// Completes the word being typed: a command name, `set`'s setting and order, `export`'s
/// format. One candidate is filled in (with a space after it when more can follow); several are
/// filled in as far as they agree and returned as candidates.
pub fn complete(input: &str) -> Completion {
    let ws = words(input);
    let trailing_space = input.ends_with(char::is_whitespace);
    // The words already finished, and the one being typed ("" right after a space).
    let (done, typing): (Vec<&str>, &str) = if trailing_space || ws.is_empty() {
        (ws.iter().map(|(_, w)| *w).collect(), "")
    } else {
        (
            ws.iter().take(ws.len() - 1).map(|(_, w)| *w).collect(),
            ws.last().map_or("", |(_, w)| *w),
        )
    };
    let options: Vec<String> = match done.as_slice() {
        [] => COMMANDS.iter().map(|c| c.name.to_string()).collect(),
        [cmd] => match resolve(cmd).map(|s| s.name) {
            Ok("set") => SETTINGS.iter().map(|s| s.to_string()).collect(),
            Ok("export") => FORMATS.iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        },
        [cmd, what] if resolve(cmd).map(|s| s.name) == Ok("set") => {
            match what.to_ascii_lowercase().as_str() {
                "order" => ORDERS.iter().map(|o| o.name().to_string()).collect(),
                "reverse" | "follow" => vec!["on".into(), "off".into()],
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    let lower = typing.to_ascii_lowercase();
    let matching: Vec<String> = options
        .into_iter()
        .filter(|o| o.starts_with(&lower))
        .collect();
    let head_len = input.len() - typing.len();
    let head = input.get(..head_len).unwrap_or("");
    match matching.as_slice() {
        [] => Completion {
            input: input.to_string(),
            candidates: Vec::new(),
        },
        [one] => {
            // A name whose command takes arguments, `set`'s setting and `export`'s format are
            // followed by more; a value ends the line.
            let takes_more = match done.len() {
                0 => COMMANDS
                    .iter()
                    .any(|c| c.name == one.as_str() && !c.args.is_empty()),
                1 => true,
                _ => false,
            };
            let space = if takes_more { " " } else { "" };
            Completion {
                input: format!("{head}{one}{space}"),
                candidates: Vec::new(),
            }
        }
        many => Completion {
            input: format!("{head}{}", common_prefix(many)),
            candidates: many.to_vec(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::FlowId;

    #[test]
    fn names_resolve_exactly_or_by_a_unique_prefix() {
        assert_eq!(parse("q"), Ok(Command::Quit));
        assert_eq!(parse("quit"), Ok(Command::Quit));
        assert_eq!(parse("mark"), Ok(Command::Mark), "exact beats prefix");
        assert_eq!(parse("marked"), Ok(Command::MarkedOnly));
        assert_eq!(parse("EXP har a.har"), parse("export har a.har"));
        let e = parse("se x").unwrap_err();
        assert_eq!(
            (e.pos, e.message.as_str()),
            (0, "`se` is ambiguous: search, set")
        );
        let e = parse("  frobnicate").unwrap_err();
        assert_eq!(e.pos, 2);
        assert!(e.message.starts_with("unknown command `frobnicate`"));
        assert_eq!(parse("").unwrap_err().pos, 0);
        assert_eq!(arg_offset("  filter  ~d x"), 10);
        assert_eq!(arg_offset("mark"), 4);
    }

    #[test]
    fn arguments_are_checked_and_errors_point_at_them() {
        assert_eq!(
            parse("filter ~d login & !~c 200"),
            Ok(Command::Filter(Some("~d login & !~c 200".into())))
        );
        assert_eq!(parse("filter"), Ok(Command::Filter(None)));
        assert_eq!(parse("goto 12"), Ok(Command::Goto(FlowId(11))));
        assert_eq!(parse("goto #3"), Ok(Command::Goto(FlowId(2))));
        assert_eq!(parse("goto x").unwrap_err().pos, 5);
        assert_eq!(parse("goto 0").unwrap_err().pos, 5);
        assert_eq!(parse("goto").unwrap_err().pos, 4);
        assert_eq!(
            parse("export redacted out dir/a.har"),
            Ok(Command::Export {
                redacted: true,
                path: "out dir/a.har".into()
            })
        );
        assert_eq!(
            parse("export a.har"),
            Ok(Command::Export {
                redacted: false,
                path: "a.har".into()
            })
        );
        assert!(parse("export har").is_err());
        assert_eq!(
            parse("export report out/r.html"),
            Ok(Command::ExportReport("out/r.html".into()))
        );
        assert!(parse("export report").is_err());
        assert_eq!(parse("set order host"), Ok(Command::Order(Order::Host)));
        assert_eq!(parse("set reverse on"), Ok(Command::Reverse(true)));
        assert_eq!(parse("set follow off"), Ok(Command::Follow(false)));
        assert_eq!(parse("set noise off"), Ok(Command::HideNoise(true)));
        assert_eq!(parse("set noise on"), Ok(Command::HideNoise(false)));
        let e = parse("set order fast").unwrap_err();
        assert_eq!(e.pos, 10);
        assert!(
            e.message.starts_with("unknown order `fast`"),
            "{}",
            e.message
        );
        assert_eq!(parse("set colour red").unwrap_err().pos, 4);
        assert_eq!(parse("set reverse maybe").unwrap_err().pos, 12);
        assert_eq!(parse("mark now").unwrap_err().pos, 5);
        assert!(parse("search").is_err());
    }

    #[test]
    fn tab_completes_names_settings_and_values() {
        let c = complete("ex");
        assert_eq!((c.input.as_str(), c.candidates.len()), ("export ", 0));
        let c = complete("ma");
        assert_eq!(c.input, "mark");
        assert_eq!(c.candidates, vec!["mark", "marked"]);
        let c = complete("");
        assert_eq!(c.candidates.len(), COMMANDS.len());
        assert_eq!(complete("q").input, "quit");
        assert_eq!(complete("set o").input, "set order ");
        assert_eq!(complete("set order h").input, "set order host");
        assert_eq!(complete("set order ").candidates.len(), 6);
        assert_eq!(complete("set rev").input, "set reverse ");
        assert_eq!(complete("export r").input, "export redacted ");
        assert_eq!(
            complete("filter ~d x").input,
            "filter ~d x",
            "nothing to complete"
        );
        assert_eq!(complete("zz").input, "zz");
    }
}
