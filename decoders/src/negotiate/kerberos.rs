//! Kerberos V5 messages (RFC 4120 §5): AP-REQ, AP-REP, KRB-ERROR, and the KDC exchanges
//! AS-REQ / AS-REP / TGS-REQ / TGS-REP. What is shown in clear is what travels in clear (realms,
//! principal names, encryption types, key versions, options, times, error codes); every
//! encrypted part (ticket, authenticator, AP-REP and KDC-REP parts, the encrypted timestamp) is
//! a secret: a ticket's encrypted part is what Kerberoasting cracks offline.
//!
//! Each message is read field by field: a field that breaks is an error node and an error
//! finding naming it, and what was read before it stays in the view.

use asn1_rs::Class;

use super::Out;
use super::der::{self, Broken, Fields, Tlv};
use super::krb_tables::{self as tables, Strength};
use crate::util;
use crate::view::{Finding, Kind, Node};

/// The application tags of the messages this file reads.
pub(super) const AS_REQ: u32 = 10;
pub(super) const AS_REP: u32 = 11;
pub(super) const TGS_REQ: u32 = 12;
pub(super) const TGS_REP: u32 = 13;
pub(super) const AP_REQ: u32 = 14;
pub(super) const AP_REP: u32 = 15;
pub(super) const KRB_ERROR: u32 = 30;

/// The message name of an application tag.
pub(super) fn message_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        AS_REQ => "AS-REQ",
        AS_REP => "AS-REP",
        TGS_REQ => "TGS-REQ",
        TGS_REP => "TGS-REP",
        AP_REQ => "AP-REQ",
        AP_REP => "AP-REP",
        KRB_ERROR => "KRB-ERROR",
        _ => return None,
    })
}

/// True when `bytes` starts like a Kerberos message: an application tag this file reads around
/// a SEQUENCE whose first member is `pvno` 5 (`[0]`, or `[1]` in a KDC request).
pub(super) fn sniff(bytes: &[u8]) -> bool {
    let Ok((tlv, _)) = der::read(bytes, 0, "") else {
        return false;
    };
    if tlv.class != Class::Application || message_name(tlv.tag).is_none() {
        return false;
    }
    let pvno_tag = if matches!(tlv.tag, AS_REQ | TGS_REQ) {
        0xa1
    } else {
        0xa0
    };
    let d = tlv.data;
    d.first() == Some(&0x30)
        && der::read(d, 0, "")
            .ok()
            .and_then(|(seq, _)| seq.data.get(..5).map(<[u8]>::to_vec))
            .is_some_and(|head| head == [pvno_tag, 0x03, 0x02, 0x01, 0x05])
}

/// Explains a Kerberos message at `offset` of the token.
pub(super) fn message(bytes: &[u8], offset: usize, out: &mut Out) -> Node {
    let mut n = Node::section("Kerberos");
    let tlv = match der::read_whole(bytes, offset, "Kerberos message") {
        Ok(t) => t,
        Err(b) => {
            out.broken(&mut n, "Kerberos", &b);
            return n;
        }
    };
    let Some(name) = message_name(tlv.tag).filter(|_| tlv.class == Class::Application) else {
        out.broken(
            &mut n,
            "Kerberos",
            &Broken {
                field: "Kerberos message".into(),
                offset,
                message: format!("{} is no Kerberos message this view reads", tlv.tag_name()),
            },
        );
        return n;
    };
    n.label = format!("Kerberos {name}");
    out.facts.mechanism.get_or_insert("Kerberos");
    out.facts.message.get_or_insert_with(|| name.to_string());
    let what = format!("Kerberos {name}");
    let r = match tlv.tag {
        AP_REQ => ap_req(&tlv, &mut n, out),
        AP_REP => ap_rep(&tlv, &mut n),
        KRB_ERROR => krb_error(&tlv, &mut n, out),
        AS_REQ | TGS_REQ => kdc_req(&tlv, &mut n, out),
        _ => kdc_rep(&tlv, &mut n, out),
    };
    if let Err(b) = r {
        out.broken(&mut n, &what, &b);
    }
    n
}

fn ap_req(tlv: &Tlv<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    n.note = Some(
        "the client's proof to a service: the service ticket (encrypted for the service) and an \
         authenticator (encrypted with the ticket's session key)"
            .into(),
    );
    let f = Fields::of(&tlv.explicit("AP-REQ")?, "")?;
    header(&f, 0, n)?;
    let opts = f.need(2, "ap-options")?.bits("ap-options")?;
    let names = tables::bit_names(opts, tables::AP_OPTIONS);
    let mutual = names.contains(&"mutual-required");
    n.push(flags_node("ap-options", opts, &names).with_note(if mutual {
        "mutual-required: the client wants the service to prove itself with an AP-REP"
    } else {
        "no mutual authentication asked: the service does not answer with an AP-REP"
    }));
    out.facts.mutual = Some(mutual);
    let ticket = ticket(&f.need(3, "ticket")?, "ticket", out)?;
    if let Some(v) = ticket.value.clone() {
        n.value = Some(v);
    }
    n.push(ticket);
    let (auth, etype, _) = enc_data(
        &f.need(4, "authenticator")?,
        "authenticator",
        "the authenticator: client name, time and sub-session key, encrypted with the ticket's \
         session key",
    )?;
    out.facts.authenticator_etype = Some(etype);
    n.push(auth);
    Ok(())
}

fn ap_rep(tlv: &Tlv<'_>, n: &mut Node) -> Result<(), Broken> {
    n.note = Some(
        "the service's answer to a mutual-required AP-REQ: it proves the service could open the \
         ticket"
            .into(),
    );
    let f = Fields::of(&tlv.explicit("AP-REP")?, "")?;
    header(&f, 0, n)?;
    let (enc, _, _) = enc_data(
        &f.need(2, "enc-part")?,
        "enc-part",
        "the client's time and the sub-session key, encrypted with the session key",
    )?;
    n.push(enc);
    Ok(())
}

fn krb_error(tlv: &Tlv<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    let f = Fields::of(&tlv.explicit("KRB-ERROR")?, "")?;
    header(&f, 0, n)?;
    for (tag, name) in [(2, "ctime"), (4, "stime")] {
        if let Some(t) = f.get(tag, name) {
            n.push(Node::leaf(name, t?.time(&f.path(name))?, Kind::Timestamp));
        }
    }
    let code = f.need(6, "error-code")?.integer("error-code")?;
    let (name, meaning) = tables::error(code);
    n.value = Some(format!("{name} ({code})"));
    n.push(Node::field("error-code", format!("{code} {name}")).with_note(meaning));
    out.facts.error_code = Some(code);
    let mut names = Vec::new();
    for (tag, label) in [(7, "crealm"), (9, "realm")] {
        if let Some(t) = f.get(tag, label) {
            let realm = t?.string(&f.path(label))?;
            n.push(Node::field(label, realm.clone()));
            if tag == 9 {
                out.facts.realm.get_or_insert(realm);
            }
        }
    }
    for (tag, label) in [(8, "cname"), (10, "sname")] {
        if let Some(t) = f.get(tag, label) {
            let (node, name) = principal(&t?, label)?;
            n.push(node);
            names.push(format!("{label} {name}"));
            if tag == 10 {
                out.facts.service.get_or_insert(name);
            }
        }
    }
    let mut text = None;
    if let Some(t) = f.get(11, "e-text") {
        let s = t?.string("e-text")?;
        n.push(Node::text("e-text", s.clone()));
        text = Some(s);
    }
    if let Some(t) = f.get(12, "e-data") {
        let data = t?.octets("e-data")?;
        n.push(e_data(data, out));
    }
    let severity = if code == 25 {
        Finding::info
    } else {
        Finding::error
    };
    let mut message = format!("Kerberos error {name} ({code}): {meaning}");
    if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
        message.push_str(&format!("; e-text \"{}\"", util::clip(&t, 200)));
    }
    if !names.is_empty() {
        message.push_str(&format!(" ({})", names.join(", ")));
    }
    out.findings.push(severity(message).at(out.at.clone()));
    Ok(())
}

/// `e-data`: METHOD-DATA (the pre-authentication types a KDC accepts) when it reads as one,
/// else its size.
fn e_data(data: &[u8], out: &mut Out) -> Node {
    let mut n = Node::section("e-data");
    n.value = Some(format!("{} bytes", data.len()));
    if let Ok(seq) = der::read_whole(data, 0, "e-data")
        && let Ok(items) = seq.sequence("e-data")
    {
        n.note = Some("METHOD-DATA: the pre-authentication the KDC accepts".into());
        for item in items {
            match pa_data(&item, "e-data", out) {
                Ok(p) => n.push(p),
                Err(_) => {
                    n.note = Some("not METHOD-DATA; shown as its size".into());
                    n.children.clear();
                    break;
                }
            }
        }
    }
    n
}

fn kdc_req(tlv: &Tlv<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    let as_req = tlv.tag == AS_REQ;
    n.note = Some(if as_req {
        "a request for a ticket-granting ticket (sign-in to the KDC)".into()
    } else {
        "a request for a service ticket, sent with the TGT".to_string()
    });
    let f = Fields::of(&tlv.explicit("KDC-REQ")?, "")?;
    header(&f, 1, n)?;
    if let Some(pa) = f.get(3, "padata") {
        let mut p = Node::section("padata").with_note("pre-authentication data");
        for item in pa?.sequence("padata")? {
            p.push(pa_data(&item, "padata", out)?);
        }
        n.push(p);
    }
    let body = Fields::of(&f.need(4, "req-body")?, "req-body")?;
    let mut b = Node::section("req-body");
    let opts = body
        .need(0, "kdc-options")?
        .bits(&body.path("kdc-options"))?;
    b.push(flags_node(
        "kdc-options",
        opts,
        &tables::bit_names(opts, tables::KDC_OPTIONS),
    ));
    let mut client = None;
    if let Some(c) = body.get(1, "cname") {
        let (node, name) = principal(&c?, &body.path("cname"))?;
        b.push(node);
        client = Some(name);
    }
    let realm = body.need(2, "realm")?.string(&body.path("realm"))?;
    b.push(Node::field("realm", realm.clone()));
    out.facts.realm.get_or_insert(realm.clone());
    if let Some(c) = body.get(3, "sname") {
        let (node, name) = principal(&c?, &body.path("sname"))?;
        b.push(node);
        // The service asked for, not the TGT's krbtgt a TGS-REQ's padata carries.
        out.facts.service = Some(name);
    }
    for (tag, name) in [(4, "from"), (5, "till"), (6, "rtime")] {
        if let Some(t) = body.get(tag, name) {
            b.push(Node::leaf(
                name,
                t?.time(&body.path(name))?,
                Kind::Timestamp,
            ));
        }
    }
    if let Some(t) = body.get(7, "nonce") {
        b.push(Node::field(
            "nonce",
            t?.integer(&body.path("nonce"))?.to_string(),
        ));
    }
    let mut offered = Vec::new();
    for t in body.need(8, "etype")?.sequence(&body.path("etype"))? {
        offered.push(t.integer(&body.path("etype"))?);
    }
    let mut e = Node::section("etype")
        .with_note("the encryption types the client accepts, preferred first");
    e.value = Some(
        offered
            .iter()
            .map(|x| tables::etype(*x).0)
            .collect::<Vec<_>>()
            .join(", "),
    );
    for x in &offered {
        e.push(Node::field(x.to_string(), tables::etype(*x).0));
    }
    b.push(e);
    for (tag, name) in [
        (9, "addresses"),
        (10, "enc-authorization-data"),
        (11, "additional-tickets"),
    ] {
        if let Some(t) = body.get(tag, name) {
            b.push(Node::field(name, format!("{} bytes", t?.data.len())));
        }
    }
    if let Some(c) = client {
        out.facts.client.get_or_insert(format!("{c}@{realm}"));
    }
    n.push(b);
    Ok(())
}

fn kdc_rep(tlv: &Tlv<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    let as_rep = tlv.tag == AS_REP;
    n.note = Some(if as_rep {
        "the KDC's answer to an AS-REQ: a TGT, and the session key encrypted with the user's key"
            .into()
    } else {
        "the KDC's answer to a TGS-REQ: the service ticket".to_string()
    });
    let f = Fields::of(&tlv.explicit("KDC-REP")?, "")?;
    header(&f, 0, n)?;
    if let Some(pa) = f.get(2, "padata") {
        let mut p = Node::section("padata");
        for item in pa?.sequence("padata")? {
            p.push(pa_data(&item, "padata", out)?);
        }
        n.push(p);
    }
    let crealm = f.need(3, "crealm")?.string("crealm")?;
    n.push(Node::field("crealm", crealm.clone()));
    let (cname, name) = principal(&f.need(4, "cname")?, "cname")?;
    n.push(cname);
    out.facts.client.get_or_insert(format!("{name}@{crealm}"));
    n.push(ticket(&f.need(5, "ticket")?, "ticket", out)?);
    let (enc, etype, _) = enc_data(
        &f.need(6, "enc-part")?,
        "enc-part",
        if as_rep {
            "the session key and ticket times, encrypted with the user's long-term key (what \
             AS-REP roasting cracks offline)"
        } else {
            "the service session key and ticket times, encrypted with the TGT session key"
        },
    )?;
    if as_rep {
        weak_etype(out, etype, "AS-REP's encrypted part (the user's key)");
    }
    n.push(enc);
    Ok(())
}

/// `pvno` and `msg-type`, the first two members (from tag `first`).
fn header(f: &Fields<'_>, first: u32, n: &mut Node) -> Result<(), Broken> {
    let pvno = f.need(first, "pvno")?.integer("pvno")?;
    let mut p = Node::field("pvno", pvno.to_string());
    if pvno != 5 {
        p = p.with_note("not Kerberos 5");
    }
    n.push(p);
    let t = f.need(first + 1, "msg-type")?.integer("msg-type")?;
    let name = u32::try_from(t)
        .ok()
        .and_then(message_name)
        .unwrap_or("unknown");
    n.push(Node::field("msg-type", format!("{t} ({name})")));
    Ok(())
}

/// A Ticket (`[APPLICATION 1]`): realm, service principal and the encrypted part.
fn ticket(t: &Tlv<'_>, label: &str, out: &mut Out) -> Result<Node, Broken> {
    if t.class != Class::Application || t.tag != 1 {
        return Err(Broken {
            field: label.into(),
            offset: t.offset,
            message: format!(
                "expected a Ticket ([APPLICATION 1]), found {}",
                t.tag_name()
            ),
        });
    }
    let f = Fields::of(&t.explicit(label)?, label)?;
    let mut n = Node::section(label).with_note("the service ticket, as the KDC issued it");
    n.push(Node::field(
        "tkt-vno",
        f.need(0, "tkt-vno")?
            .integer(&f.path("tkt-vno"))?
            .to_string(),
    ));
    let realm = f.need(1, "realm")?.string(&f.path("realm"))?;
    n.push(
        Node::field("realm", realm.clone()).with_note("the realm (domain) that issued the ticket"),
    );
    let (sname, service) = principal(&f.need(2, "sname")?, &f.path("sname"))?;
    n.push(sname.with_note("the service principal the ticket is for (its SPN)"));
    let first = out.facts.service.is_none();
    let (enc, etype, kvno) = enc_data(
        &f.need(3, "enc-part")?,
        &f.path("enc-part"),
        "the ticket's encrypted part (session key, client name, times, PAC), readable only with \
         the service account's key",
    )?;
    n.push(enc);
    n.value = Some(format!("{service}@{realm}, {}", tables::etype(etype).0));
    weak_etype(out, etype, &format!("ticket for {service}"));
    if first {
        out.facts.realm = Some(realm);
        out.facts.service = Some(service);
        out.facts.ticket_etype = Some(etype);
        out.facts.kvno = kvno;
    }
    Ok(n)
}

/// A PrincipalName: the view node and the name as `a/b`.
fn principal(t: &Tlv<'_>, path: &str) -> Result<(Node, String), Broken> {
    let f = Fields::of(t, path)?;
    let ty = f.need(0, "name-type")?.integer(&f.path("name-type"))?;
    let mut parts = Vec::new();
    for s in f.need(1, "name-string")?.sequence(&f.path("name-string"))? {
        parts.push(s.string(&f.path("name-string"))?);
    }
    let name = parts.join("/");
    let label = path.rsplit('/').next().unwrap_or(path);
    let n = Node::field(label, name.clone())
        .with_child(Node::field("name-type", ty.to_string()).with_note(tables::name_type(ty)));
    Ok((n, name))
}

/// EncryptedData: the node (etype, kvno, the cipher as a secret), the etype and the kvno.
fn enc_data(t: &Tlv<'_>, path: &str, what: &str) -> Result<(Node, i64, Option<i64>), Broken> {
    let f = Fields::of(t, path)?;
    let etype = f.need(0, "etype")?.integer(&f.path("etype"))?;
    let kvno = match f.get(1, "kvno") {
        Some(k) => Some(k?.integer(&f.path("kvno"))?),
        None => None,
    };
    let cipher = f.need(2, "cipher")?.octets(&f.path("cipher"))?;
    let (name, strength) = tables::etype(etype);
    let label = path.rsplit('/').next().unwrap_or(path);
    let mut n = Node::section(label).with_note(what);
    n.value = Some(match kvno {
        Some(k) => format!("{name} ({etype}), kvno {k}"),
        None => format!("{name} ({etype})"),
    });
    n.push(
        Node::field("etype", format!("{etype} {name}")).with_note(match strength {
            Strength::Good => "",
            Strength::Weak => "weak",
            Strength::Broken => "broken",
        }),
    );
    if let Some(k) = kvno {
        n.push(Node::field("kvno", k.to_string()).with_note(
            "the key version: the service must hold a key of this version (a password change \
             raises it)",
        ));
    }
    n.push(
        Node::secret("cipher", util::b64_std(cipher))
            .with_note(format!("{} bytes of ciphertext", cipher.len())),
    );
    // Strip the empty note a good etype left.
    if let Some(e) = n.children.first_mut()
        && e.note.as_deref() == Some("")
    {
        e.note = None;
    }
    Ok((n, etype, kvno))
}

/// A finding for RC4 or DES protecting `what`.
fn weak_etype(out: &mut Out, etype: i64, what: &str) {
    let (name, strength) = tables::etype(etype);
    let f = match strength {
        Strength::Good => return,
        Strength::Weak => Finding::warning(format!(
            "the {what} is encrypted with {name} ({etype}): weak — the key is the account's \
             unsalted NT hash, and such tickets are cracked offline (Kerberoasting); give the \
             account AES keys (msDS-SupportedEncryptionTypes) and disable RC4"
        )),
        Strength::Broken => Finding::error(format!(
            "the {what} is encrypted with {name} ({etype}): DES is broken and disabled by \
             default since Windows 7 / Server 2008 R2"
        )),
    };
    out.findings.push(f.at(out.at.clone()));
}

/// One PA-DATA: its type, and its value where the view knows it.
fn pa_data(t: &Tlv<'_>, path: &str, out: &mut Out) -> Result<Node, Broken> {
    let f = Fields::of(t, path)?;
    let ty = f.need(1, "padata-type")?.integer(&f.path("padata-type"))?;
    let value = f.need(2, "padata-value")?.octets(&f.path("padata-value"))?;
    let name = tables::padata_type(ty);
    let mut n = Node::section(format!("PA-DATA {ty}"));
    n.value = Some(name.split(" (").next().unwrap_or(name).to_string());
    n.note = Some(name.to_string());
    let at = f.path("padata-value");
    let inner = |t: &Tlv<'_>| t.content_offset;
    let value_at = f.need(2, "padata-value").map(|t| inner(&t)).unwrap_or(0);
    match ty {
        _ if value.is_empty() => {
            n.push(
                Node::field("padata-value", "empty")
                    .with_note("offered: the KDC accepts this type"),
            );
        }
        1 if out.depth < 2 => {
            out.depth += 1;
            n.push(message(value, value_at, out));
            out.depth -= 1;
        }
        2 => {
            let (enc, _, _) = enc_data(
                &der::read_whole(value, value_at, &at)?,
                "PA-ENC-TIMESTAMP",
                "the current time encrypted with the user's key: proves the password (and can be \
                 cracked offline)",
            )?;
            n.push(enc);
        }
        19 => {
            for entry in der::read_whole(value, value_at, &at)?.sequence(&at)? {
                let e = Fields::of(&entry, &at)?;
                let etype = e.need(0, "etype")?.integer(&e.path("etype"))?;
                let mut x = Node::field("etype", format!("{etype} {}", tables::etype(etype).0));
                if let Some(s) = e.get(1, "salt") {
                    x.push(Node::field("salt", s?.string(&e.path("salt"))?));
                }
                n.push(x);
            }
        }
        128 => {
            let seq = Fields::of(&der::read_whole(value, value_at, &at)?, &at)?;
            if let Some(b) = seq.get(0, "include-pac") {
                let b = b?;
                n.push(Node::field(
                    "include-pac",
                    if b.data.first().is_some_and(|x| *x != 0) {
                        "true"
                    } else {
                        "false"
                    },
                ));
            }
        }
        _ => n.push(Node::field(
            "padata-value",
            format!("{} bytes", value.len()),
        )),
    }
    Ok(n)
}

/// A BIT STRING of flags: its hex value and the names of the set bits.
fn flags_node(label: &str, bits: u32, names: &[&str]) -> Node {
    let mut n = Node::field(
        label,
        if names.is_empty() {
            format!("0x{bits:08x}")
        } else {
            format!("0x{bits:08x} {}", names.join(", "))
        },
    );
    for name in names {
        n.push(Node::text("set", *name));
    }
    n
}
