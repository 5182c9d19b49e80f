#!/usr/bin/env python3
"""Generates a large HAR of realistic identity flows for the analyze benchmark.

    python3 benches/gen_har.py SIZE_MB OUT.har
    python3 benches/gen_har.py --entries N OUT.har     (exactly N entries, whatever the size)

The flows are those of captures/aadconnect-sync.har (realm discovery, a failed and a successful ROPC
token call with RS256 access token and unsigned id_token, JWKS) plus OIDC discovery, a userrealm v2
Federated answer and a GetCredentialType call, repeated with fresh ids, user names and times until
the file reaches SIZE_MB. The file is written in idscope's one-entry-per-line layout; jq and
mitmproxy read it as ordinary HAR.
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if sys.argv[1] == "--entries":
        size_mb, entries_wanted, out = None, int(sys.argv[2]), sys.argv[3]
    else:
        size_mb, entries_wanted, out = int(sys.argv[1]), None, sys.argv[2]
    sample = json.load(open(os.path.join(HERE, "..", "captures", "aadconnect-sync.har")))
    entries = sample["log"]["entries"]
    base = entries[0]
    extra = []

    def clone(url, body, mime="application/json; charset=utf-8", method="GET", req_body=None):
        e = json.loads(json.dumps(base))
        e["request"]["url"] = url
        e["request"]["method"] = method
        if req_body is not None:
            e["request"]["postData"] = {"mimeType": "application/json", "text": req_body}
        e["response"]["content"] = {"size": len(body), "mimeType": mime, "text": body}
        return e

    tenant = "8a1c9c4e-5f3b-4d6e-9a7b-2c1d0e9f8a7b"
    oidc = {"token_endpoint": f"https://login.microsoftonline.com/{tenant}/oauth2/token",
            "issuer": f"https://sts.windows.net/{tenant}/", "jwks_uri": "https://login.microsoftonline.com/common/discovery/keys",
            "authorization_endpoint": f"https://login.microsoftonline.com/{tenant}/oauth2/authorize",
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "id_token_signing_alg_values_supported": ["RS256"], "cloud_instance_name": "microsoftonline.com"}
    extra.append(clone(f"https://login.microsoftonline.com/{tenant}/.well-known/openid-configuration", json.dumps(oidc)))
    v2 = {"NameSpaceType": "Federated", "Login": "USER@contoso.com", "DomainName": "contoso.com",
          "FederationBrandName": "Contoso", "cloud_instance_name": "microsoftonline.com", "federation_protocol": "WSTrust",
          "AuthURL": "https://sts.contoso.com/adfs/ls/?username=USER%40contoso.com&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx="}
    extra.append(clone("https://login.microsoftonline.com/common/userrealm/USER@contoso.com?api-version=2.0", json.dumps(v2)))
    gct = {"Username": "USER@contoso.com", "Display": "USER@contoso.com", "IfExistsResult": 0, "ThrottleStatus": 0,
           "Credentials": {"PrefCredential": 1, "HasPassword": True, "FederationRedirectUrl": "https://sts.contoso.com/adfs/ls/?username=USER%40contoso.com&wa=wsignin1.0"},
           "EstsProperties": {"DomainType": 4, "DesktopSsoEnabled": False}, "FlowToken": "AQABAAEAAAD" + "x" * 400}
    extra.append(clone("https://login.microsoftonline.com/common/GetCredentialType", json.dumps(gct), method="POST",
                       req_body=json.dumps({"username": "USER@contoso.com", "isOtherIdpSupported": True})))
    templates = [json.dumps(e, separators=(",", ":")) for e in entries + extra]

    target = size_mb * 1024 * 1024 if size_mb is not None else None

    def more():
        return written < target if target is not None else n < entries_wanted
    written, n = 0, 0
    with open(out, "w") as f:
        head = '{"log":{"version":"1.2","creator":{"name":"idscope benches/gen_har.py","version":"1"},"entries":[\n'
        f.write(head)
        written += len(head)
        while more():
            for t in templates:
                if not more():
                    break
                line = ("," if n else "") + t.replace("USER", f"user{n:07d}").replace("2026-11-20T09:00", f"2026-11-20T{9 + n % 12:02d}:{n % 60:02d}") + "\n"
                f.write(line)
                written += len(line)
                n += 1
        f.write("]}}\n")
    print(f"{out}: {n} entries, {written / 1048576:.0f} MiB")


if __name__ == "__main__":
    main()
