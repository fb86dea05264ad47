#!/usr/bin/env bash
# Memory any logged-in initiator can grow (issue 9, case 8): one session sends
# TEST UNIT READY to each of the 16,384 LUN numbers of the flat address space
# (SAM-5 4.7.7). The SAN has two LUs (tgt's controller LUN 0 and LUN 1; tgt
# reads only the low byte of a flat LUN, so numbers 256 apart reach the same LU
# and answer GOOD); the proxy makes cache objects only for LUs whose commands
# succeeded and whose designator its own backend session read, one per
# designator, so the other numbers cost nothing that lasts. Measured: the proxy's RSS before and after, and the size of /metrics.
#
# What makes it fail: RSS growing by more than 16 MiB (an object or a mutation
# ring per LUN number touched costs over 360 MiB), /metrics over 1 MB, /stats
# with more objects than the SAN has LUs, or a READ through the proxy afterwards
# differing from the file.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

((ISP_DIRECT)) && { echo "## skipped in direct mode: the test measures the proxy"; exit 0; }
# AddressSanitizer keeps freed memory in quarantine (256 MiB by default),
# which would read as growth here: the sanitizer build runs without it.
isp_setup_cache exclusive "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
N=16384

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PROXY_PID/status"; }
isp_read_all "$URL_PROXY" "$ISP_WORK/before.raw"     # a warm cache, as in production
cmp "$ISP_WORK/before.raw" "$ISP_IMG" || isp_fail "the full read differs from the file"
rm -f "$ISP_WORK/before.raw"
rss0=$(rss_kib)

PYTHONPATH=$(dirname "$0") isp_timeout 300 python3 - "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$N" <<'PY' ||
import sys
from iscsi_client import Session
port, target, initiator, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
s = Session("127.0.0.1", port, timeout=30)
s.login(initiator, target)
good = 0
for lun in range(n):
    itt = s.next_itt()
    bhs = bytearray(s.scsi_bhs(bytes(6), 0, False, False, itt, lun=0))
    # LUN field, SAM-5 4.7: peripheral addressing below 256, flat above.
    bhs[8:10] = bytes([lun >> 8 | (0x40 if lun >= 256 else 0), lun & 0xff])
    s.send(bytes(bhs))
    status, _ = s.read_response(itt)
    good += status == 0
s.logout()
print("## TEST UNIT READY to %d LUN numbers, %d GOOD" % (n, good))
PY
  isp_fail "the TEST UNIT READY sweep failed"
rss1=$(rss_kib)
metrics=$(isp_stats_get "$STATS_PORT" metrics | wc -c)
objects=$(isp_stats_get "$STATS_PORT" stats | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["luns"]))')
growth=$(((rss1 - rss0) * 1024))
echo "## proxy RSS $((rss0 / 1024)) MiB before, $((rss1 / 1024)) MiB after: $growth B, $((growth / N)) B per LUN number touched; /metrics $metrics B; $objects cache objects"
((growth <= 16 * 1024 * 1024)) || isp_fail "RSS grew by $growth bytes for $N LUN numbers"
((metrics <= 1000000)) || isp_fail "/metrics is $metrics bytes"
((objects <= 2)) || isp_fail "/stats shows $objects cache objects for a SAN with 2 LUs"
isp_read_all "$URL_PROXY" "$ISP_WORK/after.raw"
cmp "$ISP_WORK/after.raw" "$ISP_IMG" || isp_fail "the full read after the sweep differs from the file"
isp_proxy_alive "after the sweep"
