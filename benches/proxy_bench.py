#!/usr/bin/env python3
"""The proxy benchmark of issue #5: one run, on loopback, 1 KiB responses, eight targets.

    python3 benches/proxy_bench.py [--seconds N] [--connections N] [--mitm-seconds N] [--repeat N]
                                   (run from the project root; defaults 10 s, 20 connections, 1 round)

Builds idscope, the benchmark origin (examples/bench_origin.rs), plain hudsucker
(examples/hudsucker_passthrough.rs) and the capture floor (examples/capture_floor.rs) in release
mode once, installs
`oha` with `cargo install oha --locked` if it is missing, starts the origin, then measures with
oha, in this order and on this machine:
  * direct              oha straight to the origin (no proxy)
  * idscope capture     `idscope proxy -w FILE --no-tui` with stdout to /dev/null: every flow captured,
                        decoded (the decoded one-line summary `idscope proxy` prints per flow) and
                        appended to the crash-safe HAR. (`idscope record` records but does not
                        decode, so `proxy -w` is the capture-on path.)
  * idscope record      `idscope record -w FILE`: every flow captured and appended to the HAR, not
                        decoded (what the decoding costs is capture minus record)
  * capture floor       examples/capture_floor.rs: idscope's proxy and headless loop with capture
                        on but no recording and no printing: every flow is captured on the
                        connection threads and paired on the consumer thread, then dropped. No
                        decoder and no recording format can take capture above this floor
  * idscope passthrough `idscope proxy --passthrough`: TLS interception, no events, no body taps
  * hudsucker           plain hudsucker 0.25 with its no-op handlers (the other bare passthrough
                        issue #5 names), with idscope's CA and the origin's CA trusted upstream
  * mitmdump            `mitmdump -q` with a fresh confdir (its own CA), ssl_insecure towards the
                        origin; skipped with a note when mitmdump is not installed
  * mitmdump -w         the same, recording every flow to a file (`-w FILE`) and printing its
                        one line per flow to /dev/null: the same work as idscope capture, less
                        the decoding
each in three modes: HTTP keep-alive, HTTPS keep-alive, and HTTPS with a new connection (and TLS
handshake) per request (oha --disable-keepalive). mitmdump gets shorter runs (--mitm-seconds): it
does a few hundred requests per second.

With taskset and 2+ cores, the origin and oha run on core 0 and the proxy on core 1 (as in
shared/docs/stack-notes.md). Proxy CPU per request is utime+stime from /proc/<pid>/stat before and
after each run, divided by the requests oha completed.

With --baseline DIR (another checkout of idscope, e.g. a `git worktree` of the commit to compare
with, whose release build this script makes too), each round runs only direct and the four
idscope targets, each target from both builds back to back (the baseline first in odd rounds,
this build first in even ones), and reports this build's req/s and CPU per request over the
baseline's, row by row: a before/after comparison from one run.

With --repeat N the whole sequence of targets runs N times in rounds (each target restarted per
round), so that the machine's drift over minutes reaches every target alike; the table then shows
each row's median over the rounds, and each ratio is computed within every round and reported as
the median with its range (min–max).

Prints one table (target, mode, req/s, p50 ms, p99 ms, proxy CPU µs/req, the part of it spent on
the proxy's main thread: idscope's recorder (flow line, HAR entry, write) in the capture rows;
in the other rows, whatever that proxy runs there) and the ratios issue #5
sets goals for. The numbers are for the notes, not a test: nothing here fails on a threshold.
Every process it starts is stopped by its PID; every wait is bounded.
"""
import argparse, json, os, re, shutil, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HUDSUCKER = os.path.join(ROOT, "target", "release", "examples", "hudsucker_passthrough")
ORIGIN = os.path.join(ROOT, "target", "release", "examples", "bench_origin")
BASELINE = " (baseline)"
# The idscope targets, by the kind start_idscope takes.
TARGETS = {"capture": "idscope capture", "record": "idscope record",
           "floor": "capture floor", "passthrough": "idscope passthrough"}
CLK_TCK = os.sysconf("SC_CLK_TCK")
MODES = [
    # (label, scheme, extra oha arguments)
    ("HTTP keep-alive", "http", []),
    ("HTTPS keep-alive", "https", []),
    ("HTTPS new conn", "https", ["--disable-keepalive"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, ready, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    sys.exit(f"proxy_bench: {what} not ready after {timeout:.0f} s")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def pinned(core, argv):
    """argv on `core` when taskset is there and the machine has two cores to split."""
    if core is None:
        return argv
    return ["taskset", "-c", str(core)] + argv


def cpu_seconds(pid, thread=False):
    """utime + stime of `pid` (fields 14 and 15 of /proc/<pid>/stat), in seconds; with `thread`,
    of its main thread only (/proc/<pid>/task/<pid>/stat)."""
    path = f"/proc/{pid}/task/{pid}/stat" if thread else f"/proc/{pid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def stop(proc, timeout=15):
    """SIGTERM the process we started, then SIGKILL it if it does not exit in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def find_oha():
    oha = shutil.which("oha") or os.path.expanduser("~/.cargo/bin/oha")
    if os.path.exists(oha):
        return oha
    print("proxy_bench: oha not found; cargo install oha --locked (a few minutes)", flush=True)
    subprocess.run(["cargo", "install", "oha", "--locked"], check=True, timeout=3600)
    oha = shutil.which("oha") or os.path.expanduser("~/.cargo/bin/oha")
    if not os.path.exists(oha):
        sys.exit("proxy_bench: oha still not found after cargo install (is ~/.cargo/bin on PATH?)")
    return oha


class Oha:
    def __init__(self, path, core, connections):
        self.path, self.core, self.connections = path, core, connections

    def run(self, url, extra, seconds=None, requests=None, proxy=None, cacert=None):
        argv = [self.path, "--no-tui", "--output-format", "json", "-c", str(self.connections)]
        argv += ["-z", f"{seconds}s"] if seconds else ["-n", str(requests)]
        if proxy:
            argv += ["-x", f"http://127.0.0.1:{proxy}"]
        if cacert:
            argv += ["--cacert", cacert]
        argv += extra + [url]
        budget = (seconds or 60) + 60
        out = subprocess.run(pinned(self.core, argv), capture_output=True, text=True,
                             timeout=budget)
        if out.returncode != 0:
            sys.exit(f"proxy_bench: oha failed ({' '.join(argv)}):\n{out.stderr}")
        return json.loads(out.stdout)


def summarize(target, mode, res, cpu, main_cpu=None):
    ok = sum(res.get("statusCodeDistribution", {}).values())
    # Requests cut off when a timed run ends are not failures.
    errors = sum(n for e, n in res.get("errorDistribution", {}).items()
                 if e != "aborted due to deadline")
    non200 = ok - res.get("statusCodeDistribution", {}).get("200", 0)
    pct = res.get("latencyPercentiles", {})
    return {
        "target": target, "mode": mode, "requests": ok, "errors": errors + non200,
        "rps": res["summary"]["requestsPerSec"],
        "p50": (pct.get("p50") or 0) * 1000, "p99": (pct.get("p99") or 0) * 1000,
        "cpu_us": cpu * 1e6 / ok if (cpu is not None and ok) else None,
        "main_us": main_cpu * 1e6 / ok if (main_cpu is not None and ok) else None,
    }


def measure_target(target, oha, urls, seconds, proxy=None, cacert=None, warmup=200):
    """Every mode against one target (proxy = (port, pid) or None)."""
    rows = []
    for mode, scheme, extra in MODES:
        port = proxy[0] if proxy else None
        oha.run(urls[scheme], extra, requests=warmup, proxy=port, cacert=cacert)
        before = (cpu_seconds(proxy[1]), cpu_seconds(proxy[1], thread=True)) if proxy else None
        res = oha.run(urls[scheme], extra, seconds=seconds, proxy=port, cacert=cacert)
        cpu = main = None
        if proxy:
            cpu = cpu_seconds(proxy[1]) - before[0]
            main = cpu_seconds(proxy[1], thread=True) - before[1]
        row = summarize(target, mode, res, cpu, main)
        rows.append(row)
        cpu_txt = f", {row['cpu_us']:.0f} µs CPU/req" if row["cpu_us"] is not None else ""
        print(f"  {target:<20} {mode:<17} {row['rps']:>9.0f} req/s{cpu_txt}", flush=True)
    return rows


def start_idscope(tmp, core, origin_ca, kind, root=ROOT):
    """One of the idscope targets: capture, record, floor or passthrough (see the docstring),
    from the build in `root`."""
    idscope = os.path.join(root, "target", "release", "idscope")
    floor = os.path.join(root, "target", "release", "examples", "capture_floor")
    port = free_port()
    ca_dir = os.path.join(tmp, "idscope-ca")
    common = ["--listen", f"127.0.0.1:{port}", "--ca-dir", ca_dir, "--upstream-ca", origin_ca]
    har = os.path.join(tmp, f"{kind}.har")
    argv = {
        # --no-tui: the line printer (also what happens anyway with stdout to /dev/null).
        "capture": [idscope, "proxy"] + common + ["-w", har, "--force", "--no-tui"],
        "record": [idscope, "record"] + common + ["-w", har, "--force"],
        "floor": [floor] + common,
        "passthrough": [idscope, "proxy"] + common + ["--passthrough"],
    }[kind]
    return start_proxy(f"idscope {kind}", argv, core, port, os.path.join(ca_dir, "idscope-ca.pem"),
                       os.path.join(tmp, f"idscope-{kind}.log"))


def start_proxy(name, argv, core, port, ca, log_name, ready=None):
    """Starts a proxy listening on `port`, its stderr in `log_name`; waits until it listens
    (and `ready()` holds, if given). Returns (process, port, CA file, log)."""
    log = open(log_name, "w")
    proc = subprocess.Popen(pinned(core, argv), stdout=subprocess.DEVNULL, stderr=log)
    wait_until(name, lambda: (port_open(port) and (ready is None or ready()))
               or proc.poll() is not None)
    if proc.poll() is not None:
        sys.exit(f"proxy_bench: {name} exited; see {log.name}")
    return proc, port, ca, log


def start_hudsucker(tmp, core, origin_ca):
    port = free_port()
    ca_dir = os.path.join(tmp, "hudsucker-ca")
    argv = [HUDSUCKER, "--listen", f"127.0.0.1:{port}", "--ca-dir", ca_dir,
            "--upstream-ca", origin_ca]
    return start_proxy("hudsucker", argv, core, port, os.path.join(ca_dir, "idscope-ca.pem"),
                       os.path.join(tmp, "hudsucker.log"))


def start_mitmdump(tmp, core, record):
    port = free_port()
    confdir = os.path.join(tmp, "mitmproxy")
    argv = [shutil.which("mitmdump"), "--listen-host", "127.0.0.1", "--listen-port", str(port),
            "--set", "ssl_insecure=true", "--set", f"confdir={confdir}"]
    # Recording: the flows go to a file and the per-flow lines to /dev/null, as idscope's do.
    argv += ["-w", os.path.join(tmp, "mitmdump.flows")] if record else ["-q"]
    ca = os.path.join(confdir, "mitmproxy-ca-cert.pem")
    return start_proxy("mitmdump", argv, core, port, ca,
                       os.path.join(tmp, f"mitmdump{'-w' if record else ''}.log"),
                       ready=lambda: os.path.exists(ca))


def baseline_round(tmp, oha, urls, origin_ca, proxy_core, seconds, procs, baseline, rnd):
    """Direct, then each idscope target from both builds back to back (who goes first
    alternates by round); returns the rows."""
    rows = measure_target("direct", oha, urls, seconds, cacert=origin_ca)
    builds = [(BASELINE, baseline), ("", ROOT)]
    if rnd % 2:
        builds.reverse()
    for kind in ("capture", "record", "floor", "passthrough"):
        for suffix, root in builds:
            proc, port, ca, log = start_idscope(tmp, proxy_core, origin_ca, kind, root)
            procs.append(proc)
            rows += measure_target(TARGETS[kind] + suffix, oha, urls, seconds,
                                   (port, proc.pid), ca)
            stop(proc)
            log.close()
    return rows


def one_round(tmp, oha, urls, origin_ca, proxy_core, seconds, mitm_seconds, procs):
    """Every target once, in the fixed order; returns the rows and the flows capture recorded."""
    rows = measure_target("direct", oha, urls, seconds, cacert=origin_ca)

    recorded = None
    for kind in ("capture", "record", "floor", "passthrough"):
        proc, port, ca, log = start_idscope(tmp, proxy_core, origin_ca, kind)
        procs.append(proc)
        rows += measure_target(TARGETS[kind], oha, urls, seconds, (port, proc.pid), ca)
        stop(proc)
        log.close()
        if kind == "capture":
            m = re.search(r"recorded (\d+) flows", open(log.name).read())
            recorded = int(m.group(1)) if m else None

    proc, port, ca, log = start_hudsucker(tmp, proxy_core, origin_ca)
    procs.append(proc)
    rows += measure_target("hudsucker", oha, urls, seconds, (port, proc.pid), ca)
    stop(proc)
    log.close()

    if shutil.which("mitmdump"):
        for name, record in (("mitmdump", False), ("mitmdump -w", True)):
            proc, port, ca, log = start_mitmdump(tmp, proxy_core, record)
            procs.append(proc)
            rows += measure_target(name, oha, urls, mitm_seconds, (port, proc.pid), ca,
                                   warmup=50)
            stop(proc)
            log.close()
    else:
        print("note: mitmdump not installed (pip install mitmproxy): its rows are missing")
    return rows, recorded


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def merged(rows):
    """One row per (target, mode): the median of each figure over the rounds, errors summed."""
    out = []
    for key in dict.fromkeys((r["target"], r["mode"]) for r in rows):
        group = [r for r in rows if (r["target"], r["mode"]) == key]
        row = {"target": key[0], "mode": key[1],
               "requests": sum(r["requests"] for r in group),
               "errors": sum(r["errors"] for r in group)}
        for f in ("rps", "p50", "p99", "cpu_us", "main_us"):
            row[f] = median([r[f] for r in group])
        out.append(row)
    return out


def ratio(rows, a, b, mode):
    ra = next((r for r in rows if r["target"] == a and r["mode"] == mode), None)
    rb = next((r for r in rows if r["target"] == b and r["mode"] == mode), None)
    if not ra or not rb or not rb["rps"]:
        return None
    return ra["rps"] / rb["rps"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=10, help="seconds per run (default 10)")
    ap.add_argument("--connections", type=int, default=20, help="oha connections (default 20)")
    ap.add_argument("--mitm-seconds", type=int, default=None,
                    help="seconds per mitmdump run (default: a third of --seconds, at least 2)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds over all targets; medians and ranges are reported (default 1)")
    ap.add_argument("--baseline", metavar="DIR", default=None,
                    help="another idscope checkout: compare its idscope targets with this "
                         "build's, back to back in every round")
    args = ap.parse_args()
    baseline = os.path.abspath(args.baseline) if args.baseline else None
    if baseline and not os.path.exists(os.path.join(baseline, "Cargo.toml")):
        sys.exit(f"proxy_bench: --baseline {args.baseline}: not an idscope checkout")
    if args.repeat < 1:
        sys.exit("proxy_bench: --repeat must be at least 1")
    mitm_seconds = args.mitm_seconds or max(2, args.seconds // 3)
    os.chdir(ROOT)
    t_start = time.monotonic()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "idscope",
                    "--example", "bench_origin", "--example", "hudsucker_passthrough",
                    "--example", "capture_floor"],
                   check=True, timeout=3600)
    if baseline:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "idscope",
                        "--example", "capture_floor"], cwd=baseline, check=True, timeout=3600)
    oha_path = find_oha()
    cores = len(os.sched_getaffinity(0))
    split = shutil.which("taskset") is not None and cores >= 2
    client_core, proxy_core = (0, 1) if split else (None, None)
    if not split:
        print("note: no taskset or fewer than 2 cores: processes are not pinned")
    oha = Oha(oha_path, client_core, args.connections)

    rows, procs = [], []
    with tempfile.TemporaryDirectory(prefix="idscope-proxy-bench-") as tmp:
        try:
            origin_ca = os.path.join(tmp, "origin-ca.pem")
            hp, sp = free_port(), free_port()
            # The origin outlives the whole run with a margin, and no longer.
            bound = 30 * args.seconds + 10 * mitm_seconds + 600
            origin = subprocess.Popen(pinned(client_core, [
                ORIGIN, "--http", f"127.0.0.1:{hp}", "--https", f"127.0.0.1:{sp}",
                "--ca-out", origin_ca, "--max-seconds", str(bound)]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(origin)
            wait_until("the origin", lambda: os.path.exists(origin_ca) or origin.poll() is not None)
            urls = {"http": f"http://127.0.0.1:{hp}/bench", "https": f"https://127.0.0.1:{sp}/bench"}

            print(f"{cores} cores, {args.connections} connections, {args.seconds} s per run "
                  f"({mitm_seconds} s for mitmdump), 1 KiB responses, {args.repeat} round(s)",
                  flush=True)
            recorded = None
            for rnd in range(args.repeat):
                if args.repeat > 1:
                    print(f"round {rnd + 1} of {args.repeat}", flush=True)
                if baseline:
                    got, rec = baseline_round(tmp, oha, urls, origin_ca, proxy_core,
                                              args.seconds, procs, baseline, rnd), None
                else:
                    got, rec = one_round(tmp, oha, urls, origin_ca, proxy_core, args.seconds,
                                         mitm_seconds, procs)
                for r in got:
                    r["round"] = rnd
                rows += got
                if rec is not None:
                    recorded = (recorded or 0) + rec
        finally:
            for p in reversed(procs):
                stop(p)

    table = merged(rows)
    rounds = args.repeat
    print(f"\n{cores} cores; pinned: {'origin+oha core 0, proxy core 1' if split else 'no'}; "
          f"{args.connections} connections; 1 KiB responses"
          + (f"; median of {rounds} rounds" if rounds > 1 else "") + "\n")
    print(f"{'target':<20} {'mode':<17} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU µs/req':>11} {'main thread':>12} {'errors':>7}")
    for r in table:
        cpu = f"{r['cpu_us']:>11.1f}" if r["cpu_us"] is not None else f"{'–':>11}"
        main = f"{r['main_us']:>12.1f}" if r["main_us"] is not None else f"{'–':>12}"
        print(f"{r['target']:<20} {r['mode']:<17} {r['rps']:>9.0f} {r['p50']:>8.2f} "
              f"{r['p99']:>8.2f} {cpu} {main} {r['errors']:>7}")
    cap_requests = sum(r["requests"] for r in rows if r["target"] == "idscope capture")
    if recorded is not None:
        print(f"\nidscope capture recorded {recorded} flows (oha completed {cap_requests} "
              f"measured requests plus warm-up)")

    def each_round(a, b, mode):
        """The ratio a/b in every round that has both, each from that round's own runs."""
        got = []
        for rnd in range(rounds):
            in_round = [r for r in rows if r["round"] == rnd]
            x = ratio(in_round, a, b, mode)
            if x is not None:
                got.append(x)
        return got

    def show(a, b, mode, goal):
        got = each_round(a, b, mode)
        if not got:
            return
        spread = f"  ({min(got):.2f}–{max(got):.2f})" if len(got) > 1 else ""
        print(f"  {a + ' / ' + b:<40} {mode:<17} {median(got):>8.2f}x{spread}   (goal {goal})")

    if baseline:
        print(f"\nthis build over the baseline ({baseline}), row by row: the median of the "
              "rounds' ratios, with their range")
        print(f"  {'target':<20} {'mode':<17} {'req/s':>16} {'CPU µs/req':>18}")
        for mode, _, _ in MODES:
            for kind in ("capture", "record", "floor", "passthrough"):
                t = TARGETS[kind]
                rps, cpu = [], []
                for rnd in range(rounds):
                    new = next((r for r in rows if r["round"] == rnd and r["target"] == t
                                and r["mode"] == mode), None)
                    old = next((r for r in rows if r["round"] == rnd
                                and r["target"] == t + BASELINE and r["mode"] == mode), None)
                    if new and old and old["rps"]:
                        rps.append(new["rps"] / old["rps"])
                    if new and old and old["cpu_us"] and new["cpu_us"] is not None:
                        cpu.append(new["cpu_us"] / old["cpu_us"])
                fmt = lambda xs: (f"{median(xs):.2f}x ({min(xs):.2f}–{max(xs):.2f})"
                                  if xs else "–")
                print(f"  {t:<20} {mode:<17} {fmt(rps):>16} {fmt(cpu):>18}")
        print(f"\ntotal wall time {time.monotonic() - t_start:.0f} s")
        return

    print("\nratios of req/s (issue #5 goals; for the notes, not thresholds)"
          + (": the median of the rounds' ratios, with their range" if rounds > 1 else "") + ":")
    for mode, _, _ in MODES:
        for a, b, goal in (("idscope capture", "idscope passthrough", "≥ 0.8"),
                           ("idscope capture", "hudsucker", "≥ 0.8"),
                           ("idscope record", "idscope passthrough", "–"),
                           ("capture floor", "idscope passthrough", "–"),
                           ("idscope passthrough", "hudsucker", "–"),
                           ("idscope capture", "mitmdump", "≥ 50"),
                           ("idscope capture", "mitmdump -w", "≥ 50")):
            show(a, b, mode, goal)
    show("idscope capture", "direct", "HTTPS new conn", "≥ 0.6")
    print(f"\ntotal wall time {time.monotonic() - t_start:.0f} s")


if __name__ == "__main__":
    main()
