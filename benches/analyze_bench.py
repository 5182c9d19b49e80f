#!/usr/bin/env python3
"""The analyze benchmark: one run, three readers of the same large HAR.

    python3 benches/analyze_bench.py [SIZE_MB]      (default 512; run from the project root)

Builds idscope in release mode, generates (or reuses) bench-out/identity-<SIZE>.har with
benches/gen_har.py, then measures, in this order and on this machine:
  * idscope analyze --json FILE > /dev/null      (reads and decodes every flow)
  * jq -c '.log.entries[]' FILE > /dev/null       (parses and prints every entry, decodes nothing)
  * mitmdump -nr FILE                             (mitmproxy loading the HAR; skipped with a note
                                                  when mitmdump is not installed)
and prints wall time, MB/s and peak RSS of each, and idscope's ratios to the others. The numbers
are for the closing note, not a test: nothing here fails on a threshold.
"""
import os, resource, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(name, argv, stdout=subprocess.DEVNULL, timeout=3600):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    # Each run in its own process so ru_maxrss is that process's peak (Linux reports KiB).
    wrapper = [sys.executable, "-c",
               "import resource,subprocess,sys;"
               "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
               "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"] + argv
    try:
        out = subprocess.run(wrapper, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": name + f" (stopped after {timeout}s)", "rc": -1, "wall": float(timeout),
                "cpu": 0.0, "rss_mib": 0.0}
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc, rss_kib = out.stdout.split()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"name": name, "rc": int(rc), "wall": wall, "cpu": cpu, "rss_mib": int(rss_kib) / 1024}


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    os.chdir(ROOT)
    subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
    os.makedirs("bench-out", exist_ok=True)
    har = f"bench-out/identity-{size}.har"
    if not os.path.exists(har):
        subprocess.run([sys.executable, "benches/gen_har.py", str(size), har], check=True)
    mb = os.path.getsize(har) / 1e6
    runs = [measure("idscope analyze --json", ["target/release/idscope", "analyze", "--json", "--fail-on", "never", har])]
    runs.append(measure("jq -c '.log.entries[]'", ["jq", "-c", ".log.entries[]", har]))
    if shutil.which("mitmdump"):
        runs.append(measure("mitmdump -nr", ["mitmdump", "-q", "-nr", har], timeout=600))
    else:
        print("note: mitmdump not installed (pip install mitmproxy): its row is missing")
    print(f"\nfile: {har}, {mb:.0f} MB, {os.cpu_count()} cores\n")
    print(f"{'reader':<26} {'exit':>4} {'wall s':>8} {'MB/s':>8} {'cpu s':>8} {'peak RSS MiB':>13}")
    for r in runs:
        print(f"{r['name']:<26} {r['rc']:>4} {r['wall']:>8.1f} {mb / r['wall']:>8.1f} {r['cpu']:>8.1f} {r['rss_mib']:>13.0f}")
    ids = runs[0]
    for r in runs[1:]:
        print(f"idscope throughput / {r['name']}: {r['wall'] / ids['wall']:.2f}x")


if __name__ == "__main__":
    main()
