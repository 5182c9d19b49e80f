#!/usr/bin/env bash
# Add (or, with --remove, delete) the idscope CA certificate as a trusted root in the macOS
# System keychain. Usage: sudo ca/trust-macos.sh [--remove] [PATH-TO-idscope-ca.pem]
set -euo pipefail
remove=false
if [[ "${1:-}" == "--remove" ]]; then remove=true; shift; fi
pem="${1:-${IDSCOPE_CA_DIR:-$HOME/Library/Application Support/idscope}/idscope-ca.pem}"
keychain=/Library/Keychains/System.keychain
sha1=$(openssl x509 -in "$pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
if $remove; then
  security delete-certificate -Z "$sha1" "$keychain"
  echo "removed $sha1 from $keychain"
  exit 0
fi
if grep -q "PRIVATE KEY" "$pem"; then echo "$pem contains a private key: refusing" >&2; exit 2; fi
security add-trusted-cert -d -r trustRoot -k "$keychain" "$pem"
echo "trusted $pem (SHA-1 $sha1) in $keychain"
echo "use it: networksetup -setsecurewebproxy Wi-Fi 127.0.0.1 8080"
