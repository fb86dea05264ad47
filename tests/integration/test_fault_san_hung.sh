#!/usr/bin/env bash
# The SAN hangs (issue 12): tgtd is SIGSTOPped (by its PID) while an initiator
# writes through the proxy, 8 WRITEs in flight, and stays stopped past
# backend_timeout (3 s here).
#   - the initiator is not left hanging: its connection ends no sooner than
#     about backend_timeout and within backend_timeout + 7 s;
#   - a login attempted during the hang fails within a bound too (the backend
#     login times out), it does not hang;
#   - after SIGCONT a retry works at once: a new login rewrites the slots whose
#     WRITEs had no outcome, and once tgtd has dropped the old session, every
#     slot holds its last acknowledged WRITE byte for byte -- no WRITE of the
#     hung session lands late over the retry (no stale write);
#   - /healthz: 503 at the end of the hang (health_deadline = 2 here), 200
#     after SIGCONT. Required when the proxy judges health by the SAN's
#     answers (its /metrics has backend_portal_up) or ISP_EXPECT_HEALTH_HANG=1;
#     a proxy whose /healthz only checks that the portal accepts TCP
#     connections (a stopped tgtd still does: the kernel completes the
#     handshake) never reports the hang: then the check is skipped with a
#     "## SKIP" line;
#   - the proxy stays up, logs no error, and ends with no connection.
# Direct mode is skipped: backend_timeout is the proxy's (against tgtd alone
# the initiator would wait for its own timeout).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## skipped in direct mode: backend_timeout is the proxy's"; exit 0; }

BT=3
ISP_PROXY_KEYS="backend_timeout = $BT
health_deadline = 2"
isp_setup_cache exclusive
isp_on_exit "kill -CONT $TGT_PID 2>/dev/null || true"
here=$(dirname "$0")
M=$((1 << 20))
OFF=$((140 * M)) LEN=$((16 * M))
LBA=$((OFF / 512)) BLOCKS=16 SLOTS=$((LEN / 512 / 16))
io() { python3 "$here/fault_io.py" "$@" --lba "$LBA" --blocks "$BLOCKS" --slots "$SLOTS"; }
dd if="$ISP_IMG" of="$ISP_WORK/before.bin" bs=1M skip=$((OFF / M)) count=$((LEN / M)) status=none
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the hang -------------------------------------------------------------------
io write 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_WORK/w1.log" \
  --allow-loss --stop "$ISP_WORK/stop" >"$ISP_WORK/w1.out" 2>&1 &
cpid=$!
isp_wait_output "$ISP_WORK/w1.out" "done 300" "$cpid" "the writer did not get 300 GOOD WRITEs"
isp_wait_healthz "$STATS_PORT" 200 10 || isp_fail "/healthz is not 200 before the hang"
health_by_answers=0
isp_stats_get "$STATS_PORT" metrics | grep -q '^iscsi_sparse_proxy_backend_portal_up' && health_by_answers=1
kill -STOP "$TGT_PID"
t0=$(now_ms)
hung503=""
# While the writer waits: /healthz, every 0.1 s.
while isp_alive "$cpid"; do
  (($(now_ms) - t0 < (BT + 7) * 1000)) ||
    isp_fail "the initiator is still waiting $((BT + 7)) s into a hang (backend_timeout $BT s)"
  [[ -n "$hung503" || $(isp_healthz "$STATS_PORT") != 503 ]] || hung503=$(($(now_ms) - t0))
  sleep 0.1
done
told=$(($(now_ms) - t0))
isp_reap_into rc "$cpid"
cat "$ISP_WORK/w1.out" >&2
((rc == 0)) || isp_fail "the writer failed (exit $rc)"
grep -q "^lost: " "$ISP_WORK/w1.out" || isp_fail "the writer finished without losing its connection"
((told >= (BT - 1) * 1000)) || isp_fail "the connection ended $told ms into the hang, before backend_timeout ($BT s)"
grep -q "failed: timeout" "$PROXY_LOG" || isp_fail "the proxy's log names no backend timeout"
echo "## tgtd stopped: the initiator's connection ended after $told ms (backend_timeout $BT s): $(sed -n 's/^lost: .* after //p' "$ISP_WORK/w1.out")"

# A login during the hang: refused within a bound (backend login timeout).
t1=$(now_ms)
if isp_timeout $((BT + 20)) iscsi-inq -i "$ISP_INITIATOR2" "$URL_PROXY" >/dev/null 2>&1; then
  isp_fail "a login through the proxy succeeded while tgtd was stopped"
fi
refused=$(($(now_ms) - t1))
((refused < (BT + 10) * 1000)) || isp_fail "a login during the hang took $refused ms to fail"
echo "## a login during the hang failed after $refused ms"

# Keep the SAN hung 3 s past that failed login (the health check runs every 2 s)
# and BT + 5 s at least; then /healthz, sampled last, must report the hang.
while (($(now_ms) - t0 < (BT + 5) * 1000 || $(now_ms) - t1 - refused < 3000)); do
  [[ -n "$hung503" || $(isp_healthz "$STATS_PORT") != 503 ]] || hung503=$(($(now_ms) - t0))
  sleep 0.1
done
health_end=$(isp_healthz "$STATS_PORT")
hung_for=$(($(now_ms) - t0))

# ---- SIGCONT and the retry ------------------------------------------------------------
first=$(awk '$1 == "A" { a[$3] = 1 } $1 == "S" { slot[n] = $2; seq[n++] = $3 }
  END { for (i = 0; i < n; i++) if (!(seq[i] in a)) { print slot[i]; exit } }' "$ISP_WORK/w1.log")
[[ -n "$first" ]] || isp_fail "no WRITE was left without an outcome by the hang"
seq2=$(($(awk '$1 == "S" { s = $3 } END { print s + 1 }' "$ISP_WORK/w1.log") + 1000))
kill -CONT "$TGT_PID"
t2=$(now_ms)
io write 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_WORK/w2.log" \
  --slot "$first" --count 200 --seq "$seq2" >"$ISP_WORK/w2.out" 2>&1 ||
  { cat "$ISP_WORK/w2.out" >&2; isp_fail "the retry after SIGCONT failed"; }
retry=$(($(now_ms) - t2))
((retry < 15000)) || isp_fail "the retry took $retry ms"
# The retry logged out; a session of that initiator still at tgtd is the hung one,
# which tgtd ends on its own after SIGCONT: wait for that, then check the file.
deadline=$((SECONDS + 20))
while isp_tgtadm --op show --mode conn --tid 1 | grep -q "Initiator: $ISP_INITIATOR\$"; do
  ((SECONDS < deadline)) || isp_fail "tgtd still has the hung session 20 s after SIGCONT"
  sleep 0.1
done
io verify "$ISP_IMG" "$ISP_WORK/w1.log" "$ISP_WORK/w2.log" --before "$ISP_WORK/before.bin" \
  >"$ISP_WORK/v.out" 2>&1 || { cat "$ISP_WORK/v.out" >&2; isp_fail "a WRITE of the hung session landed over the retry, or an acknowledged WRITE is missing"; }
echo "## SIGCONT: the retry (200 WRITEs from the first slot without an outcome) took $retry ms; $(sed 's/^ok: //' "$ISP_WORK/v.out")"

# ---- /healthz -------------------------------------------------------------------------
if [[ "$health_end" == 503 ]]; then
  isp_wait_healthz "$STATS_PORT" 200 10 || isp_fail "/healthz is not 200 again 10 s after SIGCONT"
  echo "## /healthz: 503 from ${hung503:-?} ms into the hang until SIGCONT ($hung_for ms), 200 after"
elif ((health_by_answers)) || [[ "${ISP_EXPECT_HEALTH_HANG:-0}" == 1 ]]; then
  isp_fail "/healthz answered $health_end at the end of a hang of $hung_for ms (health from the SAN's answers, health_deadline 2 s)"
else
  seen=${hung503:+, 503 for a moment at $hung503 ms}
  echo "## SKIP: health is connect-based (no backend_portal_up in /metrics): /healthz $health_end at the end of a hang of $hung_for ms$seen (ISP_EXPECT_HEALTH_HANG=1 makes 503-then-200 mandatory)"
fi

isp_proxy_alive "after the hang"
n=$(isp_wait_stat "$STATS_PORT" connections -eq 0 10) ||
  isp_fail "the proxy still counts $n connections 10 s after every initiator left"
errs=$(isp_proxy_log_errors "$PROXY_LOG")
[[ -z "$errs" ]] || isp_fail "the proxy logged errors: $errs"
