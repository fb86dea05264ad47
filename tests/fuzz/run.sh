#!/usr/bin/env bash
# Runs libFuzzer binaries for a fixed time each.
#   usage: tests/fuzz/run.sh SECONDS BIN...
# Each BIN starts from tests/fuzz/corpus/<basename BIN>, copied to a temporary
# directory so the repository's seed corpus is never modified.  Crash inputs
# are kept in ${FUZZ_ARTIFACTS:-build/fuzz/artifacts}/<basename>/.
# Prints one closing line "fuzz: N passed, M failed"; exits 1 if any failed.
set -u

if [ $# -lt 2 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS BIN..." >&2
  exit 2
fi
seconds=$1
shift

repo=$(cd "$(dirname "$0")/../.." && pwd)
artifacts=${FUZZ_ARTIFACTS:-$repo/build/fuzz/artifacts}
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
for bin in "$@"; do
  name=$(basename "$bin")
  corpus="$work/$name/corpus"
  log="$work/$name/log"
  mkdir -p "$corpus" "$artifacts/$name"
  if [ -d "$repo/tests/fuzz/corpus/$name" ]; then
    cp -R "$repo/tests/fuzz/corpus/$name/." "$corpus/"
  else
    echo "fuzz: $name: no seed corpus in tests/fuzz/corpus/$name, starting empty"
  fi

  if [ ! -x "$bin" ]; then
    echo "fuzz: $name: FAILED, $bin is not an executable"
    failed=$((failed + 1))
    continue
  fi

  if "$bin" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$artifacts/$name/" "$corpus" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz: $name: ok, ${runs:-?} runs in ${seconds}s"
    passed=$((passed + 1))
  else
    echo "fuzz: $name: FAILED (artifacts in $artifacts/$name/), last lines:"
    tail -n 30 "$log" | sed 's/^/  /'
    failed=$((failed + 1))
  fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
