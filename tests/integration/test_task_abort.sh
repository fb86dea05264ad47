#!/usr/bin/env bash
# ABORT TASK of an ORDERED task the proxy holds (issue 9, case 7: the proxy
# keeps ORDERED itself, so it must also end a held task cleanly). tgtd is
# stopped by its PID while a WRITE is at the SAN; the ORDERED READ behind it
# is held by the proxy and aborted: FUNCTION COMPLETE comes while the SAN is
# still stopped, no response ever comes for the aborted task, the commands
# around it complete after SIGCONT, and the proxy's log shows it held the
# task. Direct mode only reports what tgtd does (it answers the TMF once it
# runs again; tgt keeps no task order, so nothing is held there).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ISP_LOG_LEVEL=debug isp_setup_cache exclusive
LBA=$(((176 << 20) / 512))
rc=0
isp_timeout 60 python3 "$(dirname "$0")/task_abort.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" \
  "$ISP_INITIATOR" "$LBA" "$TGT_PID" >"$ISP_WORK/abort.out" 2>&1 || rc=$?
cat "$ISP_WORK/abort.out" >&2
if ((ISP_DIRECT)); then
  echo "## tgtd directly: $( ((rc == 0)) && echo "the same checks passed" ||
    echo "$(sed -n 's/^FAIL: //p' "$ISP_WORK/abort.out" | head -n 1)")"
  exit 0
fi
((rc == 0)) || isp_fail "ABORT TASK of a held ORDERED task failed (see above)"
grep -q "released by the task order" "$PROXY_LOG" ||
  isp_fail "the proxy's log shows no task released by the task order"
isp_proxy_alive "after the abort"
echo "## ABORT TASK of a held ORDERED READ: answered with the SAN stopped, no response for it, the rest completed"
