#!/usr/bin/env bash
# SIGTERM with sessions open: the proxy stops accepting, asks each logged-in
# initiator to log out (Asynchronous Message, AsyncEvent 1, Parameter3 =
# shutdown_timeout), and exits 0 as soon as they have -- well before the
# timeout; an initiator that ignores the request is disconnected when
# shutdown_timeout has passed, and the proxy still exits 0. Then with I/O
# running (io_client.py writing 64 KiB blocks and reading each back, without
# pause): the Async Message arrives among its commands, every command still
# completes, the client checks every block and logs out, the proxy exits 0, and
# the backend's file holds each block as last written (no acknowledged WRITE
# lost). Fails on a missing or wrong Async Message, a refused logout, a proxy
# that still accepts connections, an exit status other than 0, a stop outside
# its bound, a failed command or a block that differs.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { isp_log "direct mode: nothing to stop"; exit 0; }
command -v python3 >/dev/null || isp_fail "python3 not found"

TIMEOUT=3
ISP_PROXY_KEYS="shutdown_timeout = $TIMEOUT" isp_setup
here=$(dirname "$0")

run_case() { # run_case obey|ignore|io: start a client, SIGTERM the proxy, check both
  local mode=$1 out=$ISP_WORK/client.$1.out cpid start rc=0 elapsed
  if [[ $mode == io ]]; then
    python3 "$here/io_client.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" \
      $((200 << 11)) "$ISP_WORK/never" obey >"$out" 2>&1 &
    cpid=$!
    isp_wait_output "$out" "io running" "$cpid" "io: the client's I/O did not start"
  else
    python3 "$here/shutdown_client.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" \
      "$ISP_INITIATOR" "$mode" "$TIMEOUT" >"$out" 2>&1 &
    cpid=$!
    isp_wait_output "$out" "logged in" "$cpid" "$mode: the client did not log in"
  fi
  start=$SECONDS
  kill -TERM "$PROXY_PID"
  wait "$cpid" || rc=$?
  cat "$out" >&2
  ((rc == 0)) || isp_fail "$mode: client failed"
  isp_wait_gone "$PROXY_PID" $((TIMEOUT + 10)) || isp_fail "$mode: the proxy did not exit"
  isp_proxy_exited "$PROXY_PID" >"$ISP_WORK/rc"
  rc=$(<"$ISP_WORK/rc")
  elapsed=$((SECONDS - start))
  ((rc == 0)) || isp_fail "$mode: the proxy exited with status $rc"
  if [[ $mode != ignore ]]; then
    ((elapsed < TIMEOUT)) || isp_fail "obey: the proxy took $elapsed s, not ended by the logout"
  else
    ((elapsed >= TIMEOUT - 1)) || isp_fail "ignore: the proxy stopped after $elapsed s, before its timeout"
  fi
  if isp_listening "$PROXY_PORT"; then isp_fail "$mode: something still listens on the proxy port"; fi
  grep -q "shutdown: asked 1 initiator(s) to log out" "$PROXY_LOG" ||
    isp_fail "$mode: no shutdown log line"
  echo "## $mode: proxy exited 0 after $elapsed s"
}

run_case obey
ISP_PROXY_KEYS="shutdown_timeout = $TIMEOUT" isp_start_proxy
run_case ignore
ISP_PROXY_KEYS="shutdown_timeout = $TIMEOUT" isp_start_proxy
run_case io
grep -q "logout requested within $TIMEOUT s" "$ISP_WORK/client.io.out" ||
  isp_fail "io: the client saw no logout request"
n=0
while read -r _ lba byte; do
  isp_expect_bytes "$ISP_IMG" $((lba * 512)) $((64 << 10)) "$byte" "io: block at LBA $lba"
  n=$((n + 1))
done < <(grep '^slot ' "$ISP_WORK/client.io.out")
((n > 0)) || isp_fail "io: the client reported no blocks"
echo "## io: $(grep -o 'ok: [0-9]* writes' "$ISP_WORK/client.io.out"), $n blocks at the backend as last written"
