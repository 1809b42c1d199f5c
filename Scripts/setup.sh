#!/usr/bin/env bash
# Installs what the toolchain needs on a Debian machine (run as root) and builds it in release
# mode. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# oneDNN and OpenBLAS (matrix products), HDF5 (model files), OpenSSL's libcrypto (MD5, SHA-256) and
# ISA-L (gzip inflate), libzip (.keras files), protobuf-c (ONNX files), and libpng, libjpeg-turbo
# and stb_image (image folders and mlp-predict), libpq and SQLite (mlp-tune --storage).
missing=()
for package in libdnnl-dev libopenblas-dev libhdf5-dev libssl-dev libisal-dev libzip-dev libprotobuf-c-dev libpng-dev libjpeg-dev libstb-dev libpq-dev libsqlite3-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
swift build -c release
echo "built: $(swift build -c release --show-bin-path)/{mlp-train,mlp-eval,mlp-inspect,mlp-tune,mlp-export,mlp-predict,mlp-bench}"
