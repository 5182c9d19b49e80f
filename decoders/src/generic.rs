//! Shell of the generic decoders (being written).
use crate::{Context, DecodeError, Decoded, Decoder, Message};
/// The `url` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Url;
impl Decoder for Url {
    fn id(&self) -> &'static str {
        "url"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("url", "not written yet"))
    }
}
/// The `base64` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Base64;
impl Decoder for Base64 {
    fn id(&self) -> &'static str {
        "base64"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("base64", "not written yet"))
    }
}
/// The `json` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Json;
impl Decoder for Json {
    fn id(&self) -> &'static str {
        "json"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("json", "not written yet"))
    }
}
/// The `form` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Form;
impl Decoder for Form {
    fn id(&self) -> &'static str {
        "form"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("form", "not written yet"))
    }
}
/// The `xml` decoder.
#[derive(Debug, Clone, Copy)]
pub struct Xml;
impl Decoder for Xml {
    fn id(&self) -> &'static str {
        "xml"
    }
    fn priority(&self, _msg: &Message<'_>) -> f32 {
        0.0
    }
    fn decode(&self, _msg: &Message<'_>, _cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        Err(DecodeError::not("xml", "not written yet"))
    }
}
