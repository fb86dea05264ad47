#!/usr/bin/env bash
# make bench: proxy vs direct throughput. A private tgtd on loopback serves a
# 1 GiB LUN filled with random data (written once from /dev/urandom, so nothing
# is sparse); iscsi-perf runs sequential 1 MiB reads and random 4 KiB reads, 32
# requests in flight, and random 4 KiB reads one at a time, directly against
# tgtd, through the proxy, and through a second proxy that does not poll
# (poll_us = 0), alternating, BENCH_REPS times each (median reported). The
# backing file sits in the page cache, so this measures protocol and proxy
# overhead, not a disk. "added us" is what the proxy adds to a command's
# round trip: queue depth x (1 / proxy IOPS - 1 / direct IOPS).
# Never fails on figures; fails only if a run itself fails.
#   BENCH_SECONDS (5) per run, BENCH_REPS (3), PROXY_BIN "direct" = tgtd only
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 PROXY_BIN|direct" >&2
  exit 2
fi
PROXY_BIN=$1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
command -v iscsi-perf >/dev/null || isp_fail "iscsi-perf not found (libiscsi-bin)"

SECS=${BENCH_SECONDS:-5}
REPS=${BENCH_REPS:-3}
SIZE_MB=1024

isp_require_root
isp_start_tgtd
IMG=$ISP_WORK/bench.img
echo "bench: writing a ${SIZE_MB} MiB LUN image from /dev/urandom ..."
dd if=/dev/urandom of="$IMG" bs=1M count="$SIZE_MB" status=none
isp_tgt_add_target 1 "$BACKEND_IQN" "$IMG"
isp_start_proxy
if ((ISP_DIRECT)); then PROXY_IQN=$BACKEND_IQN; else PROXY_IQN=$ISP_PROXY_IQN_DEFAULT; fi
URL_DIRECT=iscsi://127.0.0.1:$TGT_PORT/$BACKEND_IQN/$ISP_LUN
URL_PROXY=iscsi://127.0.0.1:$PROXY_PORT/$PROXY_IQN/$ISP_LUN
if ((!ISP_DIRECT)); then
  ISP_PROXY_KEYS="poll_us = 0" isp_start_proxy
  URL_NOPOLL=iscsi://127.0.0.1:$PROXY_PORT/$PROXY_IQN/$ISP_LUN
fi

bs=$(iscsi-readcapacity16 -i "$ISP_INITIATOR" "$URL_DIRECT" | sed -n 's/^LOGICAL BLOCK LENGTH IN BYTES://p')
[[ "$bs" =~ ^[0-9]+$ ]] || isp_fail "cannot read the LUN's block size"

# workload name, request size in bytes, requests in flight, extra iscsi-perf options
WORKLOADS=("seq read 1 MiB qd32|1048576|32|" "rand read 4 KiB qd32|4096|32|-r"
  "rand read 4 KiB qd1|4096|1|-r")
SIDES=(direct)
((ISP_DIRECT)) || SIDES+=(proxy nopoll)
errors=0
declare -A IOPS=()

perf_once() { # perf_once URL BYTES QD EXTRA: prints the average IOPS, or nothing
  local url=$1 bytes=$2 qd=$3 extra=$4 out
  # shellcheck disable=SC2086  # $extra is an option list
  out=$(isp_timeout $((SECS + 60)) iscsi-perf -i "$ISP_INITIATOR" -t "$SECS" -m "$qd" \
    -b $((bytes / bs)) $extra "$url" </dev/null 2>&1 | tr '\r' '\n') || {
    printf '%s\n' "$out" | tail -n 5 >&2
    return 1
  }
  sed -n 's/^iops average \([0-9]*\) .*/\1/p' <<<"$out" | tail -n 1
}

echo "bench: iscsi-perf ${SECS}s per run, $REPS runs per workload and side, block size $bs"
for w in "${WORKLOADS[@]}"; do
  IFS='|' read -r name bytes qd extra <<<"$w"
  for ((r = 1; r <= REPS; r++)); do
    for side in "${SIDES[@]}"; do
      case $side in
        direct) url=$URL_DIRECT ;;
        proxy) url=$URL_PROXY ;;
        nopoll) url=$URL_NOPOLL ;;
      esac
      if v=$(perf_once "$url" "$bytes" "$qd" "$extra") && [[ "$v" =~ ^[0-9]+$ ]]; then
        IOPS[$name|$side]+="$v "
        printf '  %-22s %-6s run %d: %8d IOPS\n' "$name" "$side" "$r" "$v"
      else
        echo "  $name $side run $r: iscsi-perf FAILED" >&2
        errors=$((errors + 1))
      fi
    done
  done
done
isp_proxy_alive "during the benchmark"

median() { tr ' ' '\n' <<<"$1" | grep -E '^[0-9]+$' | sort -n |
  awk '{a[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo
echo "bench: median of $REPS, ${SIZE_MB} MiB LUN on tgtd via 127.0.0.1 (MiB/s = IOPS x request size)"
echo "  proxy: poll_us = 50 (the default); nopoll: poll_us = 0"
printf '%-22s %-7s %10s %10s %8s %9s\n' workload side "MiB/s" IOPS "x direct" "added us"
for w in "${WORKLOADS[@]}"; do
  IFS='|' read -r name bytes qd _ <<<"$w"
  d=$(median "${IOPS[$name|direct]:-}")
  for side in "${SIDES[@]}"; do
    p=$(median "${IOPS[$name|$side]:-}")
    awk -v n="$name" -v s="$side" -v b="$bytes" -v q="$qd" -v d="$d" -v p="$p" 'BEGIN {
      mib = (p == "") ? "-" : sprintf("%.1f", p * b / 1048576)
      ratio = (d == "" || p == "" || d == 0) ? "-" : sprintf("%.2f", p / d)
      added = "-"
      if (d != "" && p != "" && d > 0 && p > 0 && s != "direct")
        added = sprintf("%.1f", q * (1 / p - 1 / d) * 1e6)
      printf "%-22s %-7s %10s %10s %8s %9s\n", n, s, mib, (p == "" ? "-" : p), ratio, added
    }'
  done
done
if ((errors)); then
  isp_fail "$errors iscsi-perf runs failed (the figures above are incomplete)"
fi

# Part 2: the slow-SAN benchmark (tgtd behind a veth pair shaped to 1 Gbit/s,
# an aged 4 GiB thin LUN; see slow_san.sh). SLOW_SAN=0 skips it.
if [[ "${SLOW_SAN:-1}" != 0 ]]; then
  "$(dirname "$0")/slow_san.sh" "$PROXY_BIN"
fi

# Part 3: copy tools over the same slow SAN (qemu-img convert and map through
# every coherence mode, cold and warm; see slow_san_copy.sh). SLOW_SAN_COPY=0
# skips it.
if [[ "${SLOW_SAN_COPY:-1}" != 0 ]]; then
  "$(dirname "$0")/slow_san_copy.sh" "$PROXY_BIN"
fi

# Part 4: a thick LUN (thin_provisioning=0, LBPME=0) with the same filesystem
# read twice over the same slow SAN, directly and through an exclusive proxy
# that learns zeros from data (see slow_san_thick.sh). SLOW_SAN_THICK=0 skips it.
if [[ "${SLOW_SAN_THICK:-1}" != 0 ]]; then
  "$(dirname "$0")/slow_san_thick.sh" "$PROXY_BIN"
fi

# Part 5: what learning zeros from READ data costs the proxy's CPU (the zero
# scan over data in cache and in memory, next to memcmp and memcpy; see
# zero_scan.c). `make bench` builds it; ZERO_SCAN=0 skips it.
if [[ "${ZERO_SCAN:-1}" != 0 ]]; then
  zero_scan=$(dirname "$0")/../../build/zero_scan_bench
  [[ -x "$zero_scan" ]] || isp_fail "$zero_scan not built (make build/zero_scan_bench)"
  "$zero_scan"
fi
