#!/usr/bin/env python3
"""Writes tests/data/jose/generated/algorithms.json: one compact JWS per JWS algorithm the
corpus vectors do not cover (RS384, RS512, PS256, PS512, ES384, HS384, HS512) and for RSA keys
under 2048 bits (RS256, RS384 and PS256 with a 1024-bit key), signed with Python's
`cryptography` package, an implementation independent of idscope's. Keys are generated on each
run; the output is committed so the tests do not need Python.

Run from the repository root: python3 decoders/tests/support/make_jose.py
"""

import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "jose", "generated", "algorithms.json")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int, size: int | None = None) -> bytes:
    size = size or (n.bit_length() + 7) // 8
    return n.to_bytes(size, "big")


def rsa_jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "use": "sig", "n": b64(uint(pub.n)), "e": b64(uint(pub.e))}


def ec_jwk(key, kid, crv, size):
    pub = key.public_key().public_numbers()
    return {"kty": "EC", "kid": kid, "crv": crv, "x": b64(uint(pub.x, size)), "y": b64(uint(pub.y, size))}


HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def sign(alg, key, message):
    h = HASHES[alg[2:]]
    if alg.startswith("RS"):
        return key.sign(message, padding.PKCS1v15(), h)
    if alg.startswith("PS"):
        return key.sign(message, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if alg.startswith("ES"):
        r, s = decode_dss_signature(key.sign(message, ec.ECDSA(h)))
        size = (key.curve.key_size + 7) // 8
        return uint(r, size) + uint(s, size)
    if alg.startswith("HS"):
        return hmac.new(key, message, getattr(hashlib, "sha" + alg[2:])).digest()
    raise ValueError(alg)


def token(alg, kid, key, claims):
    header = b64(json.dumps({"alg": alg, "kid": kid}, separators=(",", ":")).encode())
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    return f"{header}.{payload}.{b64(sign(alg, key, signing_input))}"


def main():
    rsa2048 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    p384 = ec.generate_private_key(ec.SECP384R1())
    secret = os.urandom(64)
    keys = [
        rsa_jwk(rsa2048, "rsa-2048"),
        rsa_jwk(rsa1024, "rsa-1024"),
        ec_jwk(p384, "ec-p384", "P-384", 48),
        {"kty": "oct", "kid": "oct-64", "k": b64(secret)},
    ]
    claims = {"iss": "make_jose.py", "sub": "generated"}
    cases = [
        ("RS384", "rsa-2048", rsa2048),
        ("RS512", "rsa-2048", rsa2048),
        ("PS256", "rsa-2048", rsa2048),
        ("PS512", "rsa-2048", rsa2048),
        ("ES384", "ec-p384", p384),
        ("HS384", "oct-64", secret),
        ("HS512", "oct-64", secret),
        ("RS256", "rsa-1024", rsa1024),
        ("RS384", "rsa-1024", rsa1024),
        ("PS256", "rsa-1024", rsa1024),
    ]
    tokens = [{"alg": a, "kid": k, "token": token(a, k, key, claims)} for a, k, key in cases]
    with open(OUT, "w") as f:
        json.dump({"keys": keys, "tokens": tokens}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
