#!/usr/bin/env bash
# Several backend portals (backend_portal = P1, P2; docs/ARCHITECTURE.md,
# "Backend"): tgtd listens on two portals of one target, the proxy lists both.
#   1. logins go through P1 (the log names the portal); a full read through
#      the proxy (coherence exclusive: the holes are learned on P1's path)
#      equals the image;
#   2. while qemu-io writes and verifies patterns in those holes through the
#      proxy, P1 is deleted in tgtd and the backend session's connection is
#      dropped (tgt keeps connections of a deleted portal); the initiator's
#      own recovery logs in again, the backend login fails on P1 and succeeds
#      on P2, and qemu-io sees every pattern it wrote;
#   3. the next login starts with P2 (the portal that answered last): no new
#      attempt on P1 in the log; /stats has an object read through P2;
#      /metrics shows P1 down and P2 up, /healthz stays 200 and names P1;
#   4. back: a full read through P2 teaches P2's object the holes; P1 added,
#      P2 deleted: the next login goes through P1, and a write there makes
#      P2's object forget its holes (the same designator through another
#      path may be the same LU); a full read still equals the image.
# Fails if a step's log line, data or state is not as described.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { isp_log "direct mode: nothing to test (the proxy's portal list)"; exit 0; }
command -v promtool >/dev/null || isp_fail "promtool not found (run tests/deps.sh)"

isp_start_layout_backend
P1=$TGT_PORT P2=""
isp_pick_port P2
isp_tgtadm --op new --mode portal --param portal="127.0.0.1:$P2" ||
  isp_fail "tgtadm cannot add portal 127.0.0.1:$P2"
isp_wait_listen "$P2" "$TGT_PID" "tgtd's second portal" "$TGT_LOG" 10 || isp_fail "tgtd not on $P2"

port="" stats=""
isp_pick_port port
isp_pick_port stats
PROXY_CONF=$ISP_WORK/proxy.$port.conf PROXY_LOG=$ISP_WORK/proxy.$port.log
isp_write_proxy_conf "$PROXY_CONF" "$port" "127.0.0.1:$stats" "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"
sed -i "s|^backend_portal = .*|backend_portal = 127.0.0.1:$P1, 127.0.0.1:$P2|" "$PROXY_CONF"
echo "coherence = exclusive" >>"$PROXY_CONF"
isp_run_proxy_conf "$port" "$stats"
URL=iscsi://127.0.0.1:$port/$ISP_PROXY_IQN_DEFAULT/$ISP_LUN

# The sessions tgtd has on target 1 are the proxy's: drop their connections.
drop_backend_connections() {
  local sid n=0
  for sid in $(isp_tgtadm --op show --mode target | awk '/I_T nexus:/ { print $3 }'); do
    isp_tgtadm --op delete --mode conn --tid 1 --sid "$sid" --cid 0 || true
    n=$((n + 1))
  done
  ((n > 0)) || isp_fail "tgtd shows no session of the proxy to drop"
}
logged_through() { grep -c "backend session to $BACKEND_IQN up .* through portal 127.0.0.1:$1 " "$PROXY_LOG" || true; }
attempts_on() { grep -c "login through 127.0.0.1:$1: .*trying" "$PROXY_LOG" || true; }
read_equals_image() { # WHAT
  isp_read_all "$URL" "$ISP_WORK/read.img"
  cmp -s "$ISP_WORK/read.img" "$ISP_IMG" || isp_fail "$1: a full read through the proxy differs from the image"
}

# 1. Through P1.
read_equals_image "through P1"
(($(logged_through "$P1") >= 1)) || isp_fail "the log does not name portal 127.0.0.1:$P1 for the login"
echo "## logins through 127.0.0.1:$P1 (1 of 2); a full read equals the image"

# 2. P1 goes away under a writer. 32 x 64 KiB patterns in the holes at 140 MiB+.
cmds=()
for i in $(seq 1 32); do
  off=$(((140 << 20) + i * (1 << 20)))
  cmds+=("write -P $i $off 65536" "read -P $i $off 65536" "sleep 150")
done
isp_qio "$URL" "${cmds[@]}" >"$ISP_WORK/qio.out" 2>&1 &
qio_pid=$!
deadline=$((SECONDS + 20))
until (($(logged_through "$P1") >= 2)); do   # the writer's own login, through P1
  ((SECONDS < deadline)) || isp_fail "the writer's login did not come up"
  sleep 0.05
done
isp_tgtadm --op delete --mode portal --param portal="127.0.0.1:$P1" || isp_fail "cannot delete portal $P1"
drop_backend_connections
t0=$SECONDS
isp_wait_output "$PROXY_LOG" "backend session to $BACKEND_IQN lost" "$PROXY_PID" \
  "the proxy did not see its backend session on P1 dropped"
rc=0
wait "$qio_pid" || rc=$?
((rc == 0)) || { cat "$ISP_WORK/qio.out" >&2; isp_fail "qemu-io failed across the portal switch (status $rc)"; }
(($(attempts_on "$P1") >= 1)) || isp_fail "no failed attempt on 127.0.0.1:$P1 in the log"
(($(logged_through "$P2") >= 1)) || isp_fail "no login through 127.0.0.1:$P2 in the log"
grep -m1 "login through 127.0.0.1:$P1: " "$PROXY_LOG" | sed 's/^/    /'
echo "## P1 deleted and its connection dropped mid-run: the writer's 32 verified patterns went on through 127.0.0.1:$P2 ($((SECONDS - t0)) s)"

# 3. The next login starts with P2.
before=$(attempts_on "$P1")
isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR" "$URL" >/dev/null || isp_fail "INQUIRY after the switch failed"
(($(attempts_on "$P1") == before)) || isp_fail "a login after the switch tried 127.0.0.1:$P1 again"
isp_stats_get "$stats" stats "$ISP_WORK/stats.json"
python3 - "$ISP_WORK/stats.json" "127.0.0.1:$P2" <<'PY' || isp_fail "/stats: no LU object read through P2"
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(l["backend_address"] == sys.argv[2] for l in d["luns"]) else "luns: %r" % d["luns"])
PY
deadline=$((SECONDS + 15))
while :; do
  isp_stats_get "$stats" metrics "$ISP_WORK/metrics.txt"
  grep -q "backend_portal_up{target=\"$ISP_PROXY_IQN_DEFAULT\",portal=\"127.0.0.1:$P1\"} 0" "$ISP_WORK/metrics.txt" &&
    grep -q "backend_portal_up{target=\"$ISP_PROXY_IQN_DEFAULT\",portal=\"127.0.0.1:$P2\"} 1" "$ISP_WORK/metrics.txt" && break
  ((SECONDS < deadline)) || { grep backend_portal "$ISP_WORK/metrics.txt" >&2; isp_fail "/metrics does not show P1 down and P2 up"; }
  sleep 0.2
done
promtool check metrics <"$ISP_WORK/metrics.txt" >"$ISP_WORK/promtool.log" 2>&1 ||
  { cat "$ISP_WORK/promtool.log" >&2; isp_fail "promtool rejects /metrics"; }
health=$(isp_timeout 10 curl -sS --max-time 5 -w ' %{http_code}' "http://127.0.0.1:$stats/healthz")
[[ "${health##* }" == 200 && "$health" == *"127.0.0.1:$P1"* ]] ||
  isp_fail "/healthz with P1 down but P2 up: expected 200 naming P1, got: $health"
echo "## next login straight through P2; /metrics: P1 down, P2 up; /healthz 200: $(sed -n 2p <<<"${health% *}")"

# 4. Back to P1 while P2's object holds a map with holes: a write through
#    P1's object must make P2's forget them (same designator, another path:
#    "may be the same", docs/ARCHITECTURE.md "Identity per I_T nexus").
unallocated_through() { # PORT: pages_unallocated of the object read through 127.0.0.1:PORT
  isp_stats_get "$stats" stats "$ISP_WORK/stats.json"
  python3 - "$ISP_WORK/stats.json" "127.0.0.1:$1" <<'PY' || isp_fail "/stats: no object of 127.0.0.1:$1 with a map"
import json, sys
d = json.load(open(sys.argv[1]))
l = [l for l in d["luns"] if l["backend_address"] == sys.argv[2] and "cache" in l]
print(l[0]["cache"]["pages_unallocated"]) if len(l) == 1 else sys.exit("luns: %r" % d["luns"])
PY
}
read_equals_image "through P2"
holes=$(unallocated_through "$P2")
((holes > 0)) || { cat "$ISP_WORK/stats.json" >&2; isp_fail "P2's object learned no hole from a full read"; }
isp_tgtadm --op new --mode portal --param portal="127.0.0.1:$P1" || isp_fail "cannot add portal $P1 again"
isp_wait_listen "$P1" "$TGT_PID" "tgtd's first portal" "$TGT_LOG" 10 || isp_fail "tgtd not on $P1 again"
isp_tgtadm --op delete --mode portal --param portal="127.0.0.1:$P2" || isp_fail "cannot delete portal $P2"
before=$(logged_through "$P1")
isp_qio "$URL" "write -P 0x77 $((180 << 20)) 65536" || isp_fail "a write through the proxy after P2 went away failed"
(($(logged_through "$P1") > before)) || isp_fail "the login after P2 went away did not go through P1"
after=$(unallocated_through "$P2")
((after == 0)) || isp_fail "P2's object still holds $after unallocated pages after a write through P1"
read_equals_image "back through P1"
echo "## back through 127.0.0.1:$P1: a write there made P2's object forget its $holes holes; a full read equals the image"
isp_proxy_alive "after the portal switches"
