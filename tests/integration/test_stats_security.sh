#!/usr/bin/env bash
# The stats endpoint's protection (issue 10), with real curl over HTTPS:
#   - a token file or TLS key readable by others is refused by --check-config,
#     and so is a key that does not belong to the certificate;
#   - with stats_token_file, /, /metrics, /stats and unknown paths answer 401
#     with "WWW-Authenticate: Bearer" without the token or with a wrong one, and
#     serve with "Authorization: Bearer TOKEN"; refusals are logged once per
#     address per 10 s; /healthz stays open but says only "ok" / "not ok"
#     without the token (details with it);
#   - HTTPS with a self-signed certificate made here (curl --cacert), plain
#     HTTP refused on that port; promtool accepts /metrics over TLS + token;
#   - bounds: a request with a 10 KiB header is refused, one with 6 KiB is
#     served; POST is refused; 64 idle connections keep a 65th request waiting
#     until one closes; an idle connection is closed after 10 s;
#   - SIGHUP: a new token and a new certificate take effect.
# Fails when any of these answers differs.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## direct mode: no stats endpoint to test"; exit 0; }
command -v promtool >/dev/null || isp_fail "promtool not found (run tests/deps.sh)"
command -v openssl >/dev/null || isp_fail "openssl not found (run tests/deps.sh)"
isp_start_layout_backend

D=$ISP_WORK/secrets
mkdir -p "$D"
make_cert() { # make_cert NAME: NAME.crt, NAME.key (0600), a self-signed P-256 certificate for 127.0.0.1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$D/$1.key" -out "$D/$1.crt" >"$ISP_WORK/openssl.log" 2>&1 ||
    { cat "$ISP_WORK/openssl.log" >&2; isp_fail "openssl cannot make a certificate"; }
  chmod 600 "$D/$1.key"
}
make_cert a
make_cert b
(umask 077 && openssl rand -hex 32 >"$D/token")
TOKEN=$(<"$D/token")

isp_pick_port port
isp_pick_port stats
PROXY_CONF=$ISP_WORK/proxy.$port.conf PROXY_LOG=$ISP_WORK/proxy.$port.log
KEYS="stats_token_file = $D/token
stats_tls_cert = $D/a.crt
stats_tls_key = $D/a.key"
ISP_PROXY_KEYS=$KEYS isp_write_proxy_conf "$PROXY_CONF" "$port" "127.0.0.1:$stats" \
  "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"

# ---- what the configuration check refuses ---------------------------------------------
check_refused() { # check_refused WHAT TEXT: --check-config exits 2 naming TEXT
  local out rc=0
  out=$(isp_timeout 10 "$PROXY_BIN" --check-config -c "$PROXY_CONF" 2>&1) || rc=$?
  [[ $rc == 2 && "$out" == *"$2"* ]] || isp_fail "$1: --check-config exit $rc, output: $out"
}
chmod 640 "$D/token"
check_refused "a group-readable token file" "stats_token_file: $D/token: mode 0640"
chmod 600 "$D/token"
chmod 604 "$D/a.key"
check_refused "a world-readable key" "stats_tls_key: $D/a.key: mode 0604"
chmod 600 "$D/a.key"
sed -i "s|^stats_tls_key = .*|stats_tls_key = $D/b.key|" "$PROXY_CONF"
check_refused "a key of another certificate" "does not belong to the certificate"
sed -i "s|^stats_tls_key = .*|stats_tls_key = $D/a.key|" "$PROXY_CONF"
echo "## --check-config refuses a group-readable token, a world-readable key, a key of another certificate"

isp_run_proxy_conf "$port" "$stats"
BASE=https://127.0.0.1:$STATS_PORT
# get PATH [CURL ARGS...]: "CODE" of an HTTPS GET trusting only a.crt; body in $ISP_WORK/body.
CA=$D/a.crt
get() {
  local path=$1
  shift
  isp_timeout 20 curl -sS --max-time 10 --cacert "$CA" -o "$ISP_WORK/body" -D "$ISP_WORK/headers" \
    -w '%{http_code}' "$@" "$BASE$path" 2>"$ISP_WORK/curl.err" || true
}
AUTH=(-H "Authorization: Bearer $TOKEN")

# ---- the token -------------------------------------------------------------------------
for path in / /metrics /stats /nonexistent; do
  code=$(get "$path")
  [[ "$code" == 401 ]] || isp_fail "GET $path without a token: $code, expected 401"
  grep -qi '^WWW-Authenticate: Bearer' "$ISP_WORK/headers" ||
    isp_fail "GET $path: 401 without 'WWW-Authenticate: Bearer'"
  code=$(get "$path" -H "Authorization: Bearer ${TOKEN%?}x")
  [[ "$code" == 401 ]] || isp_fail "GET $path with a wrong token: $code, expected 401"
done
code=$(get /metrics -H "Authorization: Basic $TOKEN")
[[ "$code" == 401 ]] || isp_fail "GET /metrics with the token as Basic: $code, expected 401"
n=$(grep -c "stats endpoint: request from 127.0.0.1 without a valid bearer token" "$PROXY_LOG" || true)
[[ "$n" == 1 ]] || isp_fail "$n log lines for 9 requests without a valid token within seconds, expected 1"
code=$(get /metrics "${AUTH[@]}")
[[ "$code" == 200 ]] || isp_fail "GET /metrics with the token: $code"
promtool check metrics <"$ISP_WORK/body" >"$ISP_WORK/promtool.log" 2>&1 ||
  { cat "$ISP_WORK/promtool.log" >&2; isp_fail "promtool rejects /metrics served over TLS with the token"; }
grep -q '^iscsi_sparse_proxy_connections_refused_total{reason="limit_total"} 0$' "$ISP_WORK/body" ||
  isp_fail "/metrics lacks connections_refused_total"
code=$(get /stats -H "authorization: bearer $TOKEN")
[[ "$code" == 200 ]] || isp_fail "GET /stats with the token (lower-case header and scheme): $code"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "connections_refused_total" in d' \
  "$ISP_WORK/body" || isp_fail "/stats with the token is not the JSON expected"
code=$(get / "${AUTH[@]}")
[[ "$code" == 200 ]] && grep -q '<html' "$ISP_WORK/body" || isp_fail "GET / with the token: $code"
code=$(get /nonexistent "${AUTH[@]}")
[[ "$code" == 404 ]] || isp_fail "GET /nonexistent with the token: $code, expected 404"
echo "## token: 401 + WWW-Authenticate without it, with a wrong one or as Basic (1 log line);" \
  "200 with it (promtool accepts /metrics over TLS), 404 for unknown paths only with it"

# ---- /healthz --------------------------------------------------------------------------
healthz_wait() { # healthz_wait CODE [CURL ARGS]: poll until /healthz answers CODE (10 s)
  local want=$1 code deadline=$((SECONDS + 10))
  shift
  until [[ "$(get /healthz "$@")" == "$want" ]]; do
    ((SECONDS < deadline)) || isp_fail "/healthz does not answer $want within 10 s: $(cat "$ISP_WORK/body")"
    sleep 0.1
  done
}
healthz_wait 200
[[ "$(cat "$ISP_WORK/body")" == ok ]] || isp_fail "/healthz without the token: '$(cat "$ISP_WORK/body")'"

# ---- TLS -------------------------------------------------------------------------------
code=$(isp_timeout 20 curl -sS --max-time 5 -o /dev/null -w '%{http_code}' \
  "http://127.0.0.1:$STATS_PORT/metrics" 2>/dev/null || true)
[[ "$code" != 200 ]] || isp_fail "plain HTTP on the HTTPS port answered 200"
code=$(CA=$D/b.crt get /metrics "${AUTH[@]}")
[[ "$code" == 000 ]] || isp_fail "a client trusting another certificate got $code"
echo "## TLS: served with the certificate made here, refused to plain HTTP and to a client trusting another"

# ---- bounds -----------------------------------------------------------------------------
code=$(get /metrics "${AUTH[@]}" -H "X-Pad: $(head -c 6144 /dev/zero | tr '\0' a)")
[[ "$code" == 200 ]] || isp_fail "a request with a 6 KiB header: $code, expected 200"
code=$(get /metrics "${AUTH[@]}" -H "X-Pad: $(head -c 10240 /dev/zero | tr '\0' a)")
[[ "$code" == 400 || "$code" == 413 || "$code" == 431 ]] ||
  isp_fail "a request with a 10 KiB header: $code, expected 400, 413 or 431"
code=$(get /metrics "${AUTH[@]}" -X POST -d x=1)
[[ "$code" == 405 || "$code" == 501 ]] || isp_fail "POST /metrics: $code, expected 405 or 501"
echo "## bounds: 6 KiB of headers served, 10 KiB refused ($code for POST)"

# 64 idle connections: the 65th request waits in the accept queue until one
# closes; an idle connection is closed after 10 s.
isp_timeout 60 python3 - "$STATS_PORT" "$PROXY_LOG" "$CA" "$TOKEN" <<'PY' || isp_fail "connection cap"
import socket, subprocess, sys, time
port, log, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def fail(m):
    print("FAIL: " + m, file=sys.stderr); sys.exit(1)
start = time.monotonic()
held = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(64)]
deadline = time.monotonic() + 10
while "64 connections open (the cap)" not in open(log).read():
    if time.monotonic() > deadline:
        fail("no log line about the connection cap 10 s after 64 connections")
    time.sleep(0.05)
curl = ["curl", "-sS", "--cacert", ca, "-o", "/dev/null", "-w", "%{http_code}",
        "-H", "Authorization: Bearer " + token, "https://127.0.0.1:%d/metrics" % port]
r = subprocess.run(curl[:2] + ["--max-time", "1.5"] + curl[2:], capture_output=True, text=True)
if r.stdout == "200":
    fail("a 65th connection was served while 64 were open")
waiting = subprocess.Popen(curl[:2] + ["--max-time", "20"] + curl[2:], stdout=subprocess.PIPE, text=True)
held.pop().close()
out = waiting.communicate(timeout=30)[0]
if out != "200":
    fail("the waiting request got %r after a connection closed, expected 200" % out)
print("ok: 64 idle connections held, a 65th request served once one closed")
s = held[0]
s.settimeout(20)
try:
    got = s.recv(1)
except ConnectionResetError:
    got = b""
idle = time.monotonic() - start
if got != b"" or idle < 9 or idle > 16:
    fail("an idle connection: %r after %.1f s, expected closed after about 10 s" % (got, idle))
print("ok: an idle connection closed after %.1f s" % idle)
PY
echo "## 64 idle connections: a 65th request waits until one closes; idle ones closed after 10 s"

# ---- reload: a new token and a new certificate -----------------------------------------------
OLD=$TOKEN
(umask 077 && openssl rand -hex 32 >"$D/token")
TOKEN=$(<"$D/token") AUTH=(-H "Authorization: Bearer $TOKEN")
cp "$D/b.key" "$D/a.key" && cp "$D/b.crt" "$D/a.crt"
isp_reload "reload: stats endpoint HTTPS, bearer token required"
code=$(CA=$D/b.crt get /metrics -H "Authorization: Bearer $OLD")
[[ "$code" == 401 ]] || isp_fail "the old token after a reload: $code, expected 401"
code=$(CA=$D/b.crt get /metrics "${AUTH[@]}")
[[ "$code" == 200 ]] || isp_fail "the new token and certificate after a reload: $code ($(cat "$ISP_WORK/curl.err"))"
CA=$D/b.crt
echo "## SIGHUP: the new token and the new certificate are in force, the old token is refused"

# ---- /healthz when a backend is down --------------------------------------------------------
_isp_stop_tgtd "$_ISP_TGT_CUR"
healthz_wait 503
[[ "$(cat "$ISP_WORK/body")" == "not ok" ]] ||
  isp_fail "/healthz 503 without the token gives details: '$(cat "$ISP_WORK/body")'"
healthz_wait 503 "${AUTH[@]}"
grep -q "$ISP_PROXY_IQN_DEFAULT" "$ISP_WORK/body" ||
  isp_fail "/healthz 503 with the token does not name the target: '$(cat "$ISP_WORK/body")'"
echo "## /healthz: 'ok' / 'not ok' without the token, the failing backend named with it"
isp_proxy_alive "after the stats endpoint checks"
