#!/usr/bin/env bash
# Installs what the toolchain needs on a Debian machine (run as root) and builds it in release
# mode. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for package in libhdf5-dev libopenblas-dev zlib1g-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
swift build -c release
echo "built: $(swift build -c release --show-bin-path)/{mlp-train,mlp-eval,mlp-inspect}"
