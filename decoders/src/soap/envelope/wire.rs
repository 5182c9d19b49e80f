//! How a SOAP body travels: XML text or WCF binary XML (`application/soap+msbin1`,
//! `application/soap+msbinsession1`). [`message_xml`] turns either into XML text (running the
//! [`crate::soap::nbfx`] decoder for binary bodies), [`is_binary`] and [`sniff_text_envelope`]
//! are the cheap checks decoders use for their priorities, and [`placeholder_finding`] explains
//! unresolved binary dictionary ids. Not responsible for parsing the XML (see
//! [`super::parse_envelope`]).

use super::{SOAP11_NS, SOAP12_NS};
use crate::soap::nbfx::{self, DecodeOptions, Framing};
use crate::util::contains;
use crate::view::Finding;
use crate::{Context, DecodeError, Message};

/// The text of a SOAP message body: UTF-8 text SOAP as is, binary XML decoded by
/// [`crate::soap::nbfx`] first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapXml {
    /// The XML text.
    pub xml: String,
    /// How the body was encoded on the wire.
    pub encoding: WireEncoding,
    /// Dictionary ids the binary decoder could not resolve (rendered as placeholders).
    pub unknown_dictionary_ids: Vec<u32>,
    /// For an MC-NBFSE message from the middle of a session: how many strings earlier messages
    /// had added (inferred; their ids are the unresolvable ones).
    pub earlier_session_strings: Option<u32>,
}

/// How a SOAP body travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireEncoding {
    /// XML text (`application/soap+xml`, `text/xml`).
    Text,
    /// `application/soap+msbin1`: WCF binary XML with the static dictionary (MC-NBFS).
    Msbin1,
    /// `application/soap+msbinsession1`: MC-NBFSE, a string table before the records.
    MsbinSession1,
}

impl WireEncoding {
    /// A human description of the encoding.
    pub fn describe(self) -> &'static str {
        match self {
            WireEncoding::Text => "XML text",
            WireEncoding::Msbin1 => {
                "application/soap+msbin1: WCF binary XML (MC-NBFX records, MC-NBFS static \
                 dictionary), decoded to XML"
            }
            WireEncoding::MsbinSession1 => {
                "application/soap+msbinsession1: WCF binary XML with an MC-NBFSE session string \
                 table, decoded to XML"
            }
        }
    }
}

const MSBIN1: &str = "application/soap+msbin1";
const MSBINSESSION1: &str = "application/soap+msbinsession1";

/// True when the message body is WCF binary XML (by content type or the `56 02 0B` prefix).
pub fn is_binary(msg: &Message<'_>) -> bool {
    matches!(msg.content_type().as_deref(), Some(MSBIN1 | MSBINSESSION1))
        || msg.body.starts_with(&[0x56, 0x02, 0x0B])
}

/// Returns the XML text of a SOAP body: binary XML is decoded (an error stops the decode and is
/// returned with its byte offset), text must be UTF-8.
pub fn message_xml(msg: &Message<'_>, cx: &Context<'_>) -> Result<SoapXml, DecodeError> {
    cx.limits.check_body(msg.body, "SOAP body")?;
    if is_binary(msg) {
        let mut opts = DecodeOptions::from_limits(&cx.limits);
        let session = msg.content_type().as_deref() == Some(MSBINSESSION1);
        if session {
            opts.framing = Framing::MsbinSession1;
        }
        let doc = nbfx::decode_standalone(msg.body, &opts)?;
        let encoding = match doc.framing {
            Framing::MsbinSession1 => WireEncoding::MsbinSession1,
            _ => WireEncoding::Msbin1,
        };
        return Ok(SoapXml {
            xml: doc.xml,
            encoding,
            unknown_dictionary_ids: doc.unknown_dictionary_ids,
            earlier_session_strings: doc.earlier_session_strings,
        });
    }
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    Ok(SoapXml {
        xml: text.to_string(),
        encoding: WireEncoding::Text,
        unknown_dictionary_ids: Vec::new(),
        earlier_session_strings: None,
    })
}

/// True when the first bytes of a text body look like a SOAP envelope (cheap sniff for
/// priorities: the envelope element and a SOAP namespace near the start).
pub fn sniff_text_envelope(body: &[u8]) -> bool {
    let head = body.get(..body.len().min(2048)).unwrap_or(body);
    contains(head, b"Envelope")
        && (contains(head, SOAP12_NS.as_bytes()) || contains(head, SOAP11_NS.as_bytes()))
}

/// The warning for binary XML whose dictionary ids could not all be resolved.
pub fn placeholder_finding(sx: &SoapXml) -> Option<Finding> {
    if sx.unknown_dictionary_ids.is_empty() {
        return None;
    }
    let ids: Vec<String> = sx
        .unknown_dictionary_ids
        .iter()
        .map(|i| format!("0x{i:X}"))
        .collect();
    if let Some(n) = sx.earlier_session_strings {
        return Some(Finding::warning(format!(
            "message from the middle of an msbinsession1 session: its own string table starts \
             at id 0x{:X}, so {n} string(s) sent earlier in the session are unknown; {} of them \
             are used here ({}) and shown as dict_0x.. placeholders",
            2 * n + 1,
            ids.len(),
            ids.join(", ")
        )));
    }
    let odd = sx.unknown_dictionary_ids.iter().any(|i| i % 2 == 1);
    let why = if odd {
        "odd ids are MC-NBFSE session strings: a message from the middle of an msbinsession1 \
         session refers to strings sent earlier"
    } else {
        "even ids come from the MC-NBFS static dictionary (0x0-0x3CC): an id outside it means a \
         corrupt message or a dictionary this decoder does not know"
    };
    Some(Finding::warning(format!(
        "{} dictionary id(s) could not be resolved ({}): names and values shown as dict_0x.. / \
         [[dict:0x..]] placeholders; {why}",
        ids.len(),
        ids.join(", ")
    )))
}
