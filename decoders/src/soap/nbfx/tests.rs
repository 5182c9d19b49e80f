//! Tests of the `nbfx` module as a whole: the decoder adapter, realistic AAD Connect provisioning
//! messages in both encoder styles, NBFSE sessions, malformed inputs with exact offsets, caps,
//! and bounded fuzzing. Record-level spec examples live in `reader/`, encoder details in
//! `writer.rs`.

use std::time::{Duration, Instant, UNIX_EPOCH};

use base64::Engine as _;

use super::*;
use crate::{Decoder, Severity, Trust};

const C: &str = "http://schemas.microsoft.com/online/aws/change/2010/01";

/// A synthetic but realistically sized access token (~1.5 KB) for `https://graph.windows.net`.
fn jwt() -> String {
    let b64 = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let header = br#"{"typ":"JWT","alg":"RS256","x5t":"KQ2tAcrE7lBaViGmAWmSd3iAd2Y","kid":"KQ2tAcrE7lBaViGmAWmSd3iAd2Y"}"#;
    let claims = concat!(
        r#"{"aud":"https://graph.windows.net","iss":"https://sts.windows.net/8a1f5c2e-3b4d-4e6f-9a0b-1c2d3e4f5a6b/","#,
        r#""iat":1700000000,"nbf":1700000000,"exp":1700003599,"acr":"1","#,
        r#""aio":"E2ZgYJjZsHb3rP9m7LqV2x1Xw8nK4cT6yU0iO5pA3sD9fG2hJ7kL1zX4cV8bN6mQ2wE5rT9yU3iO7pA1sD4fG8hJ2kL6zX0cV=","#,
        r#""amr":["pwd"],"appid":"1b730954-1685-4b74-9bfd-dac224a7b894","appidacr":"0","#,
        r#""idtyp":"user","ipaddr":"203.0.113.7","name":"On-Premises Directory Synchronization Service Account","#,
        r#""oid":"4f9c7e2a-1d3b-4c5e-8f6a-7b8c9d0e1f2a","puid":"10032002A1B2C3D4","#,
        r#""rh":"0.AXkAXFw_ih0-bk6aCxwtPk9aawIAAAAAAAAAwAAAAAAAAAB5ABc.","scp":"user_impersonation","#,
        r#""sub":"pQr7sT9uV1wX3yZ5aB7cD9eF1gH3iJ5kL7mN9oP1qR3","tenant_region_scope":"EU","#,
        r#""tid":"8a1f5c2e-3b4d-4e6f-9a0b-1c2d3e4f5a6b","#,
        r#""unique_name":"Sync_DC01_0a1b2c3d4e5f@contoso.onmicrosoft.com","#,
        r#""upn":"Sync_DC01_0a1b2c3d4e5f@contoso.onmicrosoft.com","uti":"x7Yz9AbCdEfGhIjKlMnOpQ","ver":"1.0","#,
        r#""wids":["d29b2b05-8046-44ba-8758-1e26182fcf32","b79fbf4d-3ef9-4689-8143-76b194e85509"]}"#
    );
    let sig: Vec<u8> = (0..256u32).map(|i| (i * 131 + 7) as u8).collect();
    format!("{}.{}.{}", b64(header), b64(claims.as_bytes()), b64(&sig))
}

/// The GetCompanyConfiguration request of protocols.md §3.2, indented as a person would write it.
fn get_company_configuration() -> String {
    let jwt = jwt();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
  <s:Header>
    <a:Action s:mustUnderstand="1">{C}/IProvisioningWebService/GetCompanyConfiguration</a:Action>
    <SyncToken s:role="urn:microsoft.online.administrativeservice" xmlns="urn:microsoft.online.administrativeservice" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <ApplicationId xmlns="{C}">1651564e-7ce4-4d99-88be-0a65050d8dc3</ApplicationId>
      <BearerToken xmlns="{C}">{jwt}</BearerToken>
      <ClientVersion xmlns="{C}">8.0</ClientVersion>
      <DirSyncBuildNumber xmlns="{C}">2.2.8.0</DirSyncBuildNumber>
      <FIMBuildNumber xmlns="{C}">2.2.8.0</FIMBuildNumber>
      <IsInstalledOnDC xmlns="{C}">False</IsInstalledOnDC>
      <IssueDateTime xmlns="{C}">0001-01-01T00:00:00</IssueDateTime>
      <LanguageId xmlns="{C}">en-US</LanguageId>
      <LiveToken xmlns="{C}"/>
      <ProtocolVersion xmlns="{C}">2.0</ProtocolVersion>
      <RichCoexistenceEnabled xmlns="{C}">False</RichCoexistenceEnabled>
      <TrackingId xmlns="{C}">5b1f0a7e-2c3d-4e5f-8a9b-0c1d2e3f4a5b</TrackingId>
    </SyncToken>
    <a:MessageID>urn:uuid:5b1f0a7e-2c3d-4e5f-8a9b-0c1d2e3f4a5b</a:MessageID>
    <a:ReplyTo>
      <a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address>
    </a:ReplyTo>
    <a:To s:mustUnderstand="1">https://adminwebservice.microsoftonline.com/provisioningservice.svc</a:To>
  </s:Header>
  <s:Body>
    <GetCompanyConfiguration xmlns="{C}">
      <includeLicenseInformation>false</includeLicenseInformation>
    </GetCompanyConfiguration>
  </s:Body>
</s:Envelope>
"#
    )
}

/// A ProvisionAzureADSyncObjects-style object with every value type of protocols.md §3.3.
fn sync_object() -> String {
    let photo: Vec<u8> = (0..2000u32).map(|i| (i * 7 + i / 13) as u8).collect();
    let photo = crate::util::b64_std(&photo);
    format!(
        r#"<b:AzureADSyncObject xmlns:b="http://schemas.microsoft.com/online/aws/change/2014/06" xmlns:c="http://schemas.microsoft.com/2003/10/Serialization/Arrays" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:d="http://www.w3.org/2001/XMLSchema">
  <b:PropertyValues>
    <c:KeyValueOfstringanyType><c:Key>SourceAnchor</c:Key><c:Value i:type="d:string">lHh/rEL830q6/mStDnD4uw==</c:Value></c:KeyValueOfstringanyType>
    <c:KeyValueOfstringanyType><c:Key>accountEnabled</c:Key><c:Value i:type="d:boolean">true</c:Value></c:KeyValueOfstringanyType>
    <c:KeyValueOfstringanyType><c:Key>countryCode</c:Key><c:Value i:type="d:long">578</c:Value></c:KeyValueOfstringanyType>
    <c:KeyValueOfstringanyType><c:Key>thumbnailPhoto</c:Key><c:Value i:type="d:base64Binary">{photo}</c:Value></c:KeyValueOfstringanyType>
    <c:KeyValueOfstringanyType><c:Key>proxyAddresses</c:Key><c:Value i:type="c:ArrayOfstring"><c:string>SMTP:alice@contoso.com</c:string><c:string>smtp:alice@contoso.onmicrosoft.com</c:string></c:Value></c:KeyValueOfstringanyType>
    <c:KeyValueOfstringanyType><c:Key>userCertificate</c:Key><c:Value i:type="c:ArrayOfbase64Binary"><c:base64Binary>MIIBszCCAVmgAwIBAgIUQ2hlY2sgbWUgb3V0IQ==</c:base64Binary></c:Value></c:KeyValueOfstringanyType>
    <c:KeyValueOfstringanyType><c:Key>CloudAnchor</c:Key><c:Value i:nil="true"/></c:KeyValueOfstringanyType>
    <c:KeyValueOfstringanyType><c:Key>displayName</c:Key><c:Value i:type="d:string">Alice &amp; "Bob" &lt;ops&gt;</c:Value></c:KeyValueOfstringanyType>
  </b:PropertyValues>
  <b:SyncObjectType>User</b:SyncObjectType>
  <b:SyncOperation>Add</b:SyncOperation>
</b:AzureADSyncObject>"#
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn decode_xml(bytes: &[u8]) -> String {
    match decode(bytes, &DecodeOptions::default()) {
        Ok(doc) => {
            assert!(doc.unknown_dictionary_ids.is_empty());
            assert!(
                doc.undeclared_prefixes.is_empty(),
                "{:?}",
                doc.undeclared_prefixes
            );
            doc.xml
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn both_styles_of_get_company_configuration_decode_to_the_same_xml() {
    let xml = get_company_configuration();
    let normal = normalize(&xml).unwrap();
    let xmldoc = encode(&xml, Style::XmlDocument).unwrap();
    let dcs = encode(&xml, Style::DataContract).unwrap();
    assert_ne!(xmldoc, dcs);
    assert!(
        xmldoc.starts_with(&[0x56, 0x02, 0x0B]),
        "msbin1 sniff bytes"
    );
    assert_eq!(decode_xml(&xmldoc), normal);
    assert_eq!(decode_xml(&dcs), normal);
    // Normal form is a fixed point.
    assert_eq!(normalize(&normal).unwrap(), normal);
    assert_eq!(
        decode_xml(&encode(&normal, Style::XmlDocument).unwrap()),
        normal
    );

    // The bearer token is long enough for Chars16, in both styles (odd form for DCS).
    let jwt = jwt();
    assert!((1000..2500).contains(&jwt.len()), "{}", jwt.len());
    let len = u16::try_from(jwt.len()).unwrap().to_le_bytes();
    assert!(contains(&xmldoc, &[0x9A, len[0], len[1]]));
    assert!(contains(&dcs, &[0x9B, len[0], len[1]]));
    // XmlDocument style: everything is chars; "1" is Chars8 and closes with an EndElement.
    assert!(contains(&xmldoc, &[0x1E, 0x00, 0x98, 0x01, b'1']));
    assert!(contains(&xmldoc, b"\x98\x05false\x01"));
    // DataContract style: typed records.
    assert!(
        contains(&dcs, &[0x1E, 0x00, 0x82]),
        "OneText for mustUnderstand"
    );
    assert!(contains(&dcs, &[0x85]), "FalseTextWithEndElement");
    assert!(
        contains(&dcs, &[0xAD, 0x7E, 0x0A, 0x1F, 0x5B]),
        "UniqueId MessageID"
    );
    assert!(
        contains(&dcs, &[0xB1, 0x7E, 0x0A, 0x1F, 0x5B]),
        "Uuid TrackingId"
    );
    assert!(
        contains(&dcs, &[0xAB, 0x14]),
        "anonymous URI as DictionaryText"
    );
    assert!(dcs.len() < xmldoc.len());
}

#[test]
fn both_styles_of_a_sync_object_decode_to_the_same_xml() {
    let xml = sync_object();
    let normal = normalize(&xml).unwrap();
    let xmldoc = encode(&xml, Style::XmlDocument).unwrap();
    let dcs = encode(&xml, Style::DataContract).unwrap();
    assert_eq!(decode_xml(&xmldoc), normal);
    assert_eq!(decode_xml(&dcs), normal);
    assert!(
        normal.contains(r#"<c:Value i:type="d:string">Alice &amp; "Bob" &lt;ops&gt;</c:Value>"#)
    );
    // i:type="d:string" is QNameDictionaryText (prefix d = 3, id 0x396) only in DCS style.
    assert!(contains(&dcs, &[0xBC, 0x03, 0x96, 0x07]));
    assert!(!contains(&xmldoc, &[0xBC, 0x03, 0x96, 0x07]));
    assert!(contains(&xmldoc, b"\x98\x08d:string"));
    // The 2000-byte photo travels as chunked Bytes records: 3 x 512 (Bytes16), then 464.
    assert!(contains(&dcs, &[0xA0, 0x00, 0x02]));
    assert!(contains(&dcs, &[0xA1, 0xD0, 0x01]));
    // i:nil="true" is TrueText, countryCode an Int16.
    assert!(contains(&dcs, &[0x86]));
    assert!(contains(&dcs, &[0x8B, 0x42, 0x02]));
}

#[test]
fn nbfse_session_round_trip_reuses_strings_across_messages() {
    let xml = get_company_configuration();
    let normal = normalize(&xml).unwrap();
    let mut tx = Session::new();
    let first = encode_session(&xml, Style::DataContract, &mut tx).unwrap();
    let second = encode_session(&xml, Style::XmlDocument, &mut tx).unwrap();
    assert_eq!(
        second.first(),
        Some(&0x00),
        "no new strings the second time"
    );
    assert!(second.len() < first.len());

    let mut rx = Session::new();
    let d1 = rx.decode(&first, &DecodeOptions::default()).unwrap();
    let d2 = rx.decode(&second, &DecodeOptions::default()).unwrap();
    assert_eq!(d1.framing, Framing::MsbinSession1);
    assert_eq!(d1.xml, normal);
    assert_eq!(d2.xml, normal);
    assert_eq!(d1.string_table.first(), Some(&(1, "SyncToken".to_string())));
    assert!(d2.string_table.is_empty());
    assert_eq!(rx.len(), tx.len());
    assert!(d2.stats.session_dictionary_hits > 10);

    // A proxy that only saw the second message shows placeholders and says which ids.
    let (doc, err) = Session::new().decode_partial(&second, &DecodeOptions::default());
    assert!(err.is_none());
    assert!(doc.xml.contains("<dict_0x1 s:role="));
    assert!(doc.unknown_dictionary_ids.contains(&1));
}

#[test]
fn failed_session_encoding_leaves_the_session_unchanged() {
    let mut tx = Session::new();
    encode_session("<A><B/></A>", Style::XmlDocument, &mut tx).unwrap();
    assert_eq!(tx.len(), 2);
    let err = encode_session("<C><D>&undefined;</D></C>", Style::XmlDocument, &mut tx);
    assert!(matches!(err, Err(DecodeError::Xml { .. })));
    assert_eq!(tx.len(), 2);
    assert_eq!(tx.id_of("C"), None);
}

#[test]
fn encoder_refuses_doctype_entities_and_processing_instructions() {
    for xml in [
        r#"<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>"#,
        "<a>&x;</a>",
        "<a><?pi data?></a>",
        "<a><b></a>",
        "<a>",
    ] {
        let e = encode(xml, Style::DataContract).unwrap_err();
        assert!(matches!(e, DecodeError::Xml { .. }), "{xml}: {e:?}");
    }
    assert_eq!(
        normalize("<a>&#65;&lt;<![CDATA[<&>]]></a>").unwrap(),
        "<a>A&lt;&lt;&amp;&gt;</a>"
    );
}

#[test]
fn round_trip_covers_escaping_comments_mixed_content_and_attributes() {
    let xml = concat!(
        "<r a=\"x&#9;y&#10;z\" b=\"&quot;q&quot; &amp; &lt;\" xml:lang=\"en\">",
        "<!-- a -- comment -->text <i>in</i> between&#13;<e/><n>-42</n><n>007</n>",
        "<u>AC7F7894-FC42-4ADF-BAFE-64AD0E70F8BB</u><q>s:Sender</q><q>x:notInDictionary</q>",
        "<big>18446744073709551615</big><m>-9223372036854775808</m></r>"
    );
    let normal = normalize(xml).unwrap();
    for style in [Style::XmlDocument, Style::DataContract] {
        assert_eq!(
            decode_xml(&encode(xml, style).unwrap()),
            normal,
            "{style:?}"
        );
    }
    assert!(normal.contains("<!-- a - - comment -->"));
    assert!(normal.contains(r#"a="x&#9;y&#10;z""#));
}

fn cx_decode(msg: &Message<'_>) -> Result<Decoded, DecodeError> {
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH, &trust);
    Nbfx.decode(msg, &cx)
}

#[test]
fn nbfx_decoder_applies_to_msbin_content_types_and_sniffed_bodies() {
    let body = encode(&get_company_configuration(), Style::XmlDocument).unwrap();
    let url = "https://adminwebservice.microsoftonline.com/provisioningservice.svc";
    let ct = |v: &'static str| vec![("Content-Type", v)];
    let msg = Message::request("POST", url, ct("application/soap+msbin1"), &body);
    assert!(Nbfx.priority(&msg) >= 0.9);
    let msg = Message::request("POST", url, ct("application/soap+msbinsession1"), &body);
    assert!(Nbfx.priority(&msg) >= 0.9);
    assert!(Nbfx.priority(&Message::blob(&body)) > 0.5);
    assert_eq!(Nbfx.priority(&Message::blob(b"<s:Envelope/>")), 0.0);
    assert!(crate::Registry::builtin().get("nbfx").is_some());
}

#[test]
fn nbfx_view_shows_summary_markup_and_encoding_stats() {
    let body = encode(&get_company_configuration(), Style::DataContract).unwrap();
    let msg = Message::request(
        "POST",
        "https://adminwebservice.microsoftonline.com/provisioningservice.svc",
        vec![("content-type", "application/soap+msbin1")],
        &body,
    );
    let d = cx_decode(&msg).unwrap();
    assert_eq!(d.decoder, "nbfx");
    assert!(
        d.summary.starts_with("msbin1 SOAP envelope, 3.1 KB → 4.")
            && d.summary
                .ends_with(" XML, action …/GetCompanyConfiguration"),
        "{}",
        d.summary
    );
    let xml = d.root.child("xml").unwrap();
    assert_eq!(xml.kind, Kind::Markup);
    let text = xml.value.as_deref().unwrap();
    assert!(text.contains(
        "\n      <LiveToken xmlns=\"http://schemas.microsoft.com/online/aws/change/2010/01\"/>\n"
    ));
    assert!(
        text.contains("<a:MessageID>urn:uuid:5b1f0a7e-2c3d-4e5f-8a9b-0c1d2e3f4a5b</a:MessageID>")
    );
    assert_eq!(
        d.root.child("action").and_then(|n| n.value.as_deref()),
        Some(
            "http://schemas.microsoft.com/online/aws/change/2010/01/IProvisioningWebService/GetCompanyConfiguration"
        )
    );
    let enc = d.root.child("encoding").unwrap();
    assert!(enc.child("static dictionary hits").is_some());
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

// ---- Malformed input (protocols.md §9 item 21): errors carry the exact offset. ----

fn err_of(bytes: &[u8]) -> DecodeError {
    let opts = DecodeOptions {
        framing: Framing::Msbin1,
        ..DecodeOptions::default()
    };
    decode(bytes, &opts).unwrap_err()
}

#[test]
fn truncated_string_length_is_reported_at_the_length_field() {
    // ShortElement, name length 5, only "ab" present.
    assert_eq!(
        err_of(&[0x40, 0x05, b'a', b'b']),
        DecodeError::Malformed {
            what: "element name",
            offset: 1,
            message: "needs 5 bytes but only 2 are left".into()
        }
    );
    // Chars8Text announcing 5 bytes with 1 left: offset of the length byte.
    assert!(matches!(
        err_of(&[0x40, 0x01, b'a', 0x98, 0x05, b'x']),
        DecodeError::Malformed {
            what: "CharsText",
            offset: 4,
            ..
        }
    ));
    // Chars32Text with a negative length.
    assert!(matches!(
        err_of(&[0x40, 0x01, b'a', 0x9C, 0xFF, 0xFF, 0xFF, 0xFF]),
        DecodeError::Malformed {
            what: "text length",
            offset: 4,
            ..
        }
    ));
}

#[test]
fn six_byte_multibyteint31_is_refused_at_its_first_byte() {
    assert_eq!(
        err_of(&[0x40, 0x01, b'a', 0xAA, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        DecodeError::Malformed {
            what: "MultiByteInt31",
            offset: 4,
            message: "longer than 5 bytes".into()
        }
    );
    assert!(matches!(
        err_of(&[0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        DecodeError::Malformed {
            what: "MultiByteInt31",
            offset: 1,
            ..
        }
    ));
}

#[test]
fn reserved_record_0x7f_is_refused_and_the_view_keeps_the_partial_xml() {
    let bytes = [0x40, 0x01, b'a', 0x40, 0x01, b'b', 0x7F];
    assert_eq!(
        err_of(&bytes),
        DecodeError::Malformed {
            what: "record",
            offset: 6,
            message: "reserved record type 0x7F".into()
        }
    );
    for rt in [0x00u8, 0x78, 0xA5, 0xA7, 0xBE, 0xFF] {
        assert!(
            matches!(
                err_of(&[0x40, 0x01, b'a', rt]),
                DecodeError::Malformed { offset: 3, .. }
            ),
            "0x{rt:02X}"
        );
    }
    let msg = Message::blob(&bytes);
    let d = cx_decode(&msg).unwrap();
    assert_eq!(d.worst(), Some(Severity::Error));
    assert!(
        d.findings[0].message.contains("at byte 6"),
        "{:?}",
        d.findings
    );
    assert!(d.root.child("xml (partial)").is_some());
    // Nothing decoded at all: the decoder fails instead.
    assert!(cx_decode(&Message::blob(&[0x7F])).is_err());
}

#[test]
fn unknown_dictionary_id_renders_a_placeholder_and_is_reported() {
    // <a>[[dict:0x3CE]]</a> and <dict_0x3D0></dict_0x3D0>: ids past the static table's end.
    let doc = decode(
        &[0x40, 0x01, b'a', 0xAB, 0xCE, 0x07, 0x42, 0xD0, 0x07, 0x01],
        &DecodeOptions {
            framing: Framing::Msbin1,
            ..DecodeOptions::default()
        },
    )
    .unwrap();
    assert_eq!(doc.xml, "<a>[[dict:0x3CE]]</a><dict_0x3D0></dict_0x3D0>");
    assert_eq!(doc.unknown_dictionary_ids, vec![0x3CE, 0x3D0]);
    let body = [
        0x56, 0x02, 0x0B, 0x01, 0x73, 0x04, 0x56, 0x0E, 0xAB, 0xCE, 0x07, 0x01,
    ];
    let d = cx_decode(&Message::blob(&body)).unwrap();
    assert_eq!(d.worst(), Some(Severity::Warning));
    assert!(d.findings[0].message.contains("0x3CE"));
}

#[test]
fn structural_errors_name_their_offset() {
    assert!(matches!(
        err_of(&[0x01]),
        DecodeError::Malformed {
            what: "EndElement",
            offset: 0,
            ..
        }
    ));
    assert!(matches!(
        err_of(&[0x40, 0x01, b'a']),
        DecodeError::Malformed {
            what: "document",
            offset: 3,
            ..
        }
    ));
    // A WithEndElement text record as an attribute value.
    assert!(matches!(
        err_of(&[0x40, 0x01, b'a', 0x04, 0x01, b'b', 0x83, 0x01]),
        DecodeError::Malformed {
            what: "attribute value",
            offset: 6,
            ..
        }
    ));
    // An attribute record where content is expected.
    assert!(matches!(
        err_of(&[0x40, 0x01, b'a', 0x98, 0x00, 0x04, 0x01, b'b', 0x82]),
        DecodeError::Malformed {
            what: "record",
            offset: 5,
            ..
        }
    ));
    // A name that would break the markup.
    assert!(matches!(
        err_of(&[0x40, 0x02, b'a', b'<', 0x01]),
        DecodeError::Malformed { offset: 1, .. }
    ));
    // BoolText other than 0/1, QName prefix past 'z'.
    assert!(matches!(
        err_of(&[0x40, 0x01, b'a', 0xB5, 0x02]),
        DecodeError::Malformed { offset: 4, .. }
    ));
    assert!(matches!(
        err_of(&[0x40, 0x01, b'a', 0xBD, 26, 0x02]),
        DecodeError::Malformed { offset: 4, .. }
    ));
    // Array whose packed values run past the end.
    assert!(matches!(
        err_of(&[0x03, 0x40, 0x01, b'a', 0x01, 0x8D, 0x7F, 0x00]),
        DecodeError::Malformed {
            what: "Array",
            offset: 6,
            ..
        }
    ));
    // A string table that claims more bytes than there are.
    let opts = DecodeOptions {
        framing: Framing::MsbinSession1,
        ..DecodeOptions::default()
    };
    assert!(matches!(
        decode(&[0x11, 0x06, b'a'], &opts),
        Err(DecodeError::Malformed {
            what: "StringTable",
            offset: 0,
            ..
        })
    ));
}

#[test]
fn caps_bound_depth_nodes_output_arrays_and_string_tables() {
    let deep: Vec<u8> = std::iter::repeat_n([0x40, 0x01, b'a'], 100)
        .flatten()
        .collect();
    assert_eq!(
        err_of(&deep),
        DecodeError::TooLarge {
            what: "NBFX element depth",
            limit: 64
        }
    );
    let wide: Vec<u8> = std::iter::repeat_n([0x40, 0x01, b'a', 0x01], 50)
        .flatten()
        .collect();
    let small = DecodeOptions {
        limits: Limits {
            max_nodes: 10,
            ..Limits::default()
        },
        ..DecodeOptions::default()
    };
    assert!(matches!(
        decode(&wide, &small),
        Err(DecodeError::TooLarge {
            what: "NBFX node count",
            ..
        })
    ));
    let tiny = DecodeOptions {
        max_output: 20,
        ..DecodeOptions::default()
    };
    assert!(matches!(
        decode(&wide, &tiny),
        Err(DecodeError::TooLarge {
            what: "NBFX XML output",
            ..
        })
    ));
    // An Array of 0x7FFFFFFF bools: refused by the item cap before any expansion.
    let huge = [
        0x03, 0x40, 0x01, b'a', 0x01, 0xB5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07,
    ];
    assert!(matches!(
        err_of(&huge),
        DecodeError::TooLarge {
            what: "NBFX array length",
            ..
        }
    ));
    let table = DecodeOptions {
        framing: Framing::MsbinSession1,
        max_string_table_bytes: 4,
        ..DecodeOptions::default()
    };
    assert!(matches!(
        decode(
            &[0x06, 0x05, b'h', b'e', b'l', b'l', b'o', 0x42, 0x01, 0x01],
            &table
        ),
        Err(DecodeError::TooLarge {
            what: "NBFSE string table",
            ..
        })
    ));
}

#[test]
fn invalid_utf8_and_utf16_are_repaired_and_reported() {
    // Chars8 "a\xFFb", UnicodeChars8 with a lone high surrogate, then an odd UTF-16 length.
    let bytes = [
        0x40, 0x01, b'x', 0x98, 0x03, b'a', 0xFF, b'b', 0xB7, 0x02, 0x00, 0xD8,
    ];
    let doc = decode(&bytes, &DecodeOptions::default()).unwrap();
    assert_eq!(doc.xml, "<x>a\u{FFFD}b\u{FFFD}</x>");
    assert_eq!(doc.stats.lossy_text_records, 2);
    let d = cx_decode(&Message::blob(&bytes)).unwrap();
    assert!(d.has_finding("U+FFFD"));
    assert!(matches!(
        err_of(&[0x40, 0x01, b'x', 0xB7, 0x03, 0x61, 0x00, 0x62]),
        DecodeError::Malformed {
            what: "UnicodeCharsText",
            offset: 4,
            ..
        }
    ));
}

// ---- Fuzz-style: never panic, always finish quickly. ----

/// A number below `n` (0 when `n` is 0), from the seeded generator of the fuzz loop.
fn below(rng: &mut fastrand::Rng, n: usize) -> usize {
    rng.usize(..n.max(1))
}

/// Decodes `bytes` every way; every refusal is a Malformed error at an offset inside `bytes` or a
/// limit. Returns how many of the two plain decodes succeeded.
fn decode_everything(bytes: &[u8], trust: &Trust) -> usize {
    let opts = DecodeOptions {
        indent: true,
        ..DecodeOptions::default()
    };
    let mut ok = 0;
    let checked = |r: Result<(), DecodeError>| match r {
        Ok(()) => 1,
        Err(e) => {
            match &e {
                DecodeError::Malformed {
                    offset, message, ..
                } => {
                    assert!(*offset as usize <= bytes.len(), "{e}");
                    assert!(!message.is_empty(), "{e:?}");
                }
                DecodeError::TooLarge { .. } => {}
                other => panic!("{other:?}"),
            }
            0
        }
    };
    ok += checked(decode(bytes, &opts).map(|_| ()));
    let (_, partial) = Session::new().decode_partial(bytes, &DecodeOptions::default());
    ok += checked(partial.map_or(Ok(()), Err));
    let cx = Context::new(UNIX_EPOCH, trust);
    match Nbfx.decode(&Message::blob(bytes), &cx) {
        Ok(d) => assert!(!d.summary.is_empty()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    ok
}

#[test]
fn random_bytes_and_mutations_decode_or_fail_in_bounds_quickly() {
    let trust = Trust::default();
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    let (mut oks, mut calls) = (0, 0);
    // Random bytes, biased towards record types and small lengths.
    for _ in 0..20_000 {
        let len = below(&mut rng, 48);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match below(&mut rng, 4) {
                0 => 0x40 + below(&mut rng, 0x38) as u8,
                1 => 0x80 + below(&mut rng, 0x3E) as u8,
                2 => below(&mut rng, 8) as u8,
                _ => rng.u64(..) as u8,
            })
            .collect();
        oks += decode_everything(&bytes, &trust);
        calls += 2;
    }
    // Mutations of valid messages in both styles and both framings.
    let seeds = [
        encode(&get_company_configuration(), Style::XmlDocument).unwrap(),
        encode(&get_company_configuration(), Style::DataContract).unwrap(),
        encode(&sync_object(), Style::DataContract).unwrap(),
        encode_session(&sync_object(), Style::DataContract, &mut Session::new()).unwrap(),
    ];
    for i in 0..3_000 {
        let mut m = seeds[i % seeds.len()].clone();
        for _ in 0..1 + below(&mut rng, 4) {
            let at = below(&mut rng, m.len());
            match below(&mut rng, 4) {
                0 => m[at] = rng.u64(..) as u8,
                1 => m[at] ^= 1 << below(&mut rng, 8),
                2 => m.truncate(at),
                _ => m.insert(at, rng.u64(..) as u8),
            }
            if m.is_empty() {
                break;
            }
        }
        oks += decode_everything(&m, &trust);
        calls += 2;
    }
    assert!(oks > 100 && calls - oks > 100, "{oks} of {calls} decoded");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn pathological_inputs_are_rejected_in_bounded_time() {
    let trust = Trust::default();
    let started = Instant::now();
    // A million nested elements, a huge array count, and a long run of EmptyText records.
    let deep: Vec<u8> = std::iter::repeat_n([0x40, 0x01, b'a'], 1_000_000)
        .flatten()
        .collect();
    let too_deep = DecodeError::TooLarge {
        what: "NBFX element depth",
        limit: 64,
    };
    assert_eq!(
        decode(&deep, &DecodeOptions::default()).unwrap_err(),
        too_deep
    );
    let (_, partial) = Session::new().decode_partial(&deep, &DecodeOptions::default());
    assert_eq!(partial, Some(too_deep));
    assert_eq!(decode_everything(&deep, &trust), 0);
    let mut flat = vec![0x40, 0x01, b'a'];
    flat.extend(std::iter::repeat_n(0xA8, 1_000_000));
    flat.push(0x01);
    let doc = decode(
        &flat,
        &DecodeOptions {
            limits: Limits {
                max_nodes: usize::MAX,
                ..Limits::default()
            },
            ..DecodeOptions::default()
        },
    )
    .unwrap();
    assert_eq!(doc.xml, "<a></a>");
    assert_eq!(
        decode(&flat, &DecodeOptions::default()).unwrap_err(),
        DecodeError::TooLarge {
            what: "NBFX node count",
            limit: Limits::default().max_nodes,
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_mid_session_message_decoded_alone_keeps_its_own_names() {
    // A session whose first message added strings the capture never saw.
    let mut sender = Session::new();
    let first = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>\
                 <Earlier xmlns=\"urn:earlier\"><One>1</One><Two>2</Two></Earlier></s:Body></s:Envelope>";
    let second = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>\
                  <FinalizeExport xmlns=\"urn:later\"><totalExported>5</totalExported></FinalizeExport>\
                  </s:Body></s:Envelope>";
    let _ = encode_session(first, Style::XmlDocument, &mut sender).unwrap();
    let bytes = encode_session(second, Style::XmlDocument, &mut sender).unwrap();
    let opts = DecodeOptions {
        framing: Framing::MsbinSession1,
        ..DecodeOptions::default()
    };

    // Decoded as if the session started here, the message's own strings take the wrong ids.
    let naive = decode(&bytes, &opts).unwrap();
    assert!(!naive.xml.contains("<FinalizeExport"), "{}", naive.xml);

    let alone = decode_standalone(&bytes, &opts).unwrap();
    assert!(
        alone.xml.contains("<FinalizeExport xmlns=\"urn:later\">"),
        "{}",
        alone.xml
    );
    assert!(
        alone.xml.contains("<totalExported>5</totalExported>"),
        "{}",
        alone.xml
    );
    assert!(alone.earlier_session_strings.is_some_and(|n| n > 0));
}
