# shellcheck shell=bash disable=SC2034,SC2119,SC2120
# (SC2034: variables are for the sourcing scripts; SC2119/SC2120: optional args)
# Shared helpers for the integration tests, tests/demo.sh and tests/bench/bench.sh.
#
#   . tests/integration/lib.sh      (from a bash script with set -euo pipefail)
#   isp_setup                       tgtd + thin LUN with ext4 + proxy, URLs below
#
# Everything the sourcing script starts is recorded by PID and ended at exit by
# that PID (never by name); every temporary file lives under $ISP_WORK, removed
# at exit (ISP_KEEP=1 keeps it for a post-mortem). Only 127.0.0.1 is used.
#
# Environment:
#   PROXY_BIN       the proxy binary; empty or "direct" runs the tests against
#                   tgtd directly (proves the scripts without a proxy)
#   ISP_LOG_LEVEL   proxy log_level (default info)
#   ISP_KEEP=1      keep $ISP_WORK (logs, images) and print where it is
#   ISP_SIGNAL_OK=1 exit 0 when ended by SIGINT/SIGTERM (set by the demo)
#
# After isp_setup (or the pieces it calls):
#   TGT_PORT TGT_CTL TGT_PID    private tgtd: iSCSI port, control number, PID
#   PROXY_PORT PROXY_PID        the proxy (in direct mode PROXY_PORT=TGT_PORT)
#   PROXY_IQN BACKEND_IQN       target names at the front and at the back
#   URL_PROXY URL_DIRECT        iscsi://127.0.0.1:PORT/IQN/LUN of the same LUN
#   ISP_IMG                     the LUN's backing file (sparse, ext4 inside)

if [[ -n "${_ISP_LIB_LOADED:-}" ]]; then return 0; fi
_ISP_LIB_LOADED=1

ISP_INITIATOR=iqn.2026-11.org.example:test-initiator
ISP_INITIATOR2=iqn.2026-11.org.example:test-initiator-2
BACKEND_IQN=${BACKEND_IQN:-iqn.2026-11.org.example:san.lun1}
ISP_PROXY_IQN_DEFAULT=iqn.2026-11.org.example:proxy.lun1
ISP_LUN=1                       # tgt: LUN 0 is its controller, the disk is LUN 1
ISP_IMG_SIZE=$((256 << 20))     # default LUN size for the integration tests
ISP_FS_SIZE_K=$((128 << 10))    # the ext4 filesystem covers the first 128 MiB
# A raw pattern outside the filesystem, and one in the LUN's last 64 KiB.
ISP_PAT_OFF=$((192 << 20)) ISP_PAT_LEN=$((1 << 20)) ISP_PAT_BYTE=0x5a
ISP_TAIL_LEN=$((64 << 10)) ISP_TAIL_BYTE=0xa5
ISP_PORT_MIN=20000 ISP_PORT_MAX=31999   # below the ephemeral range (32768+)

ISP_NAME=$(basename "$0" .sh)
ISP_DIRECT=0
if [[ -z "${PROXY_BIN:-}" || "${PROXY_BIN:-}" == direct ]]; then ISP_DIRECT=1; fi

ISP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/isp-${ISP_NAME}.XXXXXX")
_ISP_PROXY_PIDS=()
_ISP_PROXY_LOGS=()
_ISP_TGT_PIDS=()        # parallel arrays: PID, control number, tids, log
_ISP_TGT_CTLS=()
_ISP_TGT_TIDS=()
_ISP_TGT_LOGS=()
_ISP_TGT_CUR=-1         # index of the tgtd isp_tgtadm talks to
_ISP_SOCKETS=()         # /var/run/tgtd/socket.N files our tgtds created
_ISP_PICKED=" "
_ISP_HOOKS=()
_ISP_FAILED_AT_EXIT=0
_ISP_SIGNALLED=0

isp_log()  { printf '[%s] %s\n' "$ISP_NAME" "$*" >&2; }
isp_fail() { printf 'FAIL [%s]: %s\n' "$ISP_NAME" "$*" >&2; exit 1; }

# Run a command with a time limit (seconds) so a hung peer cannot hang a test.
# --foreground keeps it in our process group, so a signal to the group (run.sh's
# timeout, Ctrl-C) reaches it too instead of leaving it orphaned.
isp_timeout() { local s=$1; shift; timeout --foreground -k 5 "$s" "$@"; }

# Register a command run at exit, before processes are stopped.
isp_on_exit() { _ISP_HOOKS+=("$1"); }

# ---- processes ------------------------------------------------------------------
# Alive and not a zombie (kill -0 succeeds on an unreaped child).
isp_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n "$st" && "$st" != Z* ]]
}

# isp_wait_gone PID SECONDS: poll until PID has exited; 1 if it has not.
isp_wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while isp_alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# isp_reap PID: wait for our child and print its exit status.
isp_reap() { local rc=0; wait "$1" 2>/dev/null || rc=$?; echo "$rc"; }

# isp_reap_into VAR PID: the same, into VAR, in this shell: rc=$(isp_reap PID)
# waits in a subshell, which is not PID's parent and can get a status of -1
# when this shell has not reaped PID yet.
isp_reap_into() { local _rc=0; wait "$2" 2>/dev/null || _rc=$?; printf -v "$1" '%s' "$_rc"; }

# ---- ports ------------------------------------------------------------------------
isp_port_free() { ! ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }

# isp_listening PORT [PID]: something (PID, if given) listens on 127.0.0.1:PORT.
isp_listening() {
  local out
  out=$(ss -Htlnp "sport = :$1" 2>/dev/null) || return 1
  [[ -n "$out" ]] || return 1
  [[ -z "${2:-}" ]] || grep -q "pid=$2," <<<"$out"
}

# isp_pick_port VAR: a free TCP port in [ISP_PORT_MIN, ISP_PORT_MAX], not handed
# out before by this script, whose tgtd control socket name is unused too.
isp_pick_port() {
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$((ISP_PORT_MIN + (RANDOM * 32768 + RANDOM) % (ISP_PORT_MAX - ISP_PORT_MIN + 1)))
    [[ "$_ISP_PICKED" == *" $p "* ]] && continue
    isp_port_free "$p" || continue
    [[ -e /var/run/tgtd/socket.$p ]] && continue
    _ISP_PICKED+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
  isp_fail "no free TCP port found in $ISP_PORT_MIN-$ISP_PORT_MAX"
}

# isp_wait_listen PORT PID WHAT LOG [SECONDS]: bounded poll for the listener.
isp_wait_listen() {
  local port=$1 pid=$2 what=$3 log=$4 deadline=$((SECONDS + ${5:-20}))
  until isp_listening "$port" "$pid"; do
    if ! isp_alive "$pid"; then
      isp_log "$what exited before listening on 127.0.0.1:$port; its log:"
      tail -n 40 "$log" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      isp_log "$what (pid $pid) not listening on 127.0.0.1:$port after ${5:-20}s; its log:"
      tail -n 40 "$log" >&2 || true
      return 1
    fi
    sleep 0.05
  done
}

isp_require_root() {
  [[ $(id -u) -eq 0 ]] ||
    isp_fail "needs root: tgtd keeps its control socket in /var/run/tgtd"
  local t
  for t in tgtd tgtadm ss ps iscsi-inq iscsi-ls qemu-img mke2fs debugfs; do
    command -v "$t" >/dev/null || isp_fail "$t not found (run tests/deps.sh)"
  done
}

# ---- tgtd ---------------------------------------------------------------------------
# isp_tgtadm ARGS...: tgtadm on our private tgtd.
isp_tgtadm() { isp_timeout 30 tgtadm -C "$TGT_CTL" --lld iscsi "$@"; }

# isp_start_tgtd [PORT]: a private tgtd on 127.0.0.1:PORT (picked when not given),
# control socket /var/run/tgtd/socket.PORT. Sets TGT_PORT TGT_CTL TGT_PID TGT_LOG.
# tgtd ignores SIGTERM, and when its portal cannot be bound it keeps running
# without listening: both are handled (it is stopped with tgtadm, then by PID).
isp_start_tgtd() {
  local want=${1:-} port attempt pid log
  for attempt in 1 2 3 4 5; do
    if [[ -n "$want" ]]; then port=$want; else isp_pick_port port; fi
    log=$ISP_WORK/tgtd.$port.log
    [[ -e /var/run/tgtd/socket.$port ]] || _ISP_SOCKETS+=("/var/run/tgtd/socket.$port")
    tgtd -f -C "$port" --iscsi "portal=127.0.0.1:$port" >"$log" 2>&1 &
    pid=$!
    _ISP_TGT_PIDS+=("$pid") _ISP_TGT_CTLS+=("$port") _ISP_TGT_TIDS+=("") _ISP_TGT_LOGS+=("$log")
    TGT_PORT=$port TGT_CTL=$port TGT_PID=$pid TGT_LOG=$log _ISP_TGT_CUR=$((${#_ISP_TGT_PIDS[@]} - 1))
    local deadline=$((SECONDS + 15)) ok=0
    while ((SECONDS < deadline)); do
      if isp_listening "$port" "$pid" && [[ -S /var/run/tgtd/socket.$port ]]; then ok=1; break; fi
      isp_alive "$pid" || break
      grep -qE 'failed to create/bind|another tgtd' "$log" && break
      sleep 0.05
    done
    if ((ok)); then
      isp_log "tgtd pid $pid on 127.0.0.1:$port (control socket.$port)"
      return 0
    fi
    isp_log "tgtd on port $port did not come up (attempt $attempt):"
    sed 's/^/    /' "$log" >&2
    _isp_stop_tgtd "$_ISP_TGT_CUR"
    [[ -z "$want" ]] || break
  done
  isp_fail "could not start tgtd"
}

# isp_tgt_add_target TID IQN IMAGE [BLOCKSIZE]: target TID with LUN 1 backed by
# IMAGE (logical blocks of BLOCKSIZE bytes, tgt's 512 when not given), thin
# provisioning on (LBPME=1, LBPRZ=1, GET LBA STATUS, UNMAP), open to all
# initiators. tgt accepts --params only on "--op update", not on "--op new".
isp_tgt_add_target() {
  local tid=$1 iqn=$2 img=$3
  local -a bsopt=()
  [[ -z "${4:-}" ]] || bsopt=(--blocksize "$4")
  isp_tgtadm --op new --mode target --tid "$tid" -T "$iqn" ||
    isp_fail "tgtadm: cannot create target $tid $iqn"
  _ISP_TGT_TIDS[_ISP_TGT_CUR]+="$tid "
  isp_tgtadm --op new --mode logicalunit --tid "$tid" --lun "$ISP_LUN" -b "$img" "${bsopt[@]}" ||
    isp_fail "tgtadm: cannot add LUN $ISP_LUN ($img${4:+, $4-byte blocks}) to target $tid"
  isp_tgtadm --op update --mode logicalunit --tid "$tid" --lun "$ISP_LUN" \
    --params thin_provisioning=1 ||
    isp_fail "tgtadm: cannot enable thin provisioning on $img"
  isp_tgtadm --op bind --mode target --tid "$tid" -I ALL ||
    isp_fail "tgtadm: cannot bind target $tid to ALL"
}

_isp_stop_tgtd() {
  local i=$1 pid=${_ISP_TGT_PIDS[$1]} ctl=${_ISP_TGT_CTLS[$1]} tid
  [[ -n "$pid" ]] || return 0
  _ISP_TGT_PIDS[i]=""
  if isp_alive "$pid"; then
    for tid in ${_ISP_TGT_TIDS[$i]}; do
      timeout 10 tgtadm -C "$ctl" --lld iscsi --op delete --mode target --tid "$tid" --force \
        >/dev/null 2>&1 || true
    done
    timeout 10 tgtadm -C "$ctl" --op delete --mode system >/dev/null 2>&1 || true
    if ! isp_wait_gone "$pid" 10; then
      isp_log "tgtd $pid did not stop on 'tgtadm --op delete --mode system'; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  isp_reap "$pid" >/dev/null
}

# isp_kill_tgtd: the current tgtd crashes: SIGKILL by its PID (no logout, no
# goodbye to any session), waited for (10 s at most) and reaped. Its port, control
# socket file and backing files stay for isp_restart_tgtd.
isp_kill_tgtd() {
  local pid=${_ISP_TGT_PIDS[_ISP_TGT_CUR]}
  [[ -n "$pid" ]] || isp_fail "isp_kill_tgtd: no tgtd running"
  kill -KILL "$pid" 2>/dev/null || true
  isp_wait_gone "$pid" 10 || isp_fail "tgtd $pid still there 10 s after SIGKILL"
  _ISP_TGT_PIDS[_ISP_TGT_CUR]=""
  isp_reap "$pid" >/dev/null
}

# isp_restart_tgtd IMAGE [BLOCKSIZE]: a new tgtd on the port and control number of
# the current one (which must be gone: isp_kill_tgtd), serving IMAGE again as target
# 1 BACKEND_IQN, LUN ISP_LUN. Sets what isp_start_tgtd sets.
isp_restart_tgtd() {
  isp_start_tgtd "$TGT_PORT"
  isp_tgt_add_target 1 "$BACKEND_IQN" "$1" "${2:-}"
}

# isp_fd_count PID: how many file descriptors PID has open (/proc/PID/fd).
isp_fd_count() {
  local fds
  fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) || true
  ((fds > 0)) || isp_fail "cannot list /proc/$1/fd"
  echo "$fds"
}

# isp_wait_fds PID MAX SECONDS: bounded poll until PID has at most MAX file
# descriptors open; prints the last count, returns 1 on timeout.
isp_wait_fds() {
  local pid=$1 max=$2 deadline=$((SECONDS + $3)) n
  while n=$(isp_fd_count "$pid"); ((n > max)); do
    ((SECONDS < deadline)) || { echo "$n"; return 1; }
    sleep 0.1
  done
  echo "$n"
}

# isp_healthz STATS_PORT: the HTTP status code of GET /healthz ("000": no answer).
isp_healthz() {
  isp_timeout 10 curl -s -o /dev/null --max-time 5 -w '%{http_code}' \
    "http://127.0.0.1:$1/healthz" || true
}

# isp_wait_healthz STATS_PORT CODE SECONDS: bounded poll until /healthz answers CODE;
# returns 1 on timeout.
isp_wait_healthz() {
  local deadline=$((SECONDS + $3))
  until [[ $(isp_healthz "$1") == "$2" ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# isp_proxy_log_errors LOG: the lines the proxy logged at level error (none expected).
isp_proxy_log_errors() { grep -E '^[0-9T:.-]+Z error ' "$1" || true; }

# ---- images ---------------------------------------------------------------------------
# isp_byte_file LEN BYTE: LEN bytes of value BYTE (0xNN) on stdout.
isp_byte_file() {
  local oct
  printf -v oct '%03o' "$2"
  head -c "$1" /dev/zero | tr '\0' "\\$oct"
}

# isp_expect_bytes FILE OFFSET LEN BYTE WHAT: FILE holds BYTE over [OFFSET, +LEN).
isp_expect_bytes() {
  local f=$1 off=$2 len=$3 byte=$4 what=$5
  cmp -s <(dd if="$f" iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none) \
    <(isp_byte_file "$len" "$byte") ||
    isp_fail "$what: $f at offset $off (+$len) does not hold $byte bytes"
}

# isp_make_fs_image IMAGE SIZE: sparse IMAGE of SIZE bytes with an ext4 filesystem in
# its first ISP_FS_SIZE_K KiB, populated with mke2fs -d (no mount), plus the raw
# patterns at ISP_PAT_OFF and in the last ISP_TAIL_LEN bytes. Source tree of the
# files: $ISP_WORK/fs-src, checksums: $ISP_WORK/fs-src.md5.
isp_make_fs_image() {
  local img=$1 size=$2 src=$ISP_WORK/fs-src
  if [[ ! -d "$src" ]]; then
    mkdir -p "$src/dir/sub"
    head -c $((3 << 20)) < <(yes 'iscsi-sparse-proxy known pattern 0123456789abcdef') >"$src/pattern.txt"
    head -c $((1 << 20)) /dev/urandom >"$src/random.bin"
    echo "hello through the proxy" >"$src/dir/hello.txt"
    local n
    for n in 1 2 3 4 5 6 7 8; do
      head -c $((n * 4096 + 17)) /dev/urandom >"$src/dir/sub/file$n"
    done
    (cd "$src" && find . -type f -printf '%P\n' | sort | xargs md5sum) >"$ISP_WORK/fs-src.md5"
  fi
  rm -f "$img"
  truncate -s "$size" "$img"
  mke2fs -q -F -t ext4 -L isp-test -E nodiscard,lazy_itable_init=1 -d "$src" \
    "$img" "${ISP_FS_SIZE_K}k" >"$ISP_WORK/mke2fs.log" 2>&1 ||
    { cat "$ISP_WORK/mke2fs.log" >&2; isp_fail "mke2fs failed on $img"; }
  [[ $(stat -c %s "$img") -eq $size ]] || isp_fail "mke2fs changed the size of $img"
  if ((size >= ISP_PAT_OFF + ISP_PAT_LEN)); then
    isp_byte_file "$ISP_PAT_LEN" "$ISP_PAT_BYTE" |
      dd of="$img" bs=64k seek="$ISP_PAT_OFF" oflag=seek_bytes conv=notrunc status=none
  fi
  isp_byte_file "$ISP_TAIL_LEN" "$ISP_TAIL_BYTE" |
    dd of="$img" bs=64k seek=$((size - ISP_TAIL_LEN)) oflag=seek_bytes conv=notrunc status=none
}

# isp_check_fs_files RAWFILE WHAT: the ext4 in RAWFILE holds the source files intact.
isp_check_fs_files() {
  local raw=$1 what=$2 f sum want
  e2fsck -fn "$raw" >"$ISP_WORK/e2fsck.log" 2>&1 ||
    { cat "$ISP_WORK/e2fsck.log" >&2; isp_fail "$what: e2fsck -fn finds errors"; }
  while read -r want f; do
    sum=$(debugfs -R "cat /$f" "$raw" 2>/dev/null | md5sum | cut -d' ' -f1)
    [[ "$sum" == "$want" ]] || isp_fail "$what: /$f differs (md5 $sum, expected $want)"
  done <"$ISP_WORK/fs-src.md5"
}

# ---- proxy -------------------------------------------------------------------------------
# isp_write_proxy_conf FILE PORT [STATS] FRONT_IQN BACK_IQN [FRONT BACK]...
# ISP_PROXY_KEYS: more "key = value" lines for the [proxy] section (newline-separated).
isp_write_proxy_conf() {
  local f=$1 port=$2 stats=$3
  shift 3
  {
    echo "# generated by $ISP_NAME"
    echo "[proxy]"
    echo "listen = 127.0.0.1:$port"
    echo "stats_listen = $stats"
    echo "log_level = ${ISP_LOG_LEVEL:-info}"
    [[ -z "${ISP_PROXY_KEYS:-}" ]] || echo "$ISP_PROXY_KEYS"
    while (($# >= 2)); do
      echo
      echo "[target $1]"
      echo "backend_portal = 127.0.0.1:$TGT_PORT"
      echo "backend_target = $2"
      echo "allowed_addresses = 127.0.0.1, ::1"   # the initiators are on this host
      shift 2
    done
  } >"$f"
}

# isp_start_proxy [PORT [STATS [FRONT BACK]...]]: the proxy in front of our tgtd.
# Sets PROXY_PORT PROXY_PID PROXY_LOG PROXY_CONF. Direct mode: PROXY_PORT=TGT_PORT.
isp_start_proxy() {
  local port=${1:-} stats=${2:-}
  shift $(($# > 2 ? 2 : $#))
  local pairs=("$@")
  ((${#pairs[@]})) || pairs=("$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN")
  if ((ISP_DIRECT)); then
    PROXY_PORT=$TGT_PORT PROXY_PID="" PROXY_LOG=/dev/null
    return 0
  fi
  [[ -x "$PROXY_BIN" ]] || isp_fail "proxy binary $PROXY_BIN not found or not executable"
  [[ -n "$port" ]] || isp_pick_port port
  PROXY_CONF=$ISP_WORK/proxy.$port.conf
  PROXY_LOG=$ISP_WORK/proxy.$port.log
  isp_write_proxy_conf "$PROXY_CONF" "$port" "$stats" "${pairs[@]}"
  if ! isp_timeout 10 "$PROXY_BIN" --check-config -c "$PROXY_CONF" >"$PROXY_LOG.check" 2>&1; then
    cat "$PROXY_CONF" "$PROXY_LOG.check" >&2
    isp_fail "$PROXY_BIN --check-config rejects the generated configuration"
  fi
  "$PROXY_BIN" -c "$PROXY_CONF" >"$PROXY_LOG" 2>&1 &
  PROXY_PID=$!
  PROXY_PORT=$port
  _ISP_PROXY_PIDS+=("$PROXY_PID") _ISP_PROXY_LOGS+=("$PROXY_LOG")
  isp_wait_listen "$port" "$PROXY_PID" "proxy" "$PROXY_LOG" 20 ||
    isp_fail "the proxy did not start"
  isp_log "proxy pid $PROXY_PID on 127.0.0.1:$port -> tgtd 127.0.0.1:$TGT_PORT"
}

# isp_proxy_exited PID: for tests where the proxy exiting is the point. Waits
# for it (bounded by isp_wait_gone before), prints its exit status, fails on a
# sanitizer report in its log, and takes it off the list the cleanup stops.
isp_proxy_exited() {
  local pid=$1 i rc=0 san
  wait "$pid" 2>/dev/null || rc=$?
  for i in "${!_ISP_PROXY_PIDS[@]}"; do
    [[ "${_ISP_PROXY_PIDS[$i]}" == "$pid" ]] || continue
    san=$(_isp_sanitizer_report "${_ISP_PROXY_LOGS[$i]}") || true
    [[ -z "$san" ]] || { printf '%s\n' "$san" >&2; isp_fail "sanitizer report in the proxy log"; }
    unset '_ISP_PROXY_PIDS[i]' '_ISP_PROXY_LOGS[i]'
  done
  echo "$rc"
}

# isp_wait_output FILE TEXT PID WHAT: poll (10 s at most) until FILE, the output of
# background process PID, contains TEXT; on failure print FILE and fail with WHAT.
isp_wait_output() {
  local file=$1 text=$2 pid=$3 i
  for ((i = 0; i < 100; i++)); do
    grep -qs "$text" "$file" && return 0
    isp_alive "$pid" || break
    sleep 0.1
  done
  grep -qs "$text" "$file" || { cat "$file" >&2 2>/dev/null || true; isp_fail "$4"; }
}

# isp_proxy_alive WHAT: fail if the proxy has died (no-op in direct mode).
isp_proxy_alive() {
  ((ISP_DIRECT)) && return 0
  isp_alive "$PROXY_PID" || isp_fail "the proxy died ${1:-}"
}

_isp_sanitizer_report() {
  grep -nE 'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|UndefinedBehaviorSanitizer|AddressSanitizer' \
    "$1" 2>/dev/null | head -n 20
}

_isp_stop_proxy() {
  local pid=$1 log=$2 rc bad=0
  if isp_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! isp_wait_gone "$pid" 15; then
      isp_log "proxy $pid still running 15s after SIGTERM; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      bad=1
    fi
    isp_reap_into rc "$pid"
    case $rc in
      0) ;;
      143) isp_log "note: proxy $pid ended by SIGTERM itself (no handler, no clean exit)" ;;
      *) isp_log "proxy $pid exited with status $rc after SIGTERM"; bad=1 ;;
    esac
  else
    isp_reap_into rc "$pid"
    # Ctrl-C reaches the whole process group: a proxy that ended cleanly on it is fine.
    if ! ((_ISP_SIGNALLED && rc == 0)); then
      isp_log "proxy $pid had already exited (status $rc) before the end of the test"
      bad=1
    fi
  fi
  local san
  san=$(_isp_sanitizer_report "$log")
  if [[ -n "$san" ]]; then
    isp_log "sanitizer report in the proxy log:"
    printf '%s\n' "$san" >&2
    bad=1
  fi
  return "$bad"
}

# ---- the usual setup -------------------------------------------------------------------
# isp_setup [layout]: tgtd, a sparse 256 MiB LUN with ext4 + patterns (thin), the
# proxy. With "layout", the LUN is isp_make_layout_image's, whose holes do not
# change when tgtd reads it (for tests that compare maps after reading).
isp_setup() {
  isp_require_root
  isp_start_tgtd
  ISP_IMG=$ISP_WORK/lun1.img
  if [[ ${1:-} == layout ]]; then
    isp_make_layout_image "$ISP_IMG" "$ISP_IMG_SIZE"
  else
    isp_make_fs_image "$ISP_IMG" "$ISP_IMG_SIZE"
  fi
  isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_IMG"
  isp_start_proxy
  if ((ISP_DIRECT)); then PROXY_IQN=$BACKEND_IQN; else PROXY_IQN=$ISP_PROXY_IQN_DEFAULT; fi
  URL_DIRECT=iscsi://127.0.0.1:$TGT_PORT/$BACKEND_IQN/$ISP_LUN
  URL_PROXY=iscsi://127.0.0.1:$PROXY_PORT/$PROXY_IQN/$ISP_LUN
  ((ISP_DIRECT)) && isp_log "DIRECT mode: no proxy, URL_PROXY points at tgtd"
  return 0
}

# ---- exit -------------------------------------------------------------------------------
_isp_cleanup() {
  local rc=$? i h
  set +e
  trap - EXIT INT TERM
  for h in "${_ISP_HOOKS[@]}"; do eval "$h"; done
  for i in "${!_ISP_PROXY_PIDS[@]}"; do
    _isp_stop_proxy "${_ISP_PROXY_PIDS[$i]}" "${_ISP_PROXY_LOGS[$i]}" || _ISP_FAILED_AT_EXIT=1
  done
  for i in "${!_ISP_TGT_PIDS[@]}"; do _isp_stop_tgtd "$i"; done
  for h in "${_ISP_SOCKETS[@]}"; do rm -f "$h" "$h.lock"; done
  # A script that runs until interrupted (the demo) ends well on Ctrl-C.
  if ((_ISP_SIGNALLED && ${ISP_SIGNAL_OK:-0} == 1 && !_ISP_FAILED_AT_EXIT)); then rc=0; fi
  if ((_ISP_FAILED_AT_EXIT && rc == 0)); then
    echo "FAIL [$ISP_NAME]: the proxy did not end cleanly (see above)" >&2
    rc=1
  fi
  if ((rc != 0)); then
    for h in "$ISP_WORK"/proxy.*.log "${_ISP_TGT_LOGS[@]}"; do
      [[ -s "$h" ]] || continue
      echo "---- last lines of $(basename "$h") ----" >&2
      tail -n 30 "$h" >&2
    done
  fi
  if [[ "${ISP_KEEP:-0}" == 1 ]]; then
    echo "[$ISP_NAME] kept $ISP_WORK" >&2
  else
    rm -rf "$ISP_WORK"
  fi
  exit "$rc"
}
trap _isp_cleanup EXIT
trap '_ISP_SIGNALLED=1; exit 130' INT
trap '_ISP_SIGNALLED=1; exit 143' TERM

# shellcheck source=tests/integration/lib_cache.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_cache.sh"
