#!/usr/bin/env bash
# /healthz means "the SAN answers" (docs/ARCHITECTURE.md, "Backend health"):
# a tgtd hung by SIGSTOP still accepts TCP connections (the kernel does),
# but answers no login and no command.
#   1. no session: the probe logins go unanswered; /healthz turns 503 within
#      health_deadline (5 s) + 3 s (+ 1 s for the test's polling), naming the
#      target, the portal and "no answer"; SIGCONT: 200 again within 4 s;
#   2. a live, idle session through the proxy: its NOP-Outs go unanswered;
#      503 within the same bound, naming the backend session; SIGCONT: 200
#      again within 4 s, and the session reads on.
# /metrics shows backend_portal_up 0 while hung (promtool-valid).  Prints the
# measured times.  Fails if a bound is missed or the body does not say why.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { isp_log "direct mode: no stats endpoint to test"; exit 0; }
command -v promtool >/dev/null || isp_fail "promtool not found (run tests/deps.sh)"

DEADLINE=5
BOUND_DOWN=$((DEADLINE + 4)) BOUND_UP=4     # the proxy's bound is DEADLINE + 3
isp_start_layout_backend
isp_start_proxy_cache verify
# A stopped tgtd must not outlive a failed test stopped (cleanup talks to it).
isp_on_exit 'kill -CONT "$TGT_PID" 2>/dev/null || true'
portal=127.0.0.1:$TGT_PORT

now() { date +%s.%N; }
healthz() { isp_timeout 10 curl -sS --max-time 5 -w ' %{http_code}' "http://127.0.0.1:$STATS_PORT/healthz"; }
# wait_health CODE BOUND: poll until /healthz answers CODE; fails after BOUND s.
# Prints the body; sets WAITED to the seconds it took.
wait_health() {
  local out t0 t
  t0=$(now)
  while :; do
    out=$(healthz) || isp_fail "GET /healthz failed"
    t=$(now)
    if [[ "${out##* }" == "$1" ]]; then
      WAITED=$(awk -v a="$t0" -v b="$t" 'BEGIN { printf "%.1f", b - a }')
      BODY=${out% *}
      return 0
    fi
    awk -v a="$t0" -v b="$t" -v m="$2" 'BEGIN { exit !(b - a > m) }' &&
      isp_fail "/healthz still answers '${out##* }' after $2 s, expected $1: $out"
    sleep 0.1
  done
}
hang_and_resume() { # WHAT REASON
  wait_health 200 10
  kill -STOP "$TGT_PID"
  wait_health 503 "$BOUND_DOWN"
  local down=$WAITED why
  why=$(grep -m1 "no answer" <<<"$BODY" || true)
  [[ "$BODY" == *"backend portal $portal of target $ISP_PROXY_IQN_DEFAULT: no answer for "*"$2"* ]] ||
    isp_fail "$1: /healthz 503 does not say which portal and why: $BODY"
  isp_stats_get "$STATS_PORT" metrics "$ISP_WORK/metrics.txt"
  grep -qx "iscsi_sparse_proxy_backend_portal_up{target=\"$ISP_PROXY_IQN_DEFAULT\",portal=\"$portal\"} 0" \
    "$ISP_WORK/metrics.txt" || isp_fail "$1: /metrics does not show the portal down"
  promtool check metrics <"$ISP_WORK/metrics.txt" >"$ISP_WORK/promtool.log" 2>&1 ||
    { cat "$ISP_WORK/promtool.log" >&2; isp_fail "promtool rejects /metrics"; }
  kill -CONT "$TGT_PID"
  wait_health 200 "$BOUND_UP"
  echo "## $1: tgtd SIGSTOPped -> /healthz 503 after $down s (bound $BOUND_DOWN): $why; SIGCONT -> 200 after $WAITED s"
}

hang_and_resume "no session (probe logins)" "(probe login)"

# A live session that sits idle: qemu-io reads, sleeps 25 s, reads again.
isp_timeout 60 qemu-io -f raw -c "read 0 4096" -c "sleep 25000" -c "read -P 0xa5 $((ISP_IMG_SIZE - 4096)) 4096" \
  "$URL_PROXY" >"$ISP_WORK/qio.out" 2>&1 &
qio_pid=$!
isp_wait_output "$PROXY_LOG" "normal session up" "$PROXY_PID" "the idle session did not log in"
hang_and_resume "a live idle session (NOP-Outs)" "(backend session)"
rc=0
wait "$qio_pid" || rc=$?
((rc == 0)) && ! grep -qiE 'failed|error|mismatch' "$ISP_WORK/qio.out" ||
  { cat "$ISP_WORK/qio.out" >&2; isp_fail "the idle session did not read on after SIGCONT (status $rc)"; }
echo "## the idle session read on after SIGCONT"
isp_proxy_alive "after the SAN hung twice"
