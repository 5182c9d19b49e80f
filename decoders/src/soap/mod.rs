//! SOAP over HTTP: the SOAP 1.1/1.2 envelope decoder ([`envelope`]: WS-Addressing, WS-Security,
//! faults, and the generic `soap` view), the AAD Connect provisioning ("sync") API and the MSOnline
//! provisioning API built on it ([`provisioning`]), and below them the binary wire format WCF uses
//! for `application/soap+msbin1` and `application/soap+msbinsession1` ([`nbfx`]).
//!
//! [`nbfx`] turns .NET binary XML into XML text (and back, for tests and the fixture); the
//! envelope and protocol decoders read that XML text through the bounded [`crate::xml`] tree. This
//! module does not verify XML signatures (see [`crate::xml::dsig`]) and does not decode WS-Trust
//! bodies.

pub mod envelope;
pub mod nbfx;
pub mod provisioning;

pub use envelope::{Envelope, Soap, parse_envelope};
pub use provisioning::Provisioning;

#[cfg(test)]
#[path = "../../tests/support/make_sync_fixtures.rs"]
mod make_sync_fixtures;
