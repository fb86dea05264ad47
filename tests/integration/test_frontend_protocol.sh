#!/usr/bin/env bash
# The proxy's own frontend, where no stock initiator here goes (frontend_protocol.py,
# a minimal initiator written for this test): CRC32C header and data digests both
# ways, NOP-Out ping echo, NOP-In keepalive (answered pings keep the connection, an
# ignored one ends it within nop_interval + nop_timeout), corrupt data digest ->
# Reject 0x02 and close, corrupt header digest -> close. Then libiscsi's task
# management suite (ALL.iSCSITMF: ABORT TASK, LUN RESET) through a proxy with
# immediate_data = yes, which that suite assumes (it counts libiscsi's queued PDUs).
# Fails if any check fails, or if the proxy dies or reports a sanitizer error.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_require_root
command -v python3 >/dev/null || isp_fail "python3 not found (run tests/deps.sh)"
((ISP_DIRECT == 0)) || { isp_log "direct mode: tgtd's own frontend is not under test here"; exit 0; }

NOP_INTERVAL=1 NOP_TIMEOUT=2
ISP_PROXY_KEYS=$'nop_interval = '$NOP_INTERVAL$'\nnop_timeout = '$NOP_TIMEOUT isp_setup
isp_timeout 120 python3 "$(dirname "$0")/frontend_protocol.py" 127.0.0.1 "$PROXY_PORT" \
  "$PROXY_IQN" "$ISP_INITIATOR" "$NOP_INTERVAL" "$NOP_TIMEOUT" ||
  isp_fail "frontend protocol checks failed (see above)"
isp_proxy_alive "after the frontend protocol checks"

ISP_PROXY_KEYS="immediate_data = yes" isp_start_proxy
out=$(isp_timeout 120 iscsi-test-cu --dataloss -i "$ISP_INITIATOR" -t ALL.iSCSITMF \
  "iscsi://127.0.0.1:$PROXY_PORT/$PROXY_IQN/$ISP_LUN" 2>&1) || true
echo "$out" | grep -E 'Test:|tests ' >&2
echo "$out" | grep -Eq '^ +tests +2 +2 +2 +0' ||
  isp_fail "iscsi-test-cu ALL.iSCSITMF does not pass through the proxy"
isp_proxy_alive "after the task management suite"
isp_log "frontend protocol and task management checks passed"
