#!/usr/bin/env bash
# make bench, part 3: copy tools over the slow SAN (issue 11).
#
# The same SAN as tests/bench/slow_san.sh (slow_san_lib.sh: the 4 GiB aged
# ext4 thin LUN, a tgtd behind a veth pair shaped to 1 Gbit/s, a second tgtd
# on 127.0.0.1 serving the same file). Two tools that skip holes, both asking
# GET LBA STATUS with room for one descriptor, once per extent:
#   convert   qemu-img convert -O raw: the LUN to a local raw file (in
#             SLOW_SAN_COPY_OUT, tmpfs by default, so no disk is measured);
#             it reads only the mapped data. Every copy is compared with the
#             LUN's backing file (cmp); a copy that differs fails the script.
#             (convert asks for the whole map twice: once to size its
#             progress, once while copying.)
#   map       qemu-img map --output=json: the extent list only. Every map is
#             compared with the first one taken on loopback: one that calls
#             data a hole fails the script; one that calls a hole data (safe:
#             a copy reads zeros there) is reported with the bytes and where.
# each run against
#   loopback  the tgtd on 127.0.0.1 (no link)
#   direct    host -> veth -> tgtd
#   proxy     host -> proxy (127.0.0.1) -> veth -> tgtd, coherence exclusive,
#             verify and off (page_size auto); cold (a new proxy process),
#             then warm (the same tool again through the same process); a
#             convert and a map each get a new process
# and reports wall time (login included; the cmp is not), bytes that crossed
# the link (host veth rx+tx counters), from the proxy's /metrics the
# initiators' GET LBA STATUS it answered itself ("local") and sent on
# ("fwd"), and the GET LBA STATUS it sent on its own ("own"), the CPU time
# the serving tgtd and the proxy used (/proc/PID/stat; independent of the
# load others put on the machine, unlike the wall times), the ratio to the
# physical limit and the speed-up over direct:
#   limit convert = max(allocated / link rate, loopback convert time)
#   limit map     = loopback map time (nothing to carry but the commands)
# and the ratio to allocated / link rate alone. Aims (issue 11): exclusive
# convert within 1.5x the limit cold and 1.25x warm; verify convert no slower
# than direct.
#
# The window. tgt answers every GET LBA STATUS by walking the file with
# SEEK_DATA/SEEK_HOLE from the STARTING LBA to the end of the LUN, whatever
# the allocation length: a whole-LUN map of this LUN asks 19,730 of them and
# costs tgtd 135 s of CPU (6.9 ms a query on average; measured 229 s wall on
# loopback, 303 s direct), a convert twice that (260 s CPU, 316-345 s wall):
# about 40 minutes for one repetition of loopback, direct, exclusive and
# verify. So by default the tools see only the LUN's last SLOW_SAN_COPY_SIZE
# bytes (qemu's raw driver, offset/size over the iscsi node): 1 GiB holding
# 63 MiB in 1,539 data runs, 3,079 extents, where tgt's walk is what it
# would be on a 1 GiB LUN of this filesystem (about 1 ms of tgtd CPU per
# query). SLOW_SAN_COPY_SIZE=4294967296 runs the whole LUN (measured 2,331 s
# for one repetition without off: SLOW_SAN_COPY_REPS=1
# SLOW_SAN_COPY_MODES="exclusive verify" SLOW_SAN_COPY_TIMEOUT=2400).
#
# A benchmark, not a test: it never fails on figures, only when something
# could not run or copied or mapped wrong. Every command is bounded
# (SLOW_SAN_COPY_TIMEOUT). Every case runs once per repetition, medians are
# reported; no repetition starts once SLOW_SAN_COPY_BUDGET seconds have
# passed, nor one that would end after it (judging by the one before).
# Time: about 6 minutes on the shared 2-core machine (one repetition 60-90 s,
# 4 repetitions in the 360 s budget; measured 329-359 s), plus the image
# build the first time (about a minute, shared with slow_san.sh).
#
#   tests/bench/slow_san_copy.sh PROXY_BIN|direct
#   SLOW_SAN_COPY_REPS (5)        repetitions
#   SLOW_SAN_COPY_MODES ("exclusive verify off")  proxy cases (MODE/SIZE: page_size)
#   SLOW_SAN_COPY_BUDGET (360)    seconds after which no new repetition starts
#   SLOW_SAN_COPY_TIMEOUT (900)   seconds per convert or map
#   SLOW_SAN_COPY_SIZE (1 GiB)    the window: the LUN's last bytes the tools see
#                                 (a multiple of 64 KiB, up to 4 GiB)
#   SLOW_SAN_COPY_OUT (/dev/shm)  where the copies are written (one at a time)
#   SLOW_SAN_COPY_BASELINES (1)   0: no loopback and direct runs (the proxy
#                                 modes of the whole LUN in minutes; x limit
#                                 and vs direct are then "-"; maps are checked
#                                 against the first proxy map, copies still
#                                 against the backing file)
#   and slow_san_lib.sh's SLOW_SAN_MBIT, SLOW_SAN_PAGE_SIZE, SLOW_SAN_CACHE
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NOTE_TAG=slow-san-copy
# shellcheck source=tests/bench/slow_san_lib.sh
. "$HERE/slow_san_lib.sh"

REPS=${SLOW_SAN_COPY_REPS:-5}
BUDGET=${SLOW_SAN_COPY_BUDGET:-360}
TMO=${SLOW_SAN_COPY_TIMEOUT:-900}
SIZE=${SLOW_SAN_COPY_SIZE:-$((1 << 30))}
T0=$SECONDS
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || isp_fail "bad SLOW_SAN_COPY_REPS"
window_setup SLOW_SAN_COPY_SIZE "${SLOW_SAN_COPY_OUT:-/dev/shm}" copy

san_setup
# What the window holds: allocated bytes and data runs.
read -r ALLOC_W RUNS_W _ < <(python3 "$HERE/data_runs.py" "$IMG" "$WIN_OFF")

# ---- the tools ------------------------------------------------------------------------
REF_MAP=$ISP_WORK/ref.map.json   # the first loopback map: what the others are checked against
MAP_OUT=$ISP_WORK/map.json
TOOL_WALL=""
MAP_EXTRA=()      # "CASE BYTES RUNS": maps that said mapped where the SAN has a hole

# map_check REF MAP: compares two qemu-img map --output=json lists by their
# "data" flag. Exit 1, naming the first place, if MAP says not-data where REF
# says data (a copy tool would skip data), or they do not cover the same
# bytes; otherwise prints "BYTES RUNS" that MAP says are data and REF a hole
# (conservative: the tool reads zeros there), "0 0" when they agree.
map_check() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
def runs(path):
    with open(path) as f:
        m = json.load(f)
    out, pos = [], 0
    for e in m:
        if e["start"] != pos:
            sys.exit("%s: extent at %d, expected %d" % (path, e["start"], pos))
        out.append((e["start"], e["start"] + e["length"], bool(e["data"])))
        pos += e["length"]
    return out, pos
ref, rend = runs(sys.argv[1])
got, gend = runs(sys.argv[2])
if rend != gend:
    sys.exit("the maps cover %d and %d bytes" % (rend, gend))
i = j = 0
pos = extra = nextra = 0
first = "-"
prev_extra = False
while pos < rend:
    while ref[i][1] <= pos: i += 1
    while got[j][1] <= pos: j += 1
    end = min(ref[i][1], got[j][1])
    if ref[i][2] and not got[j][2]:
        sys.exit("bytes %d-%d: data on the SAN, reported as a hole" % (pos, end))
    is_extra = got[j][2] and not ref[i][2]
    if is_extra:
        first = pos if first == "-" else first
        extra += end - pos
        nextra += not prev_extra
    prev_extra = is_extra
    pos = end
print(extra, nextra, first)
EOF
}

# run_tool OP HOST PORT IQN NAME: one convert or map; sets TOOL_WALL (seconds).
# A copy that differs from the backing file, or a map that differs from the
# reference, is a failure.
run_tool() {
  local op=$1 src t0 t1 rc=0 log=$ISP_WORK/tool.log
  src=$(src_opts "$2" "$3" "$4")
  rm -f "$OUT"
  t0=$EPOCHREALTIME
  if [[ $op == convert ]]; then
    isp_timeout "$TMO" qemu-img convert --image-opts "$src" -O raw "$OUT" </dev/null >"$log" 2>"$log.err" || rc=$?
  else
    isp_timeout "$TMO" qemu-img map --output=json --image-opts "$src" </dev/null >"$log" 2>"$log.err" || rc=$?
  fi
  t1=$EPOCHREALTIME
  if ((rc)); then
    tail -n 5 "$log" "$log.err" >&2
    note "$5 $op: qemu-img exited with status $rc"
    return 1
  fi
  if [[ $op == convert ]]; then
    if ! copy_matches; then
      note "$5 convert: the copy DIFFERS from the backing file"
      return 1
    fi
    rm -f "$OUT"
  else
    [[ -s "$REF_MAP" ]] || cp "$log" "$REF_MAP"
    cp "$log" "$MAP_OUT"
    if ! cmp -s "$REF_MAP" "$MAP_OUT"; then
      local extra
      if ! extra=$(map_check "$REF_MAP" "$MAP_OUT"); then
        note "$5 map: WRONG against the first loopback map (above)"
        return 1
      fi
      if [[ $extra != "0 0 -" ]]; then
        MAP_EXTRA+=("$5 $extra")
        read -r -a extra <<<"$extra"
        note "$5 map: differs from the loopback map: ${extra[0]} bytes in ${extra[1]} runs" \
          "(the first at ${extra[2]}) reported mapped where the SAN has a hole (conservative)"
      fi
    fi
  fi
  TOOL_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# ---- bookkeeping --------------------------------------------------------------------
# Per case key "op|name": lists of values, one per repetition.
declare -A WALL=() SANB=() LOC=() FWD=() OWN=() SCPU=() PCPU=()
CASES=()
record() { # record KEY WALL LINK LOCAL FWD OWN SAN_CPU PROXY_CPU
  [[ -n "${WALL[$1]+x}" ]] || CASES+=("$1")
  WALL[$1]+="$2 " SANB[$1]+="$3 " LOC[$1]+="$4 " FWD[$1]+="$5 " OWN[$1]+="$6 "
  SCPU[$1]+="$7 " PCPU[$1]+="$8 "
  note "$(printf '%-7s %-16s %6.2f s  link %4d MB  GLS local %5s fwd %5s own %3s  cpu tgtd %5s proxy %5s' \
    "${1%%|*}" "${1#*|}" "$2" $(($3 / 1000000)) "$4" "$5" "$6" "$7" "$8")"
}
# cpu_ticks PID: user + system clock ticks the process (all its threads) used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
TCK=$(getconf CLK_TCK)
secs() { awk -v t="$1" -v h="$TCK" 'BEGIN { printf "%.2f", t / h }'; }

# run_plain OP NAME HOST PORT IQN LINK(0|1) TGTD_PID
run_plain() {
  local op=$1 name=$2 b0 b1 c0
  b0=$(link_bytes) c0=$(cpu_ticks "$7")
  if run_tool "$op" "$3" "$4" "$5" "$name"; then
    b1=$(link_bytes)
    (($6)) || b1=$b0
    record "$op|$name" "$TOOL_WALL" "$((b1 - b0))" - - - "$(secs $(($(cpu_ticks "$7") - c0)))" -
  else
    fail_case "$name $op"
  fi
}

# run_proxy OP MODE[/PAGE]: a new proxy, the tool cold, again warm, stop.
run_proxy() {
  local op=$1 label=$2 mode=${2%/*} page=$PAGE_SIZE phase b0 b1 m0 m1 l f o c0 p0 sc pc
  local -a a0 a1
  [[ $label != */* ]] || page=${label#*/}
  start_proxy "$mode" "$page"
  for phase in cold warm; do
    b0=$(link_bytes) m0=$(proxy_metrics "$PX_STATS")
    c0=$(cpu_ticks "$SAN_TGT_PID") p0=$(cpu_ticks "$PX_PID")
    if run_tool "$op" 127.0.0.1 "$PX_PORT" "$ISP_PROXY_IQN_DEFAULT" "$label $phase"; then
      sc=$(secs $(($(cpu_ticks "$SAN_TGT_PID") - c0))) pc=$(secs $(($(cpu_ticks "$PX_PID") - p0)))
      b1=$(link_bytes) m1=$(proxy_metrics "$PX_STATS")
      l=- f=- o=-
      if [[ -n "$m0" && -n "$m1" ]]; then
        read -r -a a0 <<<"$m0"
        read -r -a a1 <<<"$m1"
        o=$((a1[0] - a0[0])) l=$((a1[4] - a0[4])) f=$((a1[5] - a0[5]))
      fi
      record "$op|$label $phase" "$TOOL_WALL" "$((b1 - b0))" "$l" "$f" "$o" "$sc" "$pc"
    else
      fail_case "proxy $label $phase $op"
    fi
    isp_alive "$PX_PID" || { fail_case "proxy $label ($op) died"; break; }
  done
  stop_proxy
}

# ---- the run ----------------------------------------------------------------------------
read -r -a MODES <<<"${SLOW_SAN_COPY_MODES:-exclusive verify off}"
((ISP_DIRECT)) && MODES=()
note "qemu-img convert -O raw and qemu-img map --output=json of the LUN's last $((SIZE >> 20)) MiB; link ${MBIT} Mbit/s; copies in $OUT_DIR"
rep_secs=0        # time the last repetition took
for ((rep = 1; rep <= REPS; rep++)); do
  if ((rep > 1 && SECONDS - T0 + rep_secs > BUDGET)); then
    note "time budget (${BUDGET}s) reached after $((rep - 1)) repetitions"
    break
  fi
  note "---- repetition $rep"
  t=$SECONDS
  for op in map convert; do
    if ((${SLOW_SAN_COPY_BASELINES:-1})); then
      run_plain "$op" loopback 127.0.0.1 "$LOOP_PORT" "$BACKEND_IQN" 0 "$LOOP_PID"
      run_plain "$op" direct "$SAN_NS_ADDR" "$SAN_TGT_PORT" "$BACKEND_IQN" 1 "$SAN_TGT_PID"
    fi
    for mode in "${MODES[@]}"; do
      run_proxy "$op" "$mode"
    done
  done
  rep_secs=$((SECONDS - t))
done
REPS_DONE=$((rep - 1))

# ---- the table --------------------------------------------------------------------------
n_ext=$(grep -c '"start"' "$REF_MAP" 2>/dev/null || true)
alink=$(awk -v a="$ALLOC_W" -v r="$LINK_BPS" 'BEGIN { printf "%.2f", a / r }')
loop_c=$(median "${WALL[convert|loopback]:-}") loop_m=$(median "${WALL[map|loopback]:-}")
lim_c=$(awk -v al="$alink" -v l="$loop_c" 'BEGIN {
  if (l == "-") print "-"; else printf "%.2f", (al > l ? al : l) }')
lim_m=$loop_m

echo
echo "slow-san-copy: qemu-img convert / map of the LUN's last $((SIZE >> 20)) MiB" \
  "(of $((IMG_SIZE >> 20)) MiB), median of n runs"
echo "  window: allocated $(awk -v a="$ALLOC_W" 'BEGIN { printf "%.1f", a / 1048576 }') MiB" \
  "in $RUNS_W data runs; the map lists $n_ext extents; allocated/link = ${alink} s at ${MBIT} Mbit/s"
echo "  limit convert = max(${alink}, loopback ${loop_c}) = ${lim_c} s; limit map = loopback ${lim_m} s"
echo "  GLS loc/fwd: initiators' GET LBA STATUS the proxy answered itself / sent on;" \
  "own: those it sent for its map"
echo "  x limit: wall / limit; x data: wall / (allocated/link); vs direct: direct wall / wall"
echo "  cpu s: CPU time (user + system) of the tgtd that served the pass, and of the proxy"
fmt='%-8s %-15s %2s %7s %7s %7s %7s %4s %7s %7s %7s %7s %9s\n'
# shellcheck disable=SC2059  # the format is ours
printf "$fmt" op case n "wall s" "link MB" "GLS loc" "GLS fwd" own "tgtd s" "proxy s" "x limit" "x data" "vs direct"
for op in convert map; do
  if [[ $op == convert ]]; then lim=$lim_c al=$alink; else lim=$lim_m al=-; fi
  d=$(median "${WALL[$op|direct]:-}")
  for k in "${CASES[@]}"; do
    [[ ${k%%|*} == "$op" ]] || continue
    name=${k#*|}
    w=$(median "${WALL[$k]}") sb=$(median "${SANB[$k]}") l=$(median "${LOC[$k]}")
    f=$(median "${FWD[$k]}") o=$(median "${OWN[$k]}") n=$(count "${WALL[$k]}")
    sc=$(median "${SCPU[$k]}") pc=$(median "${PCPU[$k]}")
    [[ $name == loopback ]] && sb=-
    awk -v fmt="$fmt" -v op="$op" -v c="$name" -v n="$n" -v w="$w" -v sb="$sb" -v l="$l" \
      -v f="$f" -v o="$o" -v sc="$sc" -v pc="$pc" -v lim="$lim" -v al="$al" -v d="$d" 'BEGIN {
        sbs = (sb == "-") ? "-" : sprintf("%.1f", sb / 1e6)
        rl = (w == "-" || lim == "-" || lim == 0) ? "-" : sprintf("%.2f", w / lim)
        ra = (w == "-" || al == "-" || al == 0) ? "-" : sprintf("%.2f", w / al)
        sp = (w == "-" || d == "-" || w == 0) ? "-" : sprintf("%.2fx", d / w)
        printf fmt, op, c, n, w, sbs, l, f, o, sc, pc, rl, ra, sp }'
  done
done

for m in "${MAP_EXTRA[@]}"; do
  read -r -a x <<<"$m"
  echo "  map ${x[*]:0:${#x[@]}-3}: ${x[-3]} bytes in ${x[-2]} runs (the first at ${x[-1]})" \
    "said mapped where the SAN has a hole"
done

# The aims of issue 11, against this run's medians; the exclusive ones also
# against allocated/link alone (the limit without tgt's GET LBA STATUS cost).
aim() { # aim TEXT VALUE BOUND: VALUE <= BOUND?
  awk -v t="$1" -v v="$2" -v b="$3" 'BEGIN {
    if (v == "-" || b == "-") { printf "  aim %-48s -\n", t; exit }
    printf "  aim %-48s %6.2f  %s\n", t, v, (v <= b + 0 ? "met" : "NOT met") }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", a / b }'; }
if ((!ISP_DIRECT)); then
  echo
  for phase in cold warm; do
    if [[ $phase == cold ]]; then bound=1.5; else bound=1.25; fi
    w=$(median "${WALL[convert|exclusive $phase]:-}")
    aim "exclusive convert $phase / limit <= $bound" "$(ratio "$w" "$lim_c")" "$bound"
    aim "exclusive convert $phase / (allocated/link) <= $bound" "$(ratio "$w" "$alink")" "$bound"
  done
  for phase in cold warm; do
    aim "verify convert $phase / direct <= 1" \
      "$(ratio "$(median "${WALL[convert|verify $phase]:-}")" "$(median "${WALL[convert|direct]:-}")")" 1
  done
fi
echo
note "repetitions: ${REPS_DONE}; took $((SECONDS - T0)) s"
if ((errors)); then
  isp_fail "$errors cases failed (a copy or map differed, or a run could not complete)"
fi
