"""Independent Python clients against the idscope fixture (driven by tests/it/interop_fixture.rs).

Usage: interop_fixture.py MODE PORT CA_FILE   (MODE: msal | pyjwt | signxml | scim2)

The fixture listens on 127.0.0.1:PORT and serves real-looking host names. MSAL insists on port
443 of the authority host, so this script maps every fixture host name, on any port, to
127.0.0.1:PORT by patching urllib3's connection factory *inside this process only* (no /etc/hosts,
no root). TLS still verifies the certificate against CA_FILE with the real host name (SNI).
Prints one line `IDSCOPE_INTEROP_OK <detail>` on success; raises otherwise.
"""
import html
import re
import sys

import urllib3.util.connection as u3conn

MODE, PORT, CA = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HOSTS = {"login.microsoftonline.com", "adminwebservice.microsoftonline.com",
         "adminwebservice-s2.fixture.test", "sts.contoso.test", "scim.fixture.test",
         "enterpriseregistration.windows.net"}
_orig = u3conn.create_connection


def _create_connection(address, *args, **kwargs):
    host, port = address
    if host in HOSTS:
        address = ("127.0.0.1", PORT)
    return _orig(address, *args, **kwargs)


u3conn.create_connection = _create_connection
import urllib3.connection  # noqa: E402  (the module keeps its own reference)
urllib3.connection.connection.create_connection = _create_connection

import requests  # noqa: E402

S = requests.Session()
S.verify = CA
CLIENT_ID = "1b730954-1685-4b74-9bfd-dac224a7b894"
USER, PASSWORD = "admin@fixture.onmicrosoft.com", "Admin-Passw0rd!"


def msal_token():
    import msal
    app = msal.PublicClientApplication(
        CLIENT_ID, authority="https://login.microsoftonline.com/fixture.onmicrosoft.com",
        instance_discovery=False, http_client=S)
    result = app.acquire_token_by_username_password(
        USER, PASSWORD, scopes=["https://graph.windows.net/.default"])
    if "access_token" not in result:
        raise SystemExit(f"MSAL failed: {result}")
    return result


if MODE == "msal":
    r = msal_token()
    claims = r.get("id_token_claims", {})
    assert claims.get("upn") == USER, claims
    print("IDSCOPE_INTEROP_OK msal", claims.get("upn"), r.get("token_type"))
elif MODE == "pyjwt":
    import jwt
    token = msal_token()["access_token"]
    jwks = S.get("https://login.microsoftonline.com/common/discovery/keys").json()
    keyset = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keyset.keys if k.key_id == kid)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="https://graph.windows.net",
                        issuer="https://sts.windows.net/6f1c0b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f/")
    assert claims["upn"] == USER
    try:
        jwt.decode(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), key.key,
                   algorithms=["RS256"], audience="https://graph.windows.net")
        raise SystemExit("PyJWT accepted a tampered token")
    except jwt.InvalidSignatureError:
        pass
    print("IDSCOPE_INTEROP_OK pyjwt", claims["upn"])
elif MODE == "signxml":
    from signxml import XMLVerifier
    from lxml import etree
    q = "wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=interop"
    page = S.get(f"https://sts.contoso.test/adfs/ls/?{q}")
    page.raise_for_status()
    posted = S.post(f"https://sts.contoso.test/adfs/ls/?{q}",
                    data={"UserName": "alice@contoso.test", "Password": "Alice-Passw0rd!",
                          "AuthMethod": "FormsAuthentication"})
    posted.raise_for_status()
    m = re.search(r'name="wresult" value="([^"]*)"', posted.text)
    wresult = html.unescape(m.group(1))
    start = wresult.index("<saml:Assertion")
    end = wresult.index("</saml:Assertion>") + len("</saml:Assertion>")
    assertion = wresult[start:end].encode()
    md = S.get("https://sts.contoso.test/FederationMetadata/2007-06/FederationMetadata.xml").text
    cert_b64 = re.search(r"<X509Certificate>([^<]+)</X509Certificate>", md).group(1)
    pem = "-----BEGIN CERTIFICATE-----\n" + cert_b64 + "\n-----END CERTIFICATE-----\n"
    verified = XMLVerifier().verify(assertion, x509_cert=pem, id_attribute="AssertionID")
    root = verified.signed_xml
    nameid = root.find(".//{urn:oasis:names:tc:SAML:1.0:assertion}NameIdentifier").text
    assert nameid == "lHh/rEL830q6/mStDnD4uw==", nameid
    # Tampering must break it.
    try:
        XMLVerifier().verify(assertion.replace(b"alice@contoso.test", b"mallory@contoso.test"),
                             x509_cert=pem, id_attribute="AssertionID")
        raise SystemExit("signxml accepted a tampered assertion")
    except Exception as e:  # signxml raises InvalidDigest/InvalidSignature
        if "accepted a tampered" in str(e):
            raise
    print("IDSCOPE_INTEROP_OK signxml", nameid)
elif MODE == "scim2":
    # scim2-tester (python-scim) against the SCIM host, through a small requests-based engine
    # (scim2-client's own engine needs httpx2, whose zstandard dependency does not build here).
    from scim2_client.client import BaseSyncSCIMClient
    from scim2_tester import Status, check_server

    BASE = "https://scim.fixture.test/scim/v2"
    tok = S.post("https://login.microsoftonline.com/common/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "9d2f7a4c-3b1e-4f5a-8c6d-7e8f9a0b1c2d",
        "client_secret": "fixture-client-secret", "resource": "https://scim.fixture.test"}).json()
    S.headers["Authorization"] = "Bearer " + tok["access_token"]

    class RequestsSCIMClient(BaseSyncSCIMClient):
        def request(self, method, url, **kwargs):
            if not url.startswith("https://"):
                url = BASE + ("" if url.startswith("/") else "/") + url
            return S.request(method, url, **kwargs)

    # Checks this service deliberately does not pass, with the reason (listed in README.md).
    SKIP = {}
    results = check_server(RequestsSCIMClient())
    errors, skipped = [], []
    for r in results:
        if r.status in (Status.ERROR, Status.CRITICAL):
            if r.title in SKIP:
                skipped.append(f"{r.title}: {SKIP[r.title]}")
            else:
                errors.append(f"{r.title} [{r.resource_type}]: {r.reason}")
    for s in skipped:
        print("SKIPPED CHECK:", s)
    if errors:
        for e in errors:
            print("FAILED CHECK:", e)
        raise SystemExit(f"scim2-tester: {len(errors)} failed checks of {len(results)}")
    ok = sum(1 for r in results if r.status == Status.SUCCESS)
    print("IDSCOPE_INTEROP_OK scim2", f"{ok} passed, {len(skipped)} skipped of {len(results)}")
else:
    raise SystemExit(f"unknown mode {MODE}")
