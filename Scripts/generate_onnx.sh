#!/usr/bin/env bash
# Regenerates Sources/CONNX from ONNX's onnx.proto (the copy in Sources/CONNX/proto, taken from
# the onnx wheel pinned in Tests/requirements.txt) with protoc-c (Debian's protobuf-c-compiler).
# The generated files are committed; the build needs only libprotobuf-c.
set -euo pipefail
cd "$(dirname "$0")/../Sources/CONNX"
(cd proto && protoc-c --c_out=.. onnx.proto)
mv onnx.pb-c.h include/onnx.pb-c.h
echo "generated Sources/CONNX/onnx.pb-c.c and include/onnx.pb-c.h with $(protoc-c --version | head -1)"
