#!/usr/bin/env bash
# A second writer that bypasses the proxy (issue 4, coherence = verify). The cache
# is warmed with a full read through the proxy, so the proxy knows the holes and
# has served them as zeros. Then data is written STRAIGHT to tgtd (another
# initiator, not through the proxy) into former holes: inside one page, a whole
# page, across page boundaries, several pages; and the last page of a data run is
# unmapped straight on tgtd. Reads through the proxy must return the new data at
# once -- verify mode trusts only ALLOCATED and asks GET LBA STATUS again for every
# other page -- and a full read through the proxy must equal the backing file.
# (Exclusive mode would be wrong here by design: it trusts UNALLOCATED until a
# mutation it sees. That is documented behaviour, not tested.)
#
# What makes it fail: a READ answered from a stale UNALLOCATED entry (zeros where
# the second writer put data), a verify proxy that sends no GET LBA STATUS for a
# warm non-allocated page, or any byte of the final full read differing.
# (Checked once with a scratch build whose verify mode trusts UNALLOCATED: the
# first read-back returned zeros and the test failed.)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_start_layout_backend
isp_start_proxy_cache verify
URL_DIRECT=iscsi://127.0.0.1:$TGT_PORT/$BACKEND_IQN/$ISP_LUN
K=1024 M=$((1024 * 1024)) PAGE=$((64 * 1024))

# Writes of the second writer: BYTE OFFSET LEN, all into pages that are holes now.
writes=(
  "0xc1 $((30 * M + 1000)) 3000"               # inside one page, unaligned
  "0xc2 $((60 * M)) $PAGE"                     # exactly one page
  "0xc3 $((70 * M + 60 * K)) $((8 * K))"       # across a page boundary
  "0xc4 $((80 * M + 512)) $((3 * M))"          # many pages, unaligned
  "0xc5 $((240 * M - 512)) 512"                # the last block of a page
)
for w in "${writes[@]}"; do
  read -r byte off len <<<"$w"
  isp_is_hole_pages "$ISP_IMG" "$off" "$len" "$PAGE" || isp_fail "test layout: [$off, +$len) is not in hole pages of the file"
done

# Warm: probe, then a full read through the proxy; the holes are known now.
isp_probe_lun "$URL_PROXY" "$STATS_PORT" zero-serving
isp_read_all "$URL_PROXY" "$ISP_WORK/warm.raw"
cmp "$ISP_WORK/warm.raw" "$ISP_IMG" || isp_fail "warm-up: the full read through the proxy differs from the file"
rm -f "$ISP_WORK/warm.raw"
if ((!ISP_DIRECT)); then
  z=$(isp_stat "$STATS_PORT" read_bytes_total_zero)
  un=$(isp_stat "$STATS_PORT" pages_unallocated)
  ((z > 0 && un > 0)) || isp_fail "warm-up: zero bytes $z, unallocated pages $un: the cache did not learn the holes"
  # The pages about to be written were served as zeros from the proxy.
  isp_qio "$URL_PROXY" "read -P 0 $((60 * M)) $PAGE" || isp_fail "warm-up: [60 MiB, +64 KiB) is not zeros"
  z2=$(isp_stat "$STATS_PORT" read_bytes_total_zero)
  ((z2 - z == PAGE)) || isp_fail "warm-up: reading the hole page at 60 MiB served $((z2 - z)) zero bytes, expected $PAGE"
  echo "## warm: $z bytes served as zeros, $un pages known unallocated"
fi

# The second writer: straight to tgtd, one session per write.
for w in "${writes[@]}"; do
  read -r byte off len <<<"$w"
  isp_qio "$URL_DIRECT" "write -P $byte $off $len" ||
    isp_fail "second writer: write -P $byte $off $len straight to tgtd failed"
  isp_expect_bytes "$ISP_IMG" "$off" "$len" "$byte" "second writer's data in the backing file"
done

# Each written range through the proxy: the new data, and (with stats) from
# the backend -- verify mode asked it (a GET LBA STATUS) instead of trusting
# the cache, or an earlier answer's mapped extents already healed the page to
# ALLOCATED (read from the backend, no zeros served for it).
healed=0
for w in "${writes[@]}"; do
  read -r byte off len <<<"$w"
  q0=0 z0=0
  ((ISP_DIRECT)) || { q0=$(isp_stat "$STATS_PORT" lba_status_queries_total);
                      z0=$(isp_stat "$STATS_PORT" read_bytes_total_zero); }
  isp_qio "$URL_PROXY" "read -P $byte $off $len" ||
    isp_fail "through the verify proxy: [$off, +$len) is not the second writer's $byte (stale zeros?)"
  if ((!ISP_DIRECT)); then
    q1=$(isp_stat "$STATS_PORT" lba_status_queries_total)
    z1=$(isp_stat "$STATS_PORT" read_bytes_total_zero)
    if ((q1 == q0)); then
      ((z1 == z0)) || isp_fail "through the verify proxy: READ of [$off, +$len) asked nothing and served $((z1 - z0)) zero bytes"
      healed=$((healed + 1))
    fi
  fi
done
((healed < ${#writes[@]})) || isp_fail "through the verify proxy: no READ of a written range sent a GET LBA STATUS"
echo "## ${#writes[@]} writes straight to tgtd into warm hole pages: read back through the verify proxy ($healed already healed to ALLOCATED by an earlier answer)"

# The second writer also unmaps: the last data page of the raw 0x5a pattern,
# ALLOCATED in the cache. LBPRZ=1: it reads zeros or the old data, as tgtd says.
uoff=$((ISP_PAT_OFF + ISP_PAT_LEN - PAGE))
isp_qio "$URL_DIRECT" "discard $uoff $PAGE" || isp_fail "second writer: discard $uoff $PAGE failed"
isp_read_all "$URL_DIRECT" "$ISP_WORK/direct.raw"
cmp "$ISP_WORK/direct.raw" "$ISP_IMG" || isp_fail "tgtd's view differs from its backing file"
isp_read_all "$URL_PROXY" "$ISP_WORK/after.raw"
cmp "$ISP_WORK/after.raw" "$ISP_WORK/direct.raw" ||
  isp_fail "after the second writer: the full read through the proxy differs from tgtd's"
echo "## full read through the verify proxy equals tgtd and the backing file after the second writer"
isp_proxy_alive "after the second writer"
