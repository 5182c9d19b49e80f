#!/usr/bin/env bash
# Add (or, with --remove, remove) the idscope CA in the NSS database Chrome and Chromium read on
# Linux: sql:$HOME/.pki/nssdb of the user running the browser (not root: no sudo). Needs certutil
# (Debian/Ubuntu: libnss3-tools; Fedora/RHEL: nss-tools). Restart the browser afterwards.
# Usage: ca/trust-chrome-linux.sh [--remove] [PATH-TO-idscope-ca.pem]
# Only the public certificate is ever added; the key stays in idscope's data directory.
set -euo pipefail
remove=false
if [[ "${1:-}" == "--remove" ]]; then remove=true; shift; fi
pem="${1:-${IDSCOPE_CA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/idscope}/idscope-ca.pem}"
db="$HOME/.pki/nssdb"
command -v certutil >/dev/null || { echo "certutil not found: install libnss3-tools (Debian/Ubuntu) or nss-tools (Fedora/RHEL)" >&2; exit 2; }
if $remove; then
  certutil -d "sql:$db" -D -n idscope
  echo "removed idscope from sql:$db (restart the browser)"
  exit 0
fi
grep -q "BEGIN CERTIFICATE" "$pem" || { echo "$pem: not a PEM certificate" >&2; exit 2; }
if grep -q "PRIVATE KEY" "$pem"; then echo "$pem contains a private key: refusing" >&2; exit 2; fi
mkdir -p "$db"
[[ -f "$db/cert9.db" ]] || certutil -d "sql:$db" -N --empty-password
certutil -d "sql:$db" -A -t "C,," -n idscope -i "$pem"
certutil -d "sql:$db" -L
echo "added $pem to sql:$db as idscope (restart the browser)"
echo "use it: google-chrome --proxy-server=http://127.0.0.1:8080"
