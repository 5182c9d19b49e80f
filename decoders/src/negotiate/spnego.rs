//! The GSS-API framing around the mechanisms: the InitialContextToken (RFC 2743 §3.1: `0x60`,
//! the mechanism's OID, then its token) and SPNEGO (RFC 4178, with Microsoft's NegTokenInit2
//! of MS-SPNG): NegTokenInit (the mechanisms offered, the request flags, the first mechanism's
//! token) and NegTokenResp (the negotiation state, the mechanism chosen, its answer token,
//! the mechListMIC). Mechanism tokens are explained by the mechanism's own file.

use asn1_rs::Class;

use super::der::{self, Broken, Fields, Tlv};
use super::{Out, inner_token};
use crate::util;
use crate::view::{Finding, Node};

/// SPNEGO's OID.
pub(super) const SPNEGO: &str = "1.3.6.1.5.5.2";
/// Kerberos 5 (RFC 1964).
pub(super) const KRB5: &str = "1.2.840.113554.1.2.2";
/// Microsoft's Kerberos OID (a historical mis-encoding Windows still sends first).
pub(super) const MS_KRB5: &str = "1.2.840.48018.1.2.2";
/// NTLMSSP in SPNEGO.
pub(super) const NTLMSSP: &str = "1.3.6.1.4.1.311.2.2.10";

/// What a mechanism OID is.
pub(super) fn mech_name(oid: &str) -> &'static str {
    match oid {
        KRB5 => "Kerberos 5",
        MS_KRB5 => "MS KRB5 (Microsoft's Kerberos 5 OID)",
        "1.2.840.113554.1.2.2.3" => "Kerberos 5 user-to-user",
        NTLMSSP => "NTLMSSP (NTLM)",
        "1.3.6.1.4.1.311.2.2.30" => "NegoEx (SPNEGO extended negotiation)",
        "1.3.6.1.5.2.5" => "IAKERB (Kerberos through the server)",
        SPNEGO => "SPNEGO",
        "1.3.6.1.4.1.311.10.3.22" | "1.3.6.1.5.2.7" => "PKU2U",
        _ => "unknown mechanism",
    }
}

/// True for the mechanisms whose tokens carry a Kerberos message after a two-byte TOK_ID.
fn is_krb5(oid: &str) -> bool {
    matches!(oid, KRB5 | MS_KRB5 | "1.2.840.113554.1.2.2.3")
}

/// True when `bytes` starts like a GSS-API InitialContextToken of a mechanism this view knows,
/// or a bare SPNEGO NegTokenInit / NegTokenResp.
pub(super) fn sniff(bytes: &[u8]) -> bool {
    let Ok((tlv, _)) = der::read(bytes, 0, "") else {
        return false;
    };
    match (tlv.class, tlv.tag) {
        (Class::Application, 0) => der::read(tlv.data, 0, "")
            .ok()
            .and_then(|(o, _)| o.oid("").ok())
            .is_some_and(|oid| oid == SPNEGO || is_krb5(&oid) || oid == NTLMSSP),
        (Class::ContextSpecific, 0 | 1) => tlv.constructed && tlv.data.first() == Some(&0x30),
        _ => false,
    }
}

/// Explains a GSS-API InitialContextToken or a bare NegotiationToken at `offset`.
pub(super) fn token(bytes: &[u8], offset: usize, out: &mut Out) -> Node {
    let mut n = Node::section("GSS-API");
    let tlv = match der::read_whole(bytes, offset, "GSS-API token") {
        Ok(t) => t,
        Err(b) => {
            out.broken(&mut n, "GSS-API token", &b);
            return n;
        }
    };
    let r = match (tlv.class, tlv.tag) {
        (Class::Application, 0) => initial_context_token(&tlv, &mut n, out),
        (Class::ContextSpecific, 0 | 1) => {
            n = negotiation_token(&tlv, out);
            Ok(())
        }
        _ => Err(Broken {
            field: "GSS-API token".into(),
            offset,
            message: format!("{} is neither a GSS-API nor a SPNEGO token", tlv.tag_name()),
        }),
    };
    if let Err(b) = r {
        out.broken(&mut n, "GSS-API token", &b);
    }
    n
}

fn initial_context_token(tlv: &Tlv<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    let (oid_tlv, rest) = der::read(tlv.data, tlv.content_offset, "thisMech")?;
    let oid = oid_tlv.oid("thisMech")?;
    let at = tlv.content_offset + tlv.data.len() - rest.len();
    n.label = "GSS-API InitialContextToken".into();
    n.push(Node::field("thisMech", oid.clone()).with_note(mech_name(&oid)));
    if oid == SPNEGO {
        let inner = der::read_whole(rest, at, "innerContextToken")?;
        n.value = Some("SPNEGO".into());
        n.push(negotiation_token(&inner, out));
    } else if is_krb5(&oid) {
        n.value = Some("Kerberos 5".into());
        n.push(krb5_token(rest, at, out));
    } else {
        n.value = Some(mech_name(&oid).into());
        n.push(inner_token(rest, at, out));
    }
    Ok(())
}

/// A Kerberos GSS-API token (RFC 4121 §4.1): a two-byte TOK_ID and the Kerberos message.
pub(super) fn krb5_token(bytes: &[u8], offset: usize, out: &mut Out) -> Node {
    let Some((id, msg)) = bytes.split_first_chunk::<2>() else {
        let mut n = Node::section("Kerberos token");
        out.broken(
            &mut n,
            "Kerberos GSS-API token",
            &Broken {
                field: "TOK_ID".into(),
                offset,
                message: "truncated: fewer than 2 bytes".into(),
            },
        );
        return n;
    };
    let mut n = super::kerberos::message(msg, offset + 2, out);
    let expected = match id {
        [1, 0] => "KRB_AP_REQ",
        [2, 0] => "KRB_AP_REP",
        [3, 0] => "KRB_ERROR",
        _ => "unknown",
    };
    n.children.insert(
        0,
        Node::field("TOK_ID", format!("{:02x} {:02x}", id[0], id[1])).with_note(expected),
    );
    n
}

/// A NegotiationToken: `[0]` NegTokenInit(2) or `[1]` NegTokenResp.
fn negotiation_token(tlv: &Tlv<'_>, out: &mut Out) -> Node {
    let init = tlv.tag == 0;
    let mut n = Node::section(if init { "NegTokenInit" } else { "NegTokenResp" });
    n.note = Some(if init {
        "SPNEGO's first message: the mechanisms the client offers, best first, and a token of the \
         first"
            .into()
    } else {
        "SPNEGO's answer: the negotiation state, the mechanism chosen and its token".to_string()
    });
    out.facts
        .spnego
        .get_or_insert(if init { "NegTokenInit" } else { "NegTokenResp" });
    let path = n.label.clone();
    let r = tlv
        .explicit(&path)
        .and_then(|seq| Fields::of(&seq, &path))
        .and_then(|f| {
            if init {
                neg_token_init(&f, &mut n, out)
            } else {
                neg_token_resp(&f, &mut n, out)
            }
        });
    if let Err(b) = r {
        out.broken(&mut n, &format!("SPNEGO {path}"), &b);
    }
    n
}

fn neg_token_init(f: &Fields<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    let mut mechs = Node::section("mechTypes");
    let mut first = None;
    for m in f.need(0, "mechTypes")?.sequence(&f.path("mechTypes"))? {
        let oid = m.oid(&f.path("mechTypes"))?;
        first.get_or_insert(oid.clone());
        out.facts
            .mechs
            .push(mech_name(&oid).split(" (").next().unwrap_or("").to_string());
        mechs.push(Node::field(oid.clone(), mech_name(&oid)));
    }
    mechs.value = Some(out.facts.mechs.join(", "));
    n.push(mechs);
    if let Some(flags) = f.get(1, "reqFlags") {
        let bits = flags?.bits(&f.path("reqFlags"))?;
        let names: Vec<&str> = [
            "delegFlag",
            "mutualFlag",
            "replayFlag",
            "sequenceFlag",
            "anonFlag",
            "confFlag",
            "integFlag",
        ]
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (0x8000_0000 >> i) != 0)
        .map(|(_, s)| *s)
        .collect();
        n.push(Node::field("reqFlags", names.join(", ")));
    }
    if let Some(t) = f.get(2, "mechToken") {
        let t = t?;
        let bytes = t.octets(&f.path("mechToken"))?;
        let mut m = Node::section("mechToken").with_note(format!(
            "the first token of {}",
            first
                .as_deref()
                .map(mech_name)
                .unwrap_or("the first mechanism")
        ));
        m.push(inner_token(bytes, t.content_offset, out));
        m.value = m
            .children
            .first()
            .and_then(|c| c.value.clone().or(Some(c.label.clone())));
        n.push(m);
    }
    // `[3]` is NegHints in Microsoft's NegTokenInit2 (a SEQUENCE) and the mechListMIC in RFC
    // 4178's NegTokenInit (an OCTET STRING); NegTokenInit2's mechListMIC is `[4]`.
    if let Some(hints) = f.get(3, "negHints") {
        let h = hints?;
        if h.class == Class::Universal && h.tag == 16 {
            n.label = "NegTokenInit2".into();
            let hf = Fields::of(&h, &f.path("negHints"))?;
            let mut hn = Node::section("negHints").with_note(
                "Microsoft's NegTokenInit2: a server's first offer (hintName is normally \
                 not_defined_in_RFC4178@please_ignore)",
            );
            if let Some(name) = hf.get(0, "hintName") {
                hn.push(Node::field("hintName", name?.string(&hf.path("hintName"))?));
            }
            n.push(hn);
        } else {
            mic(&h, &f.path("mechListMIC"), n)?;
        }
    }
    if let Some(m) = f.get(4, "mechListMIC") {
        mic(&m?, &f.path("mechListMIC"), n)?;
    }
    Ok(())
}

fn neg_token_resp(f: &Fields<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    if let Some(s) = f.get(0, "negState") {
        let state = s?.enumerated(&f.path("negState"))?;
        let (name, note) = match state {
            0 => ("accept-completed", "authentication is complete"),
            1 => ("accept-incomplete", "more tokens are needed"),
            2 => ("reject", "the server rejected the authentication"),
            3 => (
                "request-mic",
                "the server asks the client for a mechListMIC",
            ),
            _ => ("unknown", "not an RFC 4178 state"),
        };
        n.value = Some(name.into());
        n.push(Node::field("negState", format!("{state} {name}")).with_note(note));
        out.facts.neg_state = Some(name);
        if state == 2 {
            out.findings.push(
                Finding::error("SPNEGO negState reject: the server refused the authentication")
                    .at(out.at.clone()),
            );
        }
    }
    let mut mech = None;
    if let Some(m) = f.get(1, "supportedMech") {
        let oid = m?.oid(&f.path("supportedMech"))?;
        n.push(Node::field("supportedMech", oid.clone()).with_note(mech_name(&oid)));
        mech = Some(oid);
    }
    if let Some(t) = f.get(2, "responseToken") {
        let t = t?;
        let bytes = t.octets(&f.path("responseToken"))?;
        let mut m = Node::section("responseToken");
        let inner = if mech.as_deref().is_some_and(is_krb5) && bytes.first() != Some(&0x60) {
            krb5_token(bytes, t.content_offset, out)
        } else {
            inner_token(bytes, t.content_offset, out)
        };
        m.value = inner.value.clone().or(Some(inner.label.clone()));
        m.push(inner);
        n.push(m);
    }
    if let Some(m) = f.get(3, "mechListMIC") {
        mic(&m?, &f.path("mechListMIC"), n)?;
    }
    Ok(())
}

fn mic(t: &Tlv<'_>, path: &str, n: &mut Node) -> Result<(), Broken> {
    let bytes = t.octets(path)?;
    n.push(
        Node::secret("mechListMIC", util::b64_std(bytes)).with_note(format!(
            "{} bytes: the mechanism's checksum over the mechanism list, so a downgrade is \
             detected",
            bytes.len()
        )),
    );
    Ok(())
}
