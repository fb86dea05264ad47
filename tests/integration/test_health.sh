#!/usr/bin/env bash
# /healthz and the backend latency histogram on the stats endpoint:
#   - /healthz answers 200 "ok" once the listeners are up and the backend
#     portal answers a probe login (every 2 s without blocking the loop; a
#     hung SAN: test_health_hung);
#   - after INQUIRY through the proxy, /metrics has a backend command duration
#     histogram with at least one observation, and promtool accepts it;
#   - when the backend stops (tgtd ended), /healthz flips to 503 within 10 s and
#     names the target and the backend portal.
# Fails if any of these does not happen in its bound.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { isp_log "direct mode: no stats endpoint to test"; exit 0; }
command -v promtool >/dev/null || isp_fail "promtool not found (run tests/deps.sh)"

isp_start_layout_backend
isp_start_proxy_cache verify

healthz() { # prints "CODE BODY..." of GET /healthz
  isp_timeout 10 curl -sS --max-time 5 -w ' %{http_code}' "http://127.0.0.1:$STATS_PORT/healthz"
}
wait_health() { # wait_health CODE: poll until /healthz answers CODE, at most 10 s
  local out deadline=$((SECONDS + 10))
  while :; do
    out=$(healthz) || isp_fail "GET /healthz failed"
    [[ "${out##* }" == "$1" ]] && { printf '%s\n' "$out"; return 0; }
    ((SECONDS < deadline)) || isp_fail "/healthz still answers '${out##* }' after 10 s, expected $1: $out"
    sleep 0.1
  done
}

out=$(wait_health 200)
[[ "$out" == "ok"* ]] || isp_fail "/healthz 200 without 'ok': $out"
echo "## backend up: /healthz 200 ok"

isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR" "$URL_PROXY" >/dev/null || isp_fail "INQUIRY through the proxy failed"
isp_stats_get "$STATS_PORT" metrics "$ISP_WORK/metrics.txt"
promtool check metrics <"$ISP_WORK/metrics.txt" >"$ISP_WORK/promtool.log" 2>&1 ||
  { cat "$ISP_WORK/promtool.log" >&2; isp_fail "promtool rejects /metrics with the latency histogram"; }
count=$(awk '/^iscsi_sparse_proxy_backend_command_duration_seconds_count/ { print $2 }' "$ISP_WORK/metrics.txt")
inf=$(awk '/^iscsi_sparse_proxy_backend_command_duration_seconds_bucket.*le="\+Inf"/ { print $2 }' "$ISP_WORK/metrics.txt")
((${count:-0} >= 1)) || isp_fail "no backend command in the latency histogram after INQUIRY (count '${count:-}')"
[[ "$inf" == "$count" ]] || isp_fail "histogram +Inf bucket $inf differs from its count $count"
echo "## latency histogram: $count backend commands, promtool accepts /metrics"

_isp_stop_tgtd "$_ISP_TGT_CUR"
out=$(wait_health 503)
[[ "$out" == *"$ISP_PROXY_IQN_DEFAULT"* && "$out" == *"127.0.0.1:$TGT_PORT"* ]] ||
  isp_fail "/healthz 503 does not name the target and its backend portal: $out"
echo "## backend stopped: /healthz 503: ${out% *}"
isp_proxy_alive "after the backend stopped"
