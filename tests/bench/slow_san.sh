#!/usr/bin/env bash
# make bench, part 2: the slow-SAN benchmark (issue 4).
#
# A tgtd in a network namespace of its own serves a 4 GiB thin LUN over a veth
# pair shaped to 1 Gbit/s each way (tc tbf; the kernel here has no netem, so no
# delay is added: the round trip is the veth's, some 10-50 us). The LUN holds an
# aged ext4 filesystem, about 10 % of its blocks allocated in thousands of
# extents (tests/bench/aged_fs.py plans it, debugfs writes it, e2image -ra
# copies only its used blocks into a sparse file; cached in build/bench-cache;
# the image and the SAN are set up by slow_san_lib.sh, shared with
# slow_san_copy.sh).
#
# One run reads the whole LUN sequentially in 1 MiB requests, queue depth 32
# and 1, with QEMU's initiator (qemu-img bench: it reads every block and, with
# tgt's zero unmap granularity, never asks GET LBA STATUS itself):
#   loopback   a second tgtd on 127.0.0.1 serving the same file (the limit's
#              "time the same initiator takes on loopback"; no link)
#   direct     host -> veth -> tgtd
#   proxy      host -> proxy (127.0.0.1) -> veth -> tgtd, coherence off,
#              verify and exclusive (page_size auto = 64 KiB with tgt), and
#              exclusive with 4 KiB pages; cold (a new proxy process) then
#              warm (a second read through the same process)
# and reports wall time, bytes that crossed the link (host veth rx+tx
# counters), GET LBA STATUS commands the proxy sent, the ratio to the physical
# limit of the issue and the speed-up over direct; then the proxy's memory
# (VmRSS, VmHWM, and its cache_memory_bytes from /metrics) after its reads.
# Counters come from the proxy's /metrics, read before and after each pass
# (without the endpoint, the shutdown log line gives cold+warm totals).
#   limit qd32 = max(allocated / link rate, loopback qd32 time)
#   limit qd1  = allocated / link rate + loopback qd1 time x unallocated share
# The link rate is the nominal one (1e9 bit/s); TCP over a 1500-byte MTU
# carries at most about 95 % of it as payload.
#
# It is a benchmark, not a test: it never fails on figures, only when something
# could not run (a read failed, the proxy died or did not stop cleanly).
# Time: about 10 minutes on 2 cores (measured 611 s), plus about a minute the
# first time to build the image (byte-for-byte reproducible: fixed seed, UUID,
# hash seed and timestamps). The link-bound cases (direct, coherence = off;
# ~36 s each) run once, the others SLOW_SAN_REPS times (median); no new
# repetition starts once SLOW_SAN_BUDGET seconds have passed (if the next
# would end after it). Every read is bounded (400 s).
#
#   tests/bench/slow_san.sh PROXY_BIN|direct
#   SLOW_SAN_REPS (3)           repetitions of the loopback and verify/exclusive cases
#   SLOW_SAN_LONG_REPS (1)      repetitions of direct and coherence = off (0: skip)
#   SLOW_SAN_MODES ("exclusive exclusive/4K verify off")  proxy cases; MODE/SIZE
#                               sets page_size (exclusive/4K: 4 KiB pages)
#   SLOW_SAN_BUDGET (720)       seconds after which no new repetition starts
#   SLOW_SAN_MBIT (1000)        link rate, Mbit/s
#   SLOW_SAN_PAGE_SIZE (auto)   the proxy's page_size
#   SLOW_SAN_CACHE (build/bench-cache)  where the image is kept
#   SLOW_SAN_COUNT (4096)       1 MiB requests per read: fewer only to try the
#                               script out quickly (the limits then mean nothing)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/slow_san_lib.sh
. "$HERE/slow_san_lib.sh"

REPS=${SLOW_SAN_REPS:-3}
LONG_REPS=${SLOW_SAN_LONG_REPS:-1}
BUDGET=${SLOW_SAN_BUDGET:-720}
REQ=$((1 << 20))
COUNT=${SLOW_SAN_COUNT:-$((IMG_SIZE / REQ))}
READ_TIMEOUT=400          # seconds per whole-LUN read (37 s expected at worst)
T0=$SECONDS

[[ "$REPS" =~ ^[1-9][0-9]*$ && "$LONG_REPS" =~ ^[0-9]+$ ]] || isp_fail "bad SLOW_SAN_REPS"

san_setup

# ---- readers ------------------------------------------------------------------------
# bench_read HOST PORT IQN QD: one sequential pass over the LUN; prints the
# wall seconds (login included).
bench_read() {
  local host=$1 port=$2 iqn=$3 qd=$4 t0 t1 out
  t0=$EPOCHREALTIME
  if ! out=$(isp_timeout "$READ_TIMEOUT" qemu-img bench -c "$COUNT" -d "$qd" -s "$REQ" -S "$REQ" \
    --image-opts "driver=iscsi,transport=tcp,portal=$host:$port,target=$iqn,lun=$ISP_LUN,initiator-name=$ISP_INITIATOR" \
    </dev/null 2>&1); then
    printf '%s\n' "$out" | tail -n 5 >&2
    return 1
  fi
  t1=$EPOCHREALTIME
  grep -q 'Run completed' <<<"$out" || { printf '%s\n' "$out" >&2; return 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}

# ---- bookkeeping --------------------------------------------------------------------
# Per case key "name|qd": lists of values, one per repetition.
declare -A WALL=() SANB=() GLS=() BEB=()
MEM=()            # lines: mode qd rss_kib hwm_kib cache_bytes
CASES=()          # keys in the order first seen
record() { # record KEY WALL SAN GLS BACKEND
  [[ -n "${WALL[$1]+x}" ]] || CASES+=("$1")
  WALL[$1]+="$2 " SANB[$1]+="$3 " GLS[$1]+="$4 " BEB[$1]+="$5 "
}

# run_plain NAME HOST PORT IQN QD LINK(0|1)
run_plain() {
  local name=$1 host=$2 port=$3 iqn=$4 qd=$5 link=$6 b0 b1 w
  b0=$(link_bytes)
  if w=$(bench_read "$host" "$port" "$iqn" "$qd"); then
    b1=$(link_bytes)
    ((link)) || b1=$b0
    record "$name|$qd" "$w" "$((b1 - b0))" - -
    note "$(printf '%-20s qd%-2s %7.2f s  link %6d MB' "$name" "$qd" "$w" $(((b1 - b0) / 1000000)))"
  else
    fail_case "$name qd$qd"
  fi
}

# run_proxy MODE[/PAGE] QD: a new proxy, a cold read, a warm read, its memory, stop.
run_proxy() {
  local label=$1 qd=$2 mode=${1%/*} page=$PAGE_SIZE phase b0 b1 m0 m1 w g be st
  local -a a0 a1
  [[ $label != */* ]] || page=${label#*/}
  start_proxy "$mode" "$page"
  for phase in cold warm; do
    b0=$(link_bytes) m0=$(proxy_metrics "$PX_STATS")
    if w=$(bench_read 127.0.0.1 "$PX_PORT" "$ISP_PROXY_IQN_DEFAULT" "$qd"); then
      b1=$(link_bytes) m1=$(proxy_metrics "$PX_STATS")
      g=- be=-
      if [[ -n "$m0" && -n "$m1" ]]; then
        read -r -a a0 <<<"$m0"
        read -r -a a1 <<<"$m1"
        g=$((a1[0] - a0[0])) be=$((a1[1] - a0[1]))
      fi
      record "proxy $label $phase|$qd" "$w" "$((b1 - b0))" "$g" "$be"
      note "$(printf '%-20s qd%-2s %7.2f s  link %6d MB  GLS %s' "$label $phase" "$qd" "$w" \
        $(((b1 - b0) / 1000000)) "$g")"
    else
      fail_case "proxy $label $phase qd$qd"
    fi
    isp_alive "$PX_PID" || { fail_case "proxy $label qd$qd died"; break; }
  done
  if isp_alive "$PX_PID"; then
    st=/proc/$PX_PID/status
    m1=$(proxy_metrics "$PX_STATS")
    MEM+=("$label $qd $rep $(awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {print r+0, h+0}' "$st") $(awk '{print $4}' <<<"$m1")")
  fi
  stop_proxy
  # Without /metrics, the shutdown line gives the totals of both reads.
  local line
  line=$(grep -o 'GET LBA STATUS [0-9]*' "$PX_LOG" | tail -n 1 || true)
  if [[ -n "$line" && -z "$m1" ]]; then
    note "  (no /metrics; shutdown log, cold+warm: ${line}, from the backend $(
      grep -o 'from the backend [0-9]*' "$PX_LOG" | tail -n 1 | awk '{print $NF}') bytes)"
  fi
}

# ---- the run ----------------------------------------------------------------------------
# exclusive/4K: the same with 4 KiB cache pages. tgt reports no unmap
# granularity, so page_size = auto means 64 KiB, and each allocated run then
# costs up to two partly allocated 64 KiB pages read whole from the SAN.
read -r -a MODES <<<"${SLOW_SAN_MODES:-exclusive exclusive/4K verify off}"
((ISP_DIRECT)) && MODES=()
note "reads: qemu-img bench, ${COUNT} x 1 MiB sequential, queue depth 32 and 1; link ${MBIT} Mbit/s"
short_secs=0      # time the short cases took in the last repetition
for ((rep = 1; rep <= REPS; rep++)); do
  if ((rep > 1 && SECONDS - T0 + short_secs > BUDGET)); then
    note "time budget (${BUDGET}s) reached after $((rep - 1)) repetitions of the short cases"
    break
  fi
  note "---- repetition $rep"
  short_secs=0
  for qd in 32 1; do
    t=$SECONDS
    run_plain loopback 127.0.0.1 "$LOOP_PORT" "$BACKEND_IQN" "$qd" 0
    short_secs=$((short_secs + SECONDS - t))
    if ((rep <= LONG_REPS)); then
      run_plain direct "$SAN_NS_ADDR" "$SAN_TGT_PORT" "$BACKEND_IQN" "$qd" 1
    fi
    for mode in "${MODES[@]}"; do
      [[ $mode == off ]] && ((rep > LONG_REPS)) && continue
      t=$SECONDS
      run_proxy "$mode" "$qd"
      [[ $mode == off ]] || short_secs=$((short_secs + SECONDS - t))
    done
  done
done
REPS_DONE=$((rep - 1))

# ---- the table --------------------------------------------------------------------------
loop32=$(median "${WALL[loopback|32]:-}") loop1=$(median "${WALL[loopback|1]:-}")
dir32=$(median "${WALL[direct|32]:-}") dir1=$(median "${WALL[direct|1]:-}")
read -r lim32 lim1 alink < <(awk -v a="$ALLOC" -v s="$IMG_SIZE" -v r="$LINK_BPS" \
  -v l32="$loop32" -v l1="$loop1" 'BEGIN {
    al = a / r
    m32 = (l32 == "-") ? "-" : sprintf("%.2f", (al > l32 ? al : l32))
    m1 = (l1 == "-") ? "-" : sprintf("%.2f", al + l1 * (1 - a / s))
    printf "%s %s %.2f\n", m32, m1, al }')

echo
echo "slow-san: whole-LUN sequential reads, 4 GiB, 1 MiB requests, median of n runs"
echo "  allocated $((ALLOC >> 20)) MiB in $RUNS runs; allocated/link = ${alink} s at ${MBIT} Mbit/s"
echo "  limit qd32 = max(${alink}, loopback ${loop32}) = ${lim32} s;" \
  "limit qd1 = ${alink} + loopback ${loop1} x $(awk -v a="$ALLOC" -v s="$IMG_SIZE" 'BEGIN {printf "%.3f", 1 - a / s}') = ${lim1} s"
printf '%-24s %4s %2s %8s %8s %10s %7s %12s %8s %9s\n' case qd n "wall s" "MiB/s" "link MB" GLS \
  "backend MiB" "x limit" "vs direct"
for qd in 32 1; do
  for k in "${CASES[@]}"; do
    [[ ${k#*|} == "$qd" ]] || continue
    name=${k%|*}
    w=$(median "${WALL[$k]}") sb=$(median "${SANB[$k]}") g=$(median "${GLS[$k]}") be=$(median "${BEB[$k]}")
    n=$(count "${WALL[$k]}")
    if [[ $qd == 32 ]]; then lim=$lim32 d=$dir32; else lim=$lim1 d=$dir1; fi
    [[ $name == loopback ]] && sb=-
    awk -v c="$name" -v q="$qd" -v n="$n" -v w="$w" -v sb="$sb" -v g="$g" -v be="$be" \
      -v lim="$lim" -v d="$d" -v size="$((COUNT * REQ))" 'BEGIN {
        mbs = (w == "-" || w == 0) ? "-" : sprintf("%.0f", size / 1048576 / w)
        sbs = (sb == "-") ? "-" : sprintf("%.0f", sb / 1e6)
        bes = (be == "-") ? "-" : sprintf("%.1f", be / 1048576)
        rl = (w == "-" || lim == "-" || lim == 0) ? "-" : sprintf("%.2f", w / lim)
        sp = (w == "-" || d == "-" || w == 0) ? "-" : sprintf("%.1fx", d / w)
        printf "%-24s %4s %2s %8s %8s %10s %7s %12s %8s %9s\n", c, q, n, w, mbs, sbs, g, bes, rl, sp }'
  done
done
if ((${#MEM[@]})); then
  echo
  echo "slow-san: proxy memory after its two reads (one process per mode and queue depth)"
  printf '%-13s %4s %4s %10s %10s %14s\n' mode qd rep "VmRSS KiB" "VmHWM KiB" "cache bytes"
  for m in "${MEM[@]}"; do
    read -r mode qd r rss hwm cache <<<"$m"
    printf '%-13s %4s %4s %10s %10s %14s\n' "$mode" "$qd" "$r" "$rss" "$hwm" "${cache:--}"
  done
fi
echo
note "repetitions: short cases ${REPS_DONE}, direct and off ${LONG_REPS}; took $((SECONDS - T0)) s"
if ((errors)); then
  isp_fail "$errors cases could not run (the figures above are incomplete)"
fi
