#!/usr/bin/env bash
# A LUN with 4096-byte logical blocks (issue 9, case 6): the planner, the READ
# parts and the replies must use the LUN's block size, not 512.
#
# tgtd serves a thin LUN (--blocksize 4096, thin_provisioning=1) backed by a
# sparse file holding random data at offsets that cut 4 KiB blocks and 64 KiB
# pages in odd places (one block inside a page, across a page boundary, a whole
# page, a run over many pages, 512 bytes inside a block, the first and the last
# block); the rest is holes. Three proxies in front of it, coherence exclusive,
# verify and off, each read the whole LUN (qemu-img dd: every block).
#
#   - READ CAPACITY(16) reports 4096-byte blocks directly and through the proxy,
#     and the proxy's /stats knows the LUN with block_size 4096;
#   - every full read is byte-identical to the backing file;
#   - exclusive: the bytes served as zeros are exactly the file's 4 KiB granules
#     of 64 KiB pages wholly inside holes (> 0), cold and warm, with no READ
#     fallen back to the backend whole (a part judged short would be one);
#   - verify: at least the wholly-hole 64 KiB pages as zeros, at most every
#     hole byte; off: no zeros at all.
#
# What makes it fail: a byte of a full read differing from the file (segment
# lengths computed with another block size, misordered or short parts, stale
# heap bytes); zeros where the file has data or none where it has holes; a
# proxy that does not plan the LUN (pass-through) or falls back on good parts.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_require_root
command -v python3 >/dev/null || isp_fail "python3 not found"
command -v curl >/dev/null || isp_fail "curl not found"

BS=4096 S=$((64 << 20)) PAGE=$((64 << 10)) K=1024 M=$((1 << 20))
ISP_IMG=$ISP_WORK/lun4k.img
truncate -s "$S" "$ISP_IMG"
# put OFFSET LENGTH: random bytes at [OFFSET, +LENGTH) of the image, the rest kept.
put() {
  dd if=/dev/urandom of="$ISP_IMG" bs="$2" count=1 seek="$1" iflag=fullblock \
    oflag=seek_bytes conv=notrunc status=none || isp_fail "dd into $ISP_IMG failed"
}
put 0 "$BS"                             # the first block
put $((M + 8 * K)) "$BS"                # one block inside a page
put $((5 * M - 4 * K)) $((12 * K))      # across a page boundary
put $((10 * M)) "$PAGE"                 # exactly one page
put $((20 * M + 60 * K)) $((M + 8 * K)) # the end of a page, 16 pages, the start of one
put $((30 * M + 100)) 512               # inside one block, unaligned
put $((S - BS)) "$BS"                   # the last block
[[ $(stat -c %s "$ISP_IMG") -eq $S ]] || isp_fail "the image has the wrong size"

HOLE=$(isp_hole_page_bytes "$ISP_IMG" "$PAGE")
HOLE_GRAINS=$(isp_page_census "$ISP_IMG" "$PAGE" $((PAGE / 16)))
HOLE_GRAINS=${HOLE_GRAINS##* }          # exclusive: 16 granules of one block per page
HOLE_BLOCKS=$(isp_hole_page_bytes "$ISP_IMG" "$BS")
((HOLE > S / 2 && HOLE_GRAINS > HOLE)) ||
  isp_fail "layout: $HOLE hole-page bytes, $HOLE_GRAINS hole-granule bytes of $S: not as built"
echo "## LUN $S bytes of $BS-byte blocks; $HOLE bytes in whole hole pages, $HOLE_GRAINS in hole granules"

isp_start_tgtd
isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_IMG" "$BS"
URL_DIRECT=iscsi://127.0.0.1:$TGT_PORT/$BACKEND_IQN/$ISP_LUN
CAP_DIRECT=$(isp_timeout 60 iscsi-readcapacity16 -i "$ISP_INITIATOR" "$URL_DIRECT") ||
  isp_fail "iscsi-readcapacity16 direct failed: $CAP_DIRECT"
grep -qx "LOGICAL BLOCK LENGTH IN BYTES:$BS" <<<"$CAP_DIRECT" ||
  isp_fail "tgtd does not report $BS-byte blocks (tgtadm --blocksize ignored?): $CAP_DIRECT"
grep -qx 'LBPME:1 LBPRZ:1' <<<"$CAP_DIRECT" || isp_fail "the thin LUN does not report LBPME:1 LBPRZ:1"

declare -A URL=() STATS=() PIDS=()
for mode in exclusive verify off; do
  isp_start_proxy_cache "$mode"
  URL[$mode]=$URL_PROXY STATS[$mode]=$STATS_PORT PIDS[$mode]=$PROXY_PID
  want=zero-serving
  [[ $mode == off ]] && want=pass-through
  isp_probe_lun "$URL_PROXY" "$STATS_PORT" "$want"
done

if ((!ISP_DIRECT)); then
  cap=$(isp_timeout 60 iscsi-readcapacity16 -i "$ISP_INITIATOR" "${URL[exclusive]}") ||
    isp_fail "iscsi-readcapacity16 through the proxy failed: $cap"
  if [[ "$cap" != "$CAP_DIRECT" ]]; then
    diff <(printf '%s\n' "$CAP_DIRECT") <(printf '%s\n' "$cap") || true
    isp_fail "READ CAPACITY(16) differs through the proxy (< direct, > proxy)"
  fi
  lbs=$(isp_stat "${STATS[exclusive]}" block_size)
  ((lbs == BS)) || isp_fail "exclusive: /stats says block_size $lbs, expected $BS"
fi

# full_read MODE LABEL: one full read through that proxy, compared with the file;
# with stats, the bytes served as zeros checked for the mode.
full_read() {
  local mode=$1 label=$2 out=$ISP_WORK/read.raw z0 z1 b0 b1 f0 f1 dz db
  if ((!ISP_DIRECT)); then
    z0=$(isp_stat "${STATS[$mode]}" read_bytes_total_zero)
    b0=$(isp_stat "${STATS[$mode]}" read_bytes_total_backend)
    f0=$(isp_stat "${STATS[$mode]}" read_commands_total_fallback)
  fi
  isp_read_all "${URL[$mode]}" "$out"
  cmp "$out" "$ISP_IMG" ||
    isp_fail "$mode $label: the full read through the proxy differs from the backing file (cmp above)"
  rm -f "$out"
  if ((ISP_DIRECT)); then
    echo "## $mode $label: identical to the file (direct mode: no counters)"
    return 0
  fi
  z1=$(isp_stat "${STATS[$mode]}" read_bytes_total_zero)
  b1=$(isp_stat "${STATS[$mode]}" read_bytes_total_backend)
  f1=$(isp_stat "${STATS[$mode]}" read_commands_total_fallback)
  dz=$((z1 - z0)) db=$((b1 - b0))
  echo "## $mode $label: identical to the file; zero $dz B, backend $db B, fallback $((f1 - f0))"
  ((dz + db == S)) || isp_fail "$mode $label: zero $dz + backend $db bytes, expected the LUN size $S"
  ((f1 == f0)) || isp_fail "$mode $label: $((f1 - f0)) READs fell back to the backend whole"
  case $mode in
    exclusive)
      ((dz > 0 && dz == HOLE_GRAINS)) ||
        isp_fail "$mode $label: $dz bytes served as zeros, expected $HOLE_GRAINS (the file's hole granules)"
      ;;
    verify)
      ((dz >= HOLE && dz <= HOLE_BLOCKS)) ||
        isp_fail "$mode $label: $dz bytes served as zeros, expected $HOLE..$HOLE_BLOCKS"
      ;;
    off)
      ((dz == 0)) || isp_fail "off $label: $dz bytes served as zeros, expected 0"
      ;;
  esac
}

full_read exclusive cold
full_read exclusive warm
full_read verify cold
full_read off cold
if ((!ISP_DIRECT)); then
  for mode in exclusive verify off; do
    isp_alive "${PIDS[$mode]}" || isp_fail "the $mode proxy (pid ${PIDS[$mode]}) died"
  done
fi
