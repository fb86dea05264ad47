#!/usr/bin/env bash
# The stats endpoint (issue 4): /metrics is valid Prometheus text (promtool check
# metrics), /stats is JSON, and after a known workload -- a full read (qemu-img dd)
# in exclusive mode of a LUN whose layout is known from its backing file -- every
# per-LUN counter and cache gauge has its exact expected value, in /stats and the
# same value in /metrics:
#   read_bytes_total_zero     = bytes of the 64 KiB pages wholly inside holes
#   read_bytes_total_backend  = the rest of the LUN + the probe READs' bytes
#   read_commands_total_*     = zero-only + split + passthrough = the READs sent
#   lba_status_queries_total  = 1 (one query, many descriptors, fills the map)
#   lba_status_descriptors_total = the data/hole runs of the file from LBA 0
#   cache pages: unknown 0, unallocated = hole pages, allocated = the others
#   no mutations, invalidations, errors, dropped answers, fallbacks
# What makes it fail: an endpoint that does not answer, text promtool rejects,
# JSON that does not parse, any counter off by one byte or command, /metrics and
# /stats disagreeing, a cache that asks more than one GET LBA STATUS for a LUN
# with fewer extents than one answer holds, or pages left unknown after a full read.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if ((ISP_DIRECT)); then
  echo "## direct mode: no proxy, no stats endpoint; nothing to check"
  exit 0
fi
command -v promtool >/dev/null || isp_fail "promtool not found (Debian package prometheus)"
isp_require_root
command -v python3 >/dev/null || isp_fail "python3 not found"
isp_start_tgtd
ISP_IMG=$ISP_WORK/lun1.img
isp_make_layout_image "$ISP_IMG" "$ISP_IMG_SIZE"
isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_IMG"
isp_start_proxy_cache exclusive

S=$ISP_IMG_SIZE PAGE=$((64 << 10)) BS=512 MIB=$((1 << 20))
read -r HOLE_PAGES PARTIAL_PAGES HOLE <<<"$(isp_page_census "$ISP_IMG" "$PAGE" $((PAGE / 16)))"
# Data and hole runs of the file from offset 0 (tgt answers GET LBA STATUS with
# one descriptor per run, from lseek SEEK_DATA/SEEK_HOLE).
RUNS=$(python3 - "$ISP_IMG" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size, off, runs = os.fstat(fd).st_size, 0, 0
while off < size:
    try:
        d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        d = size
    if d > off:
        runs += 1                   # a hole run [off, d)
    if d >= size:
        break
    off = os.lseek(fd, d, os.SEEK_HOLE)
    runs += 1                       # a data run [d, off)
print(runs)
PY
)

# Before any initiator: both endpoints answer, no LUN yet.
isp_stats_get "$STATS_PORT" metrics "$ISP_WORK/m0.txt"
promtool check metrics <"$ISP_WORK/m0.txt" >"$ISP_WORK/promtool0.log" 2>&1 ||
  { cat "$ISP_WORK/promtool0.log" >&2; isp_fail "promtool check metrics rejects /metrics before any login"; }
isp_stats_get "$STATS_PORT" stats "$ISP_WORK/s0.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d.get("luns"), list), "no luns list"' \
  "$ISP_WORK/s0.json" || isp_fail "/stats before any login is not JSON with a \"luns\" list"

# The workload: probe (sessions that open the LUN, no READ), full read.
isp_probe_lun "$URL_PROXY" "$STATS_PORT" zero-serving
PROBES=$(isp_stat "$STATS_PORT" read_commands_total_passthrough)
isp_read_all "$URL_PROXY" "$ISP_WORK/full.raw"
cmp "$ISP_WORK/full.raw" "$ISP_IMG" || isp_fail "the full read through the proxy differs from the backing file"
rm -f "$ISP_WORK/full.raw"

isp_stats_get "$STATS_PORT" metrics "$ISP_WORK/m1.txt"
promtool check metrics <"$ISP_WORK/m1.txt" >"$ISP_WORK/promtool1.log" 2>&1 ||
  { cat "$ISP_WORK/promtool1.log" >&2; isp_fail "promtool check metrics rejects /metrics after the workload"; }
isp_stats_get "$STATS_PORT" stats "$ISP_WORK/s1.json"

# Expected values, "key value" per line; the READ commands: the full read sends
# S/1MiB READs of 1 MiB, each answered zero-only, split or passed through whole.
cat >"$ISP_WORK/expected" <<EOF
read_bytes_total_zero $HOLE
read_bytes_total_backend $((S - HOLE + PROBES * BS))
read_commands_total_fallback 0
reads_total $((S / MIB + PROBES))
lba_status_queries_total 1
lba_status_joins_total 0
lba_status_descriptors_total $RUNS
lba_status_errors_total 0
lba_status_race_dropped_total 0
mutations_total 0
cache_invalidations_total 0
block_size $BS
blocks $((S / BS))
page_blocks $((PAGE / BS))
pages_unknown 0
pages_unallocated $HOLE_PAGES
pages_partial $PARTIAL_PAGES
pages_allocated $((S / PAGE - HOLE_PAGES - PARTIAL_PAGES))
EOF

python3 - "$ISP_WORK/s1.json" "$ISP_WORK/m1.txt" "$ISP_WORK/expected" "$ISP_LUN" \
  "$ISP_PROXY_IQN_DEFAULT" <<'PY' || isp_fail "counters differ from the expected values (above)"
import json, re, sys
sj, mt, ex, lun, target = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
bad = []
try:
    d = json.load(open(sj))
except ValueError as e:
    sys.exit("/stats is not JSON: %s" % e)
luns = [l for l in d.get("luns", []) if l.get("lun") == lun and l.get("target") == target]
if len(luns) != 1:
    sys.exit("/stats: %d entries for %s LUN %d" % (len(luns), target, lun))
l = luns[0]
for k, want in (("state", "zero-serving"), ("coherence", "exclusive")):
    if l.get(k) != want:
        bad.append("/stats %s = %r, expected %r" % (k, l.get(k), want))
c, cache = l["counters"], l["cache"]
c["reads_total"] = sum(c["read_commands_total_" + p] for p in ("zero", "split", "passthrough"))
got = dict(c)
got.update(cache)
for line in open(ex):
    k, v = line.split()
    if k not in got:
        bad.append("/stats has no %s" % k)
    elif got[k] != int(v):
        bad.append("/stats %s = %s, expected %s (difference %d)" % (k, got[k], v, got[k] - int(v)))
if c["read_commands_total_zero"] <= 0:
    bad.append("/stats read_commands_total_zero = 0: no READ answered wholly from zeros")

# /metrics: the same numbers under the Prometheus names.
samples = {}
for line in open(mt):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line.strip())
    if not m:
        bad.append("/metrics: unparsable line %r" % line)
        continue
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    if labels.get("target") != target or labels.get("lun") != str(lun):
        continue
    key = (m.group(1), tuple(sorted((k, v) for k, v in labels.items() if k not in ("target", "lun", "lu"))))
    samples[key] = float(m.group(4))
P = "iscsi_sparse_proxy_"
pairs = [
    ((P + "read_bytes_total", (("source", "zero"),)), c["read_bytes_total_zero"]),
    ((P + "read_bytes_total", (("source", "backend"),)), c["read_bytes_total_backend"]),
    ((P + "lba_status_queries_total", ()), c["lba_status_queries_total"]),
    ((P + "lba_status_descriptors_total", ()), c["lba_status_descriptors_total"]),
    ((P + "mutations_total", ()), c["mutations_total"]),
    ((P + "cache_invalidations_total", ()), c["cache_invalidations_total"]),
    ((P + "cache_pages", (("state", "unknown"),)), cache["pages_unknown"]),
    ((P + "cache_pages", (("state", "allocated"),)), cache["pages_allocated"]),
    ((P + "cache_pages", (("state", "unallocated"),)), cache["pages_unallocated"]),
    ((P + "cache_pages", (("state", "partial"),)), cache["pages_partial"]),
    ((P + "cache_memory_bytes", ()), cache["memory_bytes"]),
    ((P + "zero_serving", ()), 1),
]
for path in ("zero", "split", "passthrough", "fallback"):
    pairs.append(((P + "read_commands_total", (("path", path),)), c["read_commands_total_" + path]))
for key, want in pairs:
    if key not in samples:
        bad.append("/metrics has no %s%s for %s LUN %d" % (key[0], dict(key[1]), target, lun))
    elif samples[key] != want:
        bad.append("/metrics %s%s = %s, /stats says %s" % (key[0], dict(key[1]), samples[key], want))
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "## /metrics passes promtool, /stats is JSON; after a full exclusive read: zero $HOLE B," \
  "backend $((S - HOLE + PROBES * BS)) B ($PROBES probe READs), 1 GET LBA STATUS with $RUNS descriptors," \
  "pages unallocated $HOLE_PAGES partial $PARTIAL_PAGES" \
  "allocated $((S / PAGE - HOLE_PAGES - PARTIAL_PAGES)) unknown 0; /metrics agrees"
isp_proxy_alive "after the stats checks"
