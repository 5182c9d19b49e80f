//! A DER reading layer for the Kerberos and SPNEGO structures: each value's tag and length are
//! read by `asn1-rs` (the ASN.1 reader `x509-parser` is built on), and this file adds what the
//! views need on top: the byte offset of every value, field names in every error, and the
//! handful of primitive types Kerberos uses (INTEGER, BIT STRING, OCTET STRING, OBJECT
//! IDENTIFIER, GeneralString, GeneralizedTime).

use asn1_rs::{Any, Class, FromBer, Length, Oid};

/// A value that could not be read: which field, where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Broken {
    /// The field path (`ticket/enc-part/cipher`).
    pub field: String,
    /// Byte offset of the value in the token.
    pub offset: usize,
    /// What was wrong.
    pub message: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at byte {}: {}",
            self.field, self.offset, self.message
        )
    }
}

/// One DER value: tag class and number, whether it is constructed, its content and where it
/// starts in the token.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tlv<'a> {
    pub class: Class,
    pub constructed: bool,
    pub tag: u32,
    pub data: &'a [u8],
    /// Offset of the value's first (tag) byte in the token.
    pub offset: usize,
    /// Offset of the content's first byte in the token.
    pub content_offset: usize,
}

/// Reads one value at the start of `input` (at `offset` in the token); returns it and the rest.
pub(super) fn read<'a>(
    input: &'a [u8],
    offset: usize,
    field: &str,
) -> Result<(Tlv<'a>, &'a [u8]), Broken> {
    let broken = |message: String| Broken {
        field: field.to_string(),
        offset,
        message,
    };
    if input.is_empty() {
        return Err(broken("missing: the data ends here".into()));
    }
    let (rest, any) = Any::from_ber(input).map_err(|e| {
        broken(match e {
            asn1_rs::nom::Err::Incomplete(_) => "truncated: its length runs past the end".into(),
            asn1_rs::nom::Err::Error(e) | asn1_rs::nom::Err::Failure(e) => {
                format!("not a valid DER value ({e})")
            }
        })
    })?;
    if any.header.length() == Length::Indefinite {
        return Err(broken("indefinite length (not DER)".into()));
    }
    let consumed = input.len() - rest.len();
    let content_offset = offset + consumed - any.data.len();
    Ok((
        Tlv {
            class: any.header.class(),
            constructed: any.header.constructed(),
            tag: any.header.tag().0,
            data: any.data,
            offset,
            content_offset,
        },
        rest,
    ))
}

/// Reads exactly one value filling `input`.
pub(super) fn read_whole<'a>(
    input: &'a [u8],
    offset: usize,
    field: &str,
) -> Result<Tlv<'a>, Broken> {
    let (tlv, rest) = read(input, offset, field)?;
    if !rest.is_empty() {
        return Err(Broken {
            field: field.to_string(),
            offset: offset + input.len() - rest.len(),
            message: format!("{} bytes after the end of the value", rest.len()),
        });
    }
    Ok(tlv)
}

impl<'a> Tlv<'a> {
    /// The description of this value's tag, for messages (`[APPLICATION 14]`, `SEQUENCE`).
    pub fn tag_name(&self) -> String {
        match self.class {
            Class::Universal => match self.tag {
                2 => "INTEGER".into(),
                3 => "BIT STRING".into(),
                4 => "OCTET STRING".into(),
                6 => "OBJECT IDENTIFIER".into(),
                10 => "ENUMERATED".into(),
                16 => "SEQUENCE".into(),
                24 => "GeneralizedTime".into(),
                27 => "GeneralString".into(),
                t => format!("universal tag {t}"),
            },
            Class::Application => format!("[APPLICATION {}]", self.tag),
            Class::ContextSpecific => format!("[{}]", self.tag),
            Class::Private => format!("[PRIVATE {}]", self.tag),
        }
    }

    fn broken(&self, field: &str, message: impl Into<String>) -> Broken {
        Broken {
            field: field.to_string(),
            offset: self.offset,
            message: message.into(),
        }
    }

    fn expect_universal(&self, tag: u32, field: &str, what: &str) -> Result<(), Broken> {
        if self.class == Class::Universal && self.tag == tag {
            Ok(())
        } else {
            Err(self.broken(field, format!("expected {what}, found {}", self.tag_name())))
        }
    }

    /// The values inside a constructed value, in order.
    pub fn children(&self, field: &str) -> Result<Vec<Tlv<'a>>, Broken> {
        if !self.constructed {
            return Err(self.broken(field, format!("{} is not constructed", self.tag_name())));
        }
        let mut out = Vec::new();
        let mut rest = self.data;
        while !rest.is_empty() {
            if out.len() >= MAX_CHILDREN {
                return Err(self.broken(field, format!("more than {MAX_CHILDREN} values")));
            }
            let at = self.content_offset + self.data.len() - rest.len();
            let (tlv, r) = read(rest, at, field)?;
            out.push(tlv);
            rest = r;
        }
        Ok(out)
    }

    /// The members of a SEQUENCE.
    pub fn sequence(&self, field: &str) -> Result<Vec<Tlv<'a>>, Broken> {
        self.expect_universal(16, field, "a SEQUENCE")?;
        self.children(field)
    }

    /// The single value inside an explicit tag (`[n] EXPLICIT T`).
    pub fn explicit(&self, field: &str) -> Result<Tlv<'a>, Broken> {
        if !self.constructed {
            return Err(self.broken(field, "an explicit tag that is not constructed"));
        }
        read_whole(self.data, self.content_offset, field)
    }

    /// An INTEGER that fits in an `i64`.
    pub fn integer(&self, field: &str) -> Result<i64, Broken> {
        self.expect_universal(2, field, "an INTEGER")?;
        signed(self.data).ok_or_else(|| self.broken(field, "an INTEGER of no or too many bytes"))
    }

    /// An ENUMERATED value.
    pub fn enumerated(&self, field: &str) -> Result<i64, Broken> {
        self.expect_universal(10, field, "an ENUMERATED")?;
        signed(self.data).ok_or_else(|| self.broken(field, "an ENUMERATED of no or too many bytes"))
    }

    /// The content of an OCTET STRING.
    pub fn octets(&self, field: &str) -> Result<&'a [u8], Broken> {
        self.expect_universal(4, field, "an OCTET STRING")?;
        if self.constructed {
            return Err(self.broken(field, "a constructed OCTET STRING (not DER)"));
        }
        Ok(self.data)
    }

    /// The bits of a BIT STRING, the first bit as the highest bit of the result (up to 32).
    pub fn bits(&self, field: &str) -> Result<u32, Broken> {
        self.expect_universal(3, field, "a BIT STRING")?;
        let Some((unused, bytes)) = self.data.split_first() else {
            return Err(self.broken(field, "an empty BIT STRING"));
        };
        if *unused > 7 {
            return Err(self.broken(field, format!("{unused} unused bits")));
        }
        let mut v: u32 = 0;
        for (i, b) in bytes.iter().take(4).enumerate() {
            v |= u32::from(*b) << (24 - 8 * i);
        }
        Ok(v)
    }

    /// An OBJECT IDENTIFIER in dotted form.
    pub fn oid(&self, field: &str) -> Result<String, Broken> {
        self.expect_universal(6, field, "an OBJECT IDENTIFIER")?;
        if self.data.is_empty() || self.data.last().is_some_and(|b| b & 0x80 != 0) {
            return Err(self.broken(field, "a malformed OBJECT IDENTIFIER"));
        }
        Ok(Oid::new(std::borrow::Cow::Borrowed(self.data)).to_id_string())
    }

    /// A KerberosString (GeneralString, IA5 in practice) as text.
    pub fn string(&self, field: &str) -> Result<String, Broken> {
        if self.class != Class::Universal || !matches!(self.tag, 12 | 19 | 22 | 27) {
            return Err(self.broken(
                field,
                format!("expected a string, found {}", self.tag_name()),
            ));
        }
        Ok(String::from_utf8_lossy(self.data).into_owned())
    }

    /// A KerberosTime (GeneralizedTime `YYYYMMDDHHMMSSZ`) as RFC 3339 text.
    pub fn time(&self, field: &str) -> Result<String, Broken> {
        self.expect_universal(24, field, "a GeneralizedTime")?;
        let s = std::str::from_utf8(self.data).unwrap_or("");
        let ok =
            s.len() == 15 && s.ends_with('Z') && s.bytes().take(14).all(|b| b.is_ascii_digit());
        if !ok {
            return Err(self.broken(
                field,
                format!("not a KerberosTime: {:?}", crate::util::clip(s, 40)),
            ));
        }
        let p = |a: usize, b: usize| s.get(a..b).unwrap_or("");
        Ok(format!(
            "{}-{}-{}T{}:{}:{}Z",
            p(0, 4),
            p(4, 6),
            p(6, 8),
            p(8, 10),
            p(10, 12),
            p(12, 14)
        ))
    }
}

/// Most values read inside one constructed value: far above any real Kerberos message.
const MAX_CHILDREN: usize = 512;

/// A big-endian two's complement integer of 1 to 8 bytes.
fn signed(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    let mut v: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        -1
    } else {
        0
    };
    for b in bytes {
        v = (v << 8) | i64::from(*b);
    }
    Some(v)
}

/// The fields of a SEQUENCE whose members are all context-tagged (`[0] …, [1] …`), by tag.
pub(super) struct Fields<'a> {
    members: Vec<Tlv<'a>>,
    /// Where the sequence is, for a missing field's message.
    offset: usize,
    /// The path of the sequence.
    path: String,
}

impl<'a> Fields<'a> {
    /// The context-tagged members of `seq` (a SEQUENCE), reporting errors under `path`.
    pub fn of(seq: &Tlv<'a>, path: &str) -> Result<Self, Broken> {
        let members = seq.sequence(path)?;
        if let Some(m) = members.iter().find(|m| m.class != Class::ContextSpecific) {
            return Err(m.broken(
                path,
                format!("a member tagged {} (expected [n])", m.tag_name()),
            ));
        }
        Ok(Fields {
            members,
            offset: seq.offset,
            path: path.to_string(),
        })
    }

    /// The path of a field of this sequence.
    pub fn path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.path)
        }
    }

    /// The value inside `[tag]`, if present.
    pub fn get(&self, tag: u32, name: &str) -> Option<Result<Tlv<'a>, Broken>> {
        self.members
            .iter()
            .find(|m| m.tag == tag)
            .map(|m| m.explicit(&self.path(name)))
    }

    /// The value inside `[tag]`, which must be present.
    pub fn need(&self, tag: u32, name: &str) -> Result<Tlv<'a>, Broken> {
        self.get(tag, name).unwrap_or_else(|| {
            Err(Broken {
                field: self.path(name),
                offset: self.offset,
                message: format!("missing (no [{tag}] member)"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_with_their_offsets_and_errors_name_the_field() {
        // SEQUENCE { [0] INTEGER 5, [1] GeneralString "A" }
        let bytes = [
            0x30, 0x0a, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x03, 0x1b, 0x01, 0x41,
        ];
        let seq = read_whole(&bytes, 0, "x").unwrap();
        let f = Fields::of(&seq, "x").unwrap();
        assert_eq!(f.need(0, "pvno").unwrap().integer("x/pvno").unwrap(), 5);
        let s = f.need(1, "realm").unwrap();
        assert_eq!(s.content_offset, 11);
        assert_eq!(s.string("x/realm").unwrap(), "A");
        let e = f.need(2, "sname").unwrap_err();
        assert_eq!(e.to_string(), "x/sname at byte 0: missing (no [2] member)");
        let e = read_whole(&bytes[..8], 0, "ticket").unwrap_err();
        assert!(
            e.to_string().starts_with("ticket at byte 0: truncated"),
            "{e}"
        );
        assert_eq!(signed(&[0xff, 0x7b]), Some(-133));
        assert_eq!(signed(&[0x00, 0x80]), Some(128));
    }
}
