#!/usr/bin/env python3
"""The SAZ benchmark: the same flows as a HAR, a plain SAZ and an AES-256 SAZ.

    python3 benches/saz_bench.py [SESSIONS] [--generate-only]   (default 100000; run from the project root)

Generates a HAR with benches/gen_har.py, keeps its first SESSIONS entries
(bench-out/saz-<N>.har), writes them as a Fiddler archive the way Fiddler lays it out
(raw/NNNNNN_c.txt, _s.txt, _m.xml; deflate) with Python's zipfile (bench-out/saz-<N>.saz) and
again encrypted with WinZip AES-256 by pyzipper (bench-out/saz-<N>-aes256.saz, what Fiddler offers
when saving), builds idscope in release mode, then measures `idscope convert` (opening: one read
of every session) and `idscope analyze --json` (two reads, every flow decoded) on each: wall time,
CPU and peak RSS (each run in its own process, like analyze_bench.py). Prints the tables and the
ratios AES/plain (the cost of decryption) and SAZ/HAR. `--generate-only` writes the inputs and
stops. Needs `pip install pyzipper`. Nothing fails on a threshold.
"""
import json, os, subprocess, sys, zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyze_bench import ROOT, measure  # noqa: E402

PASSWORD = "bench password"


def status_line(r):
    return f"HTTP/1.1 {r['status']} {r.get('statusText') or 'OK'}"


def request_bytes(e):
    req = e["request"]
    head = [f"{req['method']} {req['url']} {req.get('httpVersion') or 'HTTP/1.1'}"]
    body = (req.get("postData") or {}).get("text", "").encode()
    for h in req.get("headers", []):
        if h["name"].lower() not in ("content-length", "transfer-encoding") and not h["name"].startswith(":"):
            head.append(f"{h['name']}: {h['value']}")
    if body:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def response_bytes(e):
    resp = e["response"]
    head = [status_line(resp)]
    body = (resp.get("content") or {}).get("text", "").encode()
    for h in resp.get("headers", []):
        if h["name"].lower() not in ("content-length", "transfer-encoding", "content-encoding") and not h["name"].startswith(":"):
            head.append(f"{h['name']}: {h['value']}")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def meta_bytes(sid, e):
    t = e["startedDateTime"]
    timers = " ".join(f'{n}="{t}"' for n in (
        "ClientConnected", "ClientBeginRequest", "GotRequestHeaders", "ClientDoneRequest", "ServerConnected",
        "FiddlerBeginRequest", "ServerGotRequest", "ServerBeginResponse", "GotResponseHeaders",
        "ServerDoneResponse", "ClientBeginResponse", "ClientDoneResponse"))
    return (f'<?xml version="1.0" encoding="utf-8"?>\r\n<Session SID="{sid}" BitFlags="0">'
            f'<SessionTimers {timers} GatewayTime="0" DNSTime="0" TCPConnectTime="3" HTTPSHandshakeTime="12" />'
            '<PipeInfo /><SessionFlags><SessionFlag N="x-clientip" V="127.0.0.1" />'
            f'<SessionFlag N="x-clientport" V="{50000 + sid % 10000}" />'
            '<SessionFlag N="x-processinfo" V="miiserver:4242" /></SessionFlags></Session>').encode()


def entries_of(path, n):
    """The first n entries of a HAR in gen_har.py's one-entry-per-line layout, streamed."""
    with open(path) as f:
        next(f)  # {"log":{..."entries":[
        for i, line in enumerate(f):
            if i == n or line.startswith("]"):
                return
            yield json.loads(line.lstrip(","))


def members(i, width, e):
    name = f"raw/{str(i).zfill(width)}"
    yield f"{name}_c.txt", request_bytes(e)
    yield f"{name}_s.txt", response_bytes(e)
    yield f"{name}_m.xml", meta_bytes(i, e)


def main():
    args = [a for a in sys.argv[1:] if a != "--generate-only"]
    n = int(args[0]) if args else 100_000
    os.chdir(ROOT)
    import pyzipper  # fail early, before the long steps
    os.makedirs("bench-out", exist_ok=True)
    har, saz, aes = f"bench-out/saz-{n}.har", f"bench-out/saz-{n}.saz", f"bench-out/saz-{n}-aes256.saz"
    if not (os.path.exists(har) and os.path.exists(saz) and os.path.exists(aes)):
        # gen_har.py writes by size: about 1.9 KB per entry; this leaves room to spare.
        big = f"bench-out/saz-source-{n}.har"
        subprocess.run([sys.executable, "benches/gen_har.py", str(n // 400 + 8), big], check=True)
        width, count = len(str(n)), 0
        with open(har, "w") as out, zipfile.ZipFile(saz, "w", zipfile.ZIP_DEFLATED) as plain, \
                pyzipper.AESZipFile(aes, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as enc:
            enc.setpassword(PASSWORD.encode())
            enc.setencryption(pyzipper.WZ_AES, nbits=256)
            out.write('{"log":{"version":"1.2","creator":{"name":"benches/saz_bench.py","version":"1"},"entries":[\n')
            for count, e in enumerate(entries_of(big, n), 1):
                out.write(("," if count > 1 else "") + json.dumps(e) + "\n")
                for name, data in members(count, width, e):
                    plain.writestr(name, data)
                    enc.writestr(name, data)
            out.write("]}}\n")
        os.remove(big)
        assert count == n, f"gen_har.py gave only {count} entries"
    if "--generate-only" in sys.argv:
        return
    subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
    os.environ["IDSCOPE_SAZ_PASSWORD"] = PASSWORD
    inputs = (("HAR", har), ("SAZ (deflate)", saz), ("SAZ (AES-256)", aes))
    out = "bench-out/saz-bench-convert.har"
    commands = {
        # Opening alone: one read of every session, written out as HAR, nothing decoded.
        "convert": lambda path: ["target/release/idscope", "convert", "--force", "-o", out, path],
        # The offline report: two reads (keys the capture publishes, then every flow decoded).
        "analyze --json": lambda path: ["target/release/idscope", "analyze", "--json", "--fail-on", "never", path],
    }
    print(f"\n{n} sessions, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    for command, argv in commands.items():
        runs = [measure(name, argv(path)) for name, path in inputs]
        print(f"\nidscope {command}\n{'input':<16} {'MB':>7} {'exit':>4} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13}")
        for r, (_, path) in zip(runs, inputs):
            mb = os.path.getsize(path) / 1e6
            print(f"{r['name']:<16} {mb:>7.0f} {r['rc']:>4} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['rss_mib']:>13.0f}")
        h, p, a = runs
        print(f"AES-256 / plain SAZ: wall {a['wall'] / p['wall']:.2f}x, cpu {a['cpu'] / p['cpu']:.2f}x, "
              f"RSS {a['rss_mib'] / p['rss_mib']:.2f}x (goal: decryption adds <= 25 %)")
        print(f"plain SAZ / HAR: wall {p['wall'] / h['wall']:.2f}x, RSS {p['rss_mib'] / h['rss_mib']:.2f}x; "
              f"AES-256 SAZ / HAR: RSS {a['rss_mib'] / h['rss_mib']:.2f}x")
    if os.path.exists(out):
        os.remove(out)

if __name__ == "__main__":
    main()
