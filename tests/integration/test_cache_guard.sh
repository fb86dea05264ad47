#!/usr/bin/env bash
# Writes the proxy cannot bound (issue 9, cases 2 and 3; docs/ARCHITECTURE.md,
# "Mutations the proxy cannot bound"). A warm exclusive cache knows the LUN's holes.
#
# 1. A copy offload (WRITE USING TOKEN with IMMED, which may write any LU of the
#    SAN and go on after its status): every cache forgets its holes when it is
#    sent. tgt refuses the command, so its status ends the block at once.
# 2. A WRITE of unknown outcome: the initiator sends a WRITE into a hole page while
#    the SAN is stopped (SIGSTOP), then drops its connection, so the proxy tears
#    the backend session down with the WRITE unanswered. When the SAN runs again it
#    may still execute it. Until backend_timeout (3 s here) after, no cache learns
#    a hole: a READ of another hole page goes to the SAN, not to the cache; then
#    the block is lifted and holes are served as zeros again. Whatever the SAN did
#    with the WRITE, a read through the proxy equals the backing file.
#
# What makes it fail: holes still known after the copy, no block (or no end of
# it) in /stats negatives_blocked, zeros served from the cache while blocked, or a
# read through the proxy differing from the backing file.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

((ISP_DIRECT)) && { echo "## skipped in direct mode: the test is about the proxy's cache"; exit 0; }
ISP_PROXY_KEYS="backend_timeout = 3"
isp_setup_cache exclusive
M=$((1024 * 1024)) PAGE=$((64 * 1024))
WRITE_OFF=$((60 * M)) OTHER_OFF=$((150 * M))
for off in "$WRITE_OFF" "$OTHER_OFF"; do
  isp_is_hole_pages "$ISP_IMG" "$off" "$PAGE" "$PAGE" || isp_fail "test layout: $off is not a hole page"
done

blocked() { isp_stat_quick "$STATS_PORT" negatives_blocked; }
# wait_blocked N SECONDS: until /stats negatives_blocked is N.
wait_blocked() {
  local deadline=$((SECONDS + $2)) v
  while v=$(blocked); [[ "$v" != "$1" ]]; do
    ((SECONDS < deadline)) || isp_fail "negatives_blocked is '$v' after $2 s, expected $1"
    sleep 0.05
  done
}
warm() {
  isp_read_all "$URL_PROXY" "$ISP_WORK/all.raw"
  cmp "$ISP_WORK/all.raw" "$ISP_IMG" || isp_fail "$1: the full read differs from the file"
  local un
  un=$(isp_stat "$STATS_PORT" pages_unallocated)
  ((un > 0)) || isp_fail "$1: no hole known after a full read"
}

warm "before the copy"
[[ $(blocked) == 0 ]] || isp_fail "negatives blocked before anything happened"

# ---- 1. copy offload ----------------------------------------------------------
inv0=$(isp_stat "$STATS_PORT" cache_invalidations_total)
PYTHONPATH=$(dirname "$0") isp_timeout 30 python3 - "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" <<'PY' ||
import struct, sys
from iscsi_client import Session
port, target, initiator = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = Session("127.0.0.1", port)
s.login(initiator, target)
# WRITE USING TOKEN (SBC-4 5.59): parameter list of 536 + 16 bytes, IMMED = 1,
# one block range; the ROD token is zeros (the SAN refuses it, or the command).
param = bytearray(536 + 16)
struct.pack_into(">H", param, 0, len(param) - 2)
param[2] = 0x01                                   # IMMED
struct.pack_into(">H", param, 534, 16)            # BLOCK DEVICE RANGE DESCRIPTOR LENGTH
struct.pack_into(">QI", param, 536, 0, 8)
cdb = bytearray(16)
cdb[0], cdb[1] = 0x83, 0x11
struct.pack_into(">I", cdb, 6, 7)                 # LIST IDENTIFIER
struct.pack_into(">I", cdb, 10, len(param))
for attempt in range(3):                          # a unit attention first, perhaps
    status, _, sense = s.command(bytes(cdb), data_out=bytes(param))
    if not (status == 2 and len(sense) > 2 and sense[2] & 0x0F == 6):
        break
print("## WRITE USING TOKEN (IMMED) through the proxy: status %#x" % status)
s.logout()
PY
  isp_fail "the copy offload session failed"
un=$(isp_stat "$STATS_PORT" pages_unallocated)
inv1=$(isp_stat "$STATS_PORT" cache_invalidations_total)
((un == 0)) || isp_fail "after the copy the cache still knows $un hole pages"
((inv1 >= inv0 + 2)) || isp_fail "the copy invalidated the cache $((inv1 - inv0)) times, expected at send and at its end"
wait_blocked 0 5
echo "## copy offload: every hole forgotten ($((inv1 - inv0)) invalidations), block over with its status"

# ---- 2. a WRITE of unknown outcome --------------------------------------------
warm "before the lost WRITE"
isp_on_exit "kill -CONT $TGT_PID 2>/dev/null || true"
PYTHONPATH=$(dirname "$0") isp_timeout 30 python3 - "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR2" "$WRITE_OFF" "$TGT_PID" <<'PY' ||
import os, signal, sys
from iscsi_client import Session
port, target, initiator, off, tgt = (int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]),
                                     int(sys.argv[5]))
s = Session("127.0.0.1", port)
s.login(initiator, target)
os.kill(tgt, signal.SIGSTOP)        # the SAN stops answering
s.write10(off // 512, b"\xe7" * 65536)
s.sock.close()                      # and the initiator drops its connection
PY
  isp_fail "the lost WRITE session failed"
wait_blocked 1 10
grep -q "ended with its outcome unknown" "$PROXY_LOG" || isp_fail "no log line for the WRITE of unknown outcome"
kill -CONT "$TGT_PID"
z0=$(isp_stat "$STATS_PORT" read_bytes_total_zero)
isp_qio "$URL_PROXY" "read -P 0 $OTHER_OFF $PAGE" || isp_fail "the hole at $OTHER_OFF is not zeros"
z1=$(isp_stat "$STATS_PORT" read_bytes_total_zero)
if [[ $(blocked) == 1 ]]; then
  ((z1 == z0)) || isp_fail "$((z1 - z0)) bytes served as zeros from the cache while negatives were blocked"
  echo "## WRITE of unknown outcome: negatives blocked; a hole read meanwhile went to the SAN"
fi
wait_blocked 0 10
isp_qio "$URL_PROXY" "read -P 0 $OTHER_OFF $PAGE" || isp_fail "the hole at $OTHER_OFF is not zeros"
isp_qio "$URL_PROXY" "read -P 0 $OTHER_OFF $PAGE" || isp_fail "the hole at $OTHER_OFF is not zeros"
z2=$(isp_stat "$STATS_PORT" read_bytes_total_zero)
((z2 - z1 >= PAGE)) || isp_fail "no zeros served from the cache after the block was lifted"
isp_read_all "$URL_PROXY" "$ISP_WORK/all.raw"
cmp "$ISP_WORK/all.raw" "$ISP_IMG" || isp_fail "after the lost WRITE the proxy reads differently from the file"
if cmp -s <(dd if="$ISP_IMG" bs=64K skip=$((WRITE_OFF / PAGE)) count=1 status=none) \
          <(isp_byte_file "$PAGE" 0xe7); then
  echo "## the SAN executed the lost WRITE after the session was gone; read back through the proxy"
else
  echo "## the SAN dropped the lost WRITE; its page reads as the file holds it"
fi
echo "## block lifted after backend_timeout; holes served as zeros again"
isp_proxy_alive "after the guard test"
