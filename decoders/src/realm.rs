//! Shell of the `realm` decoder (being written).

use crate::{Context, DecodeError, Decoded, Decoder, Message};

/// The `realm` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Realm;

impl Decoder for Realm {
    fn id(&self) -> &'static str {
        "realm"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("realm", "not written yet"))
    }
}
