#!/usr/bin/env bash
# The race rule for an initiator's GET LBA STATUS answered by a verify proxy
# (issue 11), with the window held open: the proxy runs with
# ISP_TEST_HOLD_LBA_STATUS_MS=300 (every GET LBA STATUS answer is applied 300 ms
# after it arrived), coherence = verify. Each round:
#
#   1. our own client (get_lba_status.py) asks GET LBA STATUS at the start of a
#      1 MiB hole; the proxy does not know it mapped, so it sends a query of its
#      own; tgtd answers "deallocated" at once, and the answer is held;
#   2. the test polls /stats until lba_status_queries_total has gone up (the
#      query is out, its answer held), then WRITEs data into the hole through the
#      proxy (qemu-io);
#   3. the held answer is applied and the reply built from it: no descriptor may
#      say deallocated for a block the WRITE reached, since it completed after
#      the query was sent; the blocks before it, which nothing wrote, are
#      deallocated (the answer was used, not thrown away).
#
# A round counts as "in the window" when the write finished while the client was
# still waiting for its reply; most rounds must be, or the test did not test the
# race. What makes it fail: a reply built from the answer as the SAN sent it (not
# race-filtered), which calls the written blocks deallocated -- a copy tool would
# skip the data.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

HOLD_MS=300
isp_setup_cache verify ISP_TEST_HOLD_LBA_STATUS_MS=$HOLD_MS
isp_probe_lun "$URL_PROXY" "$STATS_PORT" zero-serving
K=1024 M=$((1024 * 1024))
if ((ISP_DIRECT)); then
  isp_timeout 60 python3 "$(dirname "$0")/get_lba_status.py" 127.0.0.1 "$PROXY_PORT" \
    "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_LUN" $((20 * M / 512)) 8 ||
    isp_fail "GET LBA STATUS straight to tgtd failed"
  exit 0
fi
GLS_PID=""
stop_gls() { [[ -z "$GLS_PID" ]] || { kill -TERM "$GLS_PID" 2>/dev/null; isp_reap "$GLS_PID" >/dev/null; }; }
isp_on_exit stop_gls

# Rounds: REGION WRITE_OFFSET_IN_REGION WRITE_LEN BYTE; the regions are holes of
# the layout image, the writes 4 KiB-aligned (an unaligned one would READ first,
# and that READ would wait behind the held answer, closing the window).
rounds=(
  "$((20 * M))  $((64 * K))   $((8 * K))   0x71"
  "$((33 * M))  $((68 * K))   $((192 * K)) 0x72"
  "$((44 * M))  $((512 * K))  $((4 * K))   0x73"
)
in_window=0
for r in "${rounds[@]}"; do
  read -r reg woff wlen byte <<<"$r"
  lba=$((reg / 512)) wlba=$(((reg + woff) / 512)) wend=$(((reg + woff + wlen) / 512))
  out=$ISP_WORK/gls.$reg
  q0=$(isp_stat "$STATS_PORT" lba_status_queries_total)
  isp_timeout 60 python3 "$(dirname "$0")/get_lba_status.py" 127.0.0.1 "$PROXY_PORT" \
    "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_LUN" "$lba" 8 >"$out" 2>&1 &
  GLS_PID=$!
  isp_wait_stat "$STATS_PORT" lba_status_queries_total -gt "$q0" 10 >/dev/null ||
    isp_fail "round at $reg: the GET LBA STATUS of a hole sent no query of the proxy's own within 10 s"
  isp_qio "$URL_PROXY" "write -P $byte $((reg + woff)) $wlen" ||
    isp_fail "round at $reg: write through the proxy failed"
  if isp_alive "$GLS_PID"; then
    in_window=$((in_window + 1))
  fi
  rc=0
  wait "$GLS_PID" || rc=$?
  GLS_PID=""
  ((rc == 0)) || { cat "$out" >&2; isp_fail "round at $reg: GET LBA STATUS through the proxy failed"; }
  read -r first_lba first_n first_st <"$out" ||
    isp_fail "round at $reg: the reply holds no descriptor"
  ((first_lba == lba)) || isp_fail "round at $reg: the first descriptor starts at $first_lba, asked $lba"
  while read -r dl dn ds; do
    if ((ds == 1 && dl < wend && dl + dn > wlba)); then
      cat "$out" >&2
      isp_fail "round at $reg: the reply calls [$dl, +$dn) deallocated, but the WRITE of [$wlba, $wend) completed after the query was sent"
    fi
  done <"$out"
  ((first_st == 1 && first_n == woff / 512)) || {
    cat "$out" >&2
    isp_fail "round at $reg: the unwritten hole before the write is not reported deallocated ($first_n blocks, status $first_st)"
  }
  echo "## round at $reg: $(wc -l <"$out") descriptors, the written blocks mapped, the hole before them deallocated"
done
isp_qio "$URL_PROXY" "read -P 0x71 $((20 * M + 64 * K)) $((8 * K))" "read -P 0 $((20 * M)) $((64 * K))" ||
  isp_fail "the first round's region does not read back as written"
grep -q "test fault hook: GET LBA STATUS answers held back $HOLD_MS ms" "$PROXY_LOG" ||
  isp_fail "the proxy log does not show the test fault hook"
((in_window * 2 > ${#rounds[@]})) ||
  isp_fail "only $in_window of ${#rounds[@]} writes finished inside the held window: the race was not tested"
echo "## $in_window of ${#rounds[@]} writes finished while the reply was held; none reported deallocated"
