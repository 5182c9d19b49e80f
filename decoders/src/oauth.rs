//! Shell of the `oauth` decoder (being written).

use crate::{Context, DecodeError, Decoded, Decoder, Message};

/// The `oauth` decoder.
#[derive(Debug, Clone, Copy)]
pub struct OAuth;

impl Decoder for OAuth {
    fn id(&self) -> &'static str {
        "oauth"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("oauth", "not written yet"))
    }
}
