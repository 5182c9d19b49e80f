//! What the screens show, built as plain lines by the model (no drawing): the flow view's tabs
//! ([`flow`], [`story`], [`tree`]), the credential masks of the raw tabs ([`mask`]), the help
//! text ([`help`]) and text fitted to columns: shortened in the middle, wrapped ([`fit`]).
//! [`super::App`] builds and keeps these lines; the view ([`super::ui`]) only slices and styles
//! them.

pub mod correlation;
pub mod fiddler;
pub mod fit;
pub mod flow;
pub mod help;
pub mod mask;
pub mod story;
pub mod summary;
pub mod tree;

/// How a line of text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Plain text.
    Normal,
    /// A heading.
    Heading,
    /// Secondary text.
    Dim,
    /// A passing check or a verified value.
    Good,
    /// A warning.
    Warn,
    /// An error or a failing check.
    Bad,
    /// The line of the flow itself (Story tab).
    Current,
}

/// One line of a text tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLine {
    /// The text.
    pub text: String,
    /// How it is shown.
    pub tone: Tone,
}

impl TextLine {
    /// The dim last line of a text cut short: `… N more WHAT (export the flow to see all)`.
    pub fn left_out(n: usize, what: &str) -> Self {
        TextLine::new(
            format!("… {n} more {what} (export the flow to see all)"),
            Tone::Dim,
        )
    }

    /// A line with a tone.
    pub fn new(text: impl Into<String>, tone: Tone) -> Self {
        TextLine {
            text: text.into(),
            tone,
        }
    }
}
