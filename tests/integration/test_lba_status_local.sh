#!/usr/bin/env bash
# Initiators' GET LBA STATUS answered by the proxy from its map (issue 11):
# `qemu-img map` (one descriptor per command) through an exclusive proxy gives
# the same map as directly, cold and warm; `qemu-img convert` through it is
# byte-identical to the backing file, cold and warm. The proxy's counters say
# it answered the commands itself, and tgtd's own read syscalls
# (/proc/TGT_PID/io, an independent measurement) show the warm map saved the
# SAN about one read per GET LBA STATUS against a map taken directly. A
# verify proxy answers mapped extents itself and asks the SAN afresh about
# each hole, so a WRITE behind its back is never hidden.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_setup_cache exclusive
qi() { isp_timeout 300 qemu-img "$@"; }
syscr() { awk '$1 == "syscr:" { print $2 }' "/proc/$TGT_PID/io"; }

r0=$(syscr)
md=$(qi map --output=json -f raw "$URL_DIRECT") || isp_fail "qemu-img map direct failed"
direct_syscr=$(($(syscr) - r0))
grep -q '"data": false' <<<"$md" || isp_fail "the direct map shows no hole: not a thin LUN"
n_ext=$(grep -c '"start"' <<<"$md")

for pass in cold warm; do
  r0=$(syscr)
  mp=$(qi map --output=json -f raw "$URL_PROXY") || isp_fail "qemu-img map ($pass) through the proxy failed"
  proxy_syscr=$(($(syscr) - r0))
  if [[ "$md" != "$mp" ]]; then
    diff <(printf '%s\n' "$md") <(printf '%s\n' "$mp") | head -20 || true
    isp_fail "qemu-img map ($pass) differs through the proxy (< direct, > proxy)"
  fi
  echo "## map $pass: identical ($n_ext extents); tgtd read syscalls: direct $direct_syscr, through the proxy $proxy_syscr"
done
((ISP_DIRECT)) && exit 0

local_n=$(isp_stat "$STATS_PORT" initiator_lba_status_total_local)
fwd_n=$(isp_stat "$STATS_PORT" initiator_lba_status_total_forwarded)
queries=$(isp_stat "$STATS_PORT" lba_status_queries_total)
echo "## initiators' GET LBA STATUS: $local_n answered by the proxy, $fwd_n forwarded; the proxy's own queries: $queries"
((local_n >= n_ext)) || isp_fail "only $local_n GET LBA STATUS answered by the proxy for $n_ext extents twice"
((queries < local_n)) || isp_fail "the proxy sent $queries queries for $local_n answers: not answered from the map"
# Every GET LBA STATUS that reaches tgtd costs it at least one read syscall;
# both maps also log in and ask a few other commands. So the warm map through
# the proxy must save tgtd about one read per extent.
((direct_syscr - proxy_syscr >= n_ext / 2)) ||
  isp_fail "warm map through the proxy cost tgtd $proxy_syscr read syscalls, direct $direct_syscr, for $n_ext GET LBA STATUS"

for pass in cold warm; do
  rm -f "$ISP_WORK/convert.raw"
  qi convert -f raw -O raw "$URL_PROXY" "$ISP_WORK/convert.raw" ||
    isp_fail "qemu-img convert ($pass) through the proxy failed"
  cmp "$ISP_WORK/convert.raw" "$ISP_IMG" ||
    isp_fail "qemu-img convert ($pass) through the proxy differs from the backing file"
done
echo "## qemu-img convert through the proxy: identical to the backing file twice"
isp_proxy_alive "after the maps and copies"

# verify mode answers mapped runs from its map and asks the SAN (a query of
# its own, sent after the command came) about everything else: its map equals
# the direct one, and a WRITE behind the proxy's back (straight to tgtd, into
# a hole) shows in it at once.
isp_start_proxy_cache verify
mv=$(qi map --output=json -f raw "$URL_PROXY") || isp_fail "qemu-img map through the verify proxy failed"
[[ "$md" == "$mv" ]] || isp_fail "qemu-img map through the verify proxy differs from the direct one"
isp_qio "$URL_DIRECT" "write -P 0x77 $((224 << 20)) 65536" || isp_fail "the write straight to tgtd failed"
md=$(qi map --output=json -f raw "$URL_DIRECT") || isp_fail "qemu-img map direct failed"
q0=$(isp_stat "$STATS_PORT" lba_status_queries_total)
l0=$(isp_stat "$STATS_PORT" initiator_lba_status_total_local)
mv=$(qi map --output=json -f raw "$URL_PROXY") || isp_fail "qemu-img map through the verify proxy failed"
[[ "$md" == "$mv" ]] || isp_fail "a WRITE behind the verify proxy's back is hidden from its map"
dq=$(($(isp_stat "$STATS_PORT" lba_status_queries_total) - q0))
dl=$(($(isp_stat "$STATS_PORT" initiator_lba_status_total_local) - l0))
n_ext=$(grep -c '"start"' <<<"$md")
echo "## verify: a WRITE behind the proxy's back shows in its map; $n_ext extents, $dl GET LBA STATUS answered by the proxy, $dq queries of its own"
((dl >= n_ext)) || isp_fail "the verify proxy answered $dl of $n_ext GET LBA STATUS itself"
# every hole needs a fresh query, the mapped extents need none
((dq > 0 && dq <= n_ext / 2 + 1)) ||
  isp_fail "the verify proxy sent $dq queries for $n_ext extents (a fresh one per hole expected)"
rm -f "$ISP_WORK/convert.raw"
qi convert -f raw -O raw "$URL_PROXY" "$ISP_WORK/convert.raw" ||
  isp_fail "qemu-img convert through the verify proxy failed"
cmp "$ISP_WORK/convert.raw" "$ISP_IMG" ||
  isp_fail "qemu-img convert through the verify proxy differs from the backing file"
echo "## verify: qemu-img convert identical to the backing file"
