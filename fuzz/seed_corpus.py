#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the decoder golden fixtures (decoders/tests/fixtures/**.http)
and the signed XML samples, so every target starts from realistic messages.

    python3 fuzz/seed_corpus.py
"""
import base64, glob, hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "decoders", "tests", "fixtures")


def body_of(path):
    text = open(path, encoding="utf-8").read().lstrip("\ufeff")
    head, _, body = text.partition("\n\n")
    if body.startswith("base64:"):
        return base64.b64decode("".join(body[len("base64:"):].split()))
    return body.rstrip("\n").encode()


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb").write(data)


def relay_seeds():
    """The relay targets: a listener conversation written by `azure-servicebus`'s AMQP encoder
    (tests/support/pyamqp_relay.py; skipped when the package is missing) for `amqp`, and MC-NMF
    records around the MC-NBFS example envelope for `nmf`. Each target puts its own opening
    bytes (a SASL header, an MC-NMF preamble) in front and reads the first byte as a split point."""
    import importlib.util
    path = os.path.join(HERE, "..", "decoders", "tests", "support", "pyamqp_relay.py")
    spec = importlib.util.spec_from_file_location("pyamqp_relay", path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except ImportError:
        mod = None
    nbfs = bytes.fromhex("56020b0161060b0173045608440a1e0082990661637469"
                         "6f6e01560e4009496e76656e746f72798101 01".replace(" ", ""))
    put("nmf", b"\x80" + b"\x06" + bytes([len(nbfs)]) + nbfs + b"\x07")
    if mod is None:
        return
    import contextlib, io, json as _json
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mod.main()
    conv = _json.loads(buf.getvalue())
    for side in ("client", "service"):
        data = bytes.fromhex(conv[side])
        put("amqp", b"\x80" + data[8:])
    put("nmf", b"\x80" + mod.nmf()[len(b"\x00\x01\x00\x01\x02\x02") + 1 + len(mod.VIA) + 3:])


def main():
    relay_seeds()
    for path in glob.glob(os.path.join(FIX, "**", "*.http"), recursive=True):
        kind = os.path.basename(os.path.dirname(path))
        data = body_of(path)
        if not data:
            continue
        put("registry", data)
        if data[:2] == b"\x56\x02" or kind == "provisioning":
            put("nbfx", data)
            put("soap", data)
        if data.lstrip().startswith(b"<"):
            put("xml", data)
            put("soap", data)
            put("saml", data)
        if kind in ("jwt", "oauth", "prt"):
            put("jwt", data)
    for path in glob.glob(os.path.join(FIX, "negotiate", "*.b64")):
        data = base64.b64decode(open(path).read())
        put("registry", data)
        name = os.path.basename(path)
        if "ntlm" in name:
            # The NTLM target adds the signature and type itself: seed with what follows them,
            # the type's number first.
            put("ntlm", bytes([data[8] - 1]) + data[12:] if data[:8] == b"NTLMSSP\0" else data)
        if name.startswith("krb5-") or name.startswith("gss-krb5"):
            put("kerberos", data[17:] if name.startswith("gss-krb5") else data)
        if "spnego" in name or name.startswith("gss-"):
            put("spnego", data)
    for path in glob.glob(os.path.join(HERE, "..", "decoders", "tests", "data", "dsig", "**", "*.xml"),
                          recursive=True):
        data = open(path, "rb").read()
        put("xml", data)
        put("saml", data)
        put("c14n11", data)
    for path in glob.glob(os.path.join(HERE, "..", "decoders", "tests", "data", "xmlenc", "**", "*"),
                          recursive=True):
        if os.path.isfile(path) and open(path, "rb").read(1) == b"<":
            put("xmlenc", open(path, "rb").read())
    for path in glob.glob(os.path.join(HERE, "..", "decoders", "tests", "data", "jose", "**", "*.json"),
                          recursive=True):
        raw = open(path, "rb").read()
        put("jose", raw)
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        output = doc.get("output") if isinstance(doc, dict) else None
        for form in ("json", "json_flat"):
            if isinstance(output, dict) and isinstance(output.get(form), (dict, str)):
                value = output[form]
                put("jose", (value if isinstance(value, str) else json.dumps(value)).encode())


if __name__ == "__main__":
    main()
