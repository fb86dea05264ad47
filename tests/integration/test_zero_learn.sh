#!/usr/bin/env bash
# Zeros learned from data (issue 11): a thick tgt LUN (thin_provisioning=0, so
# LBPME=0 and no GET LBA STATUS) read twice through an exclusive proxy is
# byte-identical both times, the proxy says its zeros come from data and how
# many bytes taught it, and -- measured independently, by tgtd's own read
# bytes (/proc/TGT_PID/io rchar) -- the second read makes tgtd read about its
# non-zero blocks only, not the whole LUN. A WRITE into a page learned as zeros
# then reads back as written.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_setup_cache exclusive
isp_tgtadm --op update --mode logicalunit --tid 1 --lun "$ISP_LUN" --params thin_provisioning=0 ||
  isp_fail "tgtadm: cannot make the LUN thick"
nonzero=$(python3 - "$ISP_IMG" <<'PY'
import sys
n = 0
with open(sys.argv[1], "rb") as f:
    while (b := f.read(4096)):
        n += len(b) if b.count(0) != len(b) else 0
print(n)
PY
)
for pass in 1 2; do
  r0=$(isp_rchar "$TGT_PID")
  isp_read_all "$URL_PROXY" "$ISP_WORK/read$pass.raw"
  read_bytes[pass]=$(($(isp_rchar "$TGT_PID") - r0))
  cmp "$ISP_WORK/read$pass.raw" "$ISP_IMG" || isp_fail "full read $pass through the proxy differs from the backing file"
  rm -f "$ISP_WORK/read$pass.raw"
done
echo "## thick LUN of $((ISP_IMG_SIZE >> 20)) MiB, $((nonzero >> 10)) KiB non-zero: tgtd read ${read_bytes[1]} bytes on the first full read, ${read_bytes[2]} on the second"
((ISP_DIRECT)) && exit 0

from=$(isp_stats_get "$STATS_PORT" stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["luns"][0].get("zeros_from", "-"))')
[[ "$from" == data ]] || isp_fail "the thick LUN's zeros come from '$from', not from data"
learned=$(isp_stat "$STATS_PORT" zero_learned_bytes_total_read)
((learned > 0)) || isp_fail "no READ data taught the cache zeros"
# The second read: about the non-zero blocks (partly-zero pages' data
# granules, the READ commands' own bytes); never the whole LUN again.
((read_bytes[2] <= nonzero + nonzero / 2 + (4 << 20))) ||
  isp_fail "the second read made tgtd read ${read_bytes[2]} bytes for $nonzero non-zero bytes"
((read_bytes[2] * 2 < read_bytes[1])) || isp_fail "the second read cost tgtd as much as the first"
echo "## zeros learned from $((learned >> 20)) MiB of READ data; the second read cost tgtd $((read_bytes[2] * 100 / read_bytes[1]))% of the first"

# A page learned as zeros, written through the proxy, reads back as written.
off=$((200 << 20))
isp_qio "$URL_PROXY" "write -P 0x6b $off 65536" "read -P 0x6b $off 65536" ||
  isp_fail "a WRITE into a page learned as zeros did not read back"
isp_proxy_alive "after the reads and the write"

# Zeros written teach the map too (zero_write.c): data written over 1 MiB at
# 201 MiB and at 203 MiB, then zeros over both, once with WRITE SAME (qemu-io
# write -z) and once with a WRITE of zero bytes (-P 0); the READ first waits
# for the session to verify its LUN number, so the writes carry the object.
# A later session reads both back as zeros without tgtd reading them.
offa=$((201 << 20)) offb=$((203 << 20))
isp_qio "$URL_PROXY" "read 0 4096" "write -P 0x5c $offa 1048576" "write -P 0x5c $offb 1048576" ||
  isp_fail "writing data at 201 and 203 MiB failed"
isp_qio "$URL_PROXY" "read 0 4096" "write -z $offa 1048576" "write -P 0 $offb 1048576" ||
  isp_fail "writing zeros at 201 and 203 MiB failed"
written=$(isp_stat "$STATS_PORT" zero_learned_bytes_total_write)
((written >= 2 << 20)) || isp_fail "zeros written taught the cache $written bytes, not 2 MiB"
r0=$(isp_rchar "$TGT_PID")
isp_qio "$URL_PROXY" "read -P 0 $offa 1048576" "read -P 0 $offb 1048576" ||
  isp_fail "the zeros written did not read back as zeros"
zread=$(($(isp_rchar "$TGT_PID") - r0))
((zread < 512 << 10)) || isp_fail "reading 2 MiB of zeros written made tgtd read $zread bytes"
echo "## 2 MiB of zeros written (WRITE SAME, WRITE) taught the cache $((written >> 10)) KiB; reading them back cost tgtd $zread bytes"
isp_proxy_alive "after the zeros written"
