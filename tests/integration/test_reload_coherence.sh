#!/usr/bin/env bash
# A reload that changes a target's coherence (issue 5, on the cache of issue 4).
# The target counts as changed; its LUN object stays (same backend) but its
# cache starts over in the new mode:
#   - exclusive: the warm full read sends no GET LBA STATUS;
#   - reload to verify: /stats says verify, and a full read asks GET LBA STATUS
#     again (only ALLOCATED is trusted);
#   - reload back to exclusive: the cache starts over (the first full read
#     asks), the next asks nothing.
# Every full read is compared with the backing file byte for byte.
# What makes it fail: a LUN that keeps its old mode or its old map across the
# change (no query in verify, a query-free first read after going back to
# exclusive), a target not seen as changed, wrong data, or a use-after-free in
# moving the LUN to the new configuration (the sanitizer run).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## direct mode: nothing to reload"; exit 0; }

isp_start_layout_backend
isp_start_proxy_cache exclusive
isp_probe_lun "$URL_PROXY" "$STATS_PORT" zero-serving

# full_read LABEL: the whole LUN, compared with the file; Q = GET LBA STATUS it cost.
full_read() {
  local before
  before=$(isp_stat "$STATS_PORT" lba_status_queries_total)
  isp_read_all "$URL_PROXY" "$ISP_WORK/full.raw"
  cmp -s "$ISP_WORK/full.raw" "$ISP_IMG" || isp_fail "$1: the full read differs from the file"
  Q=$(($(isp_stat "$STATS_PORT" lba_status_queries_total) - before))
  echo "## $1: identical to the file, $Q GET LBA STATUS"
}
# coherence MODE: the target's coherence changed in the file, SIGHUP.
coherence() {
  sed -i "s/^coherence = .*/coherence = $1/" "$PROXY_CONF"
  isp_reload "reload: .*targets 0 unchanged, 1 changed, 0 added, 0 removed"
  [[ $(isp_stat "$STATS_PORT" coherence) == "$1" ]] ||
    isp_fail "/stats reports coherence $(isp_stat "$STATS_PORT" coherence) after the reload to $1"
}

full_read "exclusive cold"
((Q > 0)) || isp_fail "exclusive cold: no GET LBA STATUS"
full_read "exclusive warm"
((Q == 0)) || isp_fail "exclusive warm: $Q GET LBA STATUS, expected none"

coherence verify
full_read "verify after the reload"
((Q > 0)) || isp_fail "verify after the reload: no GET LBA STATUS (the exclusive cache was kept)"

coherence exclusive
full_read "exclusive after the second reload"
((Q > 0)) || isp_fail "exclusive after the reload: no GET LBA STATUS (the cache did not start over)"
full_read "exclusive warm again"
((Q == 0)) || isp_fail "exclusive warm again: $Q GET LBA STATUS, expected none"
