#!/usr/bin/env bash
# Sets up a fresh Debian machine for the full test suite: Debian's Jupyter packages (the official
# kernel conformance suite, jupyter-server for the end-to-end tests, nbclient, PyTorch for the bench
# and golden numbers, with OpenBLAS as its BLAS rather than the reference one), then the npm dependencies (whose `prepare` builds the TypeScript and WebAssembly).
set -euo pipefail
cd "$(dirname "$0")/.."
debs=(jupyter-client jupyter-server jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test python3-numpy python3-torch libopenblas0-pthread chromium dataset-fashion-mnist)
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
npm ci --no-audit --no-fund
