//! The decoder registry: an explicit, ordered list of every builtin decoder ([`BUILTIN`]) and the
//! logic that asks each how well it applies to a message and runs the applicable ones, best first.
//! Registration order is the tie-break between equal priorities (as in ripgrep's flag list and
//! mitmproxy's content views). This module does not decode anything itself.

use crate::{Context, DecodeError, Decoded, Decoder, Message};
use serde::{Serialize, Serializer};

/// Every builtin decoder, specific formats first, generic fallbacks last.
pub static BUILTIN: &[&dyn Decoder] = &[
    &crate::jwt::Jwt,
    &crate::oauth::OAuth,
    &crate::realm::Realm,
    &crate::oidc::Oidc,
    &crate::scim::Scim,
    &crate::agent::Agent,
    &crate::prt::Prt,
    &crate::signin::SignIn,
    &crate::negotiate::Negotiate,
    &crate::relay::Relay,
    &crate::soap::provisioning::Provisioning,
    &crate::soap::envelope::Soap,
    &crate::soap::nbfx::Nbfx,
    &crate::saml::DesktopSso,
    &crate::saml::WsTrust,
    &crate::saml::Wia,
    &crate::saml::WsFed,
    &crate::saml::FedMetadata,
    &crate::saml::Saml,
    &crate::generic::Url,
    &crate::generic::Base64,
    &crate::generic::Json,
    &crate::generic::Form,
    &crate::generic::Xml,
];

/// Ids of the generic fallbacks: they apply to nearly anything of their syntax, so they never
/// count as "this blob is something specific".
pub const GENERIC: &[&str] = &["json", "form", "xml", "url", "base64"];

/// One decoder's result for one message: success or the error, kept as a value so a UI can show
/// why an interpretation failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The decoder id.
    pub decoder: &'static str,
    /// How well it said it applies.
    pub priority: f32,
    /// The view, or why there is none (serialized as the error's message).
    #[serde(serialize_with = "serialize_result")]
    pub result: Result<Decoded, DecodeError>,
}

fn serialize_result<S: Serializer>(
    r: &Result<Decoded, DecodeError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Repr<'a> {
        Ok(&'a Decoded),
        Err(String),
    }
    match r {
        Ok(d) => Repr::Ok(d).serialize(s),
        Err(e) => Repr::Err(e.to_string()).serialize(s),
    }
}

/// An ordered set of decoders.
#[derive(Debug, Clone)]
pub struct Registry {
    decoders: Vec<&'static dyn Decoder>,
    /// Per decoder, whether it is a generic fallback ([`GENERIC`]): looked up once here rather
    /// than by comparing ids for every decoder on every message.
    generic: Vec<bool>,
}

static BUILTIN_REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::new(BUILTIN.to_vec()));

impl Registry {
    /// The registry of every builtin decoder.
    pub fn builtin() -> &'static Registry {
        &BUILTIN_REGISTRY
    }

    /// A registry of the given decoders, in this order.
    pub fn new(decoders: Vec<&'static dyn Decoder>) -> Self {
        let generic = decoders.iter().map(|d| GENERIC.contains(&d.id())).collect();
        Registry { decoders, generic }
    }

    /// The decoder with this id.
    pub fn get(&self, id: &str) -> Option<&'static dyn Decoder> {
        self.decoders.iter().copied().find(|d| d.id() == id)
    }

    /// Ids of every decoder, in registration order.
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.decoders.iter().map(|d| d.id())
    }

    /// Applicable decoders with their priorities, best first (stable for ties).
    fn ranked(&self, msg: &Message<'_>) -> Vec<(&'static dyn Decoder, f32)> {
        let mut v: Vec<(&'static dyn Decoder, f32)> = self
            .decoders
            .iter()
            .map(|d| (*d, d.priority(msg)))
            .filter(|(_, p)| p.is_finite() && *p > 0.0)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }

    /// Runs every applicable decoder (priority > 0), best first. A failure is kept as a value.
    ///
    /// ```
    /// use idscope_decoders::{Context, Message, Registry, Trust};
    /// let trust = Trust::default();
    /// let cx = Context::new(std::time::UNIX_EPOCH, &trust);
    /// let out = Registry::builtin().decode_all(&Message::blob(b"{\"a\":1}"), &cx);
    /// assert_eq!(out[0].decoder, "json");
    /// ```
    pub fn decode_all(&self, msg: &Message<'_>, cx: &Context<'_>) -> Vec<Outcome> {
        self.ranked(msg)
            .into_iter()
            .map(|(d, priority)| Outcome {
                decoder: d.id(),
                priority,
                result: d.decode(msg, cx),
            })
            .collect()
    }

    /// The outcomes a one-line summary needs, for much less work than [`Registry::decode_all`]
    /// when a specific decoder applies: every applicable specific decoder runs (best first), and
    /// the generic fallbacks ([`GENERIC`]) are ranked and run only when none of them succeeded,
    /// best first, stopping at the first success. Which specific decoders succeeded, the best
    /// specific success and (failing that) the best generic success are the same as in
    /// `decode_all`'s list, so kinds and summaries computed from either agree.
    pub fn decode_for_summary(&self, msg: &Message<'_>, cx: &Context<'_>) -> Vec<Outcome> {
        let ranked = |generic: bool| {
            let mut v: Vec<(&'static dyn Decoder, f32)> = self
                .decoders
                .iter()
                .zip(&self.generic)
                .filter(|(_, g)| **g == generic)
                .map(|(d, _)| (*d, d.priority(msg)))
                .filter(|(_, p)| p.is_finite() && *p > 0.0)
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1));
            v
        };
        let run = |(d, priority): (&'static dyn Decoder, f32)| Outcome {
            decoder: d.id(),
            priority,
            result: d.decode(msg, cx),
        };
        let mut out: Vec<Outcome> = ranked(false).into_iter().map(run).collect();
        if out.iter().all(|o| o.result.is_err()) {
            for g in ranked(true) {
                let o = run(g);
                let ok = o.result.is_ok();
                out.push(o);
                if ok {
                    break;
                }
            }
        }
        out
    }

    /// The best successful decode, for the one-line summary column.
    pub fn best(&self, msg: &Message<'_>, cx: &Context<'_>) -> Option<Decoded> {
        self.ranked(msg)
            .into_iter()
            .find_map(|(d, _)| d.decode(msg, cx).ok())
    }

    /// The best successful decode by a decoder that is not a generic fallback ([`GENERIC`]).
    pub fn best_specific(&self, msg: &Message<'_>, cx: &Context<'_>) -> Option<Decoded> {
        self.ranked(msg)
            .into_iter()
            .filter(|(d, _)| !GENERIC.contains(&d.id()))
            .find_map(|(d, _)| d.decode(msg, cx).ok())
    }
}
