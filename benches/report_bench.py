#!/usr/bin/env python3
"""The report benchmark: `idscope report` against `idscope analyze --json` on the same file, and the
page in Chromium.

    python3 benches/report_bench.py [--sizes 1000,100000] [--paint 10000]   (from the project root)

Builds idscope in release mode and generates (or reuses) bench-out/report-<N>.har with
benches/gen_har.py (N identity flows). Then, per size and on this machine:
  * idscope analyze --json FILE > /dev/null          (the baseline: reads and decodes every flow)
  * idscope report FILE -o OUT.html --force          (the same decoding, plus redaction of every
                                                      flow, a second decode of the original for
                                                      the verdicts checked before redaction, and
                                                      the page's JSON)
with wall time, CPU time and peak RSS of each and the ratios report / analyze. For the paint size,
benches/report_paint.mjs opens the report in headless Debian Chromium (playwright-core from
tests/browser) and reports the first paint, the time until the list shows its rows, and the time
from a click on a row to its decoded tree; its baseline is the same file with the page's script
removed (what parsing the HTML alone costs). Nothing here fails on a threshold.
"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyze_bench import measure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def har_of(n):
    path = f"bench-out/report-{n}.har"
    if not os.path.exists(path):
        subprocess.run([sys.executable, "benches/gen_har.py", "--entries", str(n), path], check=True)
    return path


def main():
    sizes = [int(s) for s in arg("--sizes", "1000,100000").split(",") if s]
    paint = int(arg("--paint", "10000"))
    os.chdir(ROOT)
    subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
    os.makedirs("bench-out", exist_ok=True)
    exe = "target/release/idscope"
    rows = []
    for n in sizes:
        har = har_of(n)
        out = f"bench-out/report-{n}.html"
        a = measure(f"analyze --json ({n})", [exe, "analyze", "--json", "--fail-on", "never", har])
        r = measure(f"report ({n})", [exe, "report", har, "-o", out, "--force"])
        size = os.path.getsize(out) / 1e6 if os.path.exists(out) else 0.0
        rows.append((n, a, r, size))
    print(f"\n{os.cpu_count()} cores\n")
    print(f"{'flows':>7} {'command':<24} {'exit':>4} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13} {'out MB':>7}")
    for n, a, r, size in rows:
        for m, s in ((a, ""), (r, f"{size:.1f}")):
            print(f"{n:>7} {m['name'].split(' (')[0]:<24} {m['rc']:>4} {m['wall']:>8.2f} {m['cpu']:>8.2f} {m['rss_mib']:>13.0f} {s:>7}")
        print(f"{n:>7} report / analyze: wall {r['wall'] / a['wall']:.2f}x, peak RSS {r['rss_mib'] / a['rss_mib']:.2f}x")
    if paint:
        har = har_of(paint)
        out = f"bench-out/report-{paint}.html"
        subprocess.run([exe, "report", har, "-o", out, "--force"], check=True,
                       stderr=subprocess.DEVNULL)
        res = subprocess.run(["node", "benches/report_paint.mjs", out], capture_output=True, text=True)
        if res.returncode != 0:
            print(res.stdout + res.stderr)
            sys.exit("report_paint.mjs failed")
        p = json.loads(res.stdout)
        print(f"\nChromium, {paint} flows, {os.path.getsize(out) / 1e6:.1f} MB page (median of {p['runs']} loads)")
        print(f"  baseline (same HTML, script removed): first paint {p['bare_fp_ms']:.0f} ms, load {p['bare_load_ms']:.0f} ms")
        print(f"  report: first paint {p['fp_ms']:.0f} ms, list shown {p['list_ms']:.0f} ms, "
              f"flow opened {p['open_ms']:.0f} ms after the click")
        print(f"  list shown / bare load: {p['list_ms'] / p['bare_load_ms']:.2f}x")


if __name__ == "__main__":
    main()
