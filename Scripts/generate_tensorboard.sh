#!/usr/bin/env bash
# Regenerates Sources/CTensorBoard from TensorBoard's own .proto files (the copies in
# Sources/CTensorBoard/proto: tensorboard/compat/proto and tensorboard/plugins/hparams from
# TensorBoard's repository at the release pinned in Tests/requirements.txt, and
# google/protobuf/struct.proto from Debian's libprotobuf-dev) with protoc-c (Debian's
# protobuf-c-compiler). The generated files are committed; the build needs only libprotobuf-c.
set -euo pipefail
cd "$(dirname "$0")/../Sources/CTensorBoard"
rm -rf generated include/tensorboard include/google
mkdir -p generated
protos=(
    google/protobuf/struct.proto
    tensorboard/compat/proto/types.proto
    tensorboard/compat/proto/tensor_shape.proto
    tensorboard/compat/proto/resource_handle.proto
    tensorboard/compat/proto/tensor.proto
    tensorboard/compat/proto/histogram.proto
    tensorboard/compat/proto/summary.proto
    tensorboard/compat/proto/event.proto
    tensorboard/plugins/hparams/api.proto
    tensorboard/plugins/hparams/plugin_data.proto
)
# protoc-c 1.4 does not take proto3's `optional` (api.proto has four, on request messages this
# writer never builds); the fields are generated from a copy without the keyword: the same wire
# format, without presence bits.
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -r proto/. "$staging"
sed -i -E 's/^(\s*)optional /\1/' "$staging/tensorboard/plugins/hparams/api.proto"
(cd "$staging" && protoc-c --c_out="$OLDPWD/generated" "${protos[@]}")
# Headers under include/ (the module's public headers), sources under generated/.
(cd generated && find . -name '*.pb-c.h' | while read -r header; do
    mkdir -p "../include/$(dirname "$header")"
    mv "$header" "../include/$header"
done)
echo "generated Sources/CTensorBoard from ${#protos[@]} protos with $(protoc-c --version | head -1)"
