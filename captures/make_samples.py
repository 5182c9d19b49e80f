#!/usr/bin/env python3
"""Generates the synthetic sample captures in this folder (see README.md).

Every key is generated on the spot and thrown away: only public keys (in the JWKS flow) end up in
the capture. Re-running produces new keys and signatures but the same flows.

    python3 captures/make_samples.py     # needs the `cryptography` package
"""
import base64, json, os, urllib.parse
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1795683600  # 2026-11-20T09:00:00Z
TENANT = "8a1c9c4e-5f3b-4d6e-9a7b-2c1d0e9f8a7b"
SYNC_UPN = "Sync_AADC01_5e6f7a8b9c0d@contoso.onmicrosoft.com"
CLIENT = "1b730954-1685-4b74-9bfd-dac224a7b894"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(header, claims, key=None):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    c = b64u(json.dumps(claims, separators=(",", ":")).encode())
    if key is None:
        return f"{h}.{c}."
    sig = key.sign(f"{h}.{c}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{h}.{c}.{b64u(sig)}"


def jwk(key, kid):
    n = key.public_key().public_numbers()
    return {"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
            "n": b64u(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")), "e": b64u(n.e.to_bytes(3, "big"))}


def iso(t, ms=0):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def entry(t, method, url, req_headers, req_body, status, reason, resp_headers, resp_body):
    req = {"method": method, "url": url, "httpVersion": "HTTP/1.1",
           "headers": [{"name": k, "value": v} for k, v in req_headers], "cookies": [],
           "queryString": [{"name": k, "value": v} for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)],
           "headersSize": -1, "bodySize": len(req_body.encode()) if req_body else 0}
    if req_body:
        req["postData"] = {"mimeType": dict(req_headers).get("Content-Type", ""), "text": req_body}
    resp = {"status": status, "statusText": reason, "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in resp_headers], "cookies": [],
            "content": {"size": len(resp_body.encode()), "mimeType": dict(resp_headers).get("Content-Type", ""), "text": resp_body},
            "redirectURL": "", "headersSize": -1, "bodySize": len(resp_body.encode())}
    return {"startedDateTime": iso(t), "time": 84.2, "request": req, "response": resp, "cache": {},
            "timings": {"send": 0.3, "wait": 80.1, "receive": 3.8}, "serverIPAddress": "20.190.151.68"}


def main():
    signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid, kid2 = "nOo3ZDrODXEK1jKWhXslHR_KXEg", "l3sQ-50cCH4xBVZLHTGwnSR7680"
    json_h = [("Content-Type", "application/json; charset=utf-8")]
    tele = [("client-request-id", "4f1d2c3b-0a9e-4b8c-9d7e-6f5a4b3c2d1e"), ("x-client-SKU", "PCL.Desktop"), ("x-client-Ver", "3.19.8.16603")]
    login = "https://login.microsoftonline.com"
    entries = []

    realm = {"ver": "1.0", "account_type": "Managed", "domain_name": "contoso.onmicrosoft.com",
             "cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline"}
    entries.append(entry(T0, "GET", f"{login}/common/userrealm/{urllib.parse.quote(SYNC_UPN)}?api-version=1.0",
                         [("Host", "login.microsoftonline.com"), ("Accept", "application/json")] + tele, "",
                         200, "OK", json_h, json.dumps(realm)))

    def ropc(password):
        return urllib.parse.urlencode({"resource": "https://graph.windows.net", "client_id": CLIENT,
                                       "grant_type": "password", "username": SYNC_UPN, "password": password,
                                       "scope": "openid"})
    form_h = [("Host", "login.microsoftonline.com"), ("Content-Type", "application/x-www-form-urlencoded")] + tele
    err = {"error": "invalid_grant",
           "error_description": "AADSTS50126: Error validating credentials due to invalid username or password.\r\nTrace ID: 0b8f7e6d-5c4b-4a39-8271-605f4e3d2c1b\r\nCorrelation ID: 4f1d2c3b-0a9e-4b8c-9d7e-6f5a4b3c2d1e\r\nTimestamp: 2026-11-20 09:00:01Z",
           "error_codes": [50126], "timestamp": "2026-11-20 09:00:01Z", "trace_id": "0b8f7e6d-5c4b-4a39-8271-605f4e3d2c1b",
           "correlation_id": "4f1d2c3b-0a9e-4b8c-9d7e-6f5a4b3c2d1e", "error_uri": f"{login}/error?code=50126"}
    entries.append(entry(T0 + 1, "POST", f"{login}/contoso.onmicrosoft.com/oauth2/token", form_h,
                         ropc("Winter2026!"), 400, "Bad Request", json_h, json.dumps(err)))

    iat = T0 + 2
    at = jwt({"typ": "JWT", "alg": "RS256", "x5t": kid, "kid": kid},
             {"aud": "https://graph.windows.net", "iss": f"https://sts.windows.net/{TENANT}/", "iat": iat, "nbf": iat,
              "exp": iat + 3599, "acr": "1", "amr": ["pwd"], "appid": CLIENT, "appidacr": "0",
              "ipaddr": "203.0.113.10", "name": "On-Premises Directory Synchronization Service Account",
              "oid": "0d5e6f7a-8b9c-4d0e-a1f2-3b4c5d6e7f80", "puid": "10032000A1B2C3D4", "scp": "user_impersonation",
              "sub": "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9d", "tid": TENANT, "unique_name": SYNC_UPN,
              "upn": SYNC_UPN, "uti": "kZ9yX8wV7uT6sR5qP4oN3m", "ver": "1.0",
              "wids": ["d29b2b05-8046-44ba-8758-1e26182fcf32"]}, signing)
    idt = jwt({"typ": "JWT", "alg": "none"},
              {"aud": CLIENT, "iss": f"https://sts.windows.net/{TENANT}/", "iat": iat, "nbf": iat, "exp": iat + 3599,
               "amr": ["pwd"], "ipaddr": "203.0.113.10", "name": "On-Premises Directory Synchronization Service Account",
               "oid": "0d5e6f7a-8b9c-4d0e-a1f2-3b4c5d6e7f80", "sub": "Qm9Vb2RlU3ViamVjdElkZW50aWZpZXI", "tid": TENANT,
               "unique_name": SYNC_UPN, "upn": SYNC_UPN, "ver": "1.0"})
    ok = {"token_type": "Bearer", "scope": "user_impersonation", "expires_in": "3599", "ext_expires_in": "3599",
          "expires_on": str(iat + 3599), "not_before": str(iat), "resource": "https://graph.windows.net",
          "access_token": at, "refresh_token": "0.AXoATpwcihfbbk2aeywdDp-KewVUcxuFFnRLm_3awkp6uJR6AEs." + b64u(os.urandom(180)),
          "id_token": idt}
    entries.append(entry(T0 + 2, "POST", f"{login}/contoso.onmicrosoft.com/oauth2/token", form_h,
                         ropc("Summer2026!"), 200, "OK", json_h, json.dumps(ok)))

    jwks = {"keys": [jwk(signing, kid), jwk(other, kid2)]}
    entries.append(entry(T0 + 3, "GET", f"{login}/common/discovery/keys", [("Host", "login.microsoftonline.com")], "",
                         200, "OK", json_h, json.dumps(jwks)))

    path = os.path.join(HERE, "aadconnect-sync.har")
    with open(path, "w") as f:
        # The crash-safe layout idscope itself writes: header line, one entry per line, footer.
        f.write('{"log":{"version":"1.2","creator":{"name":"idscope captures/make_samples.py","version":"1"},"entries":[\n')
        for i, e in enumerate(entries):
            f.write(("," if i else "") + json.dumps(e, separators=(",", ":")) + "\n")
        f.write("]}}\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
