"""MSAL Python's ConfidentialClientApplication with a certificate credential, against the idscope
reference server through `idscope record` (driven by tests/it/msal_cert.rs).

Usage: msal_cert.py PROXY_URL PROXY_CA CERT_PEM KEY_PEM CLIENT_ID TENANT_ID RESOURCE

Two applications acquire a client-credentials token for RESOURCE/.default, as Entra Connect Sync
does with application identity:
  * `thumbprint`: the private key and the certificate's SHA-1 thumbprint (MSAL signs RS256, x5t);
  * `public_certificate`: the private key and the certificate itself (MSAL 1.35 and later compute
    the SHA-256 thumbprint and sign PS256 with x5t#S256; older ones need the SHA-1 thumbprint as
    well and sign RS256 with x5t), which MSAL also sends in x5c.
Every request goes through the recorder at PROXY_URL, whose CA is PROXY_CA; nothing else is
trusted. Prints one line `IDSCOPE_INTEROP_OK <json>` naming the MSAL version and each case's
token claims; raises otherwise.
"""
import base64
import json
import sys

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes

PROXY, PROXY_CA, CERT_PEM, KEY_PEM, CLIENT_ID, TENANT, RESOURCE = sys.argv[1:8]


def version(v):
    return tuple(int(p) for p in v.split(".")[:3] if p.isdigit())


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def session():
    s = requests.Session()
    s.trust_env = False
    s.verify = PROXY_CA
    s.proxies = {"https": PROXY, "http": PROXY}
    return s


cert_pem = open(CERT_PEM).read()
key_pem = open(KEY_PEM).read()
sha1 = x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(hashes.SHA1()).hex()

with_certificate = {"private_key": key_pem, "public_certificate": cert_pem}
if version(msal.__version__) < (1, 35, 0):
    # Before 1.35 MSAL cannot compute a thumbprint from the certificate.
    with_certificate["thumbprint"] = sha1
cases = {
    "thumbprint": {"private_key": key_pem, "thumbprint": sha1},
    "public_certificate": with_certificate,
}
out = {"msal": msal.__version__, "cases": {}}
for name, credential in cases.items():
    app = msal.ConfidentialClientApplication(
        CLIENT_ID,
        client_credential=credential,
        authority=f"https://login.microsoftonline.com/{TENANT}",
        instance_discovery=False,
        http_client=session(),
    )
    result = app.acquire_token_for_client(scopes=[f"{RESOURCE}/.default"])
    if "access_token" not in result:
        raise SystemExit(f"MSAL ({name}) failed: {result}")
    c = claims(result["access_token"])
    out["cases"][name] = {"aud": c.get("aud"), "roles": c.get("roles"), "appid": c.get("appid")}
print("IDSCOPE_INTEROP_OK " + json.dumps(out))
