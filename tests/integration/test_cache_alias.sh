#!/usr/bin/env bash
# One logical unit, two targets of one proxy (issue 4: the cache is "keyed by the
# LUN's identity"). Two [target] sections, both coherence = exclusive, reach the same
# tgtd LUN through different backend portal strings: 127.0.0.1:PORT and
# localhost:PORT. Target A's cache is warmed with a full read (the holes are known
# UNALLOCATED), then data is written through target B into hole pages and read back
# through A: it must be B's data, never A's stale zeros.
#
# Round 0: the first commands through B are writes, so B's session has not
# verified the LUN number when they go out (lun_identity.c: such a write makes
# every object forget its holes, at send and at completion). Round 1: more
# writes through B with qemu-io, verified or not by then. Round 2: /stats shows
# one object for A and B (each session read the same VPD 83h designator from
# the same backend address and target name), and writes through B go to A's own
# map and mutation log: A is not invalidated, its mutation count grows.
#
# Then target C, a third section with A's very portal (so A's object) and
# coherence = off: its READs must not be served from the cache, and its write
# must be seen through A.
#
# What makes it fail: a READ through A answered from a stale UNALLOCATED entry
# (zeros where B or C wrote), two objects for the one LU in /stats, a write
# through B invalidating A instead of entering its map, C's READ served zeros
# from the cache, or a full read through any target differing from the backing
# file.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

((ISP_DIRECT)) && { echo "## skipped in direct mode: the test is about the proxy's cache"; exit 0; }
isp_start_layout_backend
K=1024 M=$((1024 * 1024)) PAGE=$((64 * 1024))
IQN_A=iqn.2026-11.org.example:proxy.alias-a
IQN_B=iqn.2026-11.org.example:proxy.alias-b
IQN_C=iqn.2026-11.org.example:proxy.alias-c-off

isp_pick_port port
isp_pick_port stats
PROXY_CONF=$ISP_WORK/proxy.$port.conf
PROXY_LOG=$ISP_WORK/proxy.$port.log
cat >"$PROXY_CONF" <<CONF
[proxy]
listen = 127.0.0.1:$port
stats_listen = 127.0.0.1:$stats
log_level = ${ISP_LOG_LEVEL:-info}

[target $IQN_A]
backend_portal = 127.0.0.1:$TGT_PORT
backend_target = $BACKEND_IQN
coherence = exclusive
allowed_addresses = 127.0.0.1, ::1

[target $IQN_B]
backend_portal = localhost:$TGT_PORT
backend_target = $BACKEND_IQN
coherence = exclusive
allowed_addresses = 127.0.0.1, ::1

[target $IQN_C]
backend_portal = 127.0.0.1:$TGT_PORT
backend_target = $BACKEND_IQN
coherence = off
allowed_addresses = 127.0.0.1, ::1
CONF
isp_run_proxy_conf "$port" "$stats"
URL_A=iscsi://127.0.0.1:$port/$IQN_A/$ISP_LUN
URL_B=iscsi://127.0.0.1:$port/$IQN_B/$ISP_LUN
URL_C=iscsi://127.0.0.1:$port/$IQN_C/$ISP_LUN
isp_log "proxy pid $PROXY_PID: $IQN_A -> 127.0.0.1:$TGT_PORT, $IQN_B -> localhost:$TGT_PORT"

# lun_field IQN KEY: KEY of that target's LUN in /stats (a key of the LUN, of its
# "counters" or "cache"; JSON for objects and null).
lun_field() {
  isp_stats_get "$STATS_PORT" stats | python3 -c '
import json, sys
iqn, key, lun = sys.argv[1], sys.argv[2], int(sys.argv[3])
luns = [l for l in json.load(sys.stdin)["luns"] if l["target"] == iqn and l["lun"] == lun]
if len(luns) != 1:
    sys.exit("/stats has %d entries for %s LUN %d" % (len(luns), iqn, lun))
l = luns[0]
for d in (l, l.get("counters", {}), l.get("cache", {})):
    if key in d:
        v = d[key]
        print(v if isinstance(v, (int, str)) else json.dumps(v, sort_keys=True)); sys.exit(0)
sys.exit("/stats: %s LUN %d has no key %r" % (iqn, lun, key))
' "$1" "$2" "$ISP_LUN" || isp_fail "cannot read $2 of $1 from /stats"
}

# wait_field IQN KEY VALUE SECONDS: until lun_field IQN KEY is VALUE.
wait_field() {
  local deadline=$((SECONDS + $4)) v
  while v=$(lun_field "$1" "$2"); [[ "$v" != "$3" ]]; do
    ((SECONDS < deadline)) || isp_fail "$1: $2 is '$v' after $4 s, expected '$3'"
    sleep 0.05
  done
}

# warm_a: a full read through A equals the file; A knows holes.
warm_a() {
  isp_read_all "$URL_A" "$ISP_WORK/a.raw"
  cmp "$ISP_WORK/a.raw" "$ISP_IMG" || isp_fail "$1: the full read through A differs from the file"
  rm -f "$ISP_WORK/a.raw"
  local un
  un=$(lun_field "$IQN_A" pages_unallocated)
  ((un > 0)) || isp_fail "$1: A knows no unallocated page after a full read"
}

# write_b_read_a LABEL WRITE...: each "BYTE OFF LEN" written through B (one qemu-io
# session), then read back through A.
write_b_read_a() {
  local label=$1 w byte off len
  shift
  local -a cmds=()
  for w in "$@"; do
    read -r byte off len <<<"$w"
    isp_is_hole_pages "$ISP_IMG" "$off" "$len" "$PAGE" || isp_fail "test layout: [$off, +$len) is not in hole pages"
    isp_qio "$URL_A" "read -P 0 $off $len" || isp_fail "$label: [$off, +$len) is not zeros through A before the write"
    cmds+=("write -P $byte $off $len")
  done
  isp_qio "$URL_B" "${cmds[@]}" || isp_fail "$label: the writes through B failed"
  for w in "$@"; do
    read -r byte off len <<<"$w"
    isp_expect_bytes "$ISP_IMG" "$off" "$len" "$byte" "$label: B's data in the backing file"
    isp_qio "$URL_A" "read -P $byte $off $len" ||
      isp_fail "$label: [$off, +$len) read through A is not B's $byte (stale zeros from A's cache?)"
  done
}

# Warm A. (The proxy probes a LUN after the first command to it succeeded, on
# that session; a session gone before the answers leaves it for the next one.)
deadline=$((SECONDS + 10))
until [[ $(lun_field "$IQN_A" state 2>/dev/null) == zero-serving ]]; do   # no entry before
  ((SECONDS < deadline)) || isp_fail "A is not zero-serving 10 s after its first session"
  isp_qio "$URL_A" "sleep 100" || isp_fail "opening $URL_A failed"
done
warm_a "round 0"

# Round 0: the very first commands through B are WRITE(10)s (a minimal initiator,
# tests/integration/iscsi_client.py): B's object is probed only after its first
# command succeeded, so they go out on an object of unknown identity, and A must
# forget its holes. tgt answers a new nexus's first command with a unit
# attention, hence the retry.
inv0=$(lun_field "$IQN_A" cache_invalidations_total)
first_writes=("0xa1 $((30 * M - 8 * K)) $((4 * K))" "0xa2 $((60 * M - PAGE)) $PAGE")
for w in "${first_writes[@]}"; do
  read -r byte off len <<<"$w"
  isp_is_hole_pages "$ISP_IMG" "$off" "$len" "$PAGE" || isp_fail "test layout: [$off, +$len) is not in hole pages"
  isp_qio "$URL_A" "read -P 0 $off $len" || isp_fail "round 0: [$off, +$len) is not zeros through A"
done
PYTHONPATH=$(dirname "$0") isp_timeout 60 python3 - "$port" "$IQN_B" "$ISP_INITIATOR" \
  "${first_writes[@]}" <<'PY' || isp_fail "round 0: the first writes through B failed"
import sys
from iscsi_client import Session
port, target, initiator = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = Session("127.0.0.1", port)
s.login(initiator, target)
for w in sys.argv[4:]:
    byte, off, n = int(w.split()[0], 16), int(w.split()[1]), int(w.split()[2])
    for attempt in range(3):            # a unit attention first, then the write
        status, _ = s.read_response(s.write10(off // 512, bytes([byte]) * n))
        if status == 0:
            break
    else:
        sys.exit("WRITE(10) at %d: status %#x" % (off, status))
s.logout()
PY
for w in "${first_writes[@]}"; do
  read -r byte off len <<<"$w"
  isp_expect_bytes "$ISP_IMG" "$off" "$len" "$byte" "round 0: B's data in the backing file"
  isp_qio "$URL_A" "read -P $byte $off $len" ||
    isp_fail "round 0: [$off, +$len) read through A is not B's $byte (stale zeros from A's cache?)"
done
inv1=$(lun_field "$IQN_A" cache_invalidations_total)
((inv1 >= inv0 + 2)) ||
  isp_fail "round 0: writes on B's unverified LUN number invalidated A $((inv1 - inv0)) times, expected at send and completion"
echo "## round 0: first writes through B (LUN not verified) read back through warm A; A invalidated $((inv1 - inv0)) times"
warm_a "round 1"
write_b_read_a "round 1 (qemu-io through B)" \
  "0xb1 $((30 * M + 1000)) 3000" \
  "0xb2 $((60 * M)) $PAGE" \
  "0xb3 $((70 * M + 60 * K)) $((8 * K))" \
  "0xb4 $((80 * M + 512)) $((3 * M))"
echo "## round 1: qemu-io writes through B read back through warm A"

# B's sessions read the same designator from the same backend address and
# target name as A's: one object, made by A's first session, used by both.
ident=$(lun_field "$IQN_A" identity)
[[ $ident == naa:* ]] || isp_fail "A has no NAA identity: $ident"
isp_stats_get "$STATS_PORT" stats | python3 -c '
import json, sys
ident, iqn_b = sys.argv[1], sys.argv[2]
luns = json.load(sys.stdin)["luns"]
same = [l for l in luns if l["identity"] == ident]
if len(same) != 1:
    sys.exit("%d objects for %s, expected one" % (len(same), ident))
if any(l["target"] == iqn_b for l in luns):
    sys.exit("target B made an object of its own")
' "$ident" "$IQN_B" || isp_fail "A and B do not share one object"
echo "## /stats: one object for A and B, identity $ident"

# Round 2: A warm again; writes through B (verified: A's object) enter A's map and log.
warm_a "round 2"
inv0=$(lun_field "$IQN_A" cache_invalidations_total)
mut0=$(lun_field "$IQN_A" mutations_total)
write_b_read_a "round 2 (B alias)" \
  "0xc1 $((140 * M)) $PAGE" \
  "0xc2 $((160 * M + 4 * K)) $((100 * K))" \
  "0xc3 $((240 * M - 512)) 512"
inv1=$(lun_field "$IQN_A" cache_invalidations_total)
mut1=$(lun_field "$IQN_A" mutations_total)
((inv1 == inv0)) || isp_fail "round 2: writes through B invalidated A ($inv0 -> $inv1)"
((mut1 >= mut0 + 3)) || isp_fail "round 2: A counted $((mut1 - mut0)) mutations for 3 writes through B"
echo "## round 2: writes through B entered A's map ($((mut1 - mut0)) mutations, no invalidation)"

# Target C has A's portal, target and LUN (so A's object) but coherence = off:
# its READs get no zeros from the cache, its writes are seen through A.
hole=$((170 * M))
z0=$(lun_field "$IQN_A" read_bytes_total_zero)
isp_qio "$URL_A" "read -P 0 $hole $PAGE" || isp_fail "[$hole, +$PAGE) is not zeros through A"
z1=$(lun_field "$IQN_A" read_bytes_total_zero)
((z1 - z0 == PAGE)) || isp_fail "A served $((z1 - z0)) zero bytes for a known hole page, expected $PAGE"
isp_qio "$URL_C" "read -P 0 $hole $PAGE" || isp_fail "[$hole, +$PAGE) is not zeros through C"
z2=$(lun_field "$IQN_A" read_bytes_total_zero)
((z2 == z1)) || isp_fail "target C (coherence = off) was served $((z2 - z1)) bytes from the cache"
isp_qio "$URL_A" "read -P 0 $((180 * M)) $PAGE" || isp_fail "[180 MiB, +$PAGE) is not zeros through A"
isp_qio "$URL_C" "write -P 0xd1 $((180 * M)) $PAGE" || isp_fail "the write through C failed"
isp_qio "$URL_A" "read -P 0xd1 $((180 * M)) $PAGE" ||
  isp_fail "C's write at 180 MiB read through A is not 0xd1 (stale zeros?)"
echo "## target C (coherence = off, A's object): no zeros from the cache, its write seen through A"

# All three targets read the whole LUN as the file is now.
for u in "$URL_A" "$URL_B" "$URL_C"; do
  isp_read_all "$u" "$ISP_WORK/all.raw"
  cmp "$ISP_WORK/all.raw" "$ISP_IMG" || isp_fail "full read through $u differs from the backing file"
done
echo "## full reads through A, B and C equal the backing file"
isp_proxy_alive "after the alias test"
