//! The help text (`?`): every binding of `keymap::BINDINGS`, so the help is the dispatch table
//! itself, the `:` commands of `command::COMMANDS`, and a reminder of the filter language. The
//! model scrolls it; the view draws it in a box.

use crate::tui::command::COMMANDS;
use crate::tui::keymap::{Action, BINDINGS, Context, Tab};

/// The number keys of the tabs, as the help shows them (`1…5`).
fn tab_keys() -> String {
    let keys: Vec<char> = Tab::ALL.iter().map(|t| t.key()).collect();
    match (keys.first(), keys.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}…{b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    }
}

/// The help text, one line per binding.
pub fn lines() -> Vec<String> {
    let mut out: Vec<String> = BINDINGS
        .iter()
        .map(|b| {
            let w = match b.context {
                None => "",
                Some(Context::List) => " (list)",
                Some(Context::Flow) => " (flow)",
            };
            match b.action {
                // The number keys, from the tabs' own table, as the tab bar shows them.
                Action::SelectTab(_) => format!(
                    "{:<14} {}{w}",
                    tab_keys(),
                    Tab::ALL.map(Tab::label).join(", ")
                ),
                _ => format!("{:<14} {}{w}", b.keys, b.help),
            }
        })
        .collect();
    // The commands, packed into lines of the box's width.
    let mut line = String::from("commands:");
    for c in COMMANDS {
        let item = if c.args.is_empty() {
            format!(" :{}", c.name)
        } else {
            format!(" :{} {}", c.name, c.args)
        };
        if line.chars().count() + item.chars().count() > 80 {
            out.push(std::mem::replace(&mut line, "         ".into()));
        }
        line.push_str(&item);
    }
    out.push(line);
    out.push(
        "filters: ~d ~u ~m ~c ~h ~t ~b ~k KIND ~claim N=RE ~op RE ~finding [SEV] ~noise".into(),
    );
    out.push("         ! & | ( ); a bare word is ~u; regexes are case-insensitive".into());
    out
}
