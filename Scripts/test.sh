#!/usr/bin/env bash
# The whole test suite: the Swift tests; the interop check against real Keras 3, tf_keras and
# scikit-learn (pinned in Tests/requirements.txt, installed into .venv); the data check (the five
# kinds of --data and mlp-predict against Keras's own readers); the interchange check
# (.keras both ways, ONNX export against onnx and ONNX Runtime, Optuna reading our journals); the
# fuzz suite; the reports check (TensorBoard's reader on our event files, Keras on calibrated models); the kill check (SIGKILL while saving, and a killed tuning worker); and the README's
# examples run as written; and the rooms check (no cycle between the library's folders); and,
# last and alone, the resilience check (searches riding through database outages and start-up
# races), which restarts the PostgreSQL server the others share.
#
# The search check reads several-objective, constrained and cross-validated searches back with
# Optuna and scikit-learn.
#
# Two lanes share the two cores: one sets up the Python environment, then runs the interop, data
# and kill checks; the other builds everything with the tests (release mode, with testable imports,
# which the unit tests of internal plumbing use), runs the Swift tests, then the interchange
# check, the README's examples and the fuzz suite. Each check writes .build/<check>.log; its summary line is printed, and on failure the
# end of its log. A failing check does not stop the others: every check runs, and the status is 1
# if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
started=$SECONDS
# The tools keep decoded holdout splits in the user's cache; the tests keep theirs here.
export XDG_CACHE_HOME="$PWD/.build/cache"
rm -f .build/venv.ready

# run_check NAME COMMAND...: runs a check into .build/NAME.log and prints its summary line.
run_check() {
  local name=$1 log=".build/$1.log"
  shift
  if "$@" > "$log" 2>&1; then
    echo "test.sh: $name: $(grep -v '^ok ' "$log" | tail -1) ($((SECONDS - started)) s)"
  else
    grep -v '^ok ' "$log" | tail -25 >&2
    echo "test.sh: $name failed; its log: $log" >&2
    return 1
  fi
}

setup_venv() {
  if [ ! -x .venv/bin/python ] || ! cmp -s Tests/requirements.txt .venv/requirements.txt; then
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r Tests/requirements.txt
    cp Tests/requirements.txt .venv/requirements.txt
  fi
}

# -enable-testing, so that the unit tests of the library's internal plumbing can import it with
# @testable (swift build has no flag of its own for it).
swift build -c release --build-tests -Xswiftc -enable-testing
bin="$(swift build -c release -Xswiftc -enable-testing --show-bin-path)"
failed=0
run_check rooms python3 Tests/Harness/rooms_check.py || failed=1
# The house's numbers: executables' and functions' lengths, untyped records, C wrappers.
grep '^house:' .build/rooms.log | sed 's/^/test.sh: /' || true

(
  run_check venv setup_venv || exit 1
  touch .build/venv.ready
  status=0
  run_check interop .venv/bin/python Tests/Harness/interop_check.py "$bin" || status=1
  run_check database .venv/bin/python Tests/Harness/database_check.py "$bin" || status=1
  run_check search .venv/bin/python Tests/Harness/search_check.py "$bin" || status=1
  run_check data .venv/bin/python Tests/Harness/data_check.py "$bin" || status=1
  run_check kill .venv/bin/python Tests/Harness/kill_check.py "$bin" || status=1
  run_check reports .venv/bin/python Tests/Harness/reports_check.py "$bin" || status=1
  exit $status
) &
lane=$!

if swift test -c release --skip-build > .build/swift-test.log 2>&1; then
  echo "test.sh: Swift tests: $(grep -E '^✔ Test run' .build/swift-test.log | tail -1) ($((SECONDS - started)) s)"
else
  grep -E '✘|error|failed' .build/swift-test.log | tail -40 >&2
  echo "test.sh: Swift tests failed; the log: .build/swift-test.log" >&2
  failed=1
fi

while [ ! -e .build/venv.ready ]; do
  if ! kill -0 "$lane" 2> /dev/null; then
    wait "$lane" || true
    echo "test.sh: could not set up the Python environment (.venv)" >&2
    exit 1
  fi
  sleep 1
done
run_check interchange .venv/bin/python Tests/Harness/interchange_check.py "$bin" || failed=1
run_check readme .venv/bin/python Tests/Harness/readme_check.py "$bin" || failed=1
run_check fuzz .venv/bin/python Tests/Harness/fuzz.py "$bin" || failed=1
wait "$lane" || failed=1
# Alone at the end: it stops and starts the PostgreSQL server the other checks use.
run_check resilience .venv/bin/python Tests/Harness/resilience_check.py "$bin" || failed=1
if [ "$failed" -ne 0 ]; then
  echo "test.sh: failed after $((SECONDS - started)) s; the failing checks are named above" >&2
  exit 1
fi
echo "test.sh: all done after $((SECONDS - started)) s"
