#!/usr/bin/env python3
"""Generates the golden-test inputs of the federation decoders (protocols.md section 9, items
23-28): `tests/fixtures/wsfed/*.http`, `tests/fixtures/wstrust/*.http`, `tests/fixtures/saml/*.http`
and a `<case>.trust.pem` beside every case whose signature should verify with a pinned
certificate (the golden harness loads it into `Trust::certs`).

Signatures are made by an independent implementation (Python signxml 4.x on lxml, plus
`cryptography` for the HTTP-Redirect query signature), so the Rust verifier is checked against
someone else's canonicalization. Every key is SYNTHETIC and generated in memory on each run;
only certificates (public) and signed documents are written, private keys never touch the disk.
Re-running produces new keys and signatures, so review the snapshots afterwards
(`INSTA_UPDATE=always cargo test -p idscope-decoders --test snapshots`, then read them).

Times are fixed around the harness "now", 1700000000 = 2023-11-14T22:13:20Z.
Usage: make_federation_fixtures.py  (writes next to this repository's tests/fixtures).
"""

import base64
import datetime
import html
import os
import sys
import urllib.parse
import zlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml import XMLSigner

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_signed import EXC_C14N, LegacySigner, check, make_cert  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
IMMUTABLE_ID = "lHh/rEL830q6/mStDnD4uw=="
DEVICE_GUID = "hPt3kGVtyUuo0cbR4mQ1Ow=="
UTC = datetime.timezone.utc
PLACEHOLDER = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"></ds:Signature>'
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def der_b64(cert):
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


SAML11 = """<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" MinorVersion="1" AssertionID="{id}" Issuer="http://sts.contoso.test/adfs/services/trust/" IssueInstant="{issued}"><saml:Conditions NotBefore="{nb}" NotOnOrAfter="{nooa}"><saml:AudienceRestrictionCondition><saml:Audience>{audience}</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions><saml:AttributeStatement><saml:Subject><saml:NameIdentifier Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">{nameid}</saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject>{attributes}</saml:AttributeStatement><saml:AuthenticationStatement AuthenticationMethod="{method}" AuthenticationInstant="{authn}"><saml:Subject><saml:NameIdentifier Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">{nameid}</saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject></saml:AuthenticationStatement></saml:Assertion>"""

USER_ATTRIBUTES = (
    '<saml:Attribute AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims"><saml:AttributeValue>alice@contoso.test</saml:AttributeValue></saml:Attribute>'
    '<saml:Attribute AttributeName="ImmutableID" AttributeNamespace="http://schemas.microsoft.com/LiveID/Federation/2008/05"><saml:AttributeValue>' + IMMUTABLE_ID + "</saml:AttributeValue></saml:Attribute>"
    '<saml:Attribute AttributeName="insidecorporatenetwork" AttributeNamespace="http://schemas.microsoft.com/ws/2012/01" a:OriginalIssuer="CLIENT CONTEXT" xmlns:a="http://schemas.xmlsoap.org/ws/2009/09/identity/claims"><saml:AttributeValue b:type="tn:boolean" xmlns:tn="http://www.w3.org/2001/XMLSchema" xmlns:b="http://www.w3.org/2001/XMLSchema-instance">true</saml:AttributeValue></saml:Attribute>'
    '<saml:Attribute AttributeName="authnmethodsreferences" AttributeNamespace="http://schemas.microsoft.com/claims"><saml:AttributeValue>http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password</saml:AttributeValue><saml:AttributeValue>http://schemas.microsoft.com/claims/multipleauthn</saml:AttributeValue></saml:Attribute>'
)

DEVICE_ATTRIBUTES = (
    '<saml:Attribute AttributeName="accounttype" AttributeNamespace="http://schemas.microsoft.com/ws/2012/01"><saml:AttributeValue>DJ</saml:AttributeValue></saml:Attribute>'
    '<saml:Attribute AttributeName="onpremobjectguid" AttributeNamespace="http://schemas.microsoft.com/identity/claims"><saml:AttributeValue>' + DEVICE_GUID + "</saml:AttributeValue></saml:Attribute>"
    '<saml:Attribute AttributeName="primarysid" AttributeNamespace="http://schemas.microsoft.com/ws/2008/06/identity/claims"><saml:AttributeValue>S-1-5-21-1004336348-1177238915-682003330-1106</saml:AttributeValue></saml:Attribute>'
    '<saml:Attribute AttributeName="issuerid" AttributeNamespace="http://schemas.microsoft.com/ws/2008/06/identity/claims"><saml:AttributeValue>http://sts.contoso.test/adfs/services/trust/</saml:AttributeValue></saml:Attribute>'
)

VALID = dict(
    issued="2023-11-14T22:13:00.000Z",
    nb="2023-11-14T22:13:00.000Z",
    nooa="2023-11-14T23:13:00.000Z",
    authn="2023-11-14T22:12:58.123Z",
)
EXPIRED = dict(
    issued="2023-11-14T19:02:11.000Z",
    nb="2023-11-14T19:02:11.000Z",
    nooa="2023-11-14T20:02:11.000Z",
    authn="2023-11-14T19:02:09.5012345Z",
)


def saml11(key, cert, alg="rsa-sha256", digest="sha256", aid="_d71a3a8e-9fcc-45ba-ad9a-0a1b2c3d4e5f",
           times=VALID, attributes=USER_ATTRIBUTES, nameid=IMMUTABLE_ID,
           method="urn:oasis:names:tc:SAML:1.0:am:password", audience="urn:federation:MicrosoftOnline"):
    signer_cls = LegacySigner if alg == "rsa-sha1" else XMLSigner
    signer = signer_cls(signature_algorithm=alg, digest_algorithm=digest, c14n_algorithm=EXC_C14N)
    text = SAML11.format(id=aid, nameid=nameid, attributes=attributes, method=method,
                         audience=audience, **times)
    root = etree.fromstring(text)
    signed = signer.sign(root, key=key, cert=[cert], reference_uri="#" + aid, id_attribute="AssertionID")
    out = etree.tostring(signed, encoding="unicode")
    check(out, pem(cert), "AssertionID")
    return out


def rstr_2005(assertion, audience="urn:federation:MicrosoftOnline", times=VALID):
    return (
        '<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">'
        f'<t:Lifetime><wsu:Created xmlns:wsu="{WSU}">{times["nb"]}</wsu:Created>'
        f'<wsu:Expires xmlns:wsu="{WSU}">{times["nooa"]}</wsu:Expires></t:Lifetime>'
        '<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy">'
        '<wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<wsa:Address>{audience}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>"
        f"<t:RequestedSecurityToken>{assertion}</t:RequestedSecurityToken>"
        "<t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType>"
        "<t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType>"
        "<t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType>"
        "</t:RequestSecurityTokenResponse>"
    )


WCTX = "LoginOptions=3&estsredirect=2&estsrequest=rQQIARAAhZE9aNNQEMeTNk0_FC1OjgUXEZK-l7wkL4FMbdqKFrV2UYdiTdpqbGokrY4uLoKbghQcHLroIroJgqJjcShOiujQQUQsHYJbsYMmODoI_-F3d_y4O46J8Dky8gH_jwtEZCxwDrElqBDbUlMBoxBVQpNMzjRJxbLqH5LQoUjZuEmJcIY66tV-95tvHKTFKyfiEFwKsSg_fyAr8QsyxYMTcsYGkSaQa5imgzmqrd_Ee1eg5V_uUi9JEmmymESDrjGZjaXUGtUVfCSkKbg8ieMpYC-kbTgNl8dlt4HtNI1Q_-mqK6IiTvFqdMshsR3Fuct9HRnHtXyEOmfJUwlJXSkyWuzUGCUSRQmnN96dRuGmtuZrlQo6SMUEWmlvmI4tZvF60AC7W3LbLYjtvCcMYDCrs9BSNAnjg53zp3E.AQABAAEAAAD--DLA3VO7QrddgJg7WevrAgAAAAAAAPAtsynthetic"
SIGNIN_QUERY = [
    ("wa", "wsignin1.0"),
    ("wtrealm", "urn:federation:MicrosoftOnline"),
    ("wctx", WCTX),
    ("wreply", "https://login.microsoftonline.com/login.srf"),
    ("whr", "contoso.test"),
    ("username", "alice@contoso.test"),
    ("wfresh", "0"),
    ("wauth", "urn:oasis:names:tc:SAML:1.0:am:password"),
    ("mkt", "en-US"),
    ("lc", "1033"),
    ("cbcxt", "syntheticCbcxt0001"),
    ("client-request-id", "5d1c6e2a-7b3f-4c8d-9e0a-1b2c3d4e5f60"),
]


def q(value):
    return urllib.parse.quote(value, safe="")


def signin_url(base="https://sts.contoso.test/adfs/ls/", pairs=SIGNIN_QUERY):
    return base + "?" + "&".join(f"{k}={q(v)}" for k, v in pairs)


def write(sub, name, text, trust=None):
    d = os.path.join(FIXTURES, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".http"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    trust_path = os.path.join(d, name + ".trust.pem")
    if trust is not None:
        with open(trust_path, "wb") as f:
            f.write(trust)
    elif os.path.exists(trust_path):
        os.remove(trust_path)


def sign_with_placeholder(key, cert, text, ref_id, alg="rsa-sha256", digest="sha256"):
    """Signs `text`, whose placeholder ds:Signature marks where the enveloped signature goes
    (SAML 2.0 puts it after Issuer; metadata puts it first)."""
    signer = XMLSigner(signature_algorithm=alg, digest_algorithm=digest, c14n_algorithm=EXC_C14N)
    root = etree.fromstring(text.encode())
    signed = signer.sign(root, key=key, cert=[cert], reference_uri="#" + ref_id)
    out = etree.tostring(signed, encoding="unicode")
    check(out, pem(cert))
    return out


SAML2_ASSERTION = """<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" IssueInstant="2023-11-14T22:13:00Z" Version="2.0"><saml:Issuer>https://idp.contoso.test/saml</saml:Issuer>{sig}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{nameid}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="_8f2c1a7e-3b4d-4e5f-9a0b-1c2d3e4f5a6b" NotOnOrAfter="2023-11-14T22:18:00Z" Recipient="https://login.microsoftonline.com/login.srf"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="2023-11-14T22:12:00Z" NotOnOrAfter="2023-11-14T23:13:00Z"><saml:AudienceRestriction><saml:Audience>urn:federation:MicrosoftOnline</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AttributeStatement><saml:Attribute Name="IDPEmail"><saml:AttributeValue>{upn}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement><saml:AuthnStatement AuthnInstant="2023-11-14T22:12:58Z" SessionIndex="_sess-4a1b"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement></saml:Assertion>"""

RESPONSE = """<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{id}" Version="2.0" IssueInstant="2023-11-14T22:13:00Z" Destination="https://login.microsoftonline.com/login.srf" InResponseTo="_8f2c1a7e-3b4d-4e5f-9a0b-1c2d3e4f5a6b"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.contoso.test/saml</saml:Issuer>{sig}{extensions}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>{assertions}</samlp:Response>"""

ASSERTION2_ID = "_3c9e0f4a-6b1d-4a2e-8f7c-5d6e7f8a9b0c"


def saml2_assertion(key, cert, aid=ASSERTION2_ID, nameid=IMMUTABLE_ID, upn="alice@contoso.test"):
    text = SAML2_ASSERTION.format(id=aid, sig=PLACEHOLDER, nameid=nameid, upn=upn)
    return sign_with_placeholder(key, cert, text, aid)


def post_form(fields):
    return "&".join(f"{k}={q(v)}" for k, v in fields)


def autopost_html(action, fields):
    inputs = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}" />' for k, v in fields
    )
    return (
        "<html><head><title>Working...</title></head><body>"
        f'<form method="POST" name="hiddenform" action="{action}">{inputs}'
        "<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<input type="submit" value="Submit" /></noscript></form>'
        '<script language="javascript">window.setTimeout(\'document.forms[0].submit()\', 0);</script>'
        "</body></html>"
    )


def soap13_rst(user, password, version):
    if version == "13":
        action = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue"
        trust = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
        key_type = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer"
        request_type = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
        to = "https://sts.contoso.test/adfs/services/trust/13/usernamemixed"
    else:
        action = "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue"
        trust = "http://schemas.xmlsoap.org/ws/2005/02/trust"
        key_type = "http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey"
        request_type = "http://schemas.xmlsoap.org/ws/2005/02/trust/Issue"
        to = "https://sts.contoso.test/adfs/services/trust/2005/usernamemixed"
    body = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" '
        f'xmlns:wsu="{WSU}">'
        f'<s:Header><wsa:Action s:mustUnderstand="1">{action}</wsa:Action>'
        "<wsa:MessageID>urn:uuid:9b2e7c41-5d3a-4f68-b1c0-2e4d6f8a0b1c</wsa:MessageID>"
        "<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>"
        f'<wsa:To s:mustUnderstand="1">{to}</wsa:To>'
        f'<wsse:Security s:mustUnderstand="1" xmlns:wsse="{WSSE}">'
        '<wsu:Timestamp wsu:Id="_0"><wsu:Created>2023-11-14T22:13:10.000Z</wsu:Created>'
        "<wsu:Expires>2023-11-14T22:23:10.000Z</wsu:Expires></wsu:Timestamp>"
        '<wsse:UsernameToken wsu:Id="uuid-6a8f3c2e-1b4d-4e7f-a9c0-3d5e7f9a1b2c">'
        f"<wsse:Username>{user}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">'
        f"{password}</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header>"
        f'<s:Body><wst:RequestSecurityToken xmlns:wst="{trust}">'
        '<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy">'
        "<wsa:EndpointReference><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference>"
        f"</wsp:AppliesTo><wst:KeyType>{key_type}</wst:KeyType>"
        f"<wst:RequestType>{request_type}</wst:RequestType></wst:RequestSecurityToken></s:Body></s:Envelope>"
    )
    return to, action, body


def rstrc_13(assertion, aid):
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" '
        f'xmlns:u="{WSU}"><s:Header>'
        '<a:Action s:mustUnderstand="1">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal</a:Action>'
        "<a:RelatesTo>urn:uuid:9b2e7c41-5d3a-4f68-b1c0-2e4d6f8a0b1c</a:RelatesTo>"
        f'<o:Security s:mustUnderstand="1" xmlns:o="{WSSE}"><u:Timestamp u:Id="_0">'
        "<u:Created>2023-11-14T22:13:11.412Z</u:Created><u:Expires>2023-11-14T22:18:11.412Z</u:Expires>"
        "</u:Timestamp></o:Security></s:Header><s:Body>"
        '<trust:RequestSecurityTokenResponseCollection xmlns:trust="http://docs.oasis-open.org/ws-sx/ws-trust/200512">'
        "<trust:RequestSecurityTokenResponse><trust:Lifetime>"
        f'<wsu:Created xmlns:wsu="{WSU}">2023-11-14T22:13:00.000Z</wsu:Created>'
        f'<wsu:Expires xmlns:wsu="{WSU}">2023-11-14T23:13:00.000Z</wsu:Expires></trust:Lifetime>'
        '<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy">'
        '<wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        "<wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>"
        f"<trust:RequestedSecurityToken>{assertion}</trust:RequestedSecurityToken>"
        "<trust:RequestedAttachedReference>"
        f'<SecurityTokenReference xmlns="{WSSE}" xmlns:d3p1="http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd" '
        'd3p1:TokenType="http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1">'
        '<KeyIdentifier ValueType="http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID">'
        f"{aid}</KeyIdentifier></SecurityTokenReference></trust:RequestedAttachedReference>"
        "<trust:RequestedUnattachedReference>"
        f'<SecurityTokenReference xmlns="{WSSE}" xmlns:d3p1="http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd" '
        'd3p1:TokenType="http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1">'
        '<KeyIdentifier ValueType="http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID">'
        f"{aid}</KeyIdentifier></SecurityTokenReference></trust:RequestedUnattachedReference>"
        "<trust:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</trust:TokenType>"
        "<trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType>"
        "<trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType>"
        "</trust:RequestSecurityTokenResponse></trust:RequestSecurityTokenResponseCollection></s:Body></s:Envelope>"
    )


FAULT = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">'
    '<s:Header><a:Action s:mustUnderstand="1">http://www.w3.org/2005/08/addressing/soap/fault</a:Action>'
    "<a:RelatesTo>urn:uuid:9b2e7c41-5d3a-4f68-b1c0-2e4d6f8a0b1c</a:RelatesTo></s:Header>"
    "<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode>"
    f'<s:Value xmlns:a="{WSSE}">a:FailedAuthentication</s:Value></s:Subcode></s:Code>'
    '<s:Reason><s:Text xml:lang="en-US">MSIS7068: Access denied.</s:Text></s:Reason>'
    "<s:Detail><RequestFault xmlns=\"http://schemas.microsoft.com/ws/2009/12/identityserver/protocols/requestfault\" "
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><ErrorMessage>MSIS7068: Access denied.</ErrorMessage></RequestFault>'
    "</s:Detail></s:Fault></s:Body></s:Envelope>"
)


def mex_policy(pid, body):
    return (
        f'<wsp:Policy wsu:Id="{pid}"><wsp:ExactlyOne><wsp:All>{body}'
        "<wsaw:UsingAddressing/></wsp:All></wsp:ExactlyOne></wsp:Policy>"
    )


TRANSPORT = (
    '<sp:TransportBinding xmlns:sp="{sp}"><wsp:Policy><sp:TransportToken><wsp:Policy><sp:HttpsToken/>'
    "</wsp:Policy></sp:TransportToken><sp:AlgorithmSuite><wsp:Policy><sp:Basic256/></wsp:Policy>"
    "</sp:AlgorithmSuite><sp:IncludeTimestamp/></wsp:Policy></sp:TransportBinding>"
)
USERNAME = (
    '<sp:SignedEncryptedSupportingTokens xmlns:sp="{sp}"><wsp:Policy><sp:UsernameToken '
    'sp:IncludeToken="{sp}/IncludeToken/AlwaysToRecipient"><wsp:Policy><sp:WssUsernameToken10/>'
    "</wsp:Policy></sp:UsernameToken></wsp:Policy></sp:SignedEncryptedSupportingTokens>"
)
KERBEROS = (
    '<http:NegotiateAuthentication xmlns:http="http://schemas.microsoft.com/ws/06/2004/policy/http"/>'
    '<sp:TransportBinding xmlns:sp="{sp}"><wsp:Policy><sp:TransportToken><wsp:Policy><sp:HttpsToken/>'
    "</wsp:Policy></sp:TransportToken></wsp:Policy></sp:TransportBinding>"
)
CERTIFICATE = (
    '<sp:SignedEndorsingSupportingTokens xmlns:sp="{sp}"><wsp:Policy><sp:X509Token '
    'sp:IncludeToken="{sp}/IncludeToken/AlwaysToRecipient"><wsp:Policy><sp:WssX509V3Token10/>'
    "</wsp:Policy></sp:X509Token></wsp:Policy></sp:SignedEndorsingSupportingTokens>"
)
SP13 = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"
SP2005 = "http://schemas.xmlsoap.org/ws/2005/07/securitypolicy"


def mex(identity_cert):
    ports = [
        # (binding/policy name, policy body, soap action, address path)
        ("CertificateWSTrustBinding_IWSTrustFeb2005Async", TRANSPORT.format(sp=SP2005) + CERTIFICATE.format(sp=SP2005), "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue", "2005/certificatemixed", False),
        ("UserNameWSTrustBinding_IWSTrustFeb2005Async", TRANSPORT.format(sp=SP2005) + USERNAME.format(sp=SP2005), "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue", "2005/usernamemixed", False),
        ("WindowsTransportWSTrustBinding_IWSTrust13Async", KERBEROS.format(sp=SP13), "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue", "13/windowstransport", True),
        ("UserNameWSTrustBinding_IWSTrust13Async", TRANSPORT.format(sp=SP13) + USERNAME.format(sp=SP13), "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue", "13/usernamemixed", False),
    ]
    policies = "".join(mex_policy(name + "_policy", body) for name, body, _, _, _ in ports)
    bindings = "".join(
        f'<wsdl:binding name="{name}" type="tns:IWSTrust{"13" if "200512" in action else "Feb2005"}Async">'
        f'<wsp:PolicyReference URI="#{name}_policy"/><soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>'
        f'<wsdl:operation name="{"Trust13IssueAsync" if "200512" in action else "TrustFeb2005IssueAsync"}">'
        f'<soap12:operation soapAction="{action}" style="document"/>'
        '<wsdl:input><soap12:body use="literal"/></wsdl:input><wsdl:output><soap12:body use="literal"/></wsdl:output>'
        "</wsdl:operation></wsdl:binding>"
        for name, _, action, _, _ in ports
    )
    services = "".join(
        f'<wsdl:port name="{name}" binding="tns:{name}">'
        f'<soap12:address location="https://sts.contoso.test/adfs/services/trust/{path}"/>'
        f'<wsa10:EndpointReference><wsa10:Address>https://sts.contoso.test/adfs/services/trust/{path}</wsa10:Address>'
        + (
            '<Identity xmlns="http://schemas.xmlsoap.org/ws/2006/02/addressingidentity"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#">'
            f"<X509Data><X509Certificate>{der_b64(identity_cert)}</X509Certificate></X509Data></KeyInfo></Identity>"
            if with_identity
            else ""
        )
        + "</wsa10:EndpointReference></wsdl:port>"
        for name, _, _, path, with_identity in ports
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><wsdl:definitions name="SecurityTokenService" '
        'targetNamespace="http://tempuri.org/" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:tns="http://tempuri.org/" '
        'xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" xmlns:wsaw="http://www.w3.org/2006/05/addressing/wsdl" '
        f'xmlns:wsa10="http://www.w3.org/2005/08/addressing" xmlns:wsu="{WSU}">'
        f"{policies}{bindings}<wsdl:service name=\"SecurityTokenService\">{services}</wsdl:service></wsdl:definitions>"
    )


def federation_metadata(key, cert):
    md_id = "_6f1c0d2e-4b3a-4c5d-8e9f-0a1b2c3d4e5f"
    c = der_b64(cert)
    key_desc = (
        '<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data>'
        f"<X509Certificate>{c}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"
    )
    claims = "".join(
        f'<auth:ClaimType Uri="{u}" Optional="true" xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706">'
        f"<auth:DisplayName>{n}</auth:DisplayName></auth:ClaimType>"
        for u, n in [
            ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "E-Mail Address"),
            ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "UPN"),
            ("http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork", "Inside Corporate Network"),
            ("http://schemas.microsoft.com/claims/authnmethodsreferences", "Authentication Methods References"),
        ]
    )
    text = (
        f'<EntityDescriptor ID="{md_id}" entityID="http://sts.contoso.test/adfs/services/trust" '
        'xmlns="urn:oasis:names:tc:SAML:2.0:metadata">'
        f"{PLACEHOLDER}"
        '<RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">'
        f"{key_desc}<fed:ClaimTypesOffered>{claims}</fed:ClaimTypesOffered>"
        '<fed:SecurityTokenServiceEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        "<wsa:Address>https://sts.contoso.test/adfs/services/trust/2005/certificatemixed</wsa:Address></wsa:EndpointReference></fed:SecurityTokenServiceEndpoint>"
        '<fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        "<wsa:Address>https://sts.contoso.test/adfs/ls/</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint>"
        "</RoleDescriptor>"
        '<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{key_desc}"
        '<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sts.contoso.test/adfs/ls/"/>'
        "<NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat>"
        "<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>"
        '<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sts.contoso.test/adfs/ls/"/>'
        '<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sts.contoso.test/adfs/ls/"/>'
        "</IDPSSODescriptor></EntityDescriptor>"
    )
    signed = sign_with_placeholder(key, cert, text, md_id)
    return '<?xml version="1.0" encoding="utf-8"?>' + signed


def deflate_raw(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def redirect_query(xml, relay, key=None):
    """HTTP-Redirect binding query; when `key` is given, signed over the exact octets
    SAMLRequest=…&RelayState=…&SigAlg=… (SAML Bindings 3.4.4.1)."""
    parts = [("SAMLRequest", q(base64.b64encode(deflate_raw(xml.encode())).decode()))]
    if relay is not None:
        parts.append(("RelayState", q(relay)))
    if key is not None:
        parts.append(("SigAlg", q("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")))
        octets = "&".join(f"{k}={v}" for k, v in parts).encode()
        sig = key.sign(octets, padding.PKCS1v15(), hashes.SHA256())
        key.public_key().verify(sig, octets, padding.PKCS1v15(), hashes.SHA256())
        parts.append(("Signature", q(base64.b64encode(sig).decode())))
    return "&".join(f"{k}={v}" for k, v in parts)


AUTHN_REQUEST = """<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_8f2c1a7e-3b4d-4e5f-9a0b-1c2d3e4f5a6b" Version="2.0" IssueInstant="2023-11-14T22:13:05Z" Destination="https://idp.contoso.test/saml/sso" AssertionConsumerServiceURL="https://login.microsoftonline.com/login.srf" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"{force}><saml:Issuer>urn:federation:MicrosoftOnline</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/>{ctx}</samlp:AuthnRequest>"""


def encrypted_response(key, cert, sp_cert):
    rid = "_resp-enc-5b2a"
    cipher_key = base64.b64encode(os.urandom(256)).decode()
    cipher_data = base64.b64encode(os.urandom(16 + 1200)).decode()
    enc = (
        '<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        '<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">'
        '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>'
        '<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><e:EncryptedKey xmlns:e="http://www.w3.org/2001/04/xmlenc#">'
        '<e:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">'
        '<DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></e:EncryptionMethod>'
        f"<KeyInfo><X509Data><X509Certificate>{der_b64(sp_cert)}</X509Certificate></X509Data></KeyInfo>"
        f"<e:CipherData><e:CipherValue>{cipher_key}</e:CipherValue></e:CipherData></e:EncryptedKey></KeyInfo>"
        f"<xenc:CipherData><xenc:CipherValue>{cipher_data}</xenc:CipherValue></xenc:CipherData>"
        "</xenc:EncryptedData></saml:EncryptedAssertion>"
    )
    text = RESPONSE.format(id=rid, sig=PLACEHOLDER, extensions="", assertions=enc)
    return sign_with_placeholder(key, cert, text, rid)


def main():
    valid_from = datetime.datetime(2023, 1, 1, tzinfo=UTC)
    valid_to = datetime.datetime(2033, 1, 1, tzinfo=UTC)
    adfs_key, adfs_cert = make_cert("ADFS Signing - sts.contoso.test", valid_from, valid_to)
    _, tls_cert = make_cert("sts.contoso.test", valid_from, datetime.datetime(2023, 12, 1, tzinfo=UTC))
    sp_key, sp_cert = make_cert("login.microsoftonline.com SAML signing (synthetic)", valid_from, valid_to)
    _, rp_enc_cert = make_cert("Contoso App Encryption (synthetic)", valid_from, valid_to)
    idp_key, idp_cert = make_cert("Contoso SAML IdP Signing (synthetic)", valid_from, valid_to)
    adfs_pem = pem(adfs_cert)

    # 23: WS-Fed sign-in GET and the ADFS forms POST.
    write("wsfed", "signin_request", f"GET {signin_url()}\n")
    write(
        "wsfed",
        "signout_request",
        "GET https://sts.contoso.test/adfs/ls/?wa=wsignout1.0&wreply="
        + q("https://login.microsoftonline.com/common/oauth2/logout")
        + "\n",
    )
    forms = post_form([("UserName", "alice@contoso.test"), ("Password", "Summer2023!Synthetic"), ("AuthMethod", "FormsAuthentication")])
    write(
        "wsfed",
        "adfs_forms_post",
        f"POST {signin_url(pairs=SIGNIN_QUERY[:3])}\ncontent-type: application/x-www-form-urlencoded\n\n{forms}",
    )

    # 24: auto-POST page with the entity-encoded wresult, and the login.srf POST it makes.
    assertion = saml11(adfs_key, adfs_cert)
    wresult = rstr_2005(assertion)
    fields = [("wa", "wsignin1.0"), ("wresult", wresult), ("wctx", WCTX)]
    write(
        "wsfed",
        "adfs_autopost_page",
        f"HTTP 200\nfor: POST {signin_url(pairs=SIGNIN_QUERY[:3])}\ncontent-type: text/html; charset=utf-8\n\n"
        + autopost_html("https://login.microsoftonline.com/login.srf", fields),
        adfs_pem,
    )
    write(
        "wsfed",
        "login_srf_post",
        "POST https://login.microsoftonline.com/login.srf\ncontent-type: application/x-www-form-urlencoded\n\n"
        + post_form(fields),
        adfs_pem,
    )
    other_audience = saml11(adfs_key, adfs_cert, audience="urn:federation:contoso-intranet",
                            aid="_0b6f3e2d-8c1a-4f5e-9d7c-6b5a4e3d2c1b")
    write(
        "wsfed",
        "login_srf_post_wrong_audience",
        "POST https://login.microsoftonline.com/login.srf\ncontent-type: application/x-www-form-urlencoded\n\n"
        + post_form([("wa", "wsignin1.0"), ("wresult", rstr_2005(other_audience, "urn:federation:contoso-intranet")), ("wctx", WCTX)]),
        adfs_pem,
    )

    # 25: signed SAML 1.1 assertions (sha256 pinned, sha1 without a pinned cert, device, expired).
    write("saml", "saml11_assertion_rsa_sha256", "BLOB\n\n" + assertion, adfs_pem)
    sha1 = saml11(adfs_key, adfs_cert, alg="rsa-sha1", digest="sha1", aid="_5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170")
    write("saml", "saml11_assertion_rsa_sha1_unpinned", "BLOB\n\n" + sha1)
    device = saml11(
        adfs_key, adfs_cert, aid="_a1f0e9d8-c7b6-4a59-8483-726150493827", attributes=DEVICE_ATTRIBUTES,
        nameid=DEVICE_GUID, method="urn:federation:authentication:windows",
    )
    write("saml", "saml11_device_dj", "BLOB\n\n" + device, adfs_pem)
    expired = saml11(adfs_key, adfs_cert, aid="_7c6b5a49-3827-4165-9f8e-7d6c5b4a3928", times=EXPIRED)
    write("saml", "saml11_expired", "BLOB\n\n" + expired, adfs_pem)
    # A certificate other than the signer's is pinned: the signature must be reported invalid.
    write("saml", "saml11_wrong_pinned_cert", "BLOB\n\n" + assertion, pem(tls_cert))

    # 26: WS-Trust 2005 and 1.3 requests and responses, and the FailedAuthentication fault.
    for version in ("2005", "13"):
        to, action, body = soap13_rst("alice@contoso.test", "Summer2023!Synthetic", version)
        write(
            "wstrust",
            f"rst_{version}_usernamemixed",
            f"POST {to}\ncontent-type: application/soap+xml; charset=utf-8\nsoapaction: {action}\n\n{body}",
        )
    write(
        "wstrust",
        "rstr_2005",
        "HTTP 200\nfor: POST https://sts.contoso.test/adfs/services/trust/2005/usernamemixed\n"
        "content-type: application/soap+xml; charset=utf-8\n\n"
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">'
        '<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue</a:Action></s:Header>'
        f"<s:Body>{wresult}</s:Body></s:Envelope>",
        adfs_pem,
    )
    aid13 = "_e2d1c0b9-a897-4654-8321-0fedcba98765"
    assertion13 = saml11(adfs_key, adfs_cert, aid=aid13)
    write(
        "wstrust",
        "rstrc_13",
        "HTTP 200\nfor: POST https://sts.contoso.test/adfs/services/trust/13/usernamemixed\n"
        "content-type: application/soap+xml; charset=utf-8\n\n" + rstrc_13(assertion13, aid13),
        adfs_pem,
    )
    write(
        "wstrust",
        "fault_failed_authentication",
        "HTTP 500\nfor: POST https://sts.contoso.test/adfs/services/trust/13/usernamemixed\n"
        "content-type: application/soap+xml; charset=utf-8\n\n" + FAULT,
    )

    # 27: MEX and FederationMetadata (signed with the key that signs the tokens above).
    write(
        "wstrust",
        "mex",
        "HTTP 200\nfor: GET https://sts.contoso.test/adfs/services/trust/mex\ncontent-type: text/xml; charset=utf-8\n\n"
        + mex(tls_cert),
    )
    write(
        "wsfed",
        "federation_metadata",
        "HTTP 200\nfor: GET https://sts.contoso.test/FederationMetadata/2007-06/FederationMetadata.xml\n"
        "content-type: application/samlmetadata+xml\n\n" + federation_metadata(adfs_key, adfs_cert),
        adfs_pem,
    )

    # 28: SAML 2.0 Redirect AuthnRequest signed and unsigned; POST responses.
    relay = "https://myapps.contoso.test/?tenant=contoso"
    signed_req = AUTHN_REQUEST.format(
        force=' ForceAuthn="false"',
        ctx='<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>',
    )
    write(
        "saml",
        "redirect_authnrequest_signed",
        f"GET https://idp.contoso.test/saml/sso?{redirect_query(signed_req, relay, sp_key)}\n",
        pem(sp_cert),
    )
    unsigned_req = AUTHN_REQUEST.format(force="", ctx="")
    write(
        "saml",
        "redirect_authnrequest_unsigned",
        f"GET https://idp.contoso.test/saml/sso?{redirect_query(unsigned_req, None)}\n",
    )
    signed2 = saml2_assertion(idp_key, idp_cert)
    response = RESPONSE.format(id="_resp-7c1e-4a2b", sig="", extensions="", assertions=signed2)
    write(
        "saml",
        "post_response_signed_assertion",
        "POST https://login.microsoftonline.com/login.srf\ncontent-type: application/x-www-form-urlencoded\n\n"
        + post_form([("SAMLResponse", base64.b64encode(response.encode()).decode()), ("RelayState", relay)]),
        pem(idp_cert),
    )
    write(
        "saml",
        "post_response_encrypted",
        "POST https://login.microsoftonline.com/login.srf\ncontent-type: application/x-www-form-urlencoded\n\n"
        + post_form([("SAMLResponse", base64.b64encode(encrypted_response(idp_key, idp_cert, rp_enc_cert).encode()).decode())]),
        pem(idp_cert),
    )
    evil = SAML2_ASSERTION.format(id="_evil-1", sig="", nameid="AAAAAAAAAAAAAAAAAAAAAA==", upn="admin@contoso.test")
    wrapped = RESPONSE.format(
        id="_resp-wrap-9d3f", sig="", extensions="<samlp:Extensions>" + signed2 + "</samlp:Extensions>", assertions=evil
    )
    write(
        "saml",
        "post_response_wrapping_attack",
        "POST https://login.microsoftonline.com/login.srf\ncontent-type: application/x-www-form-urlencoded\n\n"
        + post_form([("SAMLResponse", base64.b64encode(wrapped.encode()).decode())]),
        pem(idp_cert),
    )
    unsigned = RESPONSE.format(
        id="_resp-unsigned-2e8a", sig="", extensions="",
        assertions=SAML2_ASSERTION.format(id="_unsigned-1", sig="", nameid=IMMUTABLE_ID, upn="alice@contoso.test"),
    )
    write(
        "saml",
        "post_response_unsigned",
        "POST https://login.microsoftonline.com/login.srf\ncontent-type: application/x-www-form-urlencoded\n\n"
        + post_form([("SAMLResponse", base64.b64encode(unsigned.encode()).decode())]),
    )
    print("wrote the federation fixtures under", os.path.normpath(FIXTURES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
