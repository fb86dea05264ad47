#!/usr/bin/env bash
# The SAN crashes (issue 12): tgtd is SIGKILLed by its PID, once while an
# initiator writes through the proxy and once while it reads, and is started
# again each time on the same port with the same backing file. The initiator is
# fault_io.py (the project's client), 8 commands in flight, each WRITE with a
# pattern that names its blocks and itself, each GOOD status logged.
#   - every WRITE the initiator saw GOOD before the crash is in the backing
#     file byte for byte (slots never acknowledged hold old bytes or a pattern
#     of a WRITE of unknown outcome);
#   - every READ that came back GOOD equals the file; the initiator is told
#     (its connection ends) within a bound, it does not hang;
#   - while tgtd is down a login fails, /healthz says 503; after the restart
#     /healthz says 200 and new logins through the same proxy process work:
#     more WRITEs, verified the same way, and the region read through the proxy
#     equals the file (the cache kept nothing stale across the restart);
#   - the proxy is alive, logged no error, its connections are all closed.
# Direct mode runs the same against tgtd alone (no proxy checks).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ISP_PROXY_KEYS="backend_timeout = 5"
isp_setup_cache exclusive
here=$(dirname "$0")
M=$((1 << 20))
OFF=$((140 * M)) LEN=$((16 * M))       # holes in the layout image
LBA=$((OFF / 512)) BLOCKS=16 SLOTS=$((LEN / 512 / 16))
TOLD=15                                # seconds for the initiator to learn of the crash
io() { python3 "$here/fault_io.py" "$@" --lba "$LBA" --blocks "$BLOCKS" --slots "$SLOTS"; }
isp_is_hole_pages "$ISP_IMG" "$OFF" "$LEN" 65536 || isp_fail "test layout: the region is not a hole"
dd if="$ISP_IMG" of="$ISP_WORK/before.bin" bs=1M skip=$((OFF / M)) count=$((LEN / M)) status=none

# crash_during KIND OUT: SIGKILL tgtd once the background client (PID $cpid,
# output OUT) has had 300 GOOD commands; the client must end within TOLD s.
crash_during() {
  local kind=$1 out=$2 t0
  isp_wait_output "$out" "done 300" "$cpid" "$kind: the client did not get 300 GOOD commands"
  isp_kill_tgtd
  t0=$SECONDS
  isp_wait_gone "$cpid" "$TOLD" ||
    isp_fail "$kind: the initiator was not told of the crash within $TOLD s (still waiting)"
  isp_reap_into rc "$cpid"
  cat "$out" >&2
  ((rc == 0)) || isp_fail "$kind: the client failed (exit $rc)"
  grep -q "^lost: " "$out" || isp_fail "$kind: the client finished without losing its connection"
  echo "## $kind: tgtd killed; the initiator's connection ended $((SECONDS - t0)) s later: $(sed -n 's/^lost: .* after //p' "$out")"
}

# down_then_up: checks while tgtd is down, then the restart.
down_then_up() {
  if isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR2" "$URL_PROXY" >/dev/null 2>&1; then
    isp_fail "a login succeeded while tgtd was down"
  fi
  if ((!ISP_DIRECT)); then
    isp_wait_healthz "$STATS_PORT" 503 10 || isp_fail "/healthz does not answer 503 while tgtd is down"
  fi
  isp_restart_tgtd "$ISP_IMG"
  if ((!ISP_DIRECT)); then
    isp_wait_healthz "$STATS_PORT" 200 10 || isp_fail "/healthz does not answer 200 after the restart"
  fi
}

# ---- 1. crash during WRITEs ---------------------------------------------------
io write 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_WORK/w1.log" \
  --allow-loss --stop "$ISP_WORK/stop" >"$ISP_WORK/w1.out" 2>&1 &
cpid=$!
crash_during "crash during WRITEs" "$ISP_WORK/w1.out"
io verify "$ISP_IMG" "$ISP_WORK/w1.log" --before "$ISP_WORK/before.bin" >"$ISP_WORK/v1.out" 2>&1 ||
  { cat "$ISP_WORK/v1.out" >&2; isp_fail "an acknowledged WRITE is not in the backing file"; }
echo "## after the crash: $(sed 's/^ok: //' "$ISP_WORK/v1.out")"
down_then_up

# ---- 2. crash during READs ----------------------------------------------------
io read 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_IMG" --seq 7 \
  --allow-loss --stop "$ISP_WORK/stop" >"$ISP_WORK/r1.out" 2>&1 &
cpid=$!
crash_during "crash during READs" "$ISP_WORK/r1.out"
down_then_up

# ---- 3. the same proxy after the restarts ---------------------------------------
t0=$SECONDS
until isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR2" "$URL_PROXY" >/dev/null 2>&1; do
  ((SECONDS - t0 < 10)) || isp_fail "no login through the proxy 10 s after tgtd came back"
  sleep 0.2
done
seq2=$(($(awk '$1 == "S" { s = $3 } END { print s + 1 }' "$ISP_WORK/w1.log") + 1000))
io write 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_WORK/w2.log" \
  --count 400 --seq "$seq2" >"$ISP_WORK/w2.out" 2>&1 ||
  { cat "$ISP_WORK/w2.out" >&2; isp_fail "WRITEs after the restart failed"; }
io verify "$ISP_IMG" "$ISP_WORK/w1.log" "$ISP_WORK/w2.log" --before "$ISP_WORK/before.bin" \
  >"$ISP_WORK/v2.out" 2>&1 ||
  { cat "$ISP_WORK/v2.out" >&2; isp_fail "after the restart an acknowledged WRITE is not in the file"; }
isp_read_range "$URL_PROXY" "$OFF" "$LEN" "$ISP_WORK/region.raw"
cmp -s "$ISP_WORK/region.raw" <(dd if="$ISP_IMG" bs=1M skip=$((OFF / M)) count=$((LEN / M)) status=none) ||
  isp_fail "the region read through the proxy differs from the backing file after the restarts"
echo "## after the restarts: new logins work ($((SECONDS - t0)) s), 400 more WRITEs at the backend, the region reads as the file"

if ((!ISP_DIRECT)); then
  isp_proxy_alive "after the SAN crashes"
  n=$(isp_wait_stat "$STATS_PORT" connections -eq 0 10) ||
    isp_fail "the proxy still counts $n connections 10 s after every initiator left"
  errs=$(isp_proxy_log_errors "$PROXY_LOG")
  [[ -z "$errs" ]] || isp_fail "the proxy logged errors: $errs"
  echo "## the same proxy process ($PROXY_PID) throughout; no error in its log, no connection left"
fi
