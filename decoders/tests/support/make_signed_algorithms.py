#!/usr/bin/env python3
"""Generates the XML-DSig samples of decoders/tests/data/dsig/algorithms/ with independent
implementations, for the algorithms and key sizes deployed IdPs use beyond RSA-SHA256 on 2,048
bits:

* RSA-PSS (RFC 6931 `sha256-rsa-MGF1` ...), ECDSA on P-256/P-384/P-521 (`r||s` values), RSA
  PKCS#1 v1.5 with SHA-224 and with 1,024-bit keys: signed by Python signxml (on lxml and
  `cryptography`) and checked by signxml's own verifier;
* Canonical XML 1.1 with `xml:base`, `xml:lang`, `xml:space` and `xml:id` on omitted ancestors
  (where 1.1 and 1.0 differ): signed by hand over libxml2's C14N 1.1 output (lxml exposes only
  1.0 and exclusive; signxml canonicalizes "1.1" with 1.0), and `c14n11_vectors.json`, libxml2's
  C14N 1.1 output for a set of documents and subsets.

Everything is synthetic: fresh keys and self-signed certificates on every run. Only PUBLIC
material (certificates) and signed documents are written; private keys stay in memory.

Usage: make_signed_algorithms.py OUTDIR

Needs signxml 4.x or 5.x, cryptography, lxml, and libxml2 (libxml2.so.2) for ctypes.
"""

import base64
import ctypes
import hashlib
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, XMLVerifier
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_signed import make_cert, output_dir  # noqa: E402

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
DS = "http://www.w3.org/2000/09/xmldsig#"
ASSERTION_ID = "_7a1f3c5e-2b4d-4e6f-8a9b-0c1d2e3f4a5b"

ASSERTION = """<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-11-01T10:00:00Z">
    <saml:Issuer>https://idp.contoso.test/</saml:Issuer>
    <saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@contoso.test</saml:NameID></saml:Subject>
    <saml:Conditions NotBefore="2026-11-01T09:55:00Z" NotOnOrAfter="2026-11-01T11:00:00Z"><saml:AudienceRestriction><saml:Audience>urn:example:sp</saml:Audience></saml:AudienceRestriction></saml:Conditions>
  </saml:Assertion>"""


class AnySigner(XMLSigner):
    """signxml refuses SHA-1 and some methods by default; the samples need them."""

    def check_deprecated_methods(self):
        pass


def verify_with_signxml(text, cert_pem):
    from signxml import SignatureConfiguration

    config = SignatureConfiguration(
        signature_methods=frozenset(SignatureMethod), digest_algorithms=frozenset(DigestAlgorithm)
    )
    XMLVerifier().verify(text.encode(), x509_cert=cert_pem, expect_references=1, expect_config=config)


def sign_assertion(key, cert, method, digest):
    signer = AnySigner(signature_algorithm=method, digest_algorithm=digest, c14n_algorithm=EXC_C14N)
    root = etree.fromstring(ASSERTION.format(id=ASSERTION_ID))
    signed = signer.sign(root, key=key, cert=[cert], reference_uri="#" + ASSERTION_ID)
    return etree.tostring(signed, encoding="unicode")


# libxml2's Canonical XML 1.1 through ctypes (mode XML_C14N_1_1 = 2).
_lib = ctypes.CDLL("libxml2.so.2")
_lib.xmlReadMemory.restype = ctypes.c_void_p
_lib.xmlReadMemory.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
_lib.xmlXPathNewContext.restype = ctypes.c_void_p
_lib.xmlXPathNewContext.argtypes = [ctypes.c_void_p]
_lib.xmlXPathRegisterNs.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
_lib.xmlXPathEvalExpression.restype = ctypes.c_void_p
_lib.xmlXPathEvalExpression.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
_lib.xmlC14NDocDumpMemory.restype = ctypes.c_int
_lib.xmlC14NDocDumpMemory.argtypes = [
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.POINTER(ctypes.c_void_p),
]


class _XPathObject(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("nodesetval", ctypes.c_void_p)]


def libxml2_c14n11(text, apex_id=None, exclude_signature=False, with_comments=False, apex_xpath=None):
    """libxml2's C14N 1.1 of the subtree of the element whose ID/Id is `apex_id` (or the node
    selected by `apex_xpath`, or the whole document), minus every ds:Signature subtree when
    `exclude_signature` (the enveloped-signature transform)."""
    data = text.encode()
    doc = _lib.xmlReadMemory(data, len(data), None, None, 0)
    if not doc:
        raise ValueError("libxml2 could not parse the document")
    ctx = _lib.xmlXPathNewContext(doc)
    _lib.xmlXPathRegisterNs(ctx, b"ds", DS.encode())
    nodes = "(//. | //@* | //namespace::*)"
    conditions = []
    if apex_id is not None:
        conditions.append(f"ancestor-or-self::*[@ID='{apex_id}' or @Id='{apex_id}']")
    if apex_xpath is not None:
        conditions.append(f"ancestor-or-self::{apex_xpath}")
    if exclude_signature:
        conditions.append("not(ancestor-or-self::ds:Signature)")
    if conditions:
        nodes += "[" + " and ".join(conditions) + "]"
    obj = _lib.xmlXPathEvalExpression(nodes.encode(), ctx)
    nodeset = _XPathObject.from_address(obj).nodesetval
    out = ctypes.c_void_p()
    n = _lib.xmlC14NDocDumpMemory(doc, nodeset, 2, None, int(with_comments), ctypes.byref(out))
    if n < 0:
        raise ValueError("libxml2 C14N 1.1 failed")
    return ctypes.string_at(out, n)


C14N11_DOC = """<doc xmlns="urn:example:signed" xml:base="http://idp.example/base/" xml:lang="en" xml:id="d0">
  <wrapper xml:base="sub/" xml:space="preserve">
    <Payload ID="_p1" xml:base="leaf"><Subject>alice@contoso.test</Subject>@SIG@</Payload>
  </wrapper>
</doc>"""


def sign_c14n11(key, cert):
    """An enveloped rsa-sha256 signature whose reference and SignedInfo are canonicalized with
    C14N 1.1 by libxml2; the omitted ancestors carry xml:base/lang/space/id, so a verifier that
    applies C14N 1.0 rules computes other octets."""
    placeholder = f'<ds:Signature xmlns:ds="{DS}"></ds:Signature>'
    octets = libxml2_c14n11(C14N11_DOC.replace("@SIG@", placeholder), apex_id="_p1", exclude_signature=True)
    digest = base64.b64encode(hashlib.sha256(octets).digest()).decode()
    signed_info = (
        f'<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{C14N11}"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        '<ds:Reference URI="#_p1"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        f'<ds:Transform Algorithm="{C14N11}"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
    )
    cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    signature = (
        f'<ds:Signature xmlns:ds="{DS}">{signed_info}<ds:SignatureValue>@VALUE@</ds:SignatureValue>'
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data>"
        "</ds:KeyInfo></ds:Signature>"
    )
    text = C14N11_DOC.replace("@SIG@", signature)
    si_octets = libxml2_c14n11(text, apex_xpath="ds:SignedInfo")
    value = key.sign(si_octets, padding.PKCS1v15(), hashes.SHA256())
    return text.replace("@VALUE@", base64.b64encode(value).decode()), octets, si_octets


C14N11_CASES = [
    # (name, document key, apex ID or None for the whole document, exclude ds:Signature, comments)
    ("xmlbase_nested_apex", "BASE", "e1", False, False),
    ("xmlbase_apex_without_own_base", "BASE", "f1", False, False),
    ("xmlbase_relative_chain", "RELATIVE", "d1", False, False),
    ("xmlbase_whole_document", "BASE", None, False, False),
    ("xmlbase_whole_document_comments", "BASE", None, False, True),
    ("xml_attributes_inherited_and_not", "XMLATTRS", "in1", False, False),
    ("xml_attributes_inherited_comments", "XMLATTRS", "in1", False, True),
    ("signed_payload_minus_signature", "SIGNED", "_p1", True, False),
]

C14N11_DOCS = {
    "BASE": """<!-- top -->
<r xmlns="urn:r" xmlns:p="urn:p" xml:base="http://h.example/a/b/c/d;p?q" p:x="1">
  <m xml:base="../m/"><!-- in m --><e Id="e1" xml:base="e/./f/../g">t<p:k xml:base="/abs/"/></e></m>
  <n><f Id="f1"><g/></f></n>
</r>""",
    "RELATIVE": """<a xml:base="foo/bar"><b xml:base=".."><c xml:base=".."><d Id="d1" xml:base="x">z</d></c></b></a>""",
    "XMLATTRS": """<r xml:id="outer" xml:lang="fr" xml:space="preserve" xml:foo="bar"><s xml:lang="de"><in Id="in1" xml:id="inner"><!-- c --><t xml:lang="en"/></in></s></r>""",
}


def c14n11_vectors(signed_text):
    docs = dict(C14N11_DOCS)
    docs["SIGNED"] = signed_text
    vectors = []
    for name, key, apex, exclude, comments in C14N11_CASES:
        text = docs[key]
        out = libxml2_c14n11(text, apex_id=apex, exclude_signature=exclude, with_comments=comments)
        vectors.append(
            {
                "name": name,
                "input": text,
                "apex_id": apex,
                "exclude_signature": exclude,
                "with_comments": comments,
                "expected": out.decode("utf-8"),
            }
        )
    return vectors


def main():
    out = output_dir(__doc__)
    if out is None:
        return 2

    keys = {
        "rsa2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),
        "ec_p256": ec.generate_private_key(ec.SECP256R1()),
        "ec_p384": ec.generate_private_key(ec.SECP384R1()),
        "ec_p521": ec.generate_private_key(ec.SECP521R1()),
    }
    certs = {}
    for name, key in keys.items():
        _, cert = make_cert(f"Algorithm test signer {name}", key=key)
        certs[name] = cert
        (out / f"{name}_cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    # (file, key, signature method, digest, RSA bits below 2,048 or None)
    samples = [
        ("rsa2048_pss_sha256.xml", "rsa2048", SignatureMethod.SHA256_RSA_MGF1, DigestAlgorithm.SHA256, None),
        ("rsa2048_pss_sha512.xml", "rsa2048", SignatureMethod.SHA512_RSA_MGF1, DigestAlgorithm.SHA512, None),
        ("rsa2048_pss_sha224.xml", "rsa2048", SignatureMethod.SHA224_RSA_MGF1, DigestAlgorithm.SHA224, None),
        ("rsa1024_pss_sha256.xml", "rsa1024", SignatureMethod.SHA256_RSA_MGF1, DigestAlgorithm.SHA256, 1024),
        ("rsa2048_sha224.xml", "rsa2048", SignatureMethod.RSA_SHA224, DigestAlgorithm.SHA224, None),
        ("rsa1024_sha256.xml", "rsa1024", SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256, 1024),
        ("rsa1024_sha384.xml", "rsa1024", SignatureMethod.RSA_SHA384, DigestAlgorithm.SHA384, 1024),
        ("rsa1024_sha1.xml", "rsa1024", SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1, 1024),
        ("ecdsa_p256_sha256.xml", "ec_p256", SignatureMethod.ECDSA_SHA256, DigestAlgorithm.SHA256, None),
        ("ecdsa_p256_sha512.xml", "ec_p256", SignatureMethod.ECDSA_SHA512, DigestAlgorithm.SHA512, None),
        ("ecdsa_p384_sha384.xml", "ec_p384", SignatureMethod.ECDSA_SHA384, DigestAlgorithm.SHA384, None),
        ("ecdsa_p521_sha512.xml", "ec_p521", SignatureMethod.ECDSA_SHA512, DigestAlgorithm.SHA512, None),
    ]
    manifest = []
    for file, key_name, method, digest, weak in samples:
        text = sign_assertion(keys[key_name], certs[key_name], method, digest)
        pem = certs[key_name].public_bytes(serialization.Encoding.PEM)
        verify_with_signxml(text, pem)
        (out / file).write_text(text, encoding="utf-8")
        manifest.append(
            {
                "file": file,
                "cert": f"{key_name}_cert.pem",
                "signature_method": method.value,
                "digest_method": digest.value,
                "weak_rsa_bits": weak,
            }
        )

    signed, octets, si_octets = sign_c14n11(keys["rsa2048"], certs["rsa2048"])
    # The reference octets differ from what C14N 1.0 rules give: the sample tests 1.1.
    assert b'xml:base="http://idp.example/base/sub/leaf"' in octets, octets
    assert b"xml:id" not in octets, octets
    (out / "c14n11_enveloped.xml").write_text(signed, encoding="utf-8")
    manifest.append(
        {
            "file": "c14n11_enveloped.xml",
            "cert": "rsa2048_cert.pem",
            "signature_method": SignatureMethod.RSA_SHA256.value,
            "digest_method": DigestAlgorithm.SHA256.value,
            "weak_rsa_bits": None,
        }
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "c14n11_vectors.json").write_text(
        json.dumps(c14n11_vectors(signed), indent=1) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(manifest)} signed samples, {len(certs)} certificates and c14n11_vectors.json to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
