# shellcheck shell=bash disable=SC2034,SC2119,SC2120,SC2153
# Helpers for the allocation cache tests, sourced by lib.sh (which documents
# the environment they share, PROXY_BIN among it): proxies with a coherence
# mode and a stats endpoint, /stats readers, page censuses of backing files,
# qemu-io reads.

# isp_start_proxy_cache COHERENCE [VAR=VALUE]...: one more proxy in front of our tgtd
# (target ISP_PROXY_IQN_DEFAULT -> BACKEND_IQN, LUN ISP_LUN) with that coherence
# mode, a stats endpoint on a picked port, and VAR=VALUE added to the proxy's
# environment (e.g. ISP_TEST_HOLD_LBA_STATUS_MS=300). Several may run at once.
# Sets PROXY_PORT PROXY_PID PROXY_LOG PROXY_CONF STATS_PORT URL_PROXY.
# Direct mode: PROXY_PORT=TGT_PORT, PROXY_PID and STATS_PORT empty.
isp_start_proxy_cache() {
  local coh=$1 port stats
  shift
  if ((ISP_DIRECT)); then
    PROXY_PORT=$TGT_PORT PROXY_PID="" PROXY_LOG=/dev/null STATS_PORT=""
    URL_PROXY=iscsi://127.0.0.1:$TGT_PORT/$BACKEND_IQN/$ISP_LUN
    return 0
  fi
  [[ -x "$PROXY_BIN" ]] || isp_fail "proxy binary $PROXY_BIN not found or not executable"
  isp_pick_port port
  isp_pick_port stats
  PROXY_CONF=$ISP_WORK/proxy.$port.conf
  PROXY_LOG=$ISP_WORK/proxy.$port.log
  isp_write_proxy_conf "$PROXY_CONF" "$port" "127.0.0.1:$stats" \
    "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"
  echo "coherence = $coh" >>"$PROXY_CONF"   # the [target] section is the last one
  isp_run_proxy_conf "$port" "$stats" "$@"
  URL_PROXY=iscsi://127.0.0.1:$port/$ISP_PROXY_IQN_DEFAULT/$ISP_LUN
  isp_log "proxy pid $PROXY_PID (coherence $coh${*:+, $*}) on 127.0.0.1:$port," \
    "stats 127.0.0.1:$stats -> tgtd 127.0.0.1:$TGT_PORT"
}

# isp_reload PATTERN: SIGHUP to the proxy, then wait (10 s at most) for one more
# line of its log matching PATTERN (grep) than before.
isp_reload() {
  local before i
  before=$(grep -c "$1" "$PROXY_LOG" || true)
  kill -HUP "$PROXY_PID"
  for ((i = 0; i < 100; i++)); do
    (($(grep -c "$1" "$PROXY_LOG" || true) > before)) && return 0
    isp_proxy_alive "after SIGHUP"
    sleep 0.1
  done
  isp_fail "no new log line '$1' 10 s after SIGHUP"
}

# isp_run_proxy_conf PORT STATS [VAR=VALUE]...: the proxy with the configuration
# PROXY_CONF (listening on 127.0.0.1:PORT, stats on 127.0.0.1:STATS), its output
# in PROXY_LOG, VAR=VALUE added to its environment; checked with --check-config
# first, recorded for the cleanup, waited for. Sets PROXY_PID PROXY_PORT STATS_PORT.
isp_run_proxy_conf() {
  local port=$1 stats=$2
  shift 2
  if ! isp_timeout 10 "$PROXY_BIN" --check-config -c "$PROXY_CONF" >"$PROXY_LOG.check" 2>&1; then
    cat "$PROXY_CONF" "$PROXY_LOG.check" >&2
    isp_fail "$PROXY_BIN --check-config rejects the generated configuration"
  fi
  env "$@" "$PROXY_BIN" -c "$PROXY_CONF" >"$PROXY_LOG" 2>&1 &
  PROXY_PID=$!
  PROXY_PORT=$port STATS_PORT=$stats
  _ISP_PROXY_PIDS+=("$PROXY_PID") _ISP_PROXY_LOGS+=("$PROXY_LOG")
  isp_wait_listen "$port" "$PROXY_PID" "proxy" "$PROXY_LOG" 20 ||
    isp_fail "the proxy did not start"
  isp_wait_listen "$stats" "$PROXY_PID" "proxy stats endpoint" "$PROXY_LOG" 20 ||
    isp_fail "the proxy's stats endpoint did not start"
}

# isp_start_layout_backend: a private tgtd serving, as target 1 (BACKEND_IQN), a LUN
# of ISP_IMG_SIZE built by isp_make_layout_image. Sets ISP_IMG and what
# isp_start_tgtd sets.
isp_start_layout_backend() {
  isp_require_root
  command -v python3 >/dev/null || isp_fail "python3 not found"
  command -v curl >/dev/null || isp_fail "curl not found"
  isp_start_tgtd
  ISP_IMG=$ISP_WORK/lun1.img
  isp_make_layout_image "$ISP_IMG" "$ISP_IMG_SIZE"
  isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_IMG"
}

# isp_setup_cache COHERENCE [VAR=VALUE]...: a private tgtd, a LUN of ISP_IMG_SIZE
# built by isp_make_layout_image (ext4 + raw patterns + page-cutting extents, a
# layout that does not depend on the page cache), isp_start_proxy_cache in front.
# Sets what isp_setup and isp_start_proxy_cache set.
isp_setup_cache() {
  isp_start_layout_backend
  isp_start_proxy_cache "$@"
  if ((ISP_DIRECT)); then PROXY_IQN=$BACKEND_IQN; else PROXY_IQN=$ISP_PROXY_IQN_DEFAULT; fi
  URL_DIRECT=iscsi://127.0.0.1:$TGT_PORT/$BACKEND_IQN/$ISP_LUN
  ((ISP_DIRECT)) && isp_log "DIRECT mode: no proxy, URL_PROXY points at tgtd"
  return 0
}

# isp_stats_get STATS_PORT PATH [FILE]: GET http://127.0.0.1:STATS_PORT/PATH (bounded),
# body on stdout (or into FILE); fails the test when the endpoint does not answer 200.
isp_stats_get() {
  local port=$1 path=$2 out=${3:-/dev/stdout}
  isp_timeout 10 curl -sS --fail --max-time 5 -o "$out" "http://127.0.0.1:$port/$path" ||
    isp_fail "GET http://127.0.0.1:$port/$path did not answer 200"
}

# isp_stat STATS_PORT NAME: one number of the (only) LUN in /stats. NAME is a key of
# "counters" or of "cache" (looked up in that order), or "state" / "coherence".
# Fails the test when /stats has no such LUN or key.
isp_stat() {
  local port=$1 name=$2 json v
  json=$(isp_stats_get "$port" stats)
  v=$(python3 -c '
import json, sys
name = sys.argv[1]
d = json.loads(sys.stdin.read())
luns = [l for l in d.get("luns", []) if l.get("lun") == int(sys.argv[2])]
if len(luns) != 1:
    sys.exit("/stats has %d entries for LUN %s" % (len(luns), sys.argv[2]))
l = luns[0]
for sect in ("counters", "cache"):
    if name in l.get(sect, {}):
        print(l[sect][name]); sys.exit(0)
if name in ("state", "coherence") and name in l:
    print(l[name]); sys.exit(0)
sys.exit("/stats: LUN %s has no key %r" % (sys.argv[2], name))
' "$name" "$ISP_LUN" <<<"$json") || isp_fail "cannot read $name from /stats of port $port"
  printf '%s\n' "$v"
}

# isp_stat_quick STATS_PORT NAME: like isp_stat for a numeric counter, but with no
# process started (bash's /dev/tcp, one HTTP/1.0 GET, a regex on the JSON), so that
# it can poll a window of a few ms. Takes the first "NAME": N in /stats: only for a
# proxy that serves one LUN. Prints nothing and returns 1 when it cannot tell.
isp_stat_quick() {
  local port=$1 name=$2 body="" re fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 1
  printf 'GET /stats HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&"$fd" || { exec {fd}<&-; return 1; }
  IFS= read -r -d '' -t 5 body <&"$fd" || true
  exec {fd}<&-
  re="\"$name\": *([0-9]+)"
  [[ "$body" =~ $re ]] || return 1
  printf '%s\n' "${BASH_REMATCH[1]}"
}

# isp_wait_stat STATS_PORT NAME OP VALUE SECONDS: bounded poll (isp_stat_quick, every
# 5 ms) until [ counter OP VALUE ] (OP: -gt -ge -eq -ne); prints the last value;
# returns 1 on timeout.
isp_wait_stat() {
  local port=$1 name=$2 op=$3 want=$4 deadline=$((SECONDS + $5)) v
  while :; do
    v=$(isp_stat_quick "$port" "$name") || v=$(isp_stat "$port" "$name")
    case $op in
      -gt) ((v > want)) && { echo "$v"; return 0; } ;;
      -ge) ((v >= want)) && { echo "$v"; return 0; } ;;
      -eq) ((v == want)) && { echo "$v"; return 0; } ;;
      -ne) ((v != want)) && { echo "$v"; return 0; } ;;
      *) isp_fail "isp_wait_stat: unknown operator $op" ;;
    esac
    ((SECONDS < deadline)) || { echo "$v"; return 1; }
    sleep 0.005
  done
}

# isp_page_census FILE PAGE_BYTES GRAIN_BYTES: "HOLE_PAGES PARTIAL_PAGES HOLE_GRAIN_BYTES"
# of FILE's data/hole layout (lseek SEEK_DATA/SEEK_HOLE), from the file alone:
# PAGE_BYTES-aligned pages wholly inside holes, pages with data that hold at least
# one GRAIN_BYTES-aligned grain wholly inside a hole, and the bytes of all such
# grains -- what an exclusive-mode proxy with that page and granule size keeps as
# UNALLOCATED / PARTIAL and serves as zeros after one full read.
isp_page_census() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
path, page, grain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
hole_grains, off = set(), 0
while off < size:
    try:
        data = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:          # ENXIO: no data after off, the rest is a hole
        data = size
    lo = -(-off // grain)               # first grain wholly inside the hole
    hi = min(data, size) // grain       # one past the last
    hole_grains.update(range(lo, hi))
    if data >= size:
        break
    off = os.lseek(fd, data, os.SEEK_HOLE)
per_page = page // grain
holes = partial = 0
for p in range(-(-size // page)):
    n = sum(1 for g in range(p * per_page, (p + 1) * per_page) if g in hole_grains)
    if n == per_page:
        holes += 1
    elif n > 0:
        partial += 1
print(holes, partial, len(hole_grains) * grain)
PY
}

# isp_is_hole_pages FILE OFF LEN PAGE_BYTES: every PAGE_BYTES page that [OFF, +LEN)
# touches lies in a hole of FILE (lseek SEEK_DATA).
isp_is_hole_pages() {
  python3 - "$@" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
off, n, page = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lo, hi = off // page * page, -(-(off + n) // page) * page
try:
    d = os.lseek(fd, lo, os.SEEK_DATA)
except OSError:
    d = os.fstat(fd).st_size
sys.exit(0 if d >= hi else 1)
PY
}

# isp_hole_page_bytes FILE PAGE_BYTES: bytes of the PAGE_BYTES-aligned pages of FILE
# that lie wholly inside holes.
isp_hole_page_bytes() {
  local census
  census=$(isp_page_census "$1" "$2" "$2") || return 1
  echo $(("${census%% *}" * $2))
}

# isp_rchar PID: bytes PID has read with read()/pread() so far (/proc/PID/io rchar,
# all threads of the process).
isp_rchar() {
  awk '$1 == "rchar:" { print $2 }' "/proc/$1/io" 2>/dev/null ||
    isp_fail "cannot read /proc/$1/io"
}

# isp_qio URL COMMAND...: one qemu-io session running each COMMAND (one argument
# each, e.g. "write -P 0x5a 0 4096") in order; fails on any command error or data
# mismatch, printing qemu-io's output on stderr then.
isp_qio() {
  local url=$1 out c
  local -a args=()
  shift
  for c in "$@"; do args+=(-c "$c"); done
  out=$(isp_timeout 120 qemu-io -f raw -d unmap "${args[@]}" "$url" 2>&1) ||
    { printf '%s\n' "$out" >&2; return 1; }
  if grep -qiE 'failed|error|mismatch' <<<"$out"; then printf '%s\n' "$out" >&2; return 1; fi
}

# isp_read_all URL FILE: every block of the LUN into FILE (qemu-img dd reads all of
# them; convert would skip what GET LBA STATUS calls unallocated).
isp_read_all() {
  rm -f "$2"
  isp_timeout 120 qemu-img dd -f raw -O raw bs=1M if="$1" of="$2" ||
    isp_fail "qemu-img dd from $1 failed"
}

# isp_make_layout_image IMAGE SIZE: a sparse IMAGE whose data/hole layout does not
# depend on the page cache. isp_make_fs_image's ext4 image has unwritten
# (fallocated) extents, which SEEK_DATA -- and so tgt's GET LBA STATUS -- reports as
# holes until their pages are read into the page cache, and as data after. Here its
# non-zero 4 KiB blocks are copied with plain writes into a fresh sparse file (every
# all-zero block becomes a hole), and a few raw extents that cut 64 KiB pages in
# odd places are added: 512 bytes inside a page, 8 KiB across a page boundary, a
# whole aligned page, 72 KiB over three pages. The ext4 files and the raw patterns
# of isp_make_fs_image stay where they are.
isp_make_layout_image() {
  local img=$1 size=$2
  isp_make_fs_image "$img.fs" "$size"
  python3 - "$img.fs" "$img" "$size" <<'PY' || isp_fail "cannot build the layout image $img"
import os, sys
src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
M, K = 1 << 20, 1 << 10
fi = os.open(src, os.O_RDONLY)
fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fo, size)
zero = bytes(4096)
off = 0
while off < size:
    try:
        d = os.lseek(fi, off, os.SEEK_DATA)
    except OSError:
        break
    h = os.lseek(fi, d, os.SEEK_HOLE)
    d -= d % 4096
    for o in range(d, h, 4096):
        b = os.pread(fi, 4096, o)
        if b != zero[:len(b)]:
            os.pwrite(fo, b, o)
    off = h
extra = [(100 * M + 1536, 512, 0x11),        # inside one page
         (110 * M - 4 * K, 8 * K, 0x22),     # across a page boundary
         (120 * M, 64 * K, 0x33),            # exactly one page
         (130 * M + 60 * K, 72 * K, 0x44)]   # the end of one page, one page, the start of one
for o, n, v in extra:
    os.pwrite(fo, bytes([v]) * n, o)
os.fsync(fo)
os.close(fo)
os.close(fi)
os.unlink(src)
PY
  [[ $(stat -c %s "$img") -eq $size ]] || isp_fail "the layout image $img has the wrong size"
}

# isp_probe_lun URL STATS_PORT STATE: sessions that open the LUN and read nothing,
# until /stats shows it in STATE (zero-serving, pass-through), at most 10 s. The
# proxy asks a LUN's facts on the first command to it, on that initiator's session;
# a session that logs out before the answers are back leaves the LUN unprobed for
# the next one, hence the loop. No READ, no GET LBA STATUS: the cache stays cold.
isp_probe_lun() {
  local url=$1 port=$2 want=$3 st="" deadline=$((SECONDS + 10))
  while :; do
    # qemu opens the LUN (INQUIRY, READ CAPACITY...), which starts the proxy's
    # probe; no data is read, so the cache stays cold.
    isp_qio "$url" "sleep 100" || isp_fail "opening $url failed"
    ((ISP_DIRECT)) && return 0
    st=$(isp_stat "$port" state)
    [[ "$st" == "$want" ]] && return 0
    ((SECONDS < deadline)) || isp_fail "LUN state is '$st' 10 s after the first READs, expected $want"
    sleep 0.05
  done
}

# isp_read_range URL OFF LEN FILE: bytes [OFF, +LEN) of the LUN at URL
# (iscsi://HOST:PORT/IQN/LUN) into FILE, every block read (qemu-img dd through a raw
# driver with offset/size: qemu-img dd's own skip= fails with count=, and exits 0).
isp_read_range() {
  local url=$1 off=$2 len=$3 out=$4 rest hostport iqn lun opts
  rest=${url#iscsi://}
  hostport=${rest%%/*} rest=${rest#*/}
  iqn=${rest%/*} lun=${rest##*/}
  opts="driver=raw,offset=$off,size=$len,file.driver=iscsi,file.transport=tcp"
  opts+=",file.portal=$hostport,file.target=$iqn,file.lun=$lun"
  rm -f "$out"
  isp_timeout 60 qemu-img dd --image-opts -O raw bs=64k if="$opts" of="$out" ||
    isp_fail "qemu-img dd of [$off, +$len) from $url failed"
  [[ -f "$out" && $(stat -c %s "$out") -eq $len ]] ||
    isp_fail "qemu-img dd of [$off, +$len) from $url gave $(stat -c %s "$out" 2>/dev/null || echo no) bytes"
}
