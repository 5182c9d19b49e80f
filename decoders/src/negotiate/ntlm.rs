//! NTLM messages (MS-NLMP §2.2): NEGOTIATE (type 1), CHALLENGE (type 2) and AUTHENTICATE
//! (type 3), with the negotiate flags by name, the version (Windows build), the target info AV
//! pairs, and the NTLMv2 response structure. Findings: NTLMv1 and LM responses, no MIC, no
//! channel binding (EPA), anonymous authentication.
//!
//! The little-endian structures are read here with a bounded reader: every payload field is an
//! (length, offset) pair checked against the message's end before it is read, so a field past
//! the end is an error naming it, never a read out of bounds.

use super::Out;
use super::der::Broken;
use crate::util;
use crate::view::{Finding, Kind, Node};

/// The signature every NTLM message starts with.
pub(super) const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// The negotiate flags, by bit.
const FLAGS: &[(u32, &str)] = &[
    (0x0000_0001, "NEGOTIATE_UNICODE"),
    (0x0000_0002, "NEGOTIATE_OEM"),
    (0x0000_0004, "REQUEST_TARGET"),
    (0x0000_0010, "NEGOTIATE_SIGN"),
    (0x0000_0020, "NEGOTIATE_SEAL"),
    (0x0000_0040, "NEGOTIATE_DATAGRAM"),
    (0x0000_0080, "NEGOTIATE_LM_KEY"),
    (0x0000_0200, "NEGOTIATE_NTLM"),
    (0x0000_0800, "ANONYMOUS"),
    (0x0000_1000, "NEGOTIATE_OEM_DOMAIN_SUPPLIED"),
    (0x0000_2000, "NEGOTIATE_OEM_WORKSTATION_SUPPLIED"),
    (0x0000_8000, "NEGOTIATE_ALWAYS_SIGN"),
    (0x0001_0000, "TARGET_TYPE_DOMAIN"),
    (0x0002_0000, "TARGET_TYPE_SERVER"),
    (0x0008_0000, "NEGOTIATE_EXTENDED_SESSIONSECURITY"),
    (0x0010_0000, "NEGOTIATE_IDENTIFY"),
    (0x0040_0000, "REQUEST_NON_NT_SESSION_KEY"),
    (0x0080_0000, "NEGOTIATE_TARGET_INFO"),
    (0x0200_0000, "NEGOTIATE_VERSION"),
    (0x2000_0000, "NEGOTIATE_128"),
    (0x4000_0000, "NEGOTIATE_KEY_EXCH"),
    (0x8000_0000, "NEGOTIATE_56"),
];

const UNICODE: u32 = 0x0000_0001;
const LM_KEY: u32 = 0x0000_0080;
const ANONYMOUS: u32 = 0x0000_0800;
const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
const VERSION: u32 = 0x0200_0000;

/// The message type of an NTLM message, if `bytes` is one.
pub(super) fn message_type(bytes: &[u8]) -> Option<u32> {
    let rest = bytes.strip_prefix(SIGNATURE)?;
    rest.first_chunk::<4>().map(|b| u32::from_le_bytes(*b))
}

/// The little-endian `u16` at `at`, or 0 past the end.
fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<2>())
        .map_or(0, |c| u16::from_le_bytes(*c))
}

/// The little-endian `u32` at `at`, or 0 past the end.
fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<4>())
        .map_or(0, |c| u32::from_le_bytes(*c))
}

/// The little-endian `u64` at `at`, or 0 past the end.
fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<8>())
        .map_or(0, |c| u64::from_le_bytes(*c))
}

/// The byte at `at`, or 0 past the end.
fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// A bounded little-endian reader over one NTLM message.
struct Msg<'a> {
    bytes: &'a [u8],
    /// Where the message starts in the token, for error offsets.
    base: usize,
}

impl<'a> Msg<'a> {
    fn broken(&self, field: &str, at: usize, message: impl Into<String>) -> Broken {
        Broken {
            field: field.to_string(),
            offset: self.base + at,
            message: message.into(),
        }
    }

    fn fixed(&self, at: usize, len: usize, field: &str) -> Result<&'a [u8], Broken> {
        self.bytes.get(at..at.saturating_add(len)).ok_or_else(|| {
            self.broken(
                field,
                at,
                format!(
                    "truncated: the message is {} bytes, the field needs {}",
                    self.bytes.len(),
                    at.saturating_add(len)
                ),
            )
        })
    }

    fn u32(&self, at: usize, field: &str) -> Result<u32, Broken> {
        let b = self.fixed(at, 4, field)?;
        Ok(le32(b, 0))
    }

    /// A payload field: the (length, max length, offset) triple at `at`, then the bytes it
    /// points to, which must lie inside the message.
    fn payload(&self, at: usize, field: &str) -> Result<&'a [u8], Broken> {
        let d = self.fixed(at, 8, field)?;
        let len = usize::from(le16(d, 0));
        let offset = le32(d, 4) as usize;
        if len == 0 {
            return Ok(&[]);
        }
        self.bytes
            .get(offset..offset.saturating_add(len))
            .ok_or_else(|| {
                self.broken(
                    field,
                    at,
                    format!(
                        "its {len} bytes at offset {offset} run past the end of the {}-byte \
                         message",
                        self.bytes.len()
                    ),
                )
            })
    }

    /// The offset a non-empty payload field at `at` points to.
    fn payload_offset(&self, at: usize) -> Option<usize> {
        let d = self.bytes.get(at..at + 8)?;
        let len = le16(d, 0);
        (len > 0).then(|| le32(d, 4) as usize)
    }
}

/// Text of a name field: UTF-16LE when Unicode was negotiated, else the OEM code page (shown
/// as Latin-1).
fn text(bytes: &[u8], unicode: bool) -> String {
    if unicode {
        let units: Vec<u16> = (0..bytes.len() / 2).map(|i| le16(bytes, 2 * i)).collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|b| char::from(*b)).collect()
    }
}

/// Explains an NTLM message at `offset` of the token.
pub(super) fn message(bytes: &[u8], offset: usize, out: &mut Out) -> Node {
    let msg = Msg {
        bytes,
        base: offset,
    };
    let ty = message_type(bytes).unwrap_or(0);
    let (label, name) = match ty {
        1 => ("NTLM NEGOTIATE", "NEGOTIATE (type 1)"),
        2 => ("NTLM CHALLENGE", "CHALLENGE (type 2)"),
        3 => ("NTLM AUTHENTICATE", "AUTHENTICATE (type 3)"),
        _ => ("NTLM", "unknown message type"),
    };
    let mut n = Node::section(label);
    out.facts.mechanism.get_or_insert("NTLM");
    out.facts
        .message
        .get_or_insert_with(|| format!("NTLM {name}"));
    n.push(Node::field("MessageType", format!("{ty}")).with_note(name));
    let r = match ty {
        1 => negotiate(&msg, &mut n, out),
        2 => challenge(&msg, &mut n, out),
        3 => authenticate(&msg, &mut n, out),
        _ => Err(msg.broken("MessageType", 8, format!("{ty} is not 1, 2 or 3"))),
    };
    if let Err(b) = r {
        out.broken(&mut n, label, &b);
    }
    n
}

fn flags_node(flags: u32) -> Node {
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    let mut n = Node::field("NegotiateFlags", format!("0x{flags:08x}"));
    for name in names {
        n.push(Node::text("set", name));
    }
    n
}

/// The VERSION structure (8 bytes at `at`), shown when NEGOTIATE_VERSION is set.
fn version(msg: &Msg<'_>, at: usize, flags: u32, n: &mut Node, out: &mut Out) {
    if flags & VERSION == 0 {
        return;
    }
    let Ok(v) = msg.fixed(at, 8, "Version") else {
        return;
    };
    let build = le16(v, 2);
    let text = format!("{}.{}.{build}", byte(v, 0), byte(v, 1));
    let mut node = Node::field("Version", text.clone());
    node.note = Some(format!(
        "{}; NTLM revision {}",
        windows_name(byte(v, 0), byte(v, 1), build),
        byte(v, 7)
    ));
    out.facts.version.get_or_insert(text);
    n.push(node);
}

/// The Windows release of a version and build number.
fn windows_name(major: u8, minor: u8, build: u16) -> &'static str {
    match (major, minor, build) {
        (5, 1, _) => "Windows XP",
        (5, 2, _) => "Windows Server 2003",
        (6, 0, _) => "Windows Vista / Server 2008",
        (6, 1, _) => "Windows 7 / Server 2008 R2",
        (6, 2, _) => "Windows 8 / Server 2012",
        (6, 3, _) => "Windows 8.1 / Server 2012 R2",
        (10, 0, 14393) => "Windows 10 1607 / Server 2016",
        (10, 0, 17763) => "Windows 10 1809 / Server 2019",
        (10, 0, 20348) => "Windows Server 2022",
        (10, 0, 19041..=19045) => "Windows 10 (2004 – 22H2)",
        (10, 0, 22000..=22631) => "Windows 11 (21H2 – 23H2)",
        (10, 0, 26100) => "Windows 11 24H2 / Server 2025",
        (10, 0, b) if b >= 22000 => "Windows 11 or later",
        (10, 0, _) => "Windows 10 / Server 2016 or later",
        _ => "not a Windows version idscope knows (another NTLM implementation?)",
    }
}

fn negotiate(msg: &Msg<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    n.note = Some("the client's opening: the features it supports".into());
    let flags = msg.u32(12, "NegotiateFlags")?;
    n.push(flags_node(flags));
    // Type 1 names are always OEM.
    for (at, field) in [(16, "DomainName"), (24, "Workstation")] {
        if msg.bytes.len() >= at + 8 {
            let v = msg.payload(at, field)?;
            if !v.is_empty() {
                let t = text(v, false);
                n.push(Node::field(field, t.clone()));
                if at == 16 {
                    out.facts.domain.get_or_insert(t);
                } else {
                    out.facts.workstation.get_or_insert(t);
                }
            }
        }
    }
    version(msg, 32, flags, n, out);
    lm_key(flags, out);
    Ok(())
}

fn challenge(msg: &Msg<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    n.note = Some("the server's challenge and who it is (target info)".into());
    let flags = msg.u32(20, "NegotiateFlags")?;
    let target = msg.payload(12, "TargetName")?;
    n.push(flags_node(flags));
    let name = text(target, flags & UNICODE != 0);
    n.push(Node::field("TargetName", name.clone()).with_note("the server's domain or name"));
    out.facts.domain.get_or_insert(name);
    let ch = msg.fixed(24, 8, "ServerChallenge")?;
    n.push(
        Node::field("ServerChallenge", util::hex_lower(ch)).with_note(
            "the nonce the client's response answers (public; with a captured response it lets an \
         attacker try passwords offline)",
        ),
    );
    if msg.bytes.len() >= 48 {
        let info = msg.payload(40, "TargetInfo")?;
        if !info.is_empty() {
            let at = msg.payload_offset(40).unwrap_or(0);
            n.push(av_pairs(info, msg.base + at, "TargetInfo", out));
        }
    }
    version(msg, 48, flags, n, out);
    lm_key(flags, out);
    Ok(())
}

fn lm_key(flags: u32, out: &mut Out) {
    if flags & LM_KEY != 0 && flags & EXTENDED_SESSION_SECURITY == 0 {
        out.findings.push(
            Finding::warning(
                "NTLM NEGOTIATE_LM_KEY without extended session security: the session key \
                 derives from the LM hash (weak)",
            )
            .at(out.at.clone()),
        );
    }
}

/// What the AV pairs of a target info or an NTLMv2 response say.
#[derive(Default)]
struct AvFacts {
    mic: bool,
    channel_bindings: Option<bool>,
    target_name: Option<String>,
}

fn av_pairs(bytes: &[u8], offset: usize, label: &str, out: &mut Out) -> Node {
    let (node, _) = av_pairs_facts(bytes, offset, label, out);
    node
}

fn av_pairs_facts(bytes: &[u8], offset: usize, label: &str, out: &mut Out) -> (Node, AvFacts) {
    let mut n = Node::section(label).with_note("AV pairs (MS-NLMP 2.2.2.1)");
    let mut facts = AvFacts::default();
    let mut at = 0usize;
    let mut count = 0;
    loop {
        let Some(h) = bytes.get(at..at + 4) else {
            if at < bytes.len() {
                out.broken(
                    &mut n,
                    "NTLM",
                    &Broken {
                        field: format!("{label}/AV pair"),
                        offset: offset + at,
                        message: "truncated AV pair header".into(),
                    },
                );
            }
            break;
        };
        let id = le16(h, 0);
        let len = usize::from(le16(h, 2));
        if id == 0 {
            break;
        }
        count += 1;
        let Some(v) = bytes.get(at + 4..at + 4 + len).filter(|_| count <= 64) else {
            out.broken(
                &mut n,
                "NTLM",
                &Broken {
                    field: format!("{label}/AV pair {id}"),
                    offset: offset + at,
                    message: format!("its {len} bytes run past the end of the AV pair list"),
                },
            );
            break;
        };
        n.push(av_pair(id, v, &mut facts));
        at += 4 + len;
    }
    (n, facts)
}

fn av_pair(id: u16, v: &[u8], facts: &mut AvFacts) -> Node {
    let name = match id {
        1 => "MsvAvNbComputerName",
        2 => "MsvAvNbDomainName",
        3 => "MsvAvDnsComputerName",
        4 => "MsvAvDnsDomainName",
        5 => "MsvAvDnsTreeName",
        6 => "MsvAvFlags",
        7 => "MsvAvTimestamp",
        8 => "MsvAvSingleHost",
        9 => "MsvAvTargetName",
        10 => "MsvAvChannelBindings",
        _ => "unknown AV pair",
    };
    match id {
        1..=5 => Node::field(name, text(v, true)),
        9 => {
            let spn = text(v, true);
            facts.target_name = Some(spn.clone());
            Node::field(name, spn).with_note("the SPN the client means to authenticate to")
        }
        6 => {
            let flags = v.first_chunk::<4>().map_or(0, |b| u32::from_le_bytes(*b));
            facts.mic = flags & 0x2 != 0;
            let mut names = Vec::new();
            for (bit, what) in [
                (0x1, "account authentication constrained"),
                (0x2, "MIC present"),
                (0x4, "SPN from an untrusted source"),
            ] {
                if flags & bit != 0 {
                    names.push(what);
                }
            }
            Node::field(name, format!("0x{flags:08x} {}", names.join(", ")))
        }
        7 => match v.first_chunk::<8>().map(|b| u64::from_le_bytes(*b)) {
            Some(ft) => {
                // FILETIME: 100 ns ticks since 1601-01-01.
                let secs = (ft / 10_000_000) as i64 - 11_644_473_600;
                Node::leaf(name, util::format_epoch(secs), Kind::Timestamp)
                    .with_note(format!("FILETIME {ft}"))
            }
            None => Node::leaf(name, "shorter than 8 bytes", Kind::Error),
        },
        10 => {
            let zero = v.iter().all(|b| *b == 0);
            facts.channel_bindings = Some(!zero);
            Node::field(name, util::hex_lower(v)).with_note(if zero {
                "all zeros: no channel binding"
            } else {
                "MD5 of the TLS channel bindings (tls-server-end-point): Extended Protection"
            })
        }
        _ => Node::field(format!("{name} {id}"), format!("{} bytes", v.len())),
    }
}

fn authenticate(msg: &Msg<'_>, n: &mut Node, out: &mut Out) -> Result<(), Broken> {
    n.note = Some("the client's answer: who it is and its response to the challenge".into());
    let flags = msg.u32(60, "NegotiateFlags")?;
    let unicode = flags & UNICODE != 0;
    let lm = msg.payload(12, "LmChallengeResponse")?;
    let nt = msg.payload(20, "NtChallengeResponse")?;
    let domain = text(msg.payload(28, "DomainName")?, unicode);
    let user = text(msg.payload(36, "UserName")?, unicode);
    let workstation = text(msg.payload(44, "Workstation")?, unicode);
    let session_key = msg.payload(52, "EncryptedRandomSessionKey")?;
    n.push(flags_node(flags));
    n.push(Node::field("DomainName", domain.clone()));
    n.push(Node::field("UserName", user.clone()));
    n.push(Node::field("Workstation", workstation.clone()));
    out.facts.domain = Some(domain.clone());
    out.facts.user = Some(user.clone());
    out.facts.workstation = Some(workstation);
    version(msg, 64, flags, n, out);
    // The MIC sits after the version when the payload starts late enough to leave room for it.
    let payload_start = [12, 20, 28, 36, 44, 52]
        .iter()
        .filter_map(|at| msg.payload_offset(*at))
        .min()
        .unwrap_or(msg.bytes.len());
    if payload_start >= 88
        && let Ok(mic) = msg.fixed(72, 16, "MIC")
    {
        n.push(Node::secret("MIC", util::hex_lower(mic)).with_note(
            "HMAC-MD5 over the three messages under the session key: tampering is detected",
        ));
    }
    let anonymous = user.is_empty() && nt.is_empty() && (lm.is_empty() || lm == [0]);
    let v2 = nt.len() > 24;
    if !lm.is_empty() {
        let zero = lm.iter().all(|b| *b == 0);
        let note = if v2 {
            if zero {
                "LMv2 response: zeros (sent when the MsvAvTimestamp is present)"
            } else {
                "LMv2 response"
            }
        } else if flags & EXTENDED_SESSION_SECURITY != 0
            && lm.get(8..).is_some_and(|r| r.iter().all(|b| *b == 0))
        {
            "the client challenge of an NTLMv1 response with extended session security (NTLM2 session response)"
        } else {
            "LM response: DES of the password's LM hash"
        };
        n.push(
            Node::secret("LmChallengeResponse", util::hex_lower(lm))
                .with_note(format!("{} bytes; {note}", lm.len())),
        );
    }
    let mut facts = AvFacts::default();
    if !nt.is_empty() {
        let at = msg.base + msg.payload_offset(20).unwrap_or(0);
        let mut r = Node::secret("NtChallengeResponse", util::hex_lower(nt));
        if v2 {
            r.note = Some(format!("{} bytes: an NTLMv2 response", nt.len()));
            let (children, f) = ntlmv2(nt, at, out);
            r.children = children;
            facts = f;
        } else {
            r.note = Some(format!("{} bytes: an NTLMv1 response", nt.len()));
        }
        n.push(r);
    }
    if !session_key.is_empty() {
        n.push(
            Node::secret("EncryptedRandomSessionKey", util::hex_lower(session_key))
                .with_note("the session key, encrypted with the key the response derives"),
        );
    }
    out.facts.ntlm_v2 = Some(v2);
    authenticate_findings(flags, lm, nt, anonymous, v2, &facts, out);
    Ok(())
}

/// The NTLMv2 response (MS-NLMP 2.2.2.8): NTProofStr and the client challenge blob.
fn ntlmv2(nt: &[u8], offset: usize, out: &mut Out) -> (Vec<Node>, AvFacts) {
    let mut v = vec![
        Node::secret("NTProofStr", util::hex_lower(nt.get(..16).unwrap_or(&[])))
            .with_note("HMAC-MD5 of the challenges under the NTLMv2 hash of the password"),
    ];
    let blob = nt.get(16..).unwrap_or(&[]);
    if blob.len() < 28 {
        v.push(Node::leaf(
            "NTLMv2_CLIENT_CHALLENGE",
            "shorter than 28 bytes",
            Kind::Error,
        ));
        out.findings.push(
            Finding::error(format!(
                "NTLM AUTHENTICATE: field NtChallengeResponse/NTLMv2_CLIENT_CHALLENGE at byte {}: \
                 truncated ({} bytes, at least 28 needed)",
                offset + 16,
                blob.len()
            ))
            .at(out.at.clone()),
        );
        return (v, AvFacts::default());
    }
    v.push(Node::field(
        "RespType",
        format!("{} / {}", byte(blob, 0), byte(blob, 1)),
    ));
    let ft = le64(blob, 8);
    let secs = (ft / 10_000_000) as i64 - 11_644_473_600;
    v.push(Node::leaf(
        "TimeStamp",
        util::format_epoch(secs),
        Kind::Timestamp,
    ));
    v.push(Node::field(
        "ChallengeFromClient",
        util::hex_lower(blob.get(16..24).unwrap_or(&[])),
    ));
    let (pairs, facts) = av_pairs_facts(
        blob.get(28..).unwrap_or(&[]),
        offset + 16 + 28,
        "AvPairs",
        out,
    );
    v.push(pairs);
    (v, facts)
}

#[allow(clippy::too_many_arguments)]
fn authenticate_findings(
    flags: u32,
    lm: &[u8],
    nt: &[u8],
    anonymous: bool,
    v2: bool,
    av: &AvFacts,
    out: &mut Out,
) {
    let at = out.at.clone();
    if anonymous || flags & ANONYMOUS != 0 {
        out.findings.push(
            Finding::info("anonymous NTLM authentication (a null session): no user is proven")
                .at(at),
        );
        return;
    }
    if nt.len() == 24 {
        out.findings.push(
            Finding::error(
                "NTLMv1 response (NtChallengeResponse is 24 bytes): it is cracked or relayed \
                 easily; require NTLMv2 (LmCompatibilityLevel 5, \"Send NTLMv2 response only. \
                 Refuse LM & NTLM\")",
            )
            .at(at.clone()),
        );
        let ess = flags & EXTENDED_SESSION_SECURITY != 0
            && lm.get(8..).is_some_and(|r| r.iter().all(|b| *b == 0));
        if lm.len() == 24 && !ess && lm.iter().any(|b| *b != 0) {
            out.findings.push(
                Finding::error(
                    "LM response sent: DES of the LM hash (an uppercased, 14-character-split \
                     password) is cracked in minutes",
                )
                .at(at.clone()),
            );
        }
    }
    if !v2 {
        return;
    }
    if !av.mic {
        out.findings.push(
            Finding::warning(
                "no MIC (MsvAvFlags does not say one is present): the NTLM messages are not \
                 integrity-protected, so a relay can alter them (e.g. drop the signing flags)",
            )
            .at(at.clone()),
        );
    }
    match av.channel_bindings {
        Some(true) => out.findings.push(
            Finding::info(
                "channel binding present (Extended Protection): it binds the TLS channel the \
                 client saw; through a TLS-intercepting proxy that is the proxy's certificate, \
                 so a server enforcing Extended Protection refuses the authentication",
            )
            .at(at.clone()),
        ),
        _ => out.findings.push(
            Finding::warning(
                "no channel binding (MsvAvChannelBindings absent or zero): no Extended Protection \
                 for Authentication, so the response can be relayed to another TLS server",
            )
            .at(at.clone()),
        ),
    }
    if let Some(spn) = &av.target_name {
        out.facts.service.get_or_insert(spn.clone());
    }
}
