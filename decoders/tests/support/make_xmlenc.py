#!/usr/bin/env python3
"""Generates the XML Encryption samples in decoders/tests/data/xmlenc/generated/ with an
independent implementation (Python's `cryptography` for the ciphers, signxml on lxml for the
signatures), so the Rust decryption is checked against someone else's encryption.

Everything is synthetic: fresh RSA keys, AES key-encryption keys and a self-signed IdP
certificate are made on every run. The SP's decryption keys ARE written (the tests need them to
decrypt); they protect nothing but these samples.

Each sample is a SAML 2.0 Response (or the pieces of one) whose assertion was signed by the IdP
and then encrypted for the SP, in one of the layouts IdPs use:

  oaep_aes128cbc.xml       rsa-oaep-mgf1p (SHA-1) + aes128-cbc, EncryptedKey inline in KeyInfo;
                           the Response is signed too, over the ciphertext
  oaep11_aes256gcm.xml     xmlenc11#rsa-oaep (SHA-256, MGF1-SHA-256) + aes256-gcm, EncryptedKey
                           beside the EncryptedData, found through RetrievalMethod
  oaep11_mixed_aes192gcm.xml  xmlenc11#rsa-oaep (SHA-512 digest, default MGF1-SHA-1) + aes192-gcm,
                           EncryptedKey beside the EncryptedData (the ADFS/Shibboleth layout)
  rsa15_aes256cbc.xml      rsa-1_5 + aes256-cbc, EncryptedKey inline
  kw256_aes256gcm.xml      kw-aes256 + aes256-gcm, EncryptedKey found by KeyName/CarriedKeyName
  kw192_aes128cbc.xml      kw-aes192 + aes128-cbc, EncryptedKey inline
  oaep_tripledes.xml       rsa-oaep-mgf1p + tripledes-cbc
  encrypted_id_attribute.xml  a signed assertion in clear whose NameID and one Attribute are
                           encrypted (EncryptedID, EncryptedAttribute), signed after encryption
  nested_encrypted_id.xml  an EncryptedAssertion whose signed assertion holds an EncryptedID
                           and a credential (a `userPassword` attribute)

AES-CBC and Triple-DES padding follow XML Encryption: the last byte is the pad length and the
other pad bytes are random, so a decryptor that insists on PKCS#7 fails on these samples.

Usage: make_xmlenc.py OUTDIR
"""

import base64
import os
import sys
from pathlib import Path

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree
from signxml import XMLSigner, XMLVerifier
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_signed import make_cert, output_dir  # noqa: E402

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
IMMUTABLE_ID = "lHh/rEL830q6/mStDnD4uw=="
PLACEHOLDER = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"></ds:Signature>'

ASSERTION = """<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{id}" Version="2.0" IssueInstant="2026-11-01T10:00:00Z">
    <saml:Issuer>https://idp.contoso.test/</saml:Issuer>
    {signature}
    <saml:Subject>
      {nameid}
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="_req42" NotOnOrAfter="2026-11-01T10:05:00Z" Recipient="https://sp.contoso.test/acs"/></saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="2026-11-01T09:55:00Z" NotOnOrAfter="2026-11-01T11:00:00Z"><saml:AudienceRestriction><saml:Audience>https://sp.contoso.test/</saml:Audience></saml:AudienceRestriction></saml:Conditions>
    <saml:AttributeStatement>
      <saml:Attribute Name="upn"><saml:AttributeValue xsi:type="xs:string">{upn}</saml:AttributeValue></saml:Attribute>{more_attributes}
    </saml:AttributeStatement>
    <saml:AuthnStatement AuthnInstant="2026-11-01T09:59:58Z" SessionIndex="_sess1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
  </saml:Assertion>"""

NAMEID = '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{v}</saml:NameID>'

RESPONSE = """<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp-{tag}" Version="2.0" IssueInstant="2026-11-01T10:00:00Z" Destination="https://sp.contoso.test/acs" InResponseTo="_req42">
  <saml:Issuer>https://idp.contoso.test/</saml:Issuer>{signature}
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  {body}
</samlp:Response>
"""


def b64(data):
    return base64.b64encode(data).decode()


def sign(xml, key, cert, ref_id):
    """Signs the element `xml` (whose ID is `ref_id`) at its placeholder, exc-c14n + rsa-sha256."""
    signer = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256", c14n_algorithm=EXC_C14N)
    root = etree.fromstring(xml)
    signed = signer.sign(root, key=key, cert=[cert], reference_uri="#" + ref_id)
    text = etree.tostring(signed, encoding="unicode")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    XMLVerifier().verify(text, x509_cert=cert_pem, expect_references=1)
    return text


def xmlenc_pad(data, block):
    """XML Encryption padding: random bytes, the last one the pad length (1 to block)."""
    n = block - len(data) % block
    return data + os.urandom(n - 1) + bytes([n])


def encrypt_content(alg, key, plaintext):
    if alg.endswith("-gcm"):
        iv = os.urandom(12)
        return iv + AESGCM(key).encrypt(iv, plaintext, None)
    if alg == "tripledes-cbc":
        iv = os.urandom(8)
        enc = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
        return iv + enc.update(xmlenc_pad(plaintext, 8)) + enc.finalize()
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(xmlenc_pad(plaintext, 16)) + enc.finalize()


CONTENT_URI = {
    "aes128-cbc": XENC + "aes128-cbc",
    "aes192-cbc": XENC + "aes192-cbc",
    "aes256-cbc": XENC + "aes256-cbc",
    "aes128-gcm": XENC11 + "aes128-gcm",
    "aes192-gcm": XENC11 + "aes192-gcm",
    "aes256-gcm": XENC11 + "aes256-gcm",
    "tripledes-cbc": XENC + "tripledes-cbc",
}
KEY_LEN = {"aes128": 16, "aes192": 24, "aes256": 32, "tripledes": 24}
HASHES = {
    "sha1": (hashes.SHA1, "http://www.w3.org/2000/09/xmldsig#sha1", XENC11 + "mgf1sha1"),
    "sha256": (hashes.SHA256, XENC + "sha256", XENC11 + "mgf1sha256"),
    "sha512": (hashes.SHA512, XENC + "sha512", XENC11 + "mgf1sha512"),
}


def encrypted_key(transport, kek, cek, attrs="", inner_key_info="", carried=""):
    """An xenc:EncryptedKey wrapping `cek` with `kek` (an RSA public key or AES key bytes)."""
    if transport == "rsa-1_5":
        wrapped = kek.encrypt(cek, padding.PKCS1v15())
        method = f'<xenc:EncryptionMethod Algorithm="{XENC}rsa-1_5"/>'
    elif transport.startswith("kw-"):
        wrapped = keywrap.aes_key_wrap(kek, cek)
        method = f'<xenc:EncryptionMethod Algorithm="{XENC}{transport}"/>'
    else:
        # "mgf1p" or "oaep11:DIGEST:MGF" (MGF empty: the default MGF1-SHA-1, no element).
        if transport == "mgf1p":
            digest, mgf, uri = "sha1", "sha1", XENC + "rsa-oaep-mgf1p"
            mgf_el = ""
        else:
            _, digest, mgf = transport.split(":")
            uri = XENC11 + "rsa-oaep"
            mgf_el = f'<xenc11:MGF xmlns:xenc11="{XENC11}" Algorithm="{HASHES[mgf][2]}"/>' if mgf else ""
            mgf = mgf or "sha1"
        wrapped = kek.encrypt(
            cek, padding.OAEP(mgf=padding.MGF1(HASHES[mgf][0]()), algorithm=HASHES[digest][0](), label=None)
        )
        method = (
            f'<xenc:EncryptionMethod Algorithm="{uri}"><ds:DigestMethod xmlns:ds="{DS}" '
            f'Algorithm="{HASHES[digest][1]}"/>{mgf_el}</xenc:EncryptionMethod>'
        )
    carried_el = f"<xenc:CarriedKeyName>{carried}</xenc:CarriedKeyName>" if carried else ""
    return (
        f'<xenc:EncryptedKey xmlns:xenc="{XENC}"{attrs}>{method}{inner_key_info}'
        f"<xenc:CipherData><xenc:CipherValue>{b64(wrapped)}</xenc:CipherValue></xenc:CipherData>"
        f"{carried_el}</xenc:EncryptedKey>"
    )


def encrypted_element(holder, plaintext, content, transport, kek, layout="inline", recipient_cert=None):
    """`<saml:{holder}>` holding the EncryptedData of `plaintext`, its key placed per `layout`:
    inline, retrieval (sibling + RetrievalMethod), sibling (no reference), keyname."""
    cek = os.urandom(KEY_LEN[content.split("-")[0]])
    data = encrypt_content(content, cek, plaintext.encode())
    x509_info = ""
    if recipient_cert is not None:
        der = recipient_cert.public_bytes(serialization.Encoding.DER)
        x509_info = f'<ds:KeyInfo xmlns:ds="{DS}"><ds:X509Data><ds:X509Certificate>{b64(der)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
    if layout == "inline":
        ek = encrypted_key(transport, kek, cek, inner_key_info=x509_info)
        key_info, sibling = f'<ds:KeyInfo xmlns:ds="{DS}">{ek}</ds:KeyInfo>', ""
    elif layout == "retrieval":
        ek = encrypted_key(transport, kek, cek, attrs=' Id="_ek1" Recipient="https://sp.contoso.test/"', inner_key_info=x509_info)
        key_info = (
            f'<ds:KeyInfo xmlns:ds="{DS}"><ds:RetrievalMethod URI="#_ek1" '
            f'Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey"/></ds:KeyInfo>'
        )
        sibling = ek
    elif layout == "keyname":
        ek = encrypted_key(transport, kek, cek, carried="sp-kek-2026")
        key_info, sibling = f'<ds:KeyInfo xmlns:ds="{DS}"><ds:KeyName>sp-kek-2026</ds:KeyName></ds:KeyInfo>', ek
    else:
        ek = encrypted_key(transport, kek, cek, inner_key_info=x509_info)
        key_info, sibling = "", ek
    return (
        f"<saml:{holder}>"
        f'<xenc:EncryptedData xmlns:xenc="{XENC}" Id="_ed-{holder}" Type="{XENC}Element">'
        f'<xenc:EncryptionMethod Algorithm="{CONTENT_URI[content]}"/>{key_info}'
        f"<xenc:CipherData><xenc:CipherValue>{b64(data)}</xenc:CipherValue></xenc:CipherData>"
        f"</xenc:EncryptedData>{sibling}</saml:{holder}>"
    )


def signed_assertion(idp_key, idp_cert, aid, nameid=None, more_attributes=""):
    xml = ASSERTION.format(
        id=aid,
        signature=PLACEHOLDER,
        nameid=nameid if nameid is not None else NAMEID.format(v=IMMUTABLE_ID),
        upn="alice@contoso.test",
        more_attributes=more_attributes,
    )
    return sign(xml, idp_key, idp_cert, aid)


def main():
    out = output_dir(__doc__)
    if out is None:
        return 2

    idp_key, idp_cert = make_cert("Contoso IdP Signing (synthetic)")
    sp_key, sp_cert = make_cert("Contoso SP Encryption (synthetic)")
    sp_pub = sp_key.public_key()
    kek256, kek192 = os.urandom(32), os.urandom(24)

    (out / "idp_signing_cert.pem").write_bytes(idp_cert.public_bytes(serialization.Encoding.PEM))
    (out / "sp_encryption_key.pem").write_bytes(
        sp_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (out / "kek_aes256.hex").write_text(kek256.hex() + "\n")
    (out / "kek_aes192.hex").write_text(kek192.hex() + "\n")

    files = {}
    cases = [
        ("oaep_aes128cbc", "aes128-cbc", "mgf1p", sp_pub, "inline"),
        ("oaep11_aes256gcm", "aes256-gcm", "oaep11:sha256:sha256", sp_pub, "retrieval"),
        ("oaep11_mixed_aes192gcm", "aes192-gcm", "oaep11:sha512:", sp_pub, "sibling"),
        ("rsa15_aes256cbc", "aes256-cbc", "rsa-1_5", sp_pub, "inline"),
        ("kw256_aes256gcm", "aes256-gcm", "kw-aes256", kek256, "keyname"),
        ("kw192_aes128cbc", "aes128-cbc", "kw-aes192", kek192, "inline"),
        ("oaep_tripledes", "tripledes-cbc", "mgf1p", sp_pub, "inline"),
    ]
    for tag, content, transport, kek, layout in cases:
        assertion = signed_assertion(idp_key, idp_cert, f"_a-{tag}")
        body = encrypted_element("EncryptedAssertion", assertion, content, transport, kek, layout, sp_cert)
        signature = "\n  " + PLACEHOLDER if tag == "oaep_aes128cbc" else ""
        xml = RESPONSE.format(tag=tag, signature=signature, body=body)
        if signature:
            # Signed after encryption: the Response signature covers the ciphertext.
            xml = sign(xml, idp_key, idp_cert, f"_resp-{tag}")
        files[f"{tag}.xml"] = xml

    # A signed assertion in clear whose NameID and one attribute are encrypted, then signed.
    enc_id = encrypted_element(
        "EncryptedID", NAMEID.format(v=IMMUTABLE_ID).replace("<saml:NameID ", f'<saml:NameID xmlns:saml="{SAML}" '),
        "aes128-cbc", "mgf1p", sp_pub,
    )
    secret_attr = (
        f'<saml:Attribute xmlns:saml="{SAML}" Name="employeeNumber">'
        "<saml:AttributeValue>E-4711</saml:AttributeValue></saml:Attribute>"
    )
    enc_attr = encrypted_element("EncryptedAttribute", secret_attr, "aes256-gcm", "oaep11:sha256:sha256", sp_pub)
    assertion = signed_assertion(idp_key, idp_cert, "_a-id-attr", nameid=enc_id, more_attributes="\n      " + enc_attr)
    files["encrypted_id_attribute.xml"] = RESPONSE.format(tag="id-attr", signature="", body=assertion)

    # An encrypted assertion whose signed content holds an EncryptedID.
    enc_id2 = encrypted_element(
        "EncryptedID", NAMEID.format(v="bob-4242").replace("<saml:NameID ", f'<saml:NameID xmlns:saml="{SAML}" '),
        "aes256-cbc", "rsa-1_5", sp_pub,
    )
    password = '<saml:Attribute Name="userPassword"><saml:AttributeValue>hunter2</saml:AttributeValue></saml:Attribute>'
    inner = signed_assertion(idp_key, idp_cert, "_a-nested", nameid=enc_id2, more_attributes="\n      " + password)
    body = encrypted_element("EncryptedAssertion", inner, "aes256-gcm", "mgf1p", sp_pub, "inline", sp_cert)
    files["nested_encrypted_id.xml"] = RESPONSE.format(tag="nested", signature="", body=body)

    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} encrypted samples and 4 key files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
