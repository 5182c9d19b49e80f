#!/usr/bin/env python3
"""Puts idscope output in a canonical form for comparing two runs (used by same-output.sh).

Values that differ on every run are rewritten: redaction fingerprints (an HMAC under a per-run
key) are numbered by first appearance, so "the same secret has the same fp" is still compared;
redacted-signature tags become zeros; the reference server's port becomes PORT. Fingerprints
also hide inside base64 (a redacted msbin1 body, a BearerToken inside it), so base64 runs are
decoded (also when percent-encoded in a form), rewritten and re-encoded, up to three layers deep, keeping every length.
"""
import base64
import re
import sys

seen = {}
FP = re.compile(rb"(fp(?:=|%3D|\\u003d))([0-9a-f]{8})")
SIG = re.compile(rb"REDACTED-SIG-([0-9a-f]+)")
B64 = re.compile(rb"(?:[A-Za-z0-9+/_-]|%2[BbFf]|%3[Dd]){24,}(?:=|%3[Dd]){0,2}")
QUOTED = {b"%2B": b"+", b"%2F": b"/", b"%3D": b"="}


def fp(m):
    n = seen.setdefault(m.group(2), len(seen) + 1)
    return m.group(1) + b"%08x" % n


def canon(data, depth):
    data = FP.sub(fp, data)
    data = SIG.sub(lambda m: b"REDACTED-SIG-" + b"0" * len(m.group(1)), data)
    if depth == 0:
        return data

    def inner(m):
        run = m.group(0)
        quoted = b"%" in run
        if quoted:
            run = re.sub(rb"%(2[BbFf]|3[Dd])", lambda q: QUOTED[q.group(0).upper()], run)
        urlsafe = b"-" in run or b"_" in run
        try:
            raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(
                run + b"=" * (-len(run) % 4)
            )
        except Exception:
            return run
        out = canon(raw, depth - 1)
        if out == raw:
            return m.group(0)
        enc = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(out)
        enc = enc if run.endswith(b"=") else enc.rstrip(b"=")
        if quoted:
            enc = enc.replace(b"+", b"%2B").replace(b"/", b"%2F").replace(b"=", b"%3D")
        return enc

    return B64.sub(inner, data)


data = sys.stdin.buffer.read()
data = re.sub(rb"127\.0\.0\.1:\d+", b"127.0.0.1:PORT", data)
sys.stdout.buffer.write(canon(data, 3))
