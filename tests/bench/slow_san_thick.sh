#!/usr/bin/env bash
# make bench, part 4: a thick LUN read twice over the slow SAN (issue 11,
# "zeros learned from data").
#
# The same SAN as tests/bench/slow_san.sh and slow_san_copy.sh (slow_san_lib.sh:
# the aged 4 GiB ext4 image, a tgtd behind a veth pair shaped to 1 Gbit/s, a
# second tgtd on 127.0.0.1 serving the same file), but the LUN is thick: both
# tgtds export it with thin_provisioning=0 (LBPME=0, LBPRZ=0, no GET LBA
# STATUS; checked with READ CAPACITY(16) before the first case). An initiator
# cannot learn the holes, so every tool reads every byte; a proxy in
# `exclusive` mode learns zeros from the data of its own backend READs
# (docs/ARCHITECTURE.md, "Zeros learned from data"), so a second full read
# through the same proxy process should fetch only the non-zero granules.
#
# A full read is qemu-img convert -O raw of the LUN to a raw file in
# SLOW_SAN_THICK_OUT (tmpfs by default, so no disk is measured): qemu's iscsi
# driver calls every block of an LBPME=0 LUN data, so it reads them all (the
# link bytes of the direct case show it). The copy is compared with the
# backing file (cmp) once per case, in the first repetition; a copy that
# differs fails the script. Cases, each run once per repetition:
#   loopback  the tgtd on 127.0.0.1 (no link): the limit's other term
#   direct    host -> veth -> tgtd
#   cold      host -> proxy (127.0.0.1, coherence exclusive, page_size
#             SLOW_SAN_PAGE_SIZE, auto = 64 KiB with tgt) -> veth -> tgtd; a
#             new proxy process for every repetition
#   warm      the same read again through the same proxy process
# and reports wall time (login included; the cmp is not), bytes that crossed
# the link (host veth rx+tx counters), the bytes the serving tgtd read
# (/proc/PID/io rchar: the backing file through pread, plus its sockets' few
# command bytes), and from the proxy's /metrics the bytes of READ data that
# taught it zeros (zero_learned_bytes_total{from="read"}), then the ratios of
# the warm read to the limit of issue 11:
#   non-zero/link = the image's non-zero 4 KiB blocks (the proxy's granule:
#                   1/16 of a 64 KiB page) / the nominal link rate
#   limit         = max(non-zero/link, loopback time)
# Aim: warm within 1.25x the limit.
#
# The window. The whole LUN by default (a full read over the link is about
# 36 s, so one repetition takes about 90 s plus the first repetition's four
# cmps). SLOW_SAN_THICK_SIZE makes the tools see only the LUN's last bytes
# (qemu's raw driver, offset/size over the iscsi node), as in part 3.
#
# A benchmark, not a test: it never fails on figures, only when something
# could not run or copied wrong. Every read is bounded (SLOW_SAN_THICK_TIMEOUT);
# medians are reported; no repetition starts once SLOW_SAN_THICK_BUDGET seconds
# have passed, nor one that would end after it (judging by the one before).
#
#   tests/bench/slow_san_thick.sh PROXY_BIN|direct
#   SLOW_SAN_THICK_REPS (3)        repetitions
#   SLOW_SAN_THICK_BUDGET (420)    seconds after which no new repetition starts
#   SLOW_SAN_THICK_TIMEOUT (400)   seconds per full read
#   SLOW_SAN_THICK_SIZE (4 GiB)    the window: the LUN's last bytes the tools
#                                  see (a multiple of 64 KiB, up to 4 GiB)
#   SLOW_SAN_THICK_OUT (/dev/shm)  where the copies are written (one at a time)
#   and slow_san_lib.sh's SLOW_SAN_MBIT, SLOW_SAN_PAGE_SIZE, SLOW_SAN_CACHE
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NOTE_TAG=slow-san-thick
# shellcheck source=tests/bench/slow_san_lib.sh
. "$HERE/slow_san_lib.sh"

REPS=${SLOW_SAN_THICK_REPS:-3}
BUDGET=${SLOW_SAN_THICK_BUDGET:-420}
TMO=${SLOW_SAN_THICK_TIMEOUT:-400}
SIZE=${SLOW_SAN_THICK_SIZE:-$IMG_SIZE}
GRANULE=4096
T0=$SECONDS
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || isp_fail "bad SLOW_SAN_THICK_REPS"
command -v iscsi-readcapacity16 >/dev/null || isp_fail "iscsi-readcapacity16 not found"
window_setup SLOW_SAN_THICK_SIZE "${SLOW_SAN_THICK_OUT:-/dev/shm}" thick

san_setup

# Both tgtds: the LUN made thick (san_setup exports it thin).
for ctl in "$LOOP_PORT" "$SAN_TGT_CTL"; do
  TGT_CTL=$ctl isp_tgtadm --op update --mode logicalunit --tid 1 --lun "$ISP_LUN" \
    --params thin_provisioning=0 || isp_fail "tgtadm: cannot make the LUN of tgtd socket.$ctl thick"
done
for portal in "127.0.0.1:$LOOP_PORT" "$SAN_NS_ADDR:$SAN_TGT_PORT"; do
  rc16=$(isp_timeout 30 iscsi-readcapacity16 -i "$ISP_INITIATOR" "iscsi://$portal/$BACKEND_IQN/$ISP_LUN") ||
    isp_fail "READ CAPACITY(16) of $portal failed"
  grep -q '^LBPME:0' <<<"$rc16" || { printf '%s\n' "$rc16" >&2; isp_fail "the LUN at $portal is not thick (LBPME)"; }
done

# What the window holds: allocated bytes, and its non-zero 4 KiB blocks (only
# the data runs are read: a hole is zeros).
read -r ALLOC_W _ _ NONZERO_W < <(python3 "$HERE/data_runs.py" "$IMG" "$WIN_OFF" "$GRANULE")
[[ "$NONZERO_W" =~ ^[0-9]+$ ]] || isp_fail "cannot count the image's non-zero blocks"

# full_read HOST PORT IQN NAME CHECK(0|1): one qemu-img convert of the window;
# sets READ_WALL (seconds). With CHECK, the copy is compared with the backing
# file; a copy that differs is a failure.
READ_WALL=""
full_read() {
  local src t0 t1 rc=0 log=$ISP_WORK/convert.log
  src=$(src_opts "$1" "$2" "$3")
  rm -f "$OUT"
  t0=$EPOCHREALTIME
  isp_timeout "$TMO" qemu-img convert --image-opts "$src" -O raw "$OUT" </dev/null >"$log" 2>&1 || rc=$?
  t1=$EPOCHREALTIME
  if ((rc)); then
    tail -n 5 "$log" >&2
    note "$4: qemu-img convert exited with status $rc"
    return 1
  fi
  if (($5)); then
    if ! copy_matches; then
      note "$4: the copy DIFFERS from the backing file"
      return 1
    fi
    note "$4: the copy equals the backing file (cmp)"
  fi
  rm -f "$OUT"
  READ_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# learned_bytes STATS_PORT: zero_learned_bytes_total{from="read"} from
# /metrics (0 before the proxy knows the LUN), or "-" when the endpoint does
# not answer.
learned_bytes() {
  local m
  m=$(curl -s --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null) || { echo -; return 0; }
  grep -q '^iscsi_sparse_proxy_' <<<"$m" || { echo -; return 0; }
  awk '/^iscsi_sparse_proxy_zero_learned_bytes_total[{ ]/ && /from="read"/ { z += $NF }
    END { printf "%.0f\n", z }' <<<"$m"
}
# proxy_lun_facts STATS_PORT: "ZEROS_FROM PAGE_BYTES" of the (only) LUN in /stats.
proxy_lun_facts() {
  curl -s --max-time 5 "http://127.0.0.1:$1/stats" 2>/dev/null | python3 -c '
import json, sys
try:
    l = json.load(sys.stdin)["luns"][0]
    c = l.get("cache", {})
    print(l.get("zeros_from", "-"), c.get("page_blocks", 0) * c.get("block_size", 0))
except Exception:
    print("- 0")'
}

# ---- bookkeeping --------------------------------------------------------------------
declare -A WALL=() LINKB=() TGTR=() LRN=() CHECKED=()
CASES=()
record() { # record CASE WALL LINK TGTD_READ LEARNED
  [[ -n "${WALL[$1]+x}" ]] || CASES+=("$1")
  WALL[$1]+="$2 " LINKB[$1]+="$3 " TGTR[$1]+="$4 " LRN[$1]+="$5 "
  note "$(printf '%-9s %7.2f s  link %5d MB  tgtd read %5d MB  learned %s MB' "$1" "$2" \
    $(($3 / 1000000)) $(($4 / 1000000)) "$([[ $5 == - ]] && echo - || echo $(($5 / 1000000)))")"
}
# check NAME: CHK=1 the first time NAME is read (its copy is compared), 0 after.
CHK=0
check() { CHK=0; [[ -n "${CHECKED[$1]+x}" ]] || { CHK=1; CHECKED[$1]=1; }; }

# run_plain NAME HOST PORT LINK(0|1) TGTD_PID
run_plain() {
  local name=$1 b0 b1 r0
  check "$name"
  b0=$(link_bytes) r0=$(isp_rchar "$5")
  if full_read "$2" "$3" "$BACKEND_IQN" "$name" "$CHK"; then
    b1=$(link_bytes)
    (($4)) || b1=$b0
    record "$name" "$READ_WALL" "$((b1 - b0))" "$(($(isp_rchar "$5") - r0))" -
  else
    fail_case "$name"
  fi
}

PX_FACTS=""
# run_proxy: a new exclusive proxy, the read cold, again warm, stop.
run_proxy() {
  local phase b0 b1 r0 z0 z1 z
  start_proxy exclusive "$PAGE_SIZE"
  for phase in cold warm; do
    check "$phase"
    b0=$(link_bytes) r0=$(isp_rchar "$SAN_TGT_PID") z0=$(learned_bytes "$PX_STATS")
    if full_read 127.0.0.1 "$PX_PORT" "$ISP_PROXY_IQN_DEFAULT" "$phase" "$CHK"; then
      b1=$(link_bytes) z1=$(learned_bytes "$PX_STATS")
      z=-
      [[ $z0 == - || $z1 == - ]] || z=$((z1 - z0))
      record "$phase" "$READ_WALL" "$((b1 - b0))" "$(($(isp_rchar "$SAN_TGT_PID") - r0))" "$z"
      [[ -n "$PX_FACTS" ]] || PX_FACTS=$(proxy_lun_facts "$PX_STATS")
    else
      fail_case "proxy $phase"
    fi
    isp_alive "$PX_PID" || { fail_case "the proxy died"; break; }
  done
  stop_proxy
}

# ---- the run ----------------------------------------------------------------------------
note "qemu-img convert -O raw of the thick LUN's last $((SIZE >> 20)) MiB (every byte); link ${MBIT} Mbit/s; copies in $OUT_DIR"
rep_secs=0
for ((rep = 1; rep <= REPS; rep++)); do
  if ((rep > 1 && SECONDS - T0 + rep_secs > BUDGET)); then
    note "time budget (${BUDGET}s) reached after $((rep - 1)) repetitions"
    break
  fi
  note "---- repetition $rep"
  t=$SECONDS
  run_plain loopback 127.0.0.1 "$LOOP_PORT" 0 "$LOOP_PID"
  run_plain direct "$SAN_NS_ADDR" "$SAN_TGT_PORT" 1 "$SAN_TGT_PID"
  ((ISP_DIRECT)) || run_proxy
  rep_secs=$((SECONDS - t))
done
REPS_DONE=$((rep - 1))

# ---- the table --------------------------------------------------------------------------
read -r zfrom pbytes <<<"${PX_FACTS:-- 0}"
nzlink=$(awk -v a="$NONZERO_W" -v r="$LINK_BPS" 'BEGIN { printf "%.2f", a / r }')
loop=$(median "${WALL[loopback]:-}")
limit=$(awk -v n="$nzlink" -v l="$loop" 'BEGIN { if (l == "-") print "-"; else printf "%.2f", (n > l ? n : l) }')
d=$(median "${WALL[direct]:-}")

echo
echo "slow-san-thick: full reads (qemu-img convert -O raw) of a thick LUN (LBPME=0), its last" \
  "$((SIZE >> 20)) MiB (of $((IMG_SIZE >> 20)) MiB), median of n runs"
gran="(the proxy's granule is page_size / 16)"
((pbytes == 0)) || gran="(the proxy's granule: its $((pbytes >> 10)) KiB page / 16)"
echo "  window: allocated $(awk -v a="$ALLOC_W" 'BEGIN { printf "%.1f", a / 1048576 }') MiB;" \
  "non-zero $(awk -v a="$NONZERO_W" 'BEGIN { printf "%.1f", a / 1048576 }') MiB in 4 KiB blocks" \
  "$gran; non-zero/link = ${nzlink} s at ${MBIT} Mbit/s"
((ISP_DIRECT)) ||
  echo "  proxy: coherence exclusive, page_size $PAGE_SIZE, zeros from '${zfrom}' (/stats)"
echo "  limit = max(non-zero/link ${nzlink}, loopback ${loop}) = ${limit} s"
echo "  tgtd MB: bytes the serving tgtd read (/proc/PID/io rchar); learned MB: READ data that taught the proxy zeros"
echo "  x limit: wall / limit; x nz/link: wall / (non-zero/link); x loop: wall / loopback; vs direct: direct wall / wall"
fmt='%-9s %2s %7s %8s %8s %10s %8s %9s %7s %9s\n'
# shellcheck disable=SC2059  # the format is ours
printf "$fmt" case n "wall s" "link MB" "tgtd MB" "learned MB" "x limit" "x nz/link" "x loop" "vs direct"
for k in "${CASES[@]}"; do
  w=$(median "${WALL[$k]}") lb=$(median "${LINKB[$k]}") tr=$(median "${TGTR[$k]}")
  z=$(median "${LRN[$k]}") n=$(count "${WALL[$k]}")
  [[ $k == loopback ]] && lb=-
  awk -v fmt="$fmt" -v c="$k" -v n="$n" -v w="$w" -v lb="$lb" -v tr="$tr" -v z="$z" \
    -v lim="$limit" -v nl="$nzlink" -v lo="$loop" -v d="$d" 'BEGIN {
      lbs = (lb == "-") ? "-" : sprintf("%.1f", lb / 1e6)
      trs = (tr == "-") ? "-" : sprintf("%.1f", tr / 1e6)
      zs = (z == "-") ? "-" : sprintf("%.1f", z / 1e6)
      rl = (w == "-" || lim == "-" || lim == 0) ? "-" : sprintf("%.2f", w / lim)
      rn = (w == "-" || nl == 0) ? "-" : sprintf("%.2f", w / nl)
      ro = (w == "-" || lo == "-" || lo == 0) ? "-" : sprintf("%.2f", w / lo)
      sp = (w == "-" || d == "-" || w == 0) ? "-" : sprintf("%.2fx", d / w)
      printf fmt, c, n, w, lbs, trs, zs, rl, rn, ro, sp }'
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", a / b }'; }
aim() { # aim TEXT VALUE BOUND: VALUE <= BOUND?
  awk -v t="$1" -v v="$2" -v b="$3" 'BEGIN {
    if (v == "-" || b == "-") { printf "  aim %-48s -\n", t; exit }
    printf "  aim %-48s %6.2f  %s\n", t, v, (v <= b + 0 ? "met" : "NOT met") }'
}
if ((!ISP_DIRECT)); then
  w=$(median "${WALL[warm]:-}")
  echo
  aim "thick warm read / limit <= 1.25" "$(ratio "$w" "$limit")" 1.25
  aim "thick warm read / (non-zero/link) <= 1.25" "$(ratio "$w" "$nzlink")" 1.25
  aim "thick warm read / loopback <= 1.25" "$(ratio "$w" "$loop")" 1.25
  ((pbytes == 0 || pbytes / 16 == GRANULE)) ||
    note "the proxy's granule is $((pbytes / 16)) bytes, not the $GRANULE the non-zero count uses"
fi
echo
note "repetitions: ${REPS_DONE}; took $((SECONDS - T0)) s"
if ((errors)); then
  isp_fail "$errors cases failed (a copy differed, or a run could not complete)"
fi
