//! Shell of the `oidc` decoder (being written).

use crate::{Context, DecodeError, Decoded, Decoder, Message};

/// The `oidc` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Oidc;

impl Decoder for Oidc {
    fn id(&self) -> &'static str {
        "oidc"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("oidc", "not written yet"))
    }
}
