#!/usr/bin/env bash
# Mutations through an exclusive proxy by several sessions at once (issue 4).
# The cache is warmed first (a full read), so the proxy knows which pages are
# holes and serves them as zeros; then four writer sessions run in parallel, each
# in its own 8 MiB region (holes and data, including the ext4 area, the raw extents
# that cut pages in odd places and the 0x5a pattern), with WRITE (aligned,
# unaligned, across pages, into pages known unallocated), WRITE SAME of zeros,
# WRITE SAME with UNMAP, UNMAP, and a READ right after each of them (a new
# qemu-io session per step, so the READ also crosses sessions). Meanwhile two
# reader sessions read the whole LUN and spans that cross all the regions.
#
# A local model file gets the same operations. UNMAP is advice: after a discard the
# worker reads the range straight from tgtd, checks each block is zeros or the old
# data, requires the proxy's read of the range to equal tgtd's, and puts tgtd's
# bytes into the model. At the end the whole LUN read through the proxy, the whole
# LUN read straight from tgtd, the backing file and the model are all equal, and
# the readers' copies equal the model outside the regions being written.
#
# What makes it fail: stale zeros after a write (a page left UNALLOCATED, or made
# UNALLOCATED again by an answer or an UNMAP completion while data is there); a
# WRITE SAME / UNMAP that does not reach tgtd or reaches the wrong blocks; any
# difference between proxy, tgtd, file and model; a worker's session failing.
# (Checked once with a scratch build whose WRITEs do not mark pages ALLOCATED:
# every worker's first read-back failed.)
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_setup_cache exclusive
isp_probe_lun "$URL_PROXY" "$STATS_PORT" zero-serving
K=1024 M=$((1024 * 1024)) PAGE=$((64 * 1024))
MODEL=$ISP_WORK/model.img
cp --sparse=always "$ISP_IMG" "$MODEL"

# Warm the cache: every page is known after this.
isp_read_all "$URL_PROXY" "$ISP_WORK/warm.raw"
cmp "$ISP_WORK/warm.raw" "$MODEL" || isp_fail "warm-up: the full read through the proxy differs from the file"
rm -f "$ISP_WORK/warm.raw"
if ((!ISP_DIRECT)); then
  un=$(isp_stat "$STATS_PORT" pages_unallocated)
  ((un > 0)) || isp_fail "warm-up: no page known unallocated"
fi

# model_put OFF LEN BYTE: the model gets LEN bytes of BYTE (0 for zeros) at OFF.
model_put() {
  isp_byte_file "$2" "$3" | dd of="$MODEL" bs=64k seek="$1" oflag=seek_bytes conv=notrunc status=none
}

# worker N BASE B: the operations of one writer session in [BASE, BASE + 8 MiB),
# bytes B, B+1, ... as patterns. Runs in the background; fails by exiting non-zero.
worker() {
  local n=$1 base=$2 b=$3 tag="worker $1" steps=0
  local d=$ISP_WORK/w$n
  mkdir -p "$d"
  # P: WRITE pattern, Z: WRITE SAME zeros, U: WRITE SAME + UNMAP, D: UNMAP.
  op() {
    local kind=$1 byte=$2 off=$3 len=$4 cmd check
    case $kind in
      P) cmd="write -P $byte $off $len" check="read -P $byte $off $len" ;;
      Z) cmd="write -z $off $len" check="read -P 0 $off $len" ;;
      U) cmd="write -z -u $off $len" check="read -P 0 $off $len" ;;
      D) cmd="discard $off $len" check="" ;;
    esac
    isp_qio "$URL_PROXY" "$cmd" || isp_fail "$tag: '$cmd' through the proxy failed"
    steps=$((steps + 1))
    case $kind in
      P) model_put "$off" "$len" "$byte" ;;
      Z | U) model_put "$off" "$len" 0 ;;
      D)
        # What is there now is tgtd's to say: zeros or the old data, per block.
        isp_read_range "$URL_DIRECT" "$off" "$len" "$d/direct"
        isp_read_range "$URL_PROXY" "$off" "$len" "$d/proxy"
        cmp "$d/direct" "$d/proxy" ||
          isp_fail "$tag: after 'discard $off $len' the proxy reads differently from tgtd"
        dd if="$MODEL" of="$d/old" bs=64k skip="$off" count="$len" iflag=skip_bytes,count_bytes status=none
        python3 - "$d/direct" "$d/old" <<'PY' || isp_fail "$tag: after 'discard $off $len' tgtd holds a block that is neither zeros nor the old data"
import sys
a, o = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
z = bytes(512)
sys.exit(0 if all(a[i:i+512] in (z, o[i:i+512]) for i in range(0, len(a), 512)) else 1)
PY
        dd if="$d/direct" of="$MODEL" bs=64k seek="$off" oflag=seek_bytes conv=notrunc status=none
        ;;
    esac
    # Right after the step, in a new session: the data just written, never stale zeros.
    if [[ -n "$check" ]]; then
      isp_qio "$URL_PROXY" "$check" || isp_fail "$tag: after '$cmd', '$check' through the proxy fails"
    fi
  }
  op P $((b + 0)) $((base + 1000)) 70000                  # unaligned, across pages
  op P $((b + 1)) $((base + 1 * M)) $((256 * K))          # aligned pages
  op Z 0 $((base + 1 * M + 64 * K)) $PAGE                 # WRITE SAME zeros in it
  op P $((b + 2)) $((base + 2 * M + 4 * K)) $((200 * K))
  op U 0 $((base + 2 * M)) $((512 * K))                   # WRITE SAME + UNMAP over it
  op P $((b + 3)) $((base + 2 * M + 64 * K)) 4096         # into the unmapped range
  op P $((b + 4)) $((base + 3 * M)) $M
  op D 0 $((base + 3 * M + 128 * K)) $((256 * K))         # UNMAP inside the data
  op P $((b + 5)) $((base + 3 * M + 192 * K)) $((8 * K))  # into the unmapped range
  op P $((b + 6)) $((base + 5 * M + 100)) 1000            # a page known unallocated
  op D 0 $((base + 6 * M)) $((2 * M))                     # UNMAP over old data/holes
  op P $((b + 7)) $((base + 7 * M - 512)) 1024            # across the UNMAP's end
  op Z 0 $((base + 6 * M + 4 * K)) $((12 * K))            # WRITE SAME in the unmapped range
  op P $((b + 8)) $((base + 6 * M + 64 * K)) $((64 * K))
  echo "## $tag: $steps operations in [$base, +8 MiB), each read back through the proxy"
}

# reader N: whole-LUN reads and cross-region spans through the proxy, while the
# writers run; copies kept for the static parts.
reader() {
  local n=$1 i
  for i in 1 2; do
    isp_read_all "$URL_PROXY" "$ISP_WORK/reader$n.$i.raw"
    isp_qio "$URL_PROXY" "read 0 $((200 * M))" "read $((90 * M)) $((110 * M))" ||
      isp_fail "reader $n: cross-region READs failed"
  done
}

# Regions (8 MiB each): holes around the ext4 area's end, the raw extents at 100 MiB,
# a plain hole, and the 0x5a pattern at 192 MiB.
bases=($((8 * M)) $((96 * M)) $((160 * M)) $((188 * M)))
pids=() names=()
# If the test fails while they run, end the sessions we started (by PID).
stop_sessions() {
  local p
  for p in "${pids[@]}"; do isp_alive "$p" && kill -TERM "$p" 2>/dev/null; done
  return 0
}
isp_on_exit stop_sessions
for i in "${!bases[@]}"; do
  worker "$((i + 1))" "${bases[$i]}" $((0x20 + 0x10 * i)) &
  pids+=($!) names+=("worker $((i + 1))")
done
for i in 1 2; do
  reader "$i" &
  pids+=($!) names+=("reader $i")
done
failed=()
for i in "${!pids[@]}"; do
  rc=0
  wait "${pids[$i]}" || rc=$?
  ((rc == 0)) || failed+=("${names[$i]} (exit $rc)")
done
pids=()
((${#failed[@]} == 0)) || isp_fail "concurrent sessions failed: ${failed[*]}"
isp_proxy_alive "after the concurrent sessions"

# The readers' copies equal the model outside the regions that were written.
for f in "$ISP_WORK"/reader*.raw; do
  python3 - "$f" "$MODEL" "${bases[@]}" <<'PY' || isp_fail "$(basename "$f"): a concurrent full read differs from the model outside the written regions"
import sys
a, m = open(sys.argv[1], "rb"), open(sys.argv[2], "rb")
regions = [(int(b), int(b) + (8 << 20)) for b in sys.argv[3:]]
M = 1 << 20
off = 0
while True:
    x, y = a.read(M), m.read(M)
    if not x and not y:
        break
    if x != y and not any(lo <= off < hi for lo, hi in regions):
        print("  first difference in the MiB at offset %d" % off, file=sys.stderr)
        sys.exit(1)
    off += M
PY
done

# Everything agrees: proxy, tgtd, backing file, model.
isp_read_all "$URL_PROXY" "$ISP_WORK/final.proxy"
isp_read_all "$URL_DIRECT" "$ISP_WORK/final.direct"
cmp "$ISP_WORK/final.direct" "$ISP_IMG" || isp_fail "tgtd's full read differs from its backing file"
cmp "$ISP_WORK/final.proxy" "$ISP_WORK/final.direct" ||
  isp_fail "the full read through the proxy differs from tgtd's (cmp above: proxy, direct)"
cmp "$ISP_WORK/final.proxy" "$MODEL" ||
  isp_fail "the full read through the proxy differs from the model (cmp above: proxy, model)"
if ((!ISP_DIRECT)); then
  mu=$(isp_stat "$STATS_PORT" mutations_total)
  q=$(isp_stat "$STATS_PORT" lba_status_queries_total)
  z=$(isp_stat "$STATS_PORT" read_commands_total_zero)
  ((mu > 0)) || isp_fail "the proxy counted no mutations"
  echo "## proxy = tgtd = backing file = model; mutations $mu, GET LBA STATUS $q, zero-only READs $z"
else
  echo "## direct: tgtd = backing file = model"
fi
isp_proxy_alive "at the end"
