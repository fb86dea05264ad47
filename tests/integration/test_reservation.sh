#!/usr/bin/env bash
# Reservations (issue 9, case 7): a READ-blocking reservation seen through the
# proxy sends that LU's READs to the SAN. Through an exclusive-mode proxy whose
# map knows a hole page UNALLOCATED (warmed), initiator 1 registers and reserves
# Exclusive Access (PERSISTENT RESERVE OUT); initiator 2, another InitiatorName
# on its own session, READs the hole and gets RESERVATION CONFLICT (18h), as
# against tgtd directly (direct mode runs the same checks); the holder reads
# zeros; after initiator 1 releases, initiator 2's READ is zeros from the cache
# again (the zero-only READ counter moves exactly then, not under the
# reservation). Then a unit attention for a session that only gets zeros:
# initiator 1 PREEMPTs initiator 2's registration (Write Exclusive, so READs
# stay cacheable) and initiator 2, reading the hole every 50 ms, must see the
# SAN's unit attention within 2.5 s (the one-second rule plus slack; directly:
# at once). Driven by reservation.py and unit_attention.py (our own client).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_setup_cache exclusive
PAGE=$((64 << 10)) OFF=$((150 << 20))
isp_is_hole_pages "$ISP_IMG" "$OFF" "$PAGE" "$PAGE" || isp_fail "layout: $OFF is not a hole page"
LBA=$((OFF / 512)) BLOCKS=$((PAGE / 512))

if ((!ISP_DIRECT)); then
  isp_probe_lun "$URL_PROXY" "$STATS_PORT" zero-serving
  # Warm: one read of the page asks GET LBA STATUS, which makes it UNALLOCATED.
  isp_read_range "$URL_PROXY" "$OFF" "$PAGE" "$ISP_WORK/warm.bin"
  isp_wait_stat "$STATS_PORT" lba_status_queries_total -ge 1 10 >/dev/null ||
    isp_fail "the warming read asked no GET LBA STATUS"
fi
isp_timeout 120 python3 "$(dirname "$0")/reservation.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" \
  "$ISP_INITIATOR" "$ISP_INITIATOR2" "$LBA" "$BLOCKS" "${STATS_PORT:-}" ||
  isp_fail "reservation checks failed (see above)"
isp_proxy_alive "after the reservation checks"
((ISP_DIRECT)) || grep -q "READ-blocking reservation may be held" "$PROXY_LOG" ||
  isp_fail "the proxy did not log the reservation"
# A unit attention for a session that only gets zeros: within the one-second
# rule (zero_probe.h), plus slack for the sanitizer build on a shared machine.
isp_timeout 60 python3 "$(dirname "$0")/unit_attention.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" \
  "$ISP_INITIATOR" "$ISP_INITIATOR2" "$LBA" "$BLOCKS" 2.5 >"$ISP_WORK/ua.out" 2>&1 ||
  { cat "$ISP_WORK/ua.out" >&2; isp_fail "unit attention checks failed (see above)"; }
cat "$ISP_WORK/ua.out" >&2
echo "## zero-only session: $(sed -n 's/^ok: //p' "$ISP_WORK/ua.out")"
isp_proxy_alive "after the unit attention checks"
echo "## Exclusive Access held by another nexus: RESERVATION CONFLICT$( ((ISP_DIRECT)) && echo ' (tgtd directly)')"
isp_log "reservation checks passed"
