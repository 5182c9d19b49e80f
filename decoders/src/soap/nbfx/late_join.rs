//! Decoding an MC-NBFSE (`msbinsession1`) message captured in the middle of a session, without
//! the earlier messages: infer how many strings the session already held, reserve their ids, and
//! decode again so this message's own strings get the ids the sender gave them. Used by
//! [`super::decode_standalone`]; not responsible for real session tracking (see
//! [`super::Session`]).

use super::{Framing, NbfxDocument};

/// Most strings a mid-session message may be inferred to follow (bounds the priming table).
const MAX_EARLIER_STRINGS: u32 = 16_384;

/// For an MC-NBFSE message captured in the middle of a session: how many strings the session
/// held before it. A decoder that joins late numbers the message's own string table 1, 3, 5 …,
/// but the sender numbered it after every earlier string, so those ids would resolve to the
/// wrong names. The encoder only sends strings the message uses, so the highest odd id the
/// message references is the last string of its own table: earlier = (max + 1) / 2 − table
/// length. `None` when the message references nothing beyond its own table.
pub(super) fn earlier_session_strings(doc: &NbfxDocument) -> Option<u32> {
    if doc.framing != Framing::MsbinSession1 || doc.string_table.is_empty() {
        return None;
    }
    let own = u32::try_from(doc.string_table.len()).ok()?;
    let max = doc
        .unknown_dictionary_ids
        .iter()
        .copied()
        .filter(|id| id % 2 == 1)
        .max()?;
    let earlier = (max.saturating_add(1) / 2).checked_sub(own)?;
    (earlier > 0 && earlier <= MAX_EARLIER_STRINGS).then_some(earlier)
}

/// An MC-NBFSE message whose string table holds `n` placeholder strings `dict_0x1`, `dict_0x3`
/// … and whose body is one empty element: decoding it reserves ids 1 … 2n−1 in a session.
pub(super) fn priming_message(n: u32) -> Vec<u8> {
    fn mbi31(out: &mut Vec<u8>, mut v: usize) {
        loop {
            let low = (v & 0x7F) as u8;
            v >>= 7;
            if v == 0 {
                out.push(low);
                break;
            }
            out.push(low | 0x80);
        }
    }
    let mut table = Vec::new();
    for i in 0..n {
        let s = format!("dict_0x{:X}", 2 * i + 1);
        mbi31(&mut table, s.len());
        table.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::with_capacity(table.len() + 8);
    mbi31(&mut out, table.len());
    out.extend_from_slice(&table);
    // ShortElement "x", EndElement.
    out.extend_from_slice(&[0x40, 0x01, b'x', 0x01]);
    out
}

/// The distinct placeholder ids (`dict_0x..`) below `2 * earlier` that occur in `xml`, in order
/// of first use (at most 64).
pub(super) fn placeholder_ids(xml: &str, earlier: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for (i, _) in xml.match_indices("dict_0x") {
        let hex: String = xml
            .get(i + 7..)
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .take(8)
            .collect();
        if let Ok(id) = u32::from_str_radix(&hex, 16)
            && id < earlier.saturating_mul(2)
            && !out.contains(&id)
        {
            out.push(id);
            if out.len() >= 64 {
                break;
            }
        }
    }
    out
}
