#!/usr/bin/env bash
# The backend side of a login: the proxy logs in to a backend target that wants
# CHAP with the auth_file account named by backend_chap_account (handed to
# libiscsi), and a backend login that fails becomes a failed frontend login
# with the status the proxy maps it to (docs/ARCHITECTURE.md), never a session
# without a backend:
#   right CHAP secret        -> INQUIRY through the proxy works
#   wrong CHAP secret        -> the initiator's login fails; the proxy logs the
#                               backend's status 0x0201 and answers 0x0300
#   backend target missing   -> login fails; backend 0x0203 -> 0x0300
#   backend unreachable      -> login fails; answered 0x0301 (service unavailable)
#   a target the proxy does not have -> 0x0203, counted as not_found
# Then login_failures_total{reason=...} holds exactly these failures, in /stats
# and in /metrics (promtool-valid), every other reason 0.
# Fails if a bad case logs in, a good one does not, the log lacks the status, or
# a counter is off by one.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_require_root
((ISP_DIRECT == 0)) || { isp_log "direct mode: nothing to test (proxy backend logins)"; exit 0; }

isp_start_tgtd
truncate -s 16M "$ISP_WORK/chap.img"
isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_WORK/chap.img"
isp_tgtadm --op new --mode account --user proxyuser --password proxysecret12 ||
  isp_fail "tgtadm cannot create a CHAP account"
isp_tgtadm --op bind --mode account --tid 1 --user proxyuser ||
  isp_fail "tgtadm cannot bind the CHAP account to the target"
# A second account the backend knows, for which the proxy has the wrong secret.
isp_tgtadm --op new --mode account --user proxybad --password proxybadsecret ||
  isp_fail "tgtadm cannot create a CHAP account"
isp_tgtadm --op bind --mode account --tid 1 --user proxybad ||
  isp_fail "tgtadm cannot bind the CHAP account to the target"

# Targets: good CHAP, bad CHAP, a backend target that does not exist, a dead portal.
FRONT_GOOD=iqn.2026-11.org.example:proxy.good FRONT_BAD=iqn.2026-11.org.example:proxy.badchap
FRONT_MISSING=iqn.2026-11.org.example:proxy.missing FRONT_DEAD=iqn.2026-11.org.example:proxy.dead
dead_port="" port="" stats_port=""
isp_pick_port port
isp_pick_port dead_port
isp_pick_port stats_port
PROXY_CONF=$ISP_WORK/proxy.conf PROXY_LOG=$ISP_WORK/proxy.log
# The secrets, in an auth_file only the proxy's user may read.
(umask 077 && cat >"$ISP_WORK/proxy.auth") <<AUTH
[account proxyuser]
secret = proxysecret12

[account proxybad]
secret = wrongsecret12
AUTH
cat >"$PROXY_CONF" <<CONF
[proxy]
listen = 127.0.0.1:$port
stats_listen = 127.0.0.1:$stats_port
log_level = info
backend_timeout = 5
auth_file = proxy.auth

[target $FRONT_GOOD]
backend_portal = 127.0.0.1:$TGT_PORT
backend_target = $BACKEND_IQN
backend_chap_account = proxyuser
allowed_addresses = 127.0.0.1, ::1

[target $FRONT_BAD]
backend_portal = 127.0.0.1:$TGT_PORT
backend_target = $BACKEND_IQN
backend_chap_account = proxybad
allowed_addresses = 127.0.0.1, ::1

[target $FRONT_MISSING]
backend_portal = 127.0.0.1:$TGT_PORT
backend_target = iqn.2026-11.org.example:san.nosuchtarget
backend_chap_account = proxyuser
allowed_addresses = 127.0.0.1, ::1

[target $FRONT_DEAD]
backend_portal = 127.0.0.1:$dead_port
backend_target = $BACKEND_IQN
allowed_addresses = 127.0.0.1, ::1
CONF
"$PROXY_BIN" -c "$PROXY_CONF" >"$PROXY_LOG" 2>&1 &
PROXY_PID=$!
_ISP_PROXY_PIDS+=("$PROXY_PID") _ISP_PROXY_LOGS+=("$PROXY_LOG")
isp_wait_listen "$port" "$PROXY_PID" proxy "$PROXY_LOG" 20 || isp_fail "the proxy did not start"

inq() { isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR" "iscsi://127.0.0.1:$port/$1/$ISP_LUN" >/dev/null 2>&1; }

inq "$FRONT_GOOD" || isp_fail "INQUIRY through the proxy fails although its backend CHAP secret is right"
echo "## right backend CHAP secret: logged in, INQUIRY answered"

expect_refused() { # FRONT BACKEND_STATUS_REGEX ANSWER WHAT
  ! inq "$1" || isp_fail "$4: the initiator logged in although the backend login must fail"
  grep -Eq "backend .* failed \\(status $2" "$PROXY_LOG" ||
    isp_fail "$4: no log line with the backend's status $2"
  grep -q "login refused with status $3" "$PROXY_LOG" ||
    isp_fail "$4: the initiator was not answered with login status $3"
  echo "## $4: frontend login refused with $3 (backend status $2)"
}
expect_refused "$FRONT_BAD" "0x0201" "0x0300" "wrong backend CHAP secret"
expect_refused "$FRONT_MISSING" "0x0203" "0x0300" "missing backend target"
expect_refused "$FRONT_DEAD" "0x0301" "0x0301" "unreachable backend portal"
isp_proxy_alive "after the failed backend logins"

! inq iqn.2026-11.org.example:proxy.nosuchtarget || isp_fail "a login to an unknown target succeeded"
grep -q "login refused with status 0x0203" "$PROXY_LOG" || isp_fail "unknown target: not refused with 0x0203"

# Each initiator above tried once: libiscsi does not retry a refused login.
isp_stats_get "$stats_port" stats "$ISP_WORK/stats.json"
python3 - "$ISP_WORK/stats.json" <<'PY' || isp_fail "login_failures_total in /stats is not as expected"
import json, sys
got = json.load(open(sys.argv[1]))["login_failures_total"]
want = {r: 0 for r in got}
want.update(target_error=2, backend_unavailable=1, not_found=1)
if len(got) != 12 or got != want:
    sys.exit(f"login_failures_total: {got}, expected {want}")
PY
isp_stats_get "$stats_port" metrics "$ISP_WORK/metrics.txt"
if command -v promtool >/dev/null; then
  promtool check metrics <"$ISP_WORK/metrics.txt" >"$ISP_WORK/promtool.log" 2>&1 ||
    { cat "$ISP_WORK/promtool.log" >&2; isp_fail "promtool check metrics rejects /metrics"; }
fi
for want in target_error=2 backend_unavailable=1 not_found=1 authentication=0 other=0; do
  grep -qx "iscsi_sparse_proxy_login_failures_total{reason=\"${want%=*}\"} ${want#*=}" \
    "$ISP_WORK/metrics.txt" || isp_fail "/metrics: login_failures_total{reason=\"${want%=*}\"} is not ${want#*=}"
done
echo "## login_failures_total: target_error 2, backend_unavailable 1, not_found 1, the rest 0"
