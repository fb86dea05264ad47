#!/usr/bin/env bash
# The proxy crashes (issue 12): SIGKILL (by its PID) while qemu-io writes
# through it, 64 KiB WRITEs one after the other, each of its own region and
# byte pattern; the proxy is started again on the same port with the same
# configuration.
#   - qemu-io (libiscsi reconnects by itself) carries on through the new proxy
#     and completes every WRITE within a bound; the gap in its output around
#     the crash is reported;
#   - every WRITE qemu-io reported ("wrote ...") is in the backing file byte
#     for byte, and reads back so through the new proxy;
#   - a new qemu-io works through the new proxy within 10 s of its start;
#   - the new proxy logs no error and ends with no connection.
# Direct mode is skipped: there is no proxy to kill.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## skipped in direct mode: no proxy to kill"; exit 0; }

isp_setup_cache exclusive
M=$((1 << 20)) K=1024
OFF=$((140 * M)) N=300 LEN=$((64 * K))
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
# Each line of qemu-io's output with the time it came (ms), without a fork.
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$((${EPOCHREALTIME/./} / 1000))" "$l"; done; }
pat() { echo $(($1 % 251 + 1)); }   # the byte of WRITE i

args=()
for ((i = 0; i < N; i++)); do args+=(-c "write -P $(pat "$i") $((OFF + i * LEN)) $LEN"); done
stdbuf -oL -eL qemu-io -f raw "${args[@]}" "$URL_PROXY" > >(stamp >"$ISP_WORK/q.out") 2>&1 &
qpid=$!
acked() { grep -c ' wrote ' "$ISP_WORK/q.out" || true; }
deadline=$((SECONDS + 30))
until (($(acked) >= 50)); do
  isp_alive "$qpid" || { cat "$ISP_WORK/q.out" >&2; isp_fail "qemu-io ended before 50 WRITEs"; }
  ((SECONDS < deadline)) || isp_fail "qemu-io did not get 50 WRITEs done in 30 s"
  sleep 0.02
done

old=$PROXY_PID
kill -KILL "$old"
t_kill=$(now_ms)
isp_wait_gone "$old" 10 || isp_fail "the proxy $old is still there 10 s after SIGKILL"
isp_proxy_exited "$old" >"$ISP_WORK/rc"     # not in $(...): it updates the list of proxies
rc=$(<"$ISP_WORK/rc")
((rc == 137)) || isp_fail "the killed proxy exited with status $rc, not 137"
at_kill=$(acked)
mv "$PROXY_LOG" "$PROXY_LOG.killed"
isp_run_proxy_conf "$PROXY_PORT" "$STATS_PORT"
t_up=$(now_ms)
isp_log "proxy restarted as pid $PROXY_PID, $((t_up - t_kill)) ms after the SIGKILL"

# A new initiator works within 10 s of the new proxy.
until isp_qio "$URL_PROXY" "read -P $(pat 0) $OFF $LEN" 2>/dev/null; do
  (($(now_ms) - t_up < 10000)) || isp_fail "no new qemu-io works 10 s after the proxy restarted"
  sleep 0.1
done
new_ok=$(($(now_ms) - t_up))

isp_wait_gone "$qpid" 60 || isp_fail "qemu-io has not finished its WRITEs 60 s after the proxy restarted"
isp_reap_into rc "$qpid"
((rc == 0)) || { cat "$ISP_WORK/q.out" >&2; isp_fail "qemu-io exited with status $rc"; }

# Each acknowledged WRITE is in the file (and, all at once, through the proxy).
mapfile -t offs < <(awk '$2 == "wrote" { sub(/^.* at offset /, ""); print }' "$ISP_WORK/q.out")
((${#offs[@]} == N)) || { cat "$ISP_WORK/q.out" >&2; isp_fail "qemu-io reported ${#offs[@]} WRITEs of $N"; }
python3 - "$ISP_IMG" "$OFF" "$LEN" "${offs[@]}" <<'PY' || isp_fail "an acknowledged WRITE is not in the backing file"
import os, sys
fd, off0, n = os.open(sys.argv[1], os.O_RDONLY), int(sys.argv[2]), int(sys.argv[3])
for o in map(int, sys.argv[4:]):
    i = (o - off0) // n
    if os.pread(fd, n, o) != bytes([i % 251 + 1]) * n:
        sys.exit(f"WRITE {i} (acknowledged): [{o}, +{n}) of the file does not hold {i % 251 + 1:#x}")
PY
isp_read_range "$URL_PROXY" "$OFF" $((N * LEN)) "$ISP_WORK/region.raw"
cmp -s "$ISP_WORK/region.raw" <(dd if="$ISP_IMG" iflag=skip_bytes,count_bytes skip="$OFF" \
  count=$((N * LEN)) status=none) || isp_fail "the region read through the new proxy differs from the file"
# The longest gap between two of qemu-io's lines after the kill: its reconnect.
gap=$(awk -v k="$t_kill" '$1 >= k && p { if ($1 - p > g) g = $1 - p } { p = $1 } END { print g + 0 }' "$ISP_WORK/q.out")
sense=$(grep -c 'CheckCondition' "$ISP_WORK/q.out" || true)
echo "## proxy SIGKILLed after $at_kill of $N WRITEs, restarted in $((t_up - t_kill)) ms; qemu-io reconnected by itself (longest pause ${gap} ms, $sense CHECK CONDITION lines) and all $N WRITEs are in the file byte for byte"
echo "## a new qemu-io worked ${new_ok} ms after the restart"

isp_proxy_alive "after the restart"
n=$(isp_wait_stat "$STATS_PORT" connections -eq 0 10) ||
  isp_fail "the new proxy still counts $n connections 10 s after every initiator left"
errs=$(isp_proxy_log_errors "$PROXY_LOG")
[[ -z "$errs" ]] || isp_fail "the new proxy logged errors: $errs"
