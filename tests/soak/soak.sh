#!/usr/bin/env bash
# make soak (issue 12): the long form of the fault suite. SOAK_SESSIONS (64)
# sessions of mixed READs and WRITEs (tests/soak/soak_load.py: each session
# paced at SOAK_RATE commands/s, 4-32 KiB, SOAK_WRITE_PCT % WRITEs, every READ
# checked against what the session wrote) for SOAK_SECONDS (600) through the
# proxy, tgtd killed (SIGKILL) and started again halfway; then the same load,
# restart included, straight against tgtd for comparison. Reported: the proxy's
# RSS (VmRSS, VmHWM), open file descriptors and CPU time (utime + stime) before,
# during (every SOAK_SAMPLE s) and after, and latency percentiles of READs and
# WRITEs through the proxy and directly. Written to build/soak-report.txt too.
#
#   tests/soak/soak.sh build/iscsi-sparse-proxy     (make soak)
#   SOAK_SECONDS=120 SOAK_SESSIONS=64 SOAK_RATE=25 SOAK_WRITE_PCT=30 SOAK_PROCS=4
#   SOAK_COHERENCE=verify SOAK_SAMPLE=10 ISP_KEEP=1
#
# Fails (exit 1) on a data error, a session that cannot log in again within
# 60 s of the restart, the proxy dying or logging an error, or the proxy not
# back to its idle file descriptors and no connection 30 s after the load.
# Only 127.0.0.1 is used; every process started is ended by its PID.
set -euo pipefail
[[ $# -eq 1 && "$1" != direct ]] || { echo "usage: $0 PROXY_BIN" >&2; exit 2; }
PROXY_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export PROXY_BIN
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/../integration/lib.sh"

SECS=${SOAK_SECONDS:-600} SESSIONS=${SOAK_SESSIONS:-64} RATE=${SOAK_RATE:-25}
WPCT=${SOAK_WRITE_PCT:-30} PROCS=${SOAK_PROCS:-4} COH=${SOAK_COHERENCE:-verify}
SAMPLE=${SOAK_SAMPLE:-10}
REPORT=$here/../../build/soak-report.txt
mkdir -p "$(dirname "$REPORT")"
SLOTS=256                               # 32 KiB slots per session: 8 MiB each
command -v python3 >/dev/null || isp_fail "python3 not found"
isp_require_root
TCK=$(getconf CLK_TCK)

isp_start_tgtd
IMG=$ISP_WORK/soak.img
REGION=$((SESSIONS * SLOTS * 32768))     # each phase writes a region of its own
truncate -s $((2 * REGION + (64 << 20))) "$IMG"
isp_tgt_add_target 1 "$BACKEND_IQN" "$IMG"
isp_start_proxy_cache "$COH"

# sample PID: "RSS_KB HWM_KB FDS CPU_S" of PID.
sample() {
  local rss hwm fds cpu
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$1/status")
  fds=$(isp_fd_count "$1")
  # utime and stime: fields 14 and 15 of /proc/PID/stat, after the ")" of comm.
  cpu=$(awk -v t="$TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat")
  echo "$rss $hwm $fds $cpu"
}

# phase NAME PORT TARGET LBA: the load for SECS s against 127.0.0.1:PORT, on the
# region from LBA, tgtd killed
# and started again at SECS/2; the proxy sampled every SAMPLE s. Result in
# $ISP_WORK/NAME.json, samples in $ISP_WORK/NAME.samples, restart time in RESTART_MS.
phase() {
  local name=$1 port=$2 target=$3 lba=$4 lpid t0 restarted=0 next rc
  isp_log "$name: $SESSIONS sessions for $SECS s, $RATE commands/s each, $WPCT % WRITEs"
  python3 "$here/soak_load.py" 127.0.0.1 "$port" "$target" "iqn.2026-11.org.example:soak-$name" \
    "$SESSIONS" "$SECS" "$ISP_WORK/$name.json" --rate "$RATE" --write-pct "$WPCT" \
    --procs "$PROCS" --slots "$SLOTS" --lba "$lba" >"$ISP_WORK/$name.out" 2>&1 &
  lpid=$!
  t0=$SECONDS next=$SECONDS
  : >"$ISP_WORK/$name.samples"
  while isp_alive "$lpid"; do
    if ((SECONDS >= next)); then
      echo "$((SECONDS - t0)) $(sample "$PROXY_PID")" >>"$ISP_WORK/$name.samples"
      next=$((next + SAMPLE))
    fi
    if ((!restarted && SECONDS - t0 >= SECS / 2)); then
      local r0=${EPOCHREALTIME/./}
      isp_kill_tgtd
      isp_restart_tgtd "$IMG"
      RESTART_MS=$(((${EPOCHREALTIME/./} - r0) / 1000))
      isp_log "$name: tgtd killed and started again at $((SECONDS - t0)) s ($RESTART_MS ms)"
      restarted=1
    fi
    isp_proxy_alive "during the $name phase"
    ((SECONDS - t0 < SECS + 180)) || isp_fail "$name: the load is still running $((SECS + 180)) s after its start"
    sleep 0.5
  done
  isp_reap_into rc "$lpid"
  cat "$ISP_WORK/$name.out" >&2
  ((rc == 0)) || isp_fail "$name: the load failed (exit $rc): $(grep -E '^(FAIL|DATA)' "$ISP_WORK/$name.out" | head -3)"
  ((restarted)) || isp_fail "$name: the load ended before the SAN restart"
}

idle=$(sample "$PROXY_PID")
phase proxy "$PROXY_PORT" "$ISP_PROXY_IQN_DEFAULT" 0
restart_proxy_ms=$RESTART_MS
loaded=$(tail -n 1 "$ISP_WORK/proxy.samples")
idle_fds=$(cut -d' ' -f3 <<<"$idle")
fds=$(isp_wait_fds "$PROXY_PID" "$idle_fds" 30) ||
  isp_fail "the proxy has $fds file descriptors 30 s after the load, $idle_fds before it"
n=$(isp_wait_stat "$STATS_PORT" connections -eq 0 30) ||
  isp_fail "the proxy still counts $n connections 30 s after the load"
after=$(sample "$PROXY_PID")

phase direct "$TGT_PORT" "$BACKEND_IQN" $((REGION / 512))
restart_direct_ms=$RESTART_MS
idle_end=$(sample "$PROXY_PID")
isp_proxy_alive "at the end"
errs=$(isp_proxy_log_errors "$PROXY_LOG")
[[ -z "$errs" ]] || isp_fail "the proxy logged errors: $errs"

python3 - "$ISP_WORK" "$SECS" "$SESSIONS" "$RATE" "$WPCT" "$COH" "$idle" "$loaded" "$after" \
  "$idle_end" "$restart_proxy_ms" "$restart_direct_ms" "$PROXY_BIN" <<'PY' | tee "$REPORT"
import json, sys
work, secs, sessions, rate, wpct, coh = sys.argv[1:7]
idle, loaded, after, idle_end = (list(map(float, a.split())) for a in sys.argv[7:11])
rp, rd, binary = sys.argv[11], sys.argv[12], sys.argv[13]
r = {n: json.load(open(f"{work}/{n}.json")) for n in ("proxy", "direct")}
samples = [list(map(float, l.split())) for l in open(f"{work}/proxy.samples")]
ms = lambda v: "-" if v is None else f"{v * 1000:.2f}"
print(f"soak: {sessions} sessions x {secs} s each way, {rate} commands/s per session, {wpct} % WRITEs, "
      f"4-32 KiB, coherence {coh}; tgtd SIGKILLed and restarted halfway ({rp} ms through the proxy "
      f"phase, {rd} ms in the direct one); {binary}")
print(f"{'':28}{'proxy':>14}{'direct':>14}")
row = lambda label, f: print(f"{label:28}{f(r['proxy']):>14}{f(r['direct']):>14}")
row("commands GOOD", lambda m: str(m["count"]["read"] + m["count"]["write"]))
row("commands/s", lambda m: f"{m['iops']:.0f}")
for k in ("read", "write"):
    for q in ("50", "99", "99.9"):
        row(f"{k} p{q} (ms)", lambda m: ms(m[f"{k}_p{q}"]))
    row(f"{k} max (ms)", lambda m: ms(m["max"][k]))
row("connections lost (restart)", lambda m: str(m["lost"]))
row("longest re-login (s)", lambda m: f"{m['relogin_max']:.2f}")
row("data errors", lambda m: str(m["n_data_errors"]))
row("other statuses", lambda m: str(m["other_status"]))
p99 = [r[n]["read_p99"] for n in ("proxy", "direct")]
if all(p99):
    print(f"read p99 proxy/direct: {p99[0] / p99[1]:.2f}")
cmds = r["proxy"]["count"]["read"] + r["proxy"]["count"]["write"]
print("proxy process (RSS, VmHWM in MiB; CPU = utime + stime):")
print(f"  idle before:      RSS {idle[0] / 1024:.1f}  HWM {idle[1] / 1024:.1f}  fds {idle[2]:.0f}  CPU {idle[3]:.2f} s")
rss = [s[1] for s in samples]
fd = [s[3] for s in samples]
print(f"  under load:       RSS {min(rss) / 1024:.1f}..{max(rss) / 1024:.1f}  fds {min(fd):.0f}..{max(fd):.0f}"
      f"  ({len(samples)} samples)")
print(f"  end of load:      RSS {loaded[1] / 1024:.1f}  HWM {loaded[2] / 1024:.1f}  fds {loaded[3]:.0f}  CPU {loaded[4]:.2f} s")
print(f"  after (settled):  RSS {after[0] / 1024:.1f}  HWM {after[1] / 1024:.1f}  fds {after[2]:.0f}  CPU {after[3]:.2f} s")
print(f"  end (idle during the direct phase): RSS {idle_end[0] / 1024:.1f}  fds {idle_end[2]:.0f}  "
      f"CPU {idle_end[3]:.2f} s")
print(f"  CPU for the proxy phase: {after[3] - idle[3]:.2f} s = {1e6 * (after[3] - idle[3]) / max(cmds, 1):.0f} us "
      f"per command; idle over the direct phase: {idle_end[3] - after[3]:.2f} s")
# RSS growth over the second half of the load (after the restart), per sample
half = [s for s in samples if s[0] >= float(secs) / 2 + 10]
if len(half) >= 2:
    print(f"  RSS from {half[0][0]:.0f} s to {half[-1][0]:.0f} s: {half[0][1] / 1024:.1f} -> {half[-1][1] / 1024:.1f} MiB")
PY
echo "soak: report in build/soak-report.txt"
