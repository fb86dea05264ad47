#!/usr/bin/env bash
# The proxy's own frontend, where no stock initiator here goes (frontend_protocol.py,
# a minimal initiator written for this test): CRC32C header and data digests both
# ways, NOP-Out ping echo, NOP-In keepalive (answered pings keep the connection, an
# ignored one ends it within nop_interval + nop_timeout), corrupt data digest ->
# Reject 0x02 and close, corrupt header digest -> close, CDBs over 16 bytes and
# bidirectional commands -> CHECK CONDITION; the initiator's connection closes
# when its backend session ends (tgtadm closes it on tgtd).
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

# Backend session loss: end the backend connection of one initiator on tgtd.
LOSS_INI=iqn.2026-11.org.example:backend-loss
python3 "$(dirname "$0")/frontend_protocol.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" \
  "$LOSS_INI" backend-loss >"$ISP_WORK/loss.out" 2>&1 &
LOSS_PID=$!
isp_wait_output "$ISP_WORK/loss.out" "logged in" "$LOSS_PID" "backend-loss client did not log in"
sid=$(isp_tgtadm --op show --mode target |
  awk -v ini="$LOSS_INI" '/I_T nexus:/ { s = $3 } $1 == "Initiator:" && $2 == ini { id = s } END { print id }')
[[ -n "$sid" ]] || isp_fail "no backend session of $LOSS_INI on tgtd"
isp_tgtadm --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || isp_fail "tgtadm cannot close sid $sid"
rc=0
wait "$LOSS_PID" || rc=$?
cat "$ISP_WORK/loss.out" >&2
((rc == 0)) || isp_fail "the initiator's connection did not close after its backend session ended"
isp_proxy_alive "after a backend session loss"

isp_log "frontend protocol checks passed"
