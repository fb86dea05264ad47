#!/usr/bin/env bash
# The allocation cache in each coherence mode (issue 4): a thin LUN with a known
# layout of data and holes (isp_make_layout_image: ext4 + raw extents that cut
# 64 KiB pages in odd places) is read whole (qemu-img dd: every block) through
# three proxies in front of one tgtd, coherence exclusive, verify and off.
#
#   - every full read is byte-identical to the backing file;
#   - off: nothing is served as zeros, all LUN bytes come from the backend;
#   - exclusive: the bytes served as zeros are exactly the bytes of the 4 KiB
#     granules of 64 KiB pages (allocmap.h, PAGE_PARTIAL) that lie wholly inside
#     holes of the backing file (computed here from the file alone, lseek
#     SEEK_DATA/SEEK_HOLE); verify: at least the wholly-hole 64 KiB pages, at
#     most every hole byte (each READ's own answer decides block by block); and
#     in both, zeros + backend = LUN;
#   - exclusive, warm (second full read): no GET LBA STATUS at all, READs answered
#     wholly from zeros, the same zero/backend split;
#   - verify, warm: GET LBA STATUS again (only ALLOCATED is trusted);
#   - independent of the proxy's counters: the bytes tgtd read() during each full
#     read (/proc/<tgtd>/io rchar) equal the proxy's backend bytes within a
#     per-command allowance, are far below the LUN size with the cache on, and
#     are the whole LUN with coherence off.
#
# Why rchar and not read_bytes: read_bytes counts only what the block layer fetched
# from the disk; the backing file was just written and sits in the page cache, so
# read_bytes stays near 0 whatever tgtd reads. rchar counts every byte returned by
# read()/pread() in all of tgtd's threads: the LUN data it preads from the backing
# file, plus the iSCSI PDUs it receives (48-byte headers, and no data: this is a
# read-only workload) and its internal eventfd/pipe notifications (8 bytes per
# completion). Nothing else talks to this private tgtd during a measured read. So
# rchar - backend bytes is >= 0 and at most OVERHEAD_PER_CMD bytes for each command
# the proxy sent (READ parts and GET LBA STATUS, counted from the proxy's own
# counters, plus a fixed allowance for NOP-Outs), and always well under one 64 KiB
# page per READ: a hole page read from the file without being counted as backend
# bytes would show.
#
# What makes it fail: any byte of a full read differing from the file (stale or
# wrong zeros, misordered segments); a hole page read from the backend or a data
# page served as zeros (zero bytes != the file's hole pages); a backend READ of
# pages known unallocated that the counters hide (tgtd's rchar > counters); a
# partly allocated page read whole in a warm exclusive read (zero bytes < grains); a
# GET LBA STATUS in a warm exclusive read; zeros served with coherence = off.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_start_layout_backend

S=$ISP_IMG_SIZE PAGE=$((64 << 10))
OVERHEAD_PER_CMD=512        # bytes tgtd read()s per command besides LUN data (see above)
OVERHEAD_FIXED=$((16 << 10))
HOLE=$(isp_hole_page_bytes "$ISP_IMG" "$PAGE")
HOLE_GRAINS=$(isp_hole_page_bytes "$ISP_IMG" $((PAGE / 16)))   # exclusive: page granules
HOLE_BLOCKS=$(isp_hole_page_bytes "$ISP_IMG" 512)   # verify: block-exact from each answer
((HOLE > S / 2 && HOLE < S)) || isp_fail "layout: $HOLE hole-page bytes of $S: not a mostly thin LUN"
echo "## LUN $S bytes, $HOLE bytes in 64 KiB pages wholly inside holes ($((S - HOLE)) bytes of pages with data)"

declare -A URL=() STATS=() PIDS=()
for mode in exclusive verify off; do
  isp_start_proxy_cache "$mode"
  URL[$mode]=$URL_PROXY STATS[$mode]=$STATS_PORT PIDS[$mode]=$PROXY_PID
done

# counters MODE: "zero backend queries zero_only split passthrough" of the LUN.
counters() {
  local json
  json=$(isp_stats_get "${STATS[$1]}" stats)
  python3 -c '
import json, sys
l = [l for l in json.loads(sys.stdin.read())["luns"] if l["lun"] == int(sys.argv[1])][0]
c = l["counters"]
print(c["read_bytes_total_zero"], c["read_bytes_total_backend"], c["lba_status_queries_total"],
      c["read_commands_total_zero"], c["read_commands_total_split"],
      c["read_commands_total_passthrough"])' "$ISP_LUN" <<<"$json" ||
    isp_fail "$1: /stats has no counters for LUN $ISP_LUN"
}

# full_read MODE LABEL: one full read through that proxy, checked against the file
# and, with stats, against the file's layout and tgtd's rchar.
full_read() {
  local mode=$1 label=$2 r0 r1 rd z0 b0 q0 zo0 sp0 pt0 z1 b1 q1 zo1 sp1 pt1 cmds allow
  local out=$ISP_WORK/read.$mode.raw c
  if ((!ISP_DIRECT)); then
    c=$(counters "$mode")
    read -r z0 b0 q0 zo0 sp0 pt0 <<<"$c"
  fi
  r0=$(isp_rchar "$TGT_PID")
  isp_read_all "${URL[$mode]}" "$out"
  r1=$(isp_rchar "$TGT_PID")
  rd=$((r1 - r0))
  cmp "$out" "$ISP_IMG" ||
    isp_fail "$mode $label: the full read through the proxy differs from the backing file (cmp above)"
  rm -f "$out"
  if ((ISP_DIRECT)); then
    echo "## $mode $label: identical to the file (direct mode: no counters); tgtd read $rd bytes"
    return 0
  fi
  c=$(counters "$mode")
  read -r z1 b1 q1 zo1 sp1 pt1 <<<"$c"
  local dz=$((z1 - z0)) db=$((b1 - b0)) dq=$((q1 - q0)) dzo=$((zo1 - zo0)) dsp=$((sp1 - sp0)) dpt=$((pt1 - pt0))
  echo "## $mode $label: identical to the file; zero $dz B, backend $db B, GET LBA STATUS $dq," \
    "READs zero-only $dzo split $dsp passthrough $dpt; tgtd read() $rd B"
  ((dz + db == S)) ||
    isp_fail "$mode $label: zero $dz + backend $db = $((dz + db)) bytes, expected the LUN size $S"
  # Commands the proxy sent to tgtd: at most 16 parts per split READ (1 MiB READs,
  # 16 pages), one per passthrough READ, one per query.
  cmds=$((16 * dsp + dpt + dq))
  allow=$((OVERHEAD_FIXED + OVERHEAD_PER_CMD * cmds))
  ((rd >= db && rd - db <= allow)) ||
    isp_fail "$mode $label: tgtd read() $rd bytes but the proxy counted $db backend bytes" \
      "(difference $((rd - db)), allowed 0..$allow for $cmds commands)"
  case $mode in
    off)
      ((dz == 0)) || isp_fail "off $label: $dz bytes served as zeros, expected 0"
      ((rd >= S)) || isp_fail "off $label: tgtd read() only $rd bytes of the $S-byte LUN"
      ;;
    exclusive | verify)
      if [[ $mode == exclusive ]]; then
        ((dz == HOLE_GRAINS)) ||
          isp_fail "$mode $label: $dz bytes served as zeros, expected exactly $HOLE_GRAINS (the" \
            "file's whole 4 KiB hole granules; difference $((dz - HOLE_GRAINS)))"
      else
        # verify: each READ's own answer decides block by block, so zeros reach
        # into partly allocated pages; how far depends on which READs shared a
        # query. At least the whole hole pages, at most the file's hole bytes.
        ((dz >= HOLE && dz <= HOLE_BLOCKS)) ||
          isp_fail "$mode $label: $dz bytes served as zeros, expected between $HOLE (whole" \
            "64 KiB hole pages) and $HOLE_BLOCKS (every hole byte of the file)"
      fi
      ((rd <= S / 10)) ||
        isp_fail "$mode $label: tgtd read() $rd bytes of the $S-byte LUN, expected at most a tenth"
      ;;
  esac
  LAST_DQ=$dq LAST_DZO=$dzo
}

# Probe each LUN first (sessions that open it and read nothing), so that the
# measured full reads start on a probed LUN with a cold cache.
for mode in exclusive verify off; do
  want=zero-serving
  [[ $mode == off ]] && want=pass-through
  isp_probe_lun "${URL[$mode]}" "${STATS[$mode]}" "$want"
  if ((!ISP_DIRECT)); then
    q=$(isp_stat "${STATS[$mode]}" lba_status_queries_total)
    ((q == 0)) || isp_fail "$mode: $q GET LBA STATUS sent while probing: the cache is not cold"
    [[ $(isp_stat "${STATS[$mode]}" coherence) == "$mode" ]] ||
      isp_fail "$mode: /stats reports coherence '$(isp_stat "${STATS[$mode]}" coherence)'"
  fi
done

LAST_DQ=0 LAST_DZO=0
full_read exclusive cold
if ((!ISP_DIRECT)); then
  ((LAST_DQ > 0)) || isp_fail "exclusive cold: no GET LBA STATUS was sent, yet holes were served as zeros"
fi
full_read exclusive warm
if ((!ISP_DIRECT)); then
  ((LAST_DQ == 0)) ||
    isp_fail "exclusive warm: $LAST_DQ GET LBA STATUS sent, expected none (every page is known)"
  ((LAST_DZO > 0)) || isp_fail "exclusive warm: no READ was answered wholly from zeros"
fi
full_read verify cold
full_read verify warm
if ((!ISP_DIRECT)); then
  ((LAST_DQ > 0)) ||
    isp_fail "verify warm: no GET LBA STATUS sent; verify must ask about non-ALLOCATED pages on every READ"
fi
full_read off cold
if ((!ISP_DIRECT)); then
  for mode in exclusive verify off; do
    isp_alive "${PIDS[$mode]}" || isp_fail "the $mode proxy (pid ${PIDS[$mode]}) died"
  done
fi
