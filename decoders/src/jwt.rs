//! Shell of the `jwt` decoder (being written).

use crate::{Context, DecodeError, Decoded, Decoder, Message};

/// The `jwt` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Jwt;

impl Decoder for Jwt {
    fn id(&self) -> &'static str {
        "jwt"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("jwt", "not written yet"))
    }
}
