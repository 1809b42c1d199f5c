#!/usr/bin/env bash
# The whole test suite: the Swift tests, then the interop check against real Keras 3, tf_keras
# and scikit-learn (pinned in Fixtures/requirements.txt, installed into .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
swift test

if [ ! -x .venv/bin/python ] || ! .venv/bin/pip freeze 2>/dev/null | grep -q '^tf_keras==2.21.0$'; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r Fixtures/requirements.txt
fi
.venv/bin/python Fixtures/interop_check.py "$(swift build --show-bin-path)" 2> .venv/interop-stderr.log || {
  tail -20 .venv/interop-stderr.log >&2
  exit 1
}
