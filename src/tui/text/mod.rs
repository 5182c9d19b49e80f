//! What the screens show, built as plain lines by the model (no drawing): the flow view's tabs
//! ([`flow`], [`story`], [`tree`]), the credential masks of the raw tabs ([`mask`]) and the help
//! text ([`help`]). [`super::App`] builds and keeps these lines; the view ([`super::ui`]) only
//! slices and styles them.

pub mod fit;
pub mod flow;
pub mod help;
pub mod mask;
pub mod story;
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
    /// A line with a tone.
    pub fn new(text: impl Into<String>, tone: Tone) -> Self {
        TextLine {
            text: text.into(),
            tone,
        }
    }
}
