#!/usr/bin/env bash
# log = syslog: the proxy's lines reach the syslog socket /dev/log with ident
# iscsi-sparse-proxy[PID], facility daemon, and the level of each line (a login:
# <30> daemon.info; a refused login: <28> daemon.warning), and not stderr. Then a
# reload to log = stderr moves the lines back to stderr.
# The test listens on /dev/log itself (a unix datagram socket it removes at the
# end), so it runs only where /dev/log does not exist -- as root in a container
# without a syslog daemon; elsewhere it skips, leaving the host's syslog alone.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## direct mode: no proxy to log"; exit 0; }
isp_require_root
command -v python3 >/dev/null || isp_fail "python3 not found"
if [[ -e /dev/log ]]; then
  echo "## skipped: /dev/log exists (a syslog daemon owns it); this test needs it free"
  exit 0
fi

SYSLOG_OUT=$ISP_WORK/syslog.out
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "w")
while True:
    out.write(s.recv(65536).decode(errors="replace").rstrip("\0\n") + "\n")
    out.flush()
' "$SYSLOG_OUT" &
LISTENER=$!
isp_on_exit "kill $LISTENER 2>/dev/null; wait $LISTENER 2>/dev/null; rm -f /dev/log"
for ((i = 0; i < 100; i++)); do [[ -S /dev/log ]] && break; sleep 0.05; done
[[ -S /dev/log ]] || isp_fail "the test's syslog listener did not bind /dev/log"

ISP_PROXY_KEYS="log = syslog" isp_setup
inq() { isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR" "iscsi://127.0.0.1:$PROXY_PORT/$1/$ISP_LUN" >/dev/null 2>&1; }

inq "$PROXY_IQN" || isp_fail "INQUIRY through the proxy failed"
login="normal session up: initiator $ISP_INITIATOR, target $PROXY_IQN,"
isp_wait_output "$SYSLOG_OUT" "$login" "$LISTENER" "no login line reached /dev/log"
grep -qE "^<30>.* iscsi-sparse-proxy\[$PROXY_PID\]: .*$login" "$SYSLOG_OUT" ||
  { cat "$SYSLOG_OUT" >&2; isp_fail "the login line lacks <30> (daemon.info) or ident iscsi-sparse-proxy[$PROXY_PID]"; }
! inq iqn.2026-11.org.example:proxy.nosuchtarget || isp_fail "a login to an unknown target succeeded"
isp_wait_output "$SYSLOG_OUT" "login refused with status 0x0203" "$LISTENER" "no refused login line at /dev/log"
grep -qE "^<28>.* iscsi-sparse-proxy\[$PROXY_PID\]: .*login refused with status 0x0203" "$SYSLOG_OUT" ||
  isp_fail "the refused login line is not <28> (daemon.warning)"
grep -q "session up" "$PROXY_LOG" && isp_fail "with log = syslog, lines still go to stderr"
echo "## syslog: login as <30> daemon.info, refused login as <28> daemon.warning, ident iscsi-sparse-proxy[PID]"

isp_write_proxy_conf "$PROXY_CONF" "$PROXY_PORT" "" "$PROXY_IQN" "$BACKEND_IQN"
kill -HUP "$PROXY_PID"
isp_wait_output "$SYSLOG_OUT" "signal 1: reloading" "$LISTENER" "no reload line at /dev/log"
inq "$PROXY_IQN" || isp_fail "INQUIRY after the reload failed"
isp_wait_output "$PROXY_LOG" "session up" "$PROXY_PID" "after a reload to log = stderr, no login line on stderr"
echo "## reload to log = stderr: lines on stderr again"
