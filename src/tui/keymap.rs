//! Keys and what they do, in one table ([`BINDINGS`]) that both dispatch ([`action`]) and the help
//! overlay read, so the help can never disagree with the behaviour. The keys are mitmproxy
//! console's wherever the action exists there (conventions.md). The flow view's tabs ([`Tab`])
//! are defined here too, with the number keys that select them, so the tab bar's labels and the
//! keys come from one table. Text entry in prompts is handled by the app, not here.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a key is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The flow list.
    List,
    /// The flow view (tabs).
    Flow,
}

/// The tabs of the flow view, in order. This is the one table of the tabs: the tab bar shows
/// each as its [`Tab::label`] (`3 Decoded`), and the number key in that label selects it
/// ([`Tab::from_key`]), so the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Request line, headers and body.
    Request,
    /// Status line, headers and body (content-encoding removed).
    Response,
    /// The decoder trees.
    Decoded,
    /// The sequence this flow belongs to, with its checks.
    Story,
    /// Timings, TLS, addresses, findings.
    Detail,
}

impl Tab {
    /// Every tab in order.
    pub const ALL: [Tab; 5] = [
        Tab::Request,
        Tab::Response,
        Tab::Decoded,
        Tab::Story,
        Tab::Detail,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Request => "Request",
            Tab::Response => "Response",
            Tab::Decoded => "Decoded",
            Tab::Story => "Story",
            Tab::Detail => "Detail",
        }
    }

    /// The tab's place in [`Tab::ALL`].
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The number key that selects the tab: its place, from `1`.
    pub fn key(self) -> char {
        char::from_digit(self.index() as u32 + 1, 10).unwrap_or('?')
    }

    /// The tab a number key selects.
    pub fn from_key(c: char) -> Option<Tab> {
        let n = c.to_digit(10)? as usize;
        Tab::ALL.get(n.checked_sub(1)?).copied()
    }

    /// The tab bar's label: the key and the title (`3 Decoded`).
    pub fn label(self) -> String {
        format!("{} {}", self.key(), self.title())
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Move the selection (list) or the cursor/scroll (flow view) down one line.
    Down,
    /// Up one line.
    Up,
    /// Down one page.
    PageDown,
    /// Up one page.
    PageUp,
    /// To the first line.
    First,
    /// To the last line.
    Last,
    /// Open the selected flow.
    Open,
    /// Leave the flow view, or quit from the list.
    Back,
    /// Quit at once.
    Quit,
    /// Edit the filter.
    Filter,
    /// Search (list: next flow matching an expression; flow view: text in the current tab).
    Search,
    /// Jump to the next search match.
    SearchNext,
    /// Toggle the mark on the selected flow.
    Mark,
    /// Show only marked flows (toggle).
    MarkedOnly,
    /// Replay the selected flow.
    Replay,
    // -- sequence actions (src/tui/sequence_actions.rs) --
    /// Diff the two marked flows (overlay).
    Diff,
    /// Replay the selected flow's whole sequence (its story).
    ReplaySequence,
    /// Export the marked flows (or, with none marked, the shown ones) as HAR.
    Export,
    /// Export as redacted HAR.
    ExportRedacted,
    /// Export the marked (or shown) flows as a redacted HTML report (`idscope report`'s page).
    ExportReport,
    /// Clear the flow list (asks first).
    Clear,
    /// Cycle the sort order.
    Order,
    /// Reverse the sort order.
    Reverse,
    /// Toggle follow mode (select new flows as they arrive).
    Follow,
    /// Show or hide the help overlay.
    Help,
    /// Next tab.
    NextTab,
    /// Previous tab.
    PrevTab,
    /// The tab whose number key was pressed.
    SelectTab(Tab),
    /// Hide or show browsers' background requests (`~noise`).
    Noise,
    /// Show the next flow in the flow view.
    NextFlow,
    /// Show the previous flow in the flow view.
    PrevFlow,
    /// Fold or unfold the tree node under the cursor.
    Toggle,
    /// Copy the selected value (tree node; the URL elsewhere).
    Copy,
    /// Copy the request as a curl command.
    CopyCurl,
    /// Reveal or mask secrets in the decoded tree.
    Reveal,
    /// Open the `:` command prompt.
    Command,
    /// Show or hide the trace summary screen.
    Summary,
}

/// One key binding and its help text.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys, as shown in the help (`j ↓`).
    pub keys: &'static str,
    /// Where it applies; `None` for both screens.
    pub context: Option<Context>,
    /// The action.
    pub action: Action,
    /// What it does, for the help overlay.
    pub help: &'static str,
}

const fn b(
    keys: &'static str,
    context: Option<Context>,
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        keys,
        context,
        action,
        help,
    }
}

use Action as A;
use Context::{Flow as F, List as L};

/// Every binding, in help order.
pub static BINDINGS: &[Binding] = &[
    b("j ↓", None, A::Down, "move down"),
    b("k ↑", None, A::Up, "move up"),
    b("PgDn PgUp", None, A::PageDown, "page down / up"),
    b("g G", None, A::First, "first / last"),
    b("enter", Some(L), A::Open, "open the flow"),
    b("enter", Some(F), A::Toggle, "fold / unfold the tree node"),
    b("q esc", None, A::Back, "back (quit from the list)"),
    b("ctrl-c", None, A::Quit, "quit"),
    b(
        "f",
        Some(L),
        A::Filter,
        "set the filter (mitmproxy syntax, ~k ~claim ~op ~finding)",
    ),
    b(
        "/",
        None,
        A::Search,
        "search (list: filter expression; flow: text)",
    ),
    b("n", None, A::SearchNext, "next search match"),
    b("m", None, A::Mark, "mark / unmark the flow"),
    b("M", Some(L), A::MarkedOnly, "show marked flows only"),
    b(
        "r",
        None,
        A::Replay,
        "replay the flow (new flow, tagged replay-of)",
    ),
    b(
        "R",
        None,
        A::ReplaySequence,
        "replay the flow's whole sequence (its story)",
    ),
    b("=", None, A::Diff, "diff the two marked flows"),
    b(
        "e w",
        Some(L),
        A::Export,
        "export marked (or shown) flows as HAR",
    ),
    b("E", Some(L), A::ExportRedacted, "export as redacted HAR"),
    b(
        "H",
        Some(L),
        A::ExportReport,
        "export as redacted HTML report",
    ),
    b("z", Some(L), A::Clear, "clear the list (asks first)"),
    b(
        "o",
        Some(L),
        A::Order,
        "cycle the order (time, method, host, status, size, duration)",
    ),
    b("v", Some(L), A::Reverse, "reverse the order"),
    b("F", Some(L), A::Follow, "follow new flows"),
    b(
        "N",
        Some(L),
        A::Noise,
        "hide / show browsers' background requests (~noise)",
    ),
    b("tab shift-tab", Some(F), A::NextTab, "next / previous tab"),
    // Keys and help come from `Tab::ALL` (see `text::help`).
    b("", Some(F), A::SelectTab(Tab::Request), ""),
    b("space p", Some(F), A::NextFlow, "next / previous flow"),
    b("s", Some(F), A::Reveal, "reveal / mask secrets"),
    b(
        "y",
        None,
        A::Copy,
        "copy the value (tree node, else the URL)",
    ),
    b("x", None, A::CopyCurl, "copy the request as curl"),
    b(
        ":",
        None,
        A::Command,
        "command prompt (tab completes; commands below)",
    ),
    b(
        "S",
        Some(L),
        A::Summary,
        "trace summary (enter on a row applies its filter)",
    ),
    b("?", None, A::Help, "this help"),
];

/// The action for a key pressed in `context`, if any.
pub fn action(context: Context, key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let flow = context == Context::Flow;
    Some(match key.code {
        KeyCode::Char('c') if ctrl => A::Quit,
        KeyCode::Char('f') if ctrl => A::PageDown,
        KeyCode::Char('b') if ctrl => A::PageUp,
        _ if ctrl => return None,
        KeyCode::Char('j') | KeyCode::Down => A::Down,
        KeyCode::Char('k') | KeyCode::Up => A::Up,
        KeyCode::PageDown => A::PageDown,
        KeyCode::PageUp => A::PageUp,
        KeyCode::Char('g') | KeyCode::Home => A::First,
        KeyCode::Char('G') | KeyCode::End => A::Last,
        KeyCode::Enter if flow => A::Toggle,
        KeyCode::Enter => A::Open,
        KeyCode::Char('q') | KeyCode::Esc => A::Back,
        KeyCode::Char('f') if !flow => A::Filter,
        KeyCode::Char('/') => A::Search,
        KeyCode::Char('n') => A::SearchNext,
        KeyCode::Char('m') => A::Mark,
        KeyCode::Char('M') if !flow => A::MarkedOnly,
        KeyCode::Char('r') => A::Replay,
        KeyCode::Char('=') => A::Diff,           // sequence actions
        KeyCode::Char('R') => A::ReplaySequence, // sequence actions
        KeyCode::Char('e' | 'w') if !flow => A::Export,
        KeyCode::Char('E') if !flow => A::ExportRedacted,
        KeyCode::Char('H') if !flow => A::ExportReport,
        KeyCode::Char('z') if !flow => A::Clear,
        KeyCode::Char('o') if !flow => A::Order,
        KeyCode::Char('v') if !flow => A::Reverse,
        KeyCode::Char('F') if !flow => A::Follow,
        KeyCode::Char('N') if !flow => A::Noise,
        KeyCode::Char('S') if !flow => A::Summary,
        KeyCode::Char(c) if flow && Tab::from_key(c).is_some() => A::SelectTab(Tab::from_key(c)?),
        KeyCode::Tab if flow => A::NextTab,
        KeyCode::BackTab if flow => A::PrevTab,
        KeyCode::Char(' ') if flow => A::NextFlow,
        KeyCode::Char('p') if flow => A::PrevFlow,
        KeyCode::Char('s') if flow => A::Reveal,
        KeyCode::Char('y') => A::Copy,
        KeyCode::Char('x') => A::CopyCurl,
        KeyCode::Char('?') => A::Help,
        KeyCode::Char(':') => A::Command,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn every_bound_action_is_reachable_from_a_key() {
        let all = [
            (Context::List, KeyCode::Char('j')),
            (Context::List, KeyCode::Char('k')),
            (Context::List, KeyCode::PageDown),
            (Context::List, KeyCode::PageUp),
            (Context::List, KeyCode::Char('g')),
            (Context::List, KeyCode::Char('G')),
            (Context::List, KeyCode::Enter),
            (Context::Flow, KeyCode::Enter),
            (Context::List, KeyCode::Char('q')),
            (Context::List, KeyCode::Char('f')),
            (Context::List, KeyCode::Char('/')),
            (Context::List, KeyCode::Char('n')),
            (Context::List, KeyCode::Char('m')),
            (Context::List, KeyCode::Char('M')),
            (Context::List, KeyCode::Char('r')),
            (Context::List, KeyCode::Char('e')),
            (Context::List, KeyCode::Char('E')),
            (Context::List, KeyCode::Char('H')),
            (Context::List, KeyCode::Char('z')),
            (Context::List, KeyCode::Char('o')),
            (Context::List, KeyCode::Char('v')),
            (Context::List, KeyCode::Char('F')),
            (Context::List, KeyCode::Char('N')),
            (Context::List, KeyCode::Char('S')),
            (Context::Flow, KeyCode::Char('1')),
            (Context::Flow, KeyCode::Tab),
            (Context::Flow, KeyCode::BackTab),
            (Context::Flow, KeyCode::Char(' ')),
            (Context::Flow, KeyCode::Char('p')),
            (Context::Flow, KeyCode::Char('s')),
            (Context::Flow, KeyCode::Char('y')),
            (Context::Flow, KeyCode::Char('x')),
            (Context::List, KeyCode::Char('?')),
            (Context::List, KeyCode::Char(':')),
            (Context::List, KeyCode::Char('=')), // sequence actions
            (Context::List, KeyCode::Char('R')), // sequence actions
        ];
        let mut reached: Vec<Action> = all
            .iter()
            .filter_map(|(cx, k)| action(*cx, key(*k)))
            .collect();
        reached.extend(action(
            Context::List,
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        ));
        for bnd in BINDINGS {
            assert!(reached.contains(&bnd.action), "{:?} has no key", bnd.action);
        }
        assert_eq!(
            action(
                Context::Flow,
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
    }

    #[test]
    fn list_only_keys_do_nothing_in_the_flow_view() {
        assert_eq!(action(Context::Flow, key(KeyCode::Char('f'))), None);
        assert_eq!(action(Context::Flow, key(KeyCode::Char('z'))), None);
        assert_eq!(action(Context::List, key(KeyCode::Char(' '))), None);
        assert_eq!(action(Context::List, key(KeyCode::Char('s'))), None);
    }

    #[test]
    fn diff_and_sequence_replay_are_bound_in_both_contexts() {
        // `=` diffs the two marked flows, `R` replays the selected flow's sequence.
        for cx in [Context::List, Context::Flow] {
            assert_eq!(action(cx, key(KeyCode::Char('='))), Some(Action::Diff));
            assert_eq!(
                action(cx, key(KeyCode::Char('R'))),
                Some(Action::ReplaySequence)
            );
        }
    }
}
