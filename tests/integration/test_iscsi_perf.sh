#!/usr/bin/env bash
# iscsi-perf (libiscsi's load generator) through the proxy for a few seconds each:
# sequential 1 MiB reads and random 4 KiB reads at 32 requests in flight. It must
# exit 0 and report a nonzero average IOPS. Not a timed test: no figure is judged.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_setup

SECS=${ISP_PERF_SECONDS:-3}
bs=$(iscsi-readcapacity16 -i "$ISP_INITIATOR" "$URL_PROXY" | sed -n 's/^LOGICAL BLOCK LENGTH IN BYTES://p')
[[ "$bs" =~ ^[0-9]+$ ]] || isp_fail "cannot read the block size through the proxy"

perf() { # perf NAME ARGS...: run, check the exit status and the final average
  local name=$1 out iops
  shift
  out=$(isp_timeout $((SECS + 30)) iscsi-perf -i "$ISP_INITIATOR" -t "$SECS" "$@" "$URL_PROXY" </dev/null 2>&1 |
    tr '\r' '\n') || { printf '%s\n' "$out"; isp_fail "iscsi-perf $name exited non-zero"; }
  iops=$(sed -n 's/^iops average \([0-9]*\) .*/\1/p' <<<"$out" | tail -n 1)
  if [[ ! "$iops" =~ ^[0-9]+$ ]] || ((iops == 0)); then
    printf '%s\n' "$out"
    isp_fail "iscsi-perf $name reports no IOPS"
  fi
  grep -qiE 'error|fail' <<<"$out" && { printf '%s\n' "$out"; isp_fail "iscsi-perf $name reports errors"; }
  echo "## iscsi-perf $name through the proxy: $iops IOPS average over ${SECS}s"
}
perf "seq 1MiB qd32" -m 32 -b $((1048576 / bs))
perf "rand 4KiB qd32" -m 32 -b $((4096 / bs)) -r
isp_proxy_alive "after iscsi-perf"
