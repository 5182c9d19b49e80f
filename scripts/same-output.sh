#!/usr/bin/env bash
# Shows that two idscope binaries give the same `analyze --json`, `redact` and `replay --to fixture`
# output on the sample captures and on a seeded demo recording, with the values that differ on every
# run put in a canonical form first (scripts/canon-output.py).
#
#   scripts/same-output.sh OLD_BINARY NEW_BINARY [WORKDIR]
#
# OLD_BINARY makes the demo recording (seed 7) that both binaries then read. Exit 0 when every output
# is the same, 1 with the differing files named otherwise.
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2")
work=${3:-$(mktemp -d)}
mkdir -p "$work"
top=$(cd "$(dirname "$0")/.." && pwd)

inputs=("$top"/captures/*.har "$top"/captures/*.saz "$work/demo-seed7.har")
rm -f "$work/demo-seed7.har"
"$old" demo --headless --seed 7 -w "$work/demo-seed7.har" >/dev/null

canon() { python3 "$top/scripts/canon-output.py"; }

run() { # BIN TAG
  local bin=$1 tag=$2 f n rc
  for f in "${inputs[@]}"; do
    n=$(basename "$f")
    rc=0; "$bin" analyze --json "$f" >"$work/$n.analyze.raw.$tag" 2>&1 || rc=$?
    echo "exit $rc" >>"$work/$n.analyze.raw.$tag"
    mkdir -p "$work/$tag"
    rm -f "$work/$tag/$n.redacted.har"
    rc=0; (cd "$work/$tag" && "$bin" redact "$f" -o "$n.redacted.har") >"$work/$n.redact.raw.$tag" 2>&1 || rc=$?
    { echo "exit $rc"; cat "$work/$tag/$n.redacted.har" 2>/dev/null; } >>"$work/$n.redact.raw.$tag"
    # A fixed seed: the reference server's keys are otherwise new on every run.
    rc=0; "$bin" replay --to fixture --seed 7 --json "$f" >"$work/$n.replay.raw.$tag" 2>&1 || rc=$?
    echo "exit $rc" >>"$work/$n.replay.raw.$tag"
    for k in analyze redact replay; do
      canon <"$work/$n.$k.raw.$tag" >"$work/$n.$k.$tag"
    done
  done
}

run "$old" old
run "$new" new
status=0
for f in "${inputs[@]}"; do
  n=$(basename "$f")
  for k in analyze redact replay; do
    if cmp -s "$work/$n.$k.old" "$work/$n.$k.new"; then
      echo "same      $k $n"
    else
      echo "DIFFERENT $k $n  (diff $work/$n.$k.old $work/$n.$k.new)"
      status=1
    fi
  done
done
exit $status
