# shellcheck shell=bash disable=SC2034
# (SC2034: variables are for the sourcing script)
# Shared by the slow-SAN benchmarks (tests/bench/slow_san.sh: whole-LUN reads;
# tests/bench/slow_san_copy.sh: qemu-img convert and map; slow_san_thick.sh: a
# thick LUN read twice): the aged image, the private SAN behind a shaped link,
# a proxy in front of it, its counters, the window the copy tools see.
#
#   . tests/bench/slow_san_lib.sh        (from a script run as SCRIPT PROXY_BIN|direct:
#                                        sets PROXY_BIN, sources lib.sh and netns.sh)
#   san_setup                            image (built once, cached), two tgtds, link
#   start_proxy MODE PAGE_SIZE / stop_proxy
#   window_setup / src_opts / copy_matches   the LUN's last SIZE bytes, copied
#
# The image: a 4 GiB LUN holding an aged ext4 filesystem, about 10 % of its
# blocks allocated in thousands of extents (tests/bench/aged_fs.py plans it,
# debugfs writes it, e2image -ra copies only its used blocks into a sparse
# file; cached in build/bench-cache, byte-for-byte reproducible: fixed seed,
# UUID, hash seed and timestamps; about a minute to build).
# The SAN: a tgtd in a network namespace of its own behind a veth pair shaped
# to SLOW_SAN_MBIT each way (tests/bench/netns.sh), and a second tgtd on
# 127.0.0.1 serving the same file (the "loopback" reference, no link).
#
# Environment (both scripts):
#   SLOW_SAN_MBIT (1000)        link rate, Mbit/s
#   SLOW_SAN_PAGE_SIZE (auto)   the proxy's page_size
#   SLOW_SAN_CACHE (build/bench-cache)  where the image is kept
#
# After san_setup:
#   IMG IMG_SIZE                the backing file (both tgtds serve it as LUN 1)
#   ALLOC RUNS ALLOC64K EXTENTS allocated bytes, data runs (SEEK_DATA/SEEK_HOLE),
#                               bytes of the 64 KiB pages holding data, filefrag extents
#   LOOP_PORT LOOP_PID          the loopback tgtd (127.0.0.1)
#   SAN_NS_ADDR SAN_TGT_PORT SAN_TGT_PID   the tgtd behind the link (netns.sh)
#   LINK_BPS                    link rate, bytes/s
# After start_proxy: PX_PID PX_PORT PX_STATS PX_LOG.

if [[ -n "${_ISP_SLOW_SAN_LOADED:-}" ]]; then return 0; fi
_ISP_SLOW_SAN_LOADED=1

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PROXY_BIN|direct" >&2
  exit 2
fi
PROXY_BIN=$1
if [[ "$PROXY_BIN" != direct && "$PROXY_BIN" != /* ]]; then PROXY_BIN=$PWD/$PROXY_BIN; fi
_SSL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$_SSL_HERE/../integration/lib.sh"
# shellcheck source=tests/bench/netns.sh
. "$_SSL_HERE/netns.sh"

MBIT=${SLOW_SAN_MBIT:-1000}
PAGE_SIZE=${SLOW_SAN_PAGE_SIZE:-auto}
CACHE_DIR=${SLOW_SAN_CACHE:-$(cd "$_SSL_HERE/../.." && pwd)/build/bench-cache}
IMG_SIZE=$((4 << 30))
SEED=20261107
NOTE_TAG=${NOTE_TAG:-slow-san}
errors=0

note() { printf '%s: %s\n' "$NOTE_TAG" "$*"; }
fail_case() { errors=$((errors + 1)); note "$1: FAILED"; }

# median "V1 V2 ...": the median of the numbers among the words, or "-".
median() { tr ' ' '\n' <<<"$1" | { grep -E '^-?[0-9.]+$' || true; } | sort -g |
  awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
count() { tr ' ' '\n' <<<"$1" | grep -cE '^[0-9.]+$' || true; }

# ---- a window of the LUN, copied by qemu-img ------------------------------------
# window_setup SIZE_VAR OUT_PARENT TAG: checks the caller's SIZE (the LUN's
# last bytes the tools see; SIZE_VAR names its setting in messages), sets WIN_OFF, and makes
# OUT (the copy's path, in a directory removed on exit).
window_setup() {
  # shellcheck disable=SC2153  # SIZE is the sourcing script's setting
  if ! [[ "$SIZE" =~ ^[0-9]+$ ]] || ((SIZE <= 0 || SIZE > IMG_SIZE || SIZE % 65536)); then
    isp_fail "$1 must be a multiple of 64 KiB up to $IMG_SIZE"
  fi
  WIN_OFF=$((IMG_SIZE - SIZE))
  command -v cmp >/dev/null || isp_fail "cmp not found"
  OUT_DIR=$(mktemp -d "$2/isp-$3.XXXXXX") || isp_fail "cannot make a directory in $2"
  isp_on_exit _ssl_rm_out
  OUT=$OUT_DIR/copy.raw
}
_ssl_rm_out() { rm -rf "$OUT_DIR"; }

# src_opts HOST PORT IQN: the LUN as qemu --image-opts (raw over iscsi; raw's
# offset and size options when the window is shorter than the LUN).
src_opts() {
  local o="driver=raw,file.driver=iscsi,file.transport=tcp,file.portal=$1:$2,file.target=$3"
  o+=",file.lun=$ISP_LUN,file.initiator-name=$ISP_INITIATOR"
  ((SIZE == IMG_SIZE)) || o+=",offset=$WIN_OFF,size=$SIZE"
  printf '%s\n' "$o"
}

# copy_matches: OUT is the window of the backing file, byte for byte.
copy_matches() {
  cmp -n "$SIZE" -i "0:$WIN_OFF" "$OUT" "$IMG" >&2 && [[ $(stat -c %s "$OUT") -eq $SIZE ]]
}

# ---- the aged image -------------------------------------------------------------
MKFS_EXT=nodiscard,lazy_itable_init=1,lazy_journal_init=1,hash_seed=3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8
MKFS_OPTS=(-q -F -t ext4 -b 4096 -L isp-bench -U 0c8e5a52-7a1e-4b8f-9d1a-5a4e2b1c0d11 -E "$MKFS_EXT")
_ssl_key=$( { cat "$_SSL_HERE/aged_fs.py"; echo "${MKFS_OPTS[*]} $IMG_SIZE $SEED"; } | sha256sum | cut -c1-12)
IMG=$CACHE_DIR/aged-ext4-4g-$_ssl_key.img

build_image() {
  local s=$ISP_WORK/age
  mkdir -p "$s" "$CACHE_DIR"
  note "building the aged image $IMG (once; cached) ..."
  python3 "$_SSL_HERE/aged_fs.py" "$s/pool" "$s/cmds" "$IMG_SIZE" "$SEED" ||
    isp_fail "aged_fs.py failed"
  truncate -s "$IMG_SIZE" "$s/fs.img"
  E2FSPROGS_FAKE_TIME=1700000000 mke2fs "${MKFS_OPTS[@]}" "$s/fs.img" >"$s/mke2fs.log" 2>&1 ||
    { cat "$s/mke2fs.log" >&2; isp_fail "mke2fs failed"; }
  # Fixed timestamps: the same bytes on every build.
  E2FSPROGS_FAKE_TIME=1700000000 isp_timeout 600 debugfs -w -f "$s/cmds" "$s/fs.img" \
    >"$s/debugfs.log" 2>&1 || { tail "$s/debugfs.log" >&2; isp_fail "debugfs failed"; }
  if grep -vE '^(debugfs|Allocated inode)' "$s/debugfs.log" | grep -iE 'error|fail|could not|no free' |
    head -n 5 >&2; then
    isp_fail "debugfs reported errors while aging the filesystem"
  fi
  e2fsck -fn "$s/fs.img" >"$s/e2fsck.log" 2>&1 ||
    { cat "$s/e2fsck.log" >&2; isp_fail "the aged filesystem does not pass e2fsck -fn"; }
  # Only the used blocks (data and written metadata) land in the sparse copy:
  # the free space, full of deleted files' data in fs.img, becomes holes.
  rm -f "$IMG.tmp"
  e2image -ra "$s/fs.img" "$IMG.tmp" >"$s/e2image.log" 2>&1 ||
    { cat "$s/e2image.log" >&2; isp_fail "e2image -ra failed"; }
  truncate -s "$IMG_SIZE" "$IMG.tmp"
  e2fsck -fn "$IMG.tmp" >"$s/e2fsck2.log" 2>&1 ||
    { cat "$s/e2fsck2.log" >&2; isp_fail "the sparse copy does not pass e2fsck -fn"; }
  mv "$IMG.tmp" "$IMG"
  rm -rf "$s"
  local old
  for old in "$CACHE_DIR"/aged-ext4-4g-*.img; do     # images of older recipes
    [[ "$old" == "$IMG" ]] || rm -f "$old"
  done
}

# image_census: ALLOC RUNS ALLOC64K EXTENTS of $IMG, and one line about it.
# What tgt sees: data runs by SEEK_DATA/SEEK_HOLE (what its GET LBA STATUS
# reports), and the bytes a cache of 64 KiB pages must fetch to cover them.
image_census() {
  read -r ALLOC RUNS ALLOC64K _ < <(python3 "$_SSL_HERE/data_runs.py" "$IMG")
  # (filefrag's own count merges physically contiguous extents across holes.)
  EXTENTS=$(filefrag -v "$IMG" | grep -cE '^ *[0-9]+:' || true)
  note "image: $IMG"
  awk -v t="$NOTE_TAG" -v s="$IMG_SIZE" -v a="$ALLOC" -v r="$RUNS" -v e="${EXTENTS:-?}" -v p="$ALLOC64K" 'BEGIN {
    printf "%s: LUN %.0f MiB, allocated %.1f MiB (%.1f%%) in %d data runs (filefrag -v: %s extents); covered by 64 KiB pages: %.1f MiB\n",
      t, s / 1048576, a / 1048576, 100 * a / s, r, e, p / 1048576 }'
}

# san_setup: the image (built if not cached), its census, both tgtds, the link.
san_setup() {
  local t
  isp_require_root
  for t in ip tc qemu-img python3 e2image e2fsck filefrag curl; do
    command -v "$t" >/dev/null || isp_fail "$t not found"
  done
  [[ -s "$IMG" ]] || build_image
  [[ $(stat -c %s "$IMG") -eq $IMG_SIZE ]] || isp_fail "$IMG is not $IMG_SIZE bytes"
  image_census
  # Start with the file in the page cache, so no case pays for the disk.
  cat "$IMG" >/dev/null
  isp_on_exit stop_proxy      # at exit the proxy stops first, then the SAN goes
  isp_start_tgtd
  LOOP_PORT=$TGT_PORT LOOP_PID=$TGT_PID
  isp_tgt_add_target 1 "$BACKEND_IQN" "$IMG"
  isp_netns_create "${MBIT}mbit"
  isp_netns_start_tgtd
  isp_tgt_add_target 1 "$BACKEND_IQN" "$IMG"
  LINK_BPS=$((MBIT * 1000000 / 8))
}

# link_bytes: rx + tx bytes of the host end of the veth pair so far.
link_bytes() { local rx tx; read -r rx tx < <(isp_netns_counters); echo $((rx + tx)); }

# proxy_metrics STATS_PORT: "GLS BACKEND_BYTES ZERO_BYTES CACHE_BYTES LOCAL FORWARDED"
# summed over the LUNs from /metrics (GLS: GET LBA STATUS the proxy sent;
# LOCAL/FORWARDED: initiators' GET LBA STATUS it answered itself / sent on),
# or nothing when the endpoint does not answer.
proxy_metrics() {
  local m
  m=$(curl -s --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null) || return 0
  grep -q '^iscsi_sparse_proxy_' <<<"$m" || return 0
  awk '
    /^iscsi_sparse_proxy_lba_status_queries_total[{ ]/ { g += $NF }
    /^iscsi_sparse_proxy_read_bytes_total[{ ]/ && /source="backend"/ { b += $NF }
    /^iscsi_sparse_proxy_read_bytes_total[{ ]/ && /source="zero"/ { z += $NF }
    /^iscsi_sparse_proxy_cache_memory_bytes[{ ]/ { c += $NF }
    /^iscsi_sparse_proxy_initiator_lba_status_total[{ ]/ && /path="local"/ { l += $NF }
    /^iscsi_sparse_proxy_initiator_lba_status_total[{ ]/ && /path="forwarded"/ { f += $NF }
    END { printf "%.0f %.0f %.0f %.0f %.0f %.0f\n", g, b, z, c, l, f }' <<<"$m"
}

# ---- the proxy ----------------------------------------------------------------------
PX_PID="" PX_PORT="" PX_STATS="" PX_LOG=""
stop_proxy() {
  [[ -n "$PX_PID" ]] || return 0
  local pid=$PX_PID
  PX_PID=""
  _isp_stop_proxy "$pid" "$PX_LOG" || { errors=$((errors + 1)); isp_log "the proxy did not stop cleanly"; }
}
start_proxy() { # start_proxy MODE PAGE_SIZE
  local mode=$1 page=$2 conf
  isp_pick_port PX_PORT
  isp_pick_port PX_STATS
  conf=$ISP_WORK/proxy.$mode.$PX_PORT.conf
  PX_LOG=$ISP_WORK/proxy.$mode.$PX_PORT.log
  cat >"$conf" <<EOF
# generated by $ISP_NAME
[proxy]
listen = 127.0.0.1:$PX_PORT
stats_listen = 127.0.0.1:$PX_STATS
log_level = ${ISP_LOG_LEVEL:-info}

[target $ISP_PROXY_IQN_DEFAULT]
backend_portal = $SAN_NS_ADDR:$SAN_TGT_PORT
backend_target = $BACKEND_IQN
coherence = $mode
page_size = $page
allowed_addresses = 127.0.0.1, ::1
EOF
  isp_timeout 10 "$PROXY_BIN" --check-config -c "$conf" >"$PX_LOG.check" 2>&1 ||
    { cat "$PX_LOG.check" >&2; isp_fail "--check-config rejects $conf"; }
  "$PROXY_BIN" -c "$conf" >"$PX_LOG" 2>&1 &
  PX_PID=$!
  isp_wait_listen "$PX_PORT" "$PX_PID" proxy "$PX_LOG" 20 || isp_fail "the proxy did not start"
}
