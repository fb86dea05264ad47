#!/usr/bin/env bash
# Limits on frontend connections (issue 10), against real sockets:
#   - login_timeout (2 s here): a connection that sent half a header, or drips
#     one byte every 0.25 s, is closed after 2 s (not before), counted as
#     connections_refused_total{reason="login_timeout"}; a session that logged
#     in outlives the timer;
#   - max_connections_per_address (4) and max_connections (6): idle connections
#     from 127.0.0.1 and 127.0.0.2 up to the limits are kept, each one more is
#     closed at once (limit_address, limit_total), and only the first refusal of
#     an address is logged within 10 s; iscsi-inq works once one is freed;
#   - max_sessions = 1: a second session of the target gets login status 0x0206
#     (limit_sessions, login_failures_total{reason="too_many_connections"}), and
#     after the first one logs out another initiator gets in.
# Fails when a connection is closed early or not at all, when a counter in
# /metrics differs, when refusals flood the log, or when a real initiator cannot
# log in after a limit was reached.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## direct mode: the limits are the proxy's; nothing to check"; exit 0; }
LIMITS=$(dirname "$0")/conn_limits.py
isp_start_layout_backend

# metric STATS 'NAME{LABELS}': the sample's value in /metrics.
metric() {
  isp_stats_get "$1" metrics | awk -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' ||
    isp_fail "/metrics of port $1 has no $2"
}
# start_proxy KEYS [TARGET_KEYS]: a proxy with those [proxy] and [target] lines.
start_proxy() {
  local port stats
  isp_pick_port port
  isp_pick_port stats
  PROXY_CONF=$ISP_WORK/proxy.$port.conf PROXY_LOG=$ISP_WORK/proxy.$port.log
  ISP_PROXY_KEYS=$1 isp_write_proxy_conf "$PROXY_CONF" "$port" "127.0.0.1:$stats" \
    "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"
  printf '%s\n' "${2:-}" >>"$PROXY_CONF"    # the [target] section is the last one
  isp_run_proxy_conf "$port" "$stats"
  URL_PROXY=iscsi://127.0.0.1:$port/$ISP_PROXY_IQN_DEFAULT/$ISP_LUN
}

# ---- login_timeout -------------------------------------------------------------------
start_proxy "login_timeout = 2"
isp_timeout 60 python3 "$LIMITS" timeout 127.0.0.1 "$PROXY_PORT" "$ISP_PROXY_IQN_DEFAULT" \
  "$ISP_INITIATOR" 2 || isp_fail "login_timeout"
n=$(metric "$STATS_PORT" 'iscsi_sparse_proxy_connections_refused_total{reason="login_timeout"}')
[[ "$n" == 2 ]] || isp_fail "login_timeout closed $n connections, expected 2 (half a header, slow drip)"
n=$(grep -c "no login within login_timeout, 2 s" "$PROXY_LOG" || true)
[[ "$n" == 2 ]] || isp_fail "$n log lines for login timeouts, expected 2"
echo "## login_timeout 2 s: half a header and a slow drip closed after 2 s, counted; a logged-in session stays"
isp_proxy_alive "after the login timeouts"

# ---- max_connections_per_address, max_connections, max_sessions ------------------------
start_proxy $'login_timeout = 60\nmax_connections = 6\nmax_connections_per_address = 4' \
  "max_sessions = 1"
isp_timeout 120 python3 "$LIMITS" limits 127.0.0.1 "$PROXY_PORT" "$STATS_PORT" 4 6 "$URL_PROXY" \
  "$ISP_INITIATOR" || isp_fail "connection limits"
n=$(metric "$STATS_PORT" 'iscsi_sparse_proxy_connections_refused_total{reason="limit_address"}')
[[ "$n" == 5 ]] || isp_fail "limit_address refusals: $n, expected 5"
n=$(metric "$STATS_PORT" 'iscsi_sparse_proxy_connections_refused_total{reason="limit_total"}')
[[ "$n" == 1 ]] || isp_fail "limit_total refusals: $n, expected 1"
# Five refusals from 127.0.0.1 within seconds: one line; one from 127.0.0.2: one line.
n1=$(grep -c "127.0.0.1: connection refused: 4 connections from this address" "$PROXY_LOG" || true)
n2=$(grep -c "127.0.0.2: connection refused: 6 connections open (max_connections)" "$PROXY_LOG" || true)
[[ "$n1" == 1 && "$n2" == 1 ]] ||
  isp_fail "refusal log lines: $n1 for 127.0.0.1 (5 refusals), $n2 for 127.0.0.2, expected 1 and 1"
echo "## max_connections_per_address 4, max_connections 6: extra connections closed at once," \
  "5 + 1 counted, 2 log lines; iscsi-inq works once one is freed"

isp_timeout 60 python3 "$LIMITS" sessions 127.0.0.1 "$PROXY_PORT" "$STATS_PORT" \
  "$ISP_PROXY_IQN_DEFAULT" "$ISP_INITIATOR" "$ISP_INITIATOR2" "$URL_PROXY" ||
  isp_fail "max_sessions"
echo "## max_sessions 1: the second session got 0x0206, counted (limit_sessions, too_many_connections)"
isp_stats_get "$STATS_PORT" metrics "$ISP_WORK/metrics.txt"
promtool check metrics <"$ISP_WORK/metrics.txt" >"$ISP_WORK/promtool.log" 2>&1 ||
  { cat "$ISP_WORK/promtool.log" >&2; isp_fail "promtool rejects /metrics with the refusal counters"; }
isp_proxy_alive "after the limits"
