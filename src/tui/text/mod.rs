//! What the screens show, built as plain lines by the model (no drawing): the flow view's tabs
//! ([`flow`], [`story`], [`tree`]), the credential masks of the raw tabs ([`mask`]) and the help
//! text ([`help`]). [`super::App`] builds and keeps these lines; the view ([`super::ui`]) only
//! slices and styles them.

pub mod flow;
pub mod help;
pub mod mask;
pub mod story;
pub mod tree;
