#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) one after the other and prints each one's
# final libFuzzer stats line (exec count, coverage). Needs a nightly toolchain and cargo-fuzz.
#   bash fuzz/run_all.sh [SECONDS] [TARGET…]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(nbfx xml soap saml jwt registry jose c14n11 xmlenc spnego kerberos ntlm amqp nmf)
python3 seed_corpus.py
mkdir -p logs
for t in "${targets[@]}"; do
  cargo +nightly fuzz run -O "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 > "logs/$t.log" 2>&1
  rc=$?
  echo "$t: exit $rc: $(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "logs/$t.log" | tail -1)"
  grep -E "Done [0-9]+ runs" "logs/$t.log" | tail -1
done
