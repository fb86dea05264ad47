#!/usr/bin/env bash
# cache_memory_limit (issue 9, bounded memory): the caches of all LUNs together
# stay within the budget, by maps that learn no more (pages left UNKNOWN) and
# forget detail when the budget is lowered, and every READ stays correct.
#
# The LUN: 20 GiB, thin, one 4 KiB extent of data (a byte of its own) in the
# middle of each of its 80 stretches of 256 MiB, read through a proxy with
# page_size = 4K and coherence = exclusive. One GET LBA STATUS answer describes
# all of it (161 descriptors), and in full detail each stretch is one map chunk
# of 2^16 pages at 2 bits a page (16 KiB), so the detailed map is about 1.3 MiB:
# more than a 1M limit, whatever the objects' fixed part.
#
#   1. cache_memory_limit = 1M: the whole LUN is read (qemu-io, every byte
#      checked: zeros in holes, each extent's byte); /stats cache_memory_total_bytes
#      stays <= 1 MiB (no slack: a map never grows past its share), the map has
#      pages left UNKNOWN, and /metrics says the same as /stats;
#   2. a reload to 64M: a READ at the start of each stretch fills the map in
#      detail, past 1 MiB (the layout does need more than the limit: the check
#      in 1 means something);
#   3. a reload back to 1M while a session uses the LUN: the map forgets detail
#      at once (total <= 1 MiB right after the reload, before any READ; an
#      object no session used would simply be freed, least recently used
#      first), and another full read is still right and still within.
#
# What makes it fail: a limit ignored (total > 1 MiB in 1 or 3), a reload that
# does not apply it, a wrong byte anywhere (zeros served for data, or data where
# the file has a hole) while maps degrade, /metrics and /stats disagreeing.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if ((ISP_DIRECT)); then
  echo "## direct mode: no proxy, no cache memory; nothing to check"
  exit 0
fi
isp_require_root
command -v python3 >/dev/null || isp_fail "python3 not found"
command -v curl >/dev/null || isp_fail "curl not found"

M=$((1 << 20)) STRETCH=$((256 << 20)) N=80 EXT=4096
S=$((N * STRETCH)) LIMIT=$M
byte_of() { printf '0x%02x' $(($1 % 250 + 1)); }

isp_start_tgtd
ISP_IMG=$ISP_WORK/lun.img
python3 - "$ISP_IMG" "$S" "$N" "$STRETCH" "$EXT" <<'PY' || isp_fail "cannot build $ISP_IMG"
import os, sys
path, size, n, stretch, ext = sys.argv[1], *map(int, sys.argv[2:])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, size)
for k in range(n):
    os.pwrite(fd, bytes([k % 250 + 1]) * ext, k * stretch + stretch // 2)
os.fsync(fd)
os.close(fd)
PY
isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_IMG"

isp_pick_port port
isp_pick_port stats
PROXY_CONF=$ISP_WORK/proxy.conf PROXY_LOG=$ISP_WORK/proxy.log
ISP_PROXY_KEYS="cache_memory_limit = 1M" \
  isp_write_proxy_conf "$PROXY_CONF" "$port" "127.0.0.1:$stats" "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"
printf 'coherence = exclusive\npage_size = 4K\n' >>"$PROXY_CONF"
isp_run_proxy_conf "$port" "$stats"
URL=iscsi://127.0.0.1:$port/$ISP_PROXY_IQN_DEFAULT/$ISP_LUN
isp_probe_lun "$URL" "$STATS_PORT" zero-serving

# full_read: every byte of the LUN through the proxy, in one qemu-io session:
# the hole before each extent, the extent (its byte), the hole after it.
full_read() {
  local k off mid out
  local -a args=()
  for ((k = 0; k < N; k++)); do
    off=$((k * STRETCH)) mid=$((k * STRETCH + STRETCH / 2))
    args+=(-c "read -P 0 $off $((mid - off))" -c "read -P $(byte_of "$k") $mid $EXT"
           -c "read -P 0 $((mid + EXT)) $((off + STRETCH - mid - EXT))")
  done
  out=$(isp_timeout 300 qemu-io -f raw "${args[@]}" "$URL" 2>&1) ||
    { printf '%s\n' "$out" >&2; isp_fail "$1: qemu-io failed"; }
  ! grep -qiE 'failed|error|mismatch' <<<"$out" ||
    { printf '%s\n' "$out" >&2; isp_fail "$1: a READ through the proxy differs from the file"; }
}

# memory LABEL: "total limit map_bytes unknown_pages" from /stats, checked against
# /metrics.
memory() {
  local json metrics
  json=$(isp_stats_get "$STATS_PORT" stats)
  metrics=$(isp_stats_get "$STATS_PORT" metrics)
  python3 -c '
import json, re, sys
d = json.loads(sys.argv[1])
m = dict(re.findall(r"^iscsi_sparse_proxy_(cache_memory_(?:total|limit)_bytes) (\d+)$", sys.argv[2], re.M))
for k in ("cache_memory_total_bytes", "cache_memory_limit_bytes"):
    if int(m.get(k, -1)) != d[k]:
        sys.exit("%s: /metrics %s, /stats %s" % (k, m.get(k), d[k]))
l = [l for l in d["luns"] if l["lun"] == int(sys.argv[3]) and "cache" in l]
if not l:
    sys.exit("no cache object with a map in /stats: freed as unused over the limit, "
             "so its map was not bounded while in use")
l = l[0]
print(d["cache_memory_total_bytes"], d["cache_memory_limit_bytes"], l["cache"]["memory_bytes"],
      l["cache"]["pages_unknown"])' "$json" "$metrics" "$ISP_LUN" ||
    isp_fail "$1: cache memory not readable from /stats and /metrics as expected"
}

within() {
  local label=$1 total limit map unknown line
  line=$(memory "$label") || exit 1
  read -r total limit map unknown <<<"$line"
  echo "## $label: cache memory $total bytes of $limit (map $map), $unknown pages unknown"
  ((limit == LIMIT)) || isp_fail "$label: cache_memory_limit_bytes $limit, configured $LIMIT"
  ((total <= LIMIT)) || isp_fail "$label: cache memory $total bytes > cache_memory_limit $LIMIT"
  ((unknown > 0)) || isp_fail "$label: no page left UNKNOWN: the map did not degrade"
}

t0=$SECONDS
full_read "1M"
echo "## full read of $((S >> 30)) GiB in $((SECONDS - t0)) s"
within "limit 1M, after a full read"
isp_stats_get "$STATS_PORT" stats | python3 -c '
import json, sys
sys.exit(0 if json.load(sys.stdin)["luns"][0]["counters"]["read_bytes_total_zero"] > 0 else 1)' ||
  isp_fail "no READ bytes served as zeros with a 1M limit: the cache is off, not bounded"

sed -i "s/^cache_memory_limit = 1M$/cache_memory_limit = 64M/" "$PROXY_CONF"
isp_reload "reload:"
LIMIT=$((64 * M))
args=()
for ((k = 0; k < N; k++)); do args+=("read -P 0 $((k * STRETCH)) $EXT"); done
isp_qio "$URL" "${args[@]}" || isp_fail "limit 64M: a READ through the proxy differs from the file"
line=$(memory "limit 64M") || exit 1
read -r total limit map unknown <<<"$line"
echo "## limit 64M, after a READ per stretch: cache memory $total bytes (map $map), $unknown pages unknown"
((limit == LIMIT)) || isp_fail "a reload to 64M: cache_memory_limit_bytes $limit"
((total > M)) || isp_fail "the detailed map takes $total bytes, not more than 1M: the test proves nothing"
((unknown == 0)) || isp_fail "limit 64M: $unknown pages still unknown after a full read"

# A session that uses the LUN across the reload (qemu-io sleeps after one READ).
qemu-io -f raw -c "read -P 0 0 $EXT" -c "sleep 20000" "$URL" >"$ISP_WORK/holder.log" 2>&1 &
holder=$!
isp_on_exit "kill $holder 2>/dev/null || true"
for ((i = 0; i < 100; i++)); do
  users=$(isp_stats_get "$STATS_PORT" stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["luns"][0]["users"])')
  ((users > 0)) && break
  sleep 0.1
done
((users > 0)) || isp_fail "the holding session does not use the LUN after 10 s"
sed -i "s/^cache_memory_limit = 64M$/cache_memory_limit = 1M/" "$PROXY_CONF"
isp_reload "reload:"
LIMIT=$M
within "a reload back to 1M while in use, no READ since"
full_read "1M again"
within "limit 1M again, after a full read"
kill "$holder" 2>/dev/null || true
isp_reap "$holder" >/dev/null
isp_proxy_alive "at the end"
