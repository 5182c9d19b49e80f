#!/usr/bin/env bash
# Install (or, with --remove, remove) the idscope CA certificate in the Linux system trust store.
# Usage: sudo ca/trust-linux.sh [--remove] [PATH-TO-idscope-ca.pem]
# Only the public certificate is ever copied; the key stays in idscope's data directory.
set -euo pipefail
remove=false
if [[ "${1:-}" == "--remove" ]]; then remove=true; shift; fi
pem="${1:-${IDSCOPE_CA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/idscope}/idscope-ca.pem}"
if [[ -d /usr/local/share/ca-certificates ]] && command -v update-ca-certificates >/dev/null; then
  dest=/usr/local/share/ca-certificates/idscope-ca.crt
  if $remove; then rm -f "$dest"; update-ca-certificates --fresh; echo "removed $dest"; exit 0; fi
  grep -q "BEGIN CERTIFICATE" "$pem" || { echo "$pem: not a PEM certificate" >&2; exit 2; }
  if grep -q "PRIVATE KEY" "$pem"; then echo "$pem contains a private key: refusing" >&2; exit 2; fi
  install -m 0644 "$pem" "$dest"
  update-ca-certificates
elif [[ -d /etc/pki/ca-trust/source/anchors ]] && command -v update-ca-trust >/dev/null; then
  dest=/etc/pki/ca-trust/source/anchors/idscope-ca.pem
  if $remove; then rm -f "$dest"; update-ca-trust; echo "removed $dest"; exit 0; fi
  grep -q "BEGIN CERTIFICATE" "$pem" || { echo "$pem: not a PEM certificate" >&2; exit 2; }
  if grep -q "PRIVATE KEY" "$pem"; then echo "$pem contains a private key: refusing" >&2; exit 2; fi
  install -m 0644 "$pem" "$dest"
  update-ca-trust
else
  echo "unknown trust store layout: copy $pem into your distribution's anchors by hand" >&2
  exit 2
fi
echo "installed $pem as $dest"
echo "use it: export HTTP_PROXY=http://127.0.0.1:8080 HTTPS_PROXY=http://127.0.0.1:8080"
