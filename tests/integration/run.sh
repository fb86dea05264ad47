#!/usr/bin/env bash
# Runs every tests/integration/test_*.sh against PROXY_BIN, each in its own process,
# and ends with one line "integration: N passed, M failed".
#
#   tests/integration/run.sh build/iscsi-sparse-proxy      through the proxy
#   tests/integration/run.sh direct                        scripts against tgtd alone
#   ISP_TESTS="inquiry qemu_img" tests/integration/run.sh BIN   a subset
#   ISP_TEST_TIMEOUT=600 (seconds per test), ISP_KEEP=1 (keep temp dirs),
#   ISP_VERBOSE=1 (show the whole output of passing tests too; by default only
#   their "## " summary lines are shown, and failing tests show everything)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -ne 1 ]]; then
  echo "usage: $0 PROXY_BIN|direct" >&2
  exit 2
fi
bin=$1
if [[ "$bin" != direct ]]; then
  [[ -x "$bin" ]] || { echo "integration: $bin is not an executable" >&2; exit 2; }
  bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
fi
export PROXY_BIN=$bin

tests=()
if [[ -n "${ISP_TESTS:-}" ]]; then
  for name in $ISP_TESTS; do
    name=${name#test_} name=${name%.sh}
    [[ -f "$here/test_$name.sh" ]] || { echo "integration: no test_$name.sh" >&2; exit 2; }
    tests+=("$here/test_$name.sh")
  done
else
  for t in "$here"/test_*.sh; do [[ -e "$t" ]] && tests+=("$t"); done
fi

limit=${ISP_TEST_TIMEOUT:-600}
passed=0 failed=0 failed_names=()
echo "integration: ${#tests[@]} tests against ${bin}"
for t in "${tests[@]}"; do
  name=$(basename "$t" .sh)
  out=$(mktemp "${TMPDIR:-/tmp}/isp-run-$name.XXXXXX")
  start=$SECONDS
  rc=0
  # timeout runs the test in a process group of its own, out of reach of a
  # terminal's Ctrl-C: forward INT/TERM to it so the test cleans up and ends.
  timeout -k 20 "$limit" bash "$t" >"$out" 2>&1 &
  tpid=$!
  trap 'kill -TERM "$tpid" 2>/dev/null; wait "$tpid" || true; rm -f "$out"; echo "integration: interrupted in $name" >&2; exit 130' INT TERM
  wait "$tpid" || rc=$?
  trap - INT TERM
  secs=$((SECONDS - start))
  if ((rc == 0)); then
    passed=$((passed + 1))
    echo "PASS $name (${secs}s)"
    if [[ "${ISP_VERBOSE:-0}" == 1 ]]; then
      sed 's/^/    /' "$out"
    else
      # Lines a test marks with "## " are its summary, shown even when it passes.
      sed -n 's/^## /    /p' "$out"
    fi
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    ((rc == 124)) && echo "    (timed out after ${limit}s)" >>"$out"
    echo "FAIL $name (${secs}s, exit $rc)"
    sed 's/^/    /' "$out"
  fi
  rm -f "$out"
done
((failed == 0)) || echo "integration: failed: ${failed_names[*]}"
echo "integration: $passed passed, $failed failed"
((failed == 0))
