#!/usr/bin/env bash
# The event loop's polling (poll_us): after a burst of work the proxy keeps
# polling its sockets instead of sleeping, so a queue-depth-1 initiator finds
# it awake. iscsi-perf reads 4 KiB at a time for 2 s:
#   - one command in flight, through an exclusive proxy (holes answered by
#     the proxy, data forwarded to tgtd), poll_us = 1000: the proxy's
#     voluntary context switches (/proc/PID/status, the kernel's count of the
#     times it slept: an independent measurement) stay under a tenth of the
#     commands, and loop_poll_hits_total (/stats) counts at least half of them;
#   - the same after a reload (SIGHUP) to poll_us = 0: the proxy sleeps for
#     most commands, and loop_poll_hits_total does not move;
#   - 32 commands in flight, through a proxy with coherence = off (every READ
#     forwarded) and poll_us = 1000: the proxy does not poll (polling found
#     traffic for under a tenth of the commands), since with more than one
#     command in flight the next event comes anyway and the CPU a poll burns
#     belongs to the initiator and the SAN.
# Counts, not times: nothing here judges a speed.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { echo "## direct mode: no proxy loop to watch"; exit 0; }

ISP_PROXY_KEYS="poll_us = 1000" isp_setup_cache exclusive
bs=$(iscsi-readcapacity16 -i "$ISP_INITIATOR" "$URL_PROXY" | sed -n 's/^LOGICAL BLOCK LENGTH IN BYTES://p')
[[ "$bs" =~ ^[0-9]+$ ]] || isp_fail "cannot read the block size through the proxy"

sleeps() { awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$PROXY_PID/status"; }
loop_stat() { # loop_stat KEY: a counter of /stats' "event_loop"
  isp_stats_get "$STATS_PORT" stats | python3 -c '
import json, sys
print(json.load(sys.stdin)["event_loop"][sys.argv[1]])' "$1" || isp_fail "no event_loop.$1 in /stats"
}
commands() { # READs the proxy has seen, whoever answered them
  local n=0 path
  for path in zero split passthrough fallback; do
    n=$((n + $(isp_stat "$STATS_PORT" "read_commands_total_$path")))
  done
  echo "$n"
}

# run_perf QD LABEL: iscsi-perf for 2 s at QD commands in flight; sets N
# (commands), SLEPT (voluntary context switches) and HITS (loop_poll_hits_total)
# of the run.
run_perf() {
  local n0 s0 h0 out
  n0=$(commands) s0=$(sleeps) h0=$(loop_stat poll_hits_total)
  out=$(isp_timeout 60 iscsi-perf -i "$ISP_INITIATOR" -t 2 -m "$1" -b $((4096 / bs)) "$URL_PROXY" \
    </dev/null 2>&1 | tr '\r' '\n') || { printf '%s\n' "$out"; isp_fail "iscsi-perf ($2) failed"; }
  N=$(($(commands) - n0)) SLEPT=$(($(sleeps) - s0)) HITS=$(($(loop_stat poll_hits_total) - h0))
  echo "## $2: $N READs at queue depth $1; the proxy slept $SLEPT times; polling found traffic $HITS times"
  ((N >= 200)) || isp_fail "iscsi-perf ($2) sent only $N READs in 2 s"
}

run_perf 1 "poll_us = 1000"
((SLEPT < N / 10)) || isp_fail "polling for 1 ms, the proxy still slept $SLEPT times for $N commands"
((HITS >= N / 2)) || isp_fail "loop_poll_hits_total counted $HITS for $N commands polled for"

sed -i 's/^poll_us = 1000$/poll_us = 0/' "$PROXY_CONF"
isp_reload 'reload: '
run_perf 1 "poll_us = 0 (reloaded)"
((SLEPT >= N / 2)) || isp_fail "not polling, the proxy slept only $SLEPT times for $N commands"
((HITS == 0)) || isp_fail "loop_poll_hits_total moved by $HITS with poll_us = 0"
isp_proxy_alive "after the runs"

ISP_PROXY_KEYS="poll_us = 1000" isp_start_proxy_cache off
run_perf 32 "coherence = off, poll_us = 1000"
((HITS < N / 10)) || isp_fail "with 32 commands in flight the proxy still polled: $HITS hits for $N commands"
isp_proxy_alive "after the run with 32 in flight"
