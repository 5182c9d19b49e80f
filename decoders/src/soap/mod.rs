//! SOAP over HTTP: the home of the SOAP envelope decoder (text SOAP 1.1/1.2, WS-Addressing
//! headers, faults) and, below it, the binary wire format WCF uses for
//! `application/soap+msbin1` and `application/soap+msbinsession1` ([`nbfx`]).
//!
//! Today only [`nbfx`] lives here: it turns .NET binary XML into XML text (and back, for tests
//! and the fixture). The envelope decoder built on top of it will read that XML text; it is not
//! this module's job yet to interpret SOAP headers or bodies.

pub mod nbfx;
