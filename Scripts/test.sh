#!/usr/bin/env bash
# The whole test suite: the Swift tests, then the interop check against real Keras 3, tf_keras
# and scikit-learn (pinned in Fixtures/requirements.txt, installed into .venv), the interchange
# check (.keras both ways, ONNX export against onnx and ONNX Runtime), then the fuzz suite, the kill-during-save check and the README's examples run as written.
#
# The Swift tests run in release mode against the release build that Scripts/setup.sh made
# (built here when missing): they use only the library's public API, so with testable imports
# off only the test target compiles. The Python environment is set up meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
started=$SECONDS

venv_log=.build/venv.log
(
  if [ ! -x .venv/bin/python ] || ! cmp -s Fixtures/requirements.txt .venv/requirements.txt; then
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r Fixtures/requirements.txt
    cp Fixtures/requirements.txt .venv/requirements.txt
  fi
) > "$venv_log" 2>&1 &
venv=$!

swift build -c release
swift test -c release --disable-testable-imports
echo "test.sh: Swift tests done after $((SECONDS - started)) s"

if ! wait "$venv"; then
  cat "$venv_log" >&2
  echo "test.sh: could not set up the Python environment (.venv)" >&2
  exit 1
fi
echo "test.sh: Python environment ready after $((SECONDS - started)) s"
.venv/bin/python Fixtures/interop_check.py "$(swift build -c release --show-bin-path)" 2> .build/interop-stderr.log || {
  tail -20 .build/interop-stderr.log >&2
  exit 1
}
bin="$(swift build -c release --show-bin-path)"
echo "test.sh: interop check done after $((SECONDS - started)) s"
.venv/bin/python Fixtures/interchange_check.py "$bin" 2> .build/interchange-stderr.log || {
  tail -20 .build/interchange-stderr.log >&2
  exit 1
}
echo "test.sh: interchange check (.keras, ONNX) done after $((SECONDS - started)) s"
.venv/bin/python Fixtures/fuzz.py "$bin"
.venv/bin/python Fixtures/kill_check.py "$bin" 2> .build/kill-stderr.log || {
  tail -20 .build/kill-stderr.log >&2
  exit 1
}
.venv/bin/python Fixtures/readme_check.py "$bin" > .build/readme-check.log 2>&1 || {
  grep -v '^ok ' .build/readme-check.log >&2
  exit 1
}
tail -1 .build/readme-check.log
echo "test.sh: all done after $((SECONDS - started)) s"
