#!/usr/bin/env bash
# ABORT TASK and LOGICAL UNIT RESET under load (issue 12): fault_tmf.py keeps
# 16 commands of 64 KiB in flight on one session and sends a TMF into them,
# 40 rounds, ABORT TASK of a READ and LUN RESET by turns, each round after a
# burst of WRITEs (see fault_tmf.py for every check). Fails if a TMF is not
# answered within 20 s, a task it did not end gets no response or two, a GOOD
# READ holds data its slot never held, an acknowledged WRITE is not in the
# backing file or an ended one is there torn, or the session is lost. Then the
# proxy: alive, no error logged, no connection left, and the region reads
# through it as the file holds it. Direct mode runs the same against tgtd
# alone, with WRITEs in flight when the TMFs come.
#
# WRITEs are in flight when the TMFs come. This is what found three bugs
# (fixed; each made this test fail): on FUNCTION COMPLETE the proxy cancelled
# each ended command in libiscsi (iscsi_scsi_cancel_task), which drops the
# command PDU only, so the WRITE's queued Data-Out PDUs were later sent from
# the freed task (AddressSanitizer: heap-use-after-free in writev); a
# command cancelled before libiscsi sent it left a CmdSN hole, so a TEST
# UNIT READY after a LUN RESET was never answered; and libiscsi 1.19, with
# automatic reconnect off, meets the first error of a logged-in session by
# cancelling every PDU while iscsi_service returns 0, which task.c took for
# its own cancel (no response, ever). Now an ended command is abandoned to
# backend.c, which keeps its task and buffer until libiscsi is done with
# them, and a cancellation always means that the session ended
# (docs/ARCHITECTURE.md, "Task management").
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_setup_cache exclusive
M=$((1 << 20))
ROUNDS=40 QD=16
OFF=$((140 * M)) LEN=$((ROUNDS * QD * 64 * 1024))     # holes in the layout image
isp_is_hole_pages "$ISP_IMG" "$OFF" "$LEN" 65536 || isp_fail "test layout: the region is not a hole"
opts=(--writes-in-flight)
isp_timeout 120 python3 "$(dirname "$0")/fault_tmf.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" \
  "$ISP_INITIATOR" "$ISP_IMG" $((OFF / 512)) "$ROUNDS" --qd "$QD" "${opts[@]}" \
  >"$ISP_WORK/tmf.out" 2>&1 || { cat "$ISP_WORK/tmf.out" >&2; isp_fail "TMF under load (see above)"; }
echo "## (WRITEs in flight) $(sed -n 's/^ok: //p' "$ISP_WORK/tmf.out")"
isp_read_range "$URL_PROXY" "$OFF" "$LEN" "$ISP_WORK/region.raw"
cmp -s "$ISP_WORK/region.raw" <(dd if="$ISP_IMG" bs=1M skip=$((OFF / M)) count=$((LEN / M)) status=none) ||
  isp_fail "the region read back differs from the backing file"
if ((!ISP_DIRECT)); then
  isp_proxy_alive "after the TMFs"
  n=$(isp_wait_stat "$STATS_PORT" connections -eq 0 10) ||
    isp_fail "the proxy still counts $n connections 10 s after the session ended"
  errs=$(isp_proxy_log_errors "$PROXY_LOG")
  [[ -z "$errs" ]] || isp_fail "the proxy logged errors: $errs"
  echo "## proxy alive, no error logged, no connection left; the region reads through it as the file holds it"
fi
