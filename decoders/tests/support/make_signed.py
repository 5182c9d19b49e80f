#!/usr/bin/env python3
"""Generates the XML-DSig interop samples in decoders/tests/data/dsig/ with an independent
implementation (Python signxml on lxml), so the Rust verifier is checked against someone else's
canonicalization and signing, not only against itself.

Everything is synthetic: a fresh RSA key and a self-signed certificate are created on every run.
Only PUBLIC material (certificates) and signed documents are written; the private key stays in
memory and is discarded.

Usage: make_signed.py OUTDIR

Works with signxml 4.x and 5.x. SHA-1 is refused by signxml's default configuration, so a small
subclass re-enables it for the rsa-sha1 samples (old ADFS still sends them).
"""

import datetime
import json
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner, XMLVerifier

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
DS = "http://www.w3.org/2000/09/xmldsig#"
IMMUTABLE_ID = "lHh/rEL830q6/mStDnD4uw=="


class LegacySigner(XMLSigner):
    """signxml refuses SHA-1 by default; old ADFS farms still sign with it."""

    def check_deprecated_methods(self):
        pass


def make_cert(common_name, not_before=None, not_after=None, key=None):
    """A self-signed end-entity certificate for `key` (a fresh 2048-bit RSA key unless given),
    valid 2026–2036 unless the validity is given; returns (key, certificate)."""
    not_before = not_before or datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    not_after = not_after or datetime.datetime(2036, 1, 1, tzinfo=datetime.timezone.utc)
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


SAML11 = """<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" MinorVersion="1" AssertionID="_9f1e5b0c-4c1d-4e8a-a1f2-3b4c5d6e7f80" Issuer="http://sts.contoso.test/adfs/services/trust/" IssueInstant="2026-11-01T10:00:00.000Z">
  <saml:Conditions NotBefore="2026-11-01T10:00:00.000Z" NotOnOrAfter="2026-11-01T11:00:00.000Z">
    <saml:AudienceRestrictionCondition><saml:Audience>urn:federation:MicrosoftOnline</saml:Audience></saml:AudienceRestrictionCondition>
  </saml:Conditions>
  <saml:AttributeStatement>
    <saml:Subject>
      <saml:NameIdentifier Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">{nameid}</saml:NameIdentifier>
      <saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Attribute AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims"><saml:AttributeValue>alice@contoso.test</saml:AttributeValue></saml:Attribute>
    <saml:Attribute AttributeName="ImmutableID" AttributeNamespace="http://schemas.microsoft.com/LiveID/Federation/2008/05"><saml:AttributeValue>{nameid}</saml:AttributeValue></saml:Attribute>
  </saml:AttributeStatement>
  <saml:AuthenticationStatement AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password" AuthenticationInstant="2026-11-01T09:59:58.123Z">
    <saml:Subject>
      <saml:NameIdentifier Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">{nameid}</saml:NameIdentifier>
      <saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation>
    </saml:Subject>
  </saml:AuthenticationStatement>
</saml:Assertion>"""

RSTR_HEAD = """<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:Lifetime><wsu:Created xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">2026-11-01T10:00:00.000Z</wsu:Created><wsu:Expires xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">2026-11-01T11:00:00.000Z</wsu:Expires></t:Lifetime><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><t:RequestedSecurityToken>"""
RSTR_TAIL = """</t:RequestedSecurityToken><t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType><t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType><t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType></t:RequestSecurityTokenResponse>"""

SAML2_ASSERTION = """<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{id}" Version="2.0" IssueInstant="2026-11-01T10:00:00Z">
    <saml:Issuer>https://idp.contoso.test/</saml:Issuer>
    <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"></ds:Signature>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{nameid}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="_req42" NotOnOrAfter="2026-11-01T10:05:00Z" Recipient="https://login.microsoftonline.com/login.srf"/></saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="2026-11-01T09:55:00Z" NotOnOrAfter="2026-11-01T11:00:00Z"><saml:AudienceRestriction><saml:Audience>urn:federation:MicrosoftOnline</saml:Audience></saml:AudienceRestriction></saml:Conditions>
    <saml:AttributeStatement>
      <saml:Attribute Name="IDPEmail"><saml:AttributeValue xsi:type="xs:string">{upn}</saml:AttributeValue></saml:Attribute>
    </saml:AttributeStatement>
    <saml:AuthnStatement AuthnInstant="2026-11-01T09:59:58Z" SessionIndex="_sess1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
  </saml:Assertion>"""

RESPONSE = """<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp-7c1e" Version="2.0" IssueInstant="2026-11-01T10:00:00Z" Destination="https://login.microsoftonline.com/login.srf" InResponseTo="_req42">
  <saml:Issuer>https://idp.contoso.test/</saml:Issuer>{extensions}
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  {assertions}
</samlp:Response>
"""

ASSERTION_ID = "_a75adf55-01d7-4b1d-8c0e-5f3a2b1c9d04"


def serialize(el):
    return etree.tostring(el, encoding="unicode")


def sign_saml11(key, cert, alg, digest):
    signer_cls = LegacySigner if alg == "rsa-sha1" else XMLSigner
    signer = signer_cls(signature_algorithm=alg, digest_algorithm=digest, c14n_algorithm=EXC_C14N)
    root = etree.fromstring(SAML11.format(nameid=IMMUTABLE_ID))
    signed = signer.sign(
        root,
        key=key,
        cert=[cert],
        reference_uri="#" + root.get("AssertionID"),
        id_attribute="AssertionID",
    )
    return serialize(signed)


def sign_saml2_assertion(key, cert, alg, digest, upn="alice@contoso.test"):
    signer_cls = LegacySigner if alg == "rsa-sha1" else XMLSigner
    signer = signer_cls(signature_algorithm=alg, digest_algorithm=digest, c14n_algorithm=EXC_C14N)
    root = etree.fromstring(SAML2_ASSERTION.format(id=ASSERTION_ID, nameid=IMMUTABLE_ID, upn=upn))
    signed = signer.sign(root, key=key, cert=[cert], reference_uri="#" + ASSERTION_ID)
    return serialize(signed)


PLACEHOLDER = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"></ds:Signature>'


def sign_saml2_prefixlist(key, cert, prefixes):
    """Signs by hand with libxml2's exclusive canonicalization and an InclusiveNamespaces
    PrefixList on both the Reference transform and SignedInfo. signxml 4.5 writes no
    InclusiveNamespaces element into the Reference transform while using the list for the digest,
    so its output does not verify anywhere (its own verifier included); this path avoids it."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.asymmetric import padding

    text = SAML2_ASSERTION.format(id=ASSERTION_ID, nameid=IMMUTABLE_ID, upn="alice@contoso.test")
    unsigned = etree.fromstring(text.replace(PLACEHOLDER, "").encode())
    octets = etree.tostring(unsigned, method="c14n", exclusive=True, inclusive_ns_prefixes=prefixes)
    digest = base64.b64encode(hashlib.sha256(octets).digest()).decode()
    plist = f'<ec:InclusiveNamespaces xmlns:ec="{EXC_C14N}" PrefixList="{" ".join(prefixes)}"/>'
    signed_info = (
        f'<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC_C14N}">{plist}</ds:CanonicalizationMethod>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        f'<ds:Reference URI="#{ASSERTION_ID}"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        f'<ds:Transform Algorithm="{EXC_C14N}">{plist}</ds:Transform></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
    )
    cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    signature = (
        f'<ds:Signature xmlns:ds="{DS}">{signed_info}<ds:SignatureValue>@SIG@</ds:SignatureValue>'
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data>"
        "</ds:KeyInfo></ds:Signature>"
    )
    with_sig = text.replace(PLACEHOLDER, signature)
    tree = etree.fromstring(with_sig.encode())
    si = tree.find(f".//{{{DS}}}SignedInfo")
    si_octets = etree.tostring(si, method="c14n", exclusive=True, inclusive_ns_prefixes=prefixes)
    sig = key.sign(si_octets, padding.PKCS1v15(), hashes.SHA256())
    return with_sig.replace("@SIG@", base64.b64encode(sig).decode())


def check(xml_text, cert_pem, id_attribute=None):
    """The independent verifier must accept what we wrote (guards the generator itself)."""
    verifier = XMLVerifier()
    kwargs = {"x509_cert": cert_pem, "expect_references": 1}
    if id_attribute:
        kwargs["id_attribute"] = id_attribute
    # signxml 4 refuses SHA-1 on verify unless told which algorithms to accept.
    try:
        from signxml import SignatureConfiguration, SignatureMethod, DigestAlgorithm

        kwargs["expect_config"] = SignatureConfiguration(
            signature_methods=frozenset(SignatureMethod),
            digest_algorithms=frozenset(DigestAlgorithm),
        )
    except ImportError:
        pass
    verifier.verify(xml_text.encode(), **kwargs)


C14N_CASES = [
    # (name, document, ID of the apex element or None for the document element, exclusive,
    #  with_comments, InclusiveNamespaces prefixes)
    ("saml2_assertion_exc", "SAML2", ASSERTION_ID, True, False, None),
    ("saml2_assertion_exc_prefix_xs", "SAML2", ASSERTION_ID, True, False, ["xs"]),
    ("saml2_assertion_exc_prefix_default", "SAML2", ASSERTION_ID, True, False, ["#default", "xsi"]),
    ("saml2_assertion_inclusive", "SAML2", ASSERTION_ID, False, False, None),
    ("saml11_in_rstr_exc", "RSTR", "_9f1e5b0c-4c1d-4e8a-a1f2-3b4c5d6e7f80", True, False, None),
    ("saml11_in_rstr_inclusive", "RSTR", "_9f1e5b0c-4c1d-4e8a-a1f2-3b4c5d6e7f80", False, False, None),
    ("pushdown_exc", "PUSHDOWN", "inner", True, False, None),
    ("pushdown_exc_comments", "PUSHDOWN", "inner", True, True, None),
    # lxml canonicalizes an element subtree without importing the xml:* attributes of its
    # ancestors (C14N 1.0 section 2.4 requires that; a hand-checked unit test covers it), so
    # the inclusive subtree cases use a copy of the document without xml:lang.
    ("pushdown_inclusive", "PUSHDOWN_NOLANG", "inner", False, False, None),
    ("pushdown_inclusive_comments", "PUSHDOWN_NOLANG", "inner", False, True, None),
    ("pushdown_whole_exc", "PUSHDOWN", None, True, False, None),
    ("pushdown_whole_exc_comments", "PUSHDOWN", None, True, True, None),
    ("escaping_exc", "ESCAPING", None, True, False, None),
    ("default_ns_exc", "DEFAULTNS", "d1", True, False, None),
    ("default_ns_inclusive", "DEFAULTNS", "d1", False, False, None),
    ("default_ns_undeclared_exc", "DEFAULTNS", "d2", True, False, None),
    ("default_ns_undeclared_inclusive", "DEFAULTNS", "d2", False, False, None),
]

C14N_DOCS = {
    "PUSHDOWN": """<?xml version="1.0"?>
<!-- before -->
<a:root xmlns:a="urn:a" xmlns:b="urn:b" xmlns:unused="urn:unused" xmlns="urn:default" xml:lang="en" a:attr="1">
  <b:mid b:z="z" a:y="y" plain="p" xmlns:c="urn:c">
    <a:inner xmlns:b="urn:b" c:q="q" zz="2" aa="1" Id="inner"><!-- inside -->text<empty/><b:leaf/></a:inner>
  </b:mid>
</a:root>
<!-- after -->""",
    "ESCAPING": """<doc attr="a&amp;b &lt; &gt; &quot; &#9; &#10; &#13; '" other='single "quoted"'>text &amp; &lt; &gt; " ' &#13; &#9;
line<![CDATA[ <cdata> & ]]>&#x20AC;<?pi  data ?></doc>""",
    "DEFAULTNS": """<r xmlns="urn:outer"><d1 Id="d1" xmlns="urn:d1"><x/><y xmlns=""><z/></y></d1><q xmlns=""><d2 Id="d2"><e xmlns="urn:e"/></d2></q></r>""",
}


def c14n_vectors():
    """Expected outputs from libxml2's canonicalizer (through lxml): a second independent
    implementation for the exact byte rules, including InclusiveNamespaces PrefixList."""
    docs = dict(C14N_DOCS)
    docs["PUSHDOWN_NOLANG"] = docs["PUSHDOWN"].replace(' xml:lang="en"', "")
    docs["SAML2"] = SAML2_ASSERTION.format(id=ASSERTION_ID, nameid=IMMUTABLE_ID, upn="alice@contoso.test")
    docs["RSTR"] = RSTR_HEAD + SAML11.format(nameid=IMMUTABLE_ID) + RSTR_TAIL
    vectors = []
    for name, doc_key, apex_id, exclusive, comments, prefixes in C14N_CASES:
        text = docs[doc_key]
        parser = etree.XMLParser(resolve_entities=False, remove_blank_text=False)
        tree = etree.fromstring(text.encode(), parser).getroottree()
        if apex_id is None:
            target = tree
        else:
            found = tree.xpath("//*[@ID=$i or @AssertionID=$i or @Id=$i]", i=apex_id)
            target = found[0]
        out = etree.tostring(
            target,
            method="c14n",
            exclusive=exclusive,
            with_comments=comments,
            inclusive_ns_prefixes=prefixes,
        )
        vectors.append(
            {
                "name": name,
                "input": text,
                "apex_id": apex_id,
                "exclusive": exclusive,
                "with_comments": comments,
                "prefixes": prefixes or [],
                "expected": out.decode("utf-8"),
            }
        )
    return vectors


def output_dir(usage):
    """The one command-line argument, the output directory (created); None after printing
    `usage` when the arguments are wrong."""
    if len(sys.argv) != 2:
        print(usage, file=sys.stderr)
        return None
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    return out


def main():
    out = output_dir(__doc__)
    if out is None:
        return 2

    key, cert = make_cert("ADFS Signing - sts.contoso.test")
    _other_key, other = make_cert("Evil Signing - attacker.test")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (out / "signing_cert.pem").write_bytes(cert_pem)
    (out / "signing_cert.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (out / "untrusted_cert.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))

    files = {}
    for alg, digest in (("rsa-sha256", "sha256"), ("rsa-sha1", "sha1")):
        tag = alg.replace("-", "_")
        # SAML 1.1 in a WS-Trust RSTR (the wresult of a WS-Fed passive sign-in).
        assertion = sign_saml11(key, cert, alg, digest)
        check(assertion, cert_pem, "AssertionID")
        files[f"saml11_{tag}.xml"] = RSTR_HEAD + assertion + RSTR_TAIL
        # SAML 2.0 Response with an assertion-level signature (placed after Issuer).
        assertion2 = sign_saml2_assertion(key, cert, alg, digest)
        check(assertion2, cert_pem)
        files[f"saml2_response_{tag}.xml"] = RESPONSE.format(extensions="", assertions=assertion2)

    # exc-c14n with an InclusiveNamespaces PrefixList (xs is used only inside xsi:type content).
    prefixed = sign_saml2_prefixlist(key, cert, ["xs"])
    files["saml2_response_prefixlist.xml"] = RESPONSE.format(extensions="", assertions=prefixed)

    signed2 = sign_saml2_assertion(key, cert, "rsa-sha256", "sha256")
    evil_plain = SAML2_ASSERTION.format(
        id="_evil", nameid="AAAAAAAAAAAAAAAAAAAAAA==", upn="admin@contoso.test"
    ).replace(PLACEHOLDER, "")
    # Signature wrapping: the signed assertion is moved into Extensions, an unsigned one is shown.
    files["saml2_wrapped.xml"] = RESPONSE.format(
        extensions="\n  <samlp:Extensions>" + signed2 + "</samlp:Extensions>", assertions=evil_plain
    )
    # Duplicate IDs: the evil assertion reuses the signed assertion's ID and comes first.
    files["saml2_duplicate_id.xml"] = RESPONSE.format(
        extensions="", assertions=evil_plain.replace('ID="_evil"', f'ID="{ASSERTION_ID}"') + "\n  " + signed2
    )
    # Comment truncation: a comment inside NameIdentifier does not change the exc-c14n digest.
    commented = files["saml11_rsa_sha256.xml"].replace(
        IMMUTABLE_ID + "</saml:NameIdentifier>", "lHh/rEL830q6<!-- truncated -->/mStDnD4uw==</saml:NameIdentifier>", 1
    )
    files["saml11_comment_nameid.xml"] = commented

    (out / "c14n_vectors.json").write_text(json.dumps(c14n_vectors(), indent=1) + "\n", encoding="utf-8")
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} signed samples and 3 certificate files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
