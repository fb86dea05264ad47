#!/usr/bin/env bash
# SIGHUP reload with sessions open and I/O running. The proxy starts with
# targets A and C; a client writes and reads back 64 KiB blocks on A without
# pause (io_client.py), another is logged in to C. The file then drops C, adds
# B (C's backend) and sets log_level = debug; SIGHUP:
#   - A's session carries on: the same connection, no second login (the log's
#     session lines, sessions_total), its I/O goes on without an error and
#     every block reads back as last written; so does a qemu-io session on A
#     (QEMU's initiator) writing and reading back patterns across the reload;
#   - C's initiator gets an Asynchronous Message asking for a logout within
#     shutdown_timeout and logs out; a new login to C is refused (not found);
#   - B is listed by SendTargets and takes a write and a read back (qemu-io);
#   - debug lines appear, and none did before.
# Then a broken file: one error line naming FILE:LINE, nothing changes (A's I/O
# still runs, B still listed). Then a file with another listen address: a
# warning that it needs a restart, the proxy still listens where it did.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## direct mode: nothing to reload"; exit 0; }
here=$(dirname "$0")

TIMEOUT=5
IQN_A=iqn.2026-11.org.example:proxy.a
IQN_B=iqn.2026-11.org.example:proxy.b
IQN_C=iqn.2026-11.org.example:proxy.c
BACKEND2=iqn.2026-11.org.example:san.lun2
ISP_PROXY_KEYS=$'shutdown_timeout = '$TIMEOUT$'\nnop_interval = 0'

isp_start_layout_backend
truncate -s $((64 << 20)) "$ISP_WORK/lun2.img"
isp_tgt_add_target 2 "$BACKEND2" "$ISP_WORK/lun2.img"
isp_pick_port STATS_PORT
isp_start_proxy "" "127.0.0.1:$STATS_PORT" "$IQN_A" "$BACKEND_IQN" "$IQN_C" "$BACKEND2"
isp_wait_listen "$STATS_PORT" "$PROXY_PID" "proxy stats endpoint" "$PROXY_LOG" ||
  isp_fail "the stats endpoint did not start"

top_stat() { isp_stat_quick "$STATS_PORT" "$1" || isp_fail "no $1 in /stats"; }
sessions_of() { grep -c "session up: initiator $1, target $2," "$PROXY_LOG" || true; }
io_alive() { isp_alive "$IO_PID" || { cat "$ISP_WORK/io.out" >&2; isp_fail "A's I/O ended $1"; }; }

# A's I/O, at 200 MiB (outside the ext4 and the patterns), and C's session.
python3 "$here/io_client.py" 127.0.0.1 "$PROXY_PORT" "$IQN_A" "$ISP_INITIATOR" $((200 << 11)) \
  "$ISP_WORK/stop" >"$ISP_WORK/io.out" 2>&1 &
IO_PID=$!
isp_wait_output "$ISP_WORK/io.out" "io running" "$IO_PID" "A's I/O did not start"
python3 "$here/shutdown_client.py" 127.0.0.1 "$PROXY_PORT" "$IQN_C" "$ISP_INITIATOR2" obey \
  "$TIMEOUT" >"$ISP_WORK/c.out" 2>&1 &
C_PID=$!
isp_wait_output "$ISP_WORK/c.out" "logged in" "$C_PID" "the client of C did not log in"
# QEMU's initiator on A across reload 1: 1 MiB patterns at 160 MiB + i MiB,
# each written, read back and checked (-P), 100 ms apart for about 8 s.
QEMU_IQN=iqn.2008-11.org.linux-kvm
qargs=()
for ((i = 0; i < 80; i++)); do
  qargs+=(-c "write -P $((i + 1)) $((160 + i % 24))M 1M" -c "read -P $((i + 1)) $((160 + i % 24))M 1M"
    -c "sleep 100")
done
isp_timeout 120 qemu-io -f raw "${qargs[@]}" "iscsi://127.0.0.1:$PROXY_PORT/$IQN_A/$ISP_LUN" \
  >"$ISP_WORK/qio.out" 2>&1 &
QIO_PID=$!
isp_wait_output "$ISP_WORK/qio.out" "read 1048576/1048576" "$QIO_PID" "qemu-io on A did not start"
[[ $(top_stat sessions_total) -eq 3 ]] || isp_fail "sessions_total is not 3 before the reload"
grep -q ' debug ' "$PROXY_LOG" && isp_fail "debug lines at log_level = info"

# Reload 1: C removed, B added (on C's backend), log_level debug.
ISP_LOG_LEVEL=debug isp_write_proxy_conf "$PROXY_CONF" "$PROXY_PORT" "127.0.0.1:$STATS_PORT" \
  "$IQN_A" "$BACKEND_IQN" "$IQN_B" "$BACKEND2"
isp_reload "reload: .*targets 1 unchanged, 0 changed, 1 added, 1 removed; log_level debug"
grep -q "target $IQN_C removed or changed by a reload; asking initiator" "$PROXY_LOG" ||
  isp_fail "no log line asking C's initiator to log out"
rc=0
isp_wait_gone "$C_PID" $((TIMEOUT + 10)) || isp_fail "C's client still runs after the reload"
wait "$C_PID" || rc=$?
cat "$ISP_WORK/c.out"
((rc == 0)) || isp_fail "C's session did not end with a logout after the reload"
io_alive "at the reload"

out=$(isp_timeout 60 iscsi-ls -i "$ISP_INITIATOR2" -s "iscsi://127.0.0.1:$PROXY_PORT") ||
  isp_fail "iscsi-ls -s after the reload failed: $out"
grep -q "^Target:$IQN_B " <<<"$out" || isp_fail "SendTargets does not list B after the reload: $out"
grep -q "^Target:$IQN_C " <<<"$out" && isp_fail "SendTargets still lists C after the reload"
isp_qio "iscsi://127.0.0.1:$PROXY_PORT/$IQN_B/$ISP_LUN" "write -P 0x3c 1M 1M" "read -P 0x3c 1M 1M" ||
  isp_fail "write and read back on B failed"
isp_expect_bytes "$ISP_WORK/lun2.img" $((1 << 20)) $((1 << 20)) 0x3c "B's write at the backend"
if isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR2" "iscsi://127.0.0.1:$PROXY_PORT/$IQN_C/$ISP_LUN" \
  >/dev/null 2>&1; then isp_fail "a login to the removed target C succeeded"; fi
[[ $(top_stat not_found) -eq 1 ]] || isp_fail "the refused login to C is not counted as not_found"
grep -q ' debug ' "$PROXY_LOG" || isp_fail "no debug line after the reload to log_level = debug"
io_alive "after the reload"
isp_alive "$QIO_PID" || isp_fail "qemu-io on A ended before the reload was checked: too short to span it"
rc=0
wait "$QIO_PID" || rc=$?
((rc == 0)) && ! grep -qiE 'failed|error|mismatch' "$ISP_WORK/qio.out" ||
  { cat "$ISP_WORK/qio.out" >&2; isp_fail "qemu-io on A failed across the reload"; }
n=$(grep -c "^read 1048576/1048576" "$ISP_WORK/qio.out")
((n == 80)) || isp_fail "qemu-io on A read back $n patterns, expected 80"
n=$(sessions_of "$QEMU_IQN" "$IQN_A")
((n == 1)) || isp_fail "$n logins of qemu-io to A in the log, expected 1 (its session was dropped)"
echo "## reload: A's I/O undisturbed (own client and qemu-io), C logged out, B discoverable and usable, debug on"

# Reload 2: a broken file changes nothing.
printf '[proxy]\nlisten = 127.0.0.1:%s\nqueue_depth = lots\n' "$PROXY_PORT" >"$PROXY_CONF"
isp_reload "reload refused, the running configuration stays: $PROXY_CONF:3: \[proxy\] queue_depth: "
n=$(grep -c "reload refused" "$PROXY_LOG")
((n == 1)) || isp_fail "$n 'reload refused' lines, expected 1"
out=$(isp_timeout 60 iscsi-ls -i "$ISP_INITIATOR2" "iscsi://127.0.0.1:$PROXY_PORT") ||
  isp_fail "discovery after the refused reload failed: $out"
grep -q "^Target:$IQN_B " <<<"$out" || isp_fail "B is gone after a refused reload: $out"
io_alive "after the refused reload"
echo "## broken file: refused with one log line, the running configuration stays"

# Reload 3: listen moves; that needs a restart.
other=""
isp_pick_port other
ISP_LOG_LEVEL=debug isp_write_proxy_conf "$PROXY_CONF" "$other" "127.0.0.1:$STATS_PORT" \
  "$IQN_A" "$BACKEND_IQN" "$IQN_B" "$BACKEND2"
isp_reload "reload: listen changed; it takes effect at the next restart (still listening on 127.0.0.1:$PROXY_PORT)"
isp_listening "$PROXY_PORT" "$PROXY_PID" || isp_fail "the proxy stopped listening on $PROXY_PORT"
isp_listening "$other" && isp_fail "something listens on $other before a restart"
io_alive "after the listen change"

# A's session: one login, the same connection all along, every block as written.
touch "$ISP_WORK/stop"
rc=0
wait "$IO_PID" || rc=$?
cat "$ISP_WORK/io.out"
((rc == 0)) || isp_fail "A's I/O failed"
n=$(sessions_of "$ISP_INITIATOR" "$IQN_A")
((n == 1)) || isp_fail "$n logins of A's initiator in the log, expected 1"
echo "## A: $(grep -o 'ok: [0-9]* writes' "$ISP_WORK/io.out") across three reloads, one login"
