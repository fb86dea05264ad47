#!/usr/bin/env bash
# Out of file descriptors (issue 12): the proxy runs with a hard limit of 64
# descriptors, a flood of 200 idle connections exhausts them, and libevent's
# accept loop must not spin: the proxy pauses its listeners, logs a bounded
# number of lines, counts the pauses (accept_pauses_total), keeps serving a
# session that was already in, and accepts real initiators again once the
# flood is gone. Measured: the proxy's CPU time over the flood (utime+stime
# from /proc/PID/stat) and its log size.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_require_root
((ISP_DIRECT == 0)) || { isp_log "direct mode: nothing to test (the proxy's descriptors)"; exit 0; }
command -v prlimit >/dev/null || isp_fail "prlimit not found (util-linux)"

isp_start_tgtd
truncate -s 16M "$ISP_WORK/lun.img"
isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_WORK/lun.img"
port="" stats=""
isp_pick_port port
isp_pick_port stats
PROXY_CONF=$ISP_WORK/proxy.conf PROXY_LOG=$ISP_WORK/proxy.log
ISP_PROXY_KEYS=$'max_connections = 4096\nmax_connections_per_address = 4096\nlogin_timeout = 60' \
  isp_write_proxy_conf "$PROXY_CONF" "$port" "127.0.0.1:$stats" "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"
prlimit --nofile=64:64 -- "$PROXY_BIN" -c "$PROXY_CONF" >"$PROXY_LOG" 2>&1 &
PROXY_PID=$!
_ISP_PROXY_PIDS+=("$PROXY_PID") _ISP_PROXY_LOGS+=("$PROXY_LOG")
isp_wait_listen "$port" "$PROXY_PID" proxy "$PROXY_LOG" 20 || isp_fail "the proxy did not start"
STATS_PORT=$stats

ISP_TESTDIR=$(cd "$(dirname "$0")" && pwd) python3 - "$port" "$ISP_PROXY_IQN_DEFAULT" "$ISP_INITIATOR" "$PROXY_PID" "$(getconf CLK_TCK)" \
  "$ISP_WORK/flood.out" <<'PY' || { cat "$ISP_WORK/flood.out" >&2; isp_fail "the descriptor flood checks failed"; }
import os, socket, sys, time
sys.path.insert(0, os.environ.get("ISP_TESTDIR", "tests/integration"))
from scsi_cmds import session, read10
port, iqn, ini, pid, hz, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
log = open(out, "w")
s = session("127.0.0.1", port, iqn, ini)         # a session that was in before
flood = []
for _ in range(200):
    try:
        flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError:
        break
c0, t0 = cpu(), time.monotonic()
time.sleep(3)                                   # the flood sits there: is the proxy idle?
used = cpu() - c0
print(f"{len(flood)} idle connections; proxy CPU {used:.2f} s over {time.monotonic() - t0:.1f} s", file=log, flush=True)
if used > 1.0:
    sys.exit(f"the proxy spun: {used:.2f} s of CPU in 3 s")
st, data, _ = s.command(read10(0, 8), read_len=4096)
if st != 0:
    sys.exit(f"the session already in failed a READ during the flood: status {st:#x}")
for c in flood:
    c.close()
s.logout()
PY
sed 's/^/    /' "$ISP_WORK/flood.out" >&2
# All 200 sockets are closed: a real initiator gets in again, within a bound.
ok=0
for ((i = 0; i < 40; i++)); do
  if isp_timeout 10 iscsi-inq -i "$ISP_INITIATOR" "iscsi://127.0.0.1:$port/$ISP_PROXY_IQN_DEFAULT/$ISP_LUN" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.25
done
((ok)) || isp_fail "no initiator got in after the flood was gone"
pauses=$(isp_stats_get "$stats" metrics | sed -n 's/^iscsi_sparse_proxy_accept_pauses_total \([0-9]*\)$/\1/p')
((pauses > 0)) || isp_fail "accept_pauses_total is ${pauses:-missing}: the descriptors never ran out?"
lines=$(grep -c "accept: " "$PROXY_LOG" || true)
((lines <= 20)) || isp_fail "$lines log lines about accept errors: not rate-limited"
echo "## $(cat "$ISP_WORK/flood.out"); listeners paused $pauses times, $lines log lines; initiators in again afterwards"
isp_proxy_alive "after the descriptor flood"
