#!/usr/bin/env bash
# Writes through the proxy with qemu-io: aligned and unaligned (read-modify-write)
# WRITEs, a large multi-R2T WRITE, the last block of the LUN, WRITE SAME zeroing
# (write -z), WRITE SAME with UNMAP (write -z -u) and UNMAP (discard). Then every
# region is read back through the proxy, straight from tgtd and from the backing
# file, and the whole LUN is compared with a copy of the image to which the same
# writes were applied locally: nothing else may have changed.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_setup

K=1024 M=$((1024 * 1024))
S=$ISP_IMG_SIZE
EXPECT=$ISP_WORK/expected.img
cp --sparse=always "$ISP_IMG" "$EXPECT"

qio() { # qio URL COMMAND...: one qemu-io run; fails on any command error
  local url=$1 out
  shift
  out=$(isp_timeout 120 qemu-io -f raw -d unmap -c "$*" "$url" 2>&1) ||
    { printf '%s\n' "$out" >&2; return 1; }
  if grep -qiE 'failed|error' <<<"$out"; then printf '%s\n' "$out" >&2; return 1; fi
}

# op KIND BYTE OFFSET LEN: P = write pattern, Z = write -z, U = write -z -u,
# D = discard; applied through the proxy and to $EXPECT.
op() {
  local kind=$1 byte=$2 off=$3 len=$4 cmd
  case $kind in
    P) cmd="write -P $byte $off $len" ;;
    Z) cmd="write -z $off $len" ;;
    U) cmd="write -z -u $off $len" ;;
    D) cmd="discard $off $len" ;;
  esac
  qio "$URL_PROXY" "$cmd" || isp_fail "qemu-io '$cmd' through the proxy failed"
  if [[ $kind == P ]]; then
    isp_byte_file "$len" "$byte" | dd of="$EXPECT" bs=64k seek="$off" oflag=seek_bytes conv=notrunc status=none
  else
    head -c "$len" /dev/zero | dd of="$EXPECT" bs=64k seek="$off" oflag=seek_bytes conv=notrunc status=none
  fi
  echo "through the proxy: $cmd"
}

op P 0xab $((1 * M)) $((256 * K))           # aligned, inside the filesystem
op P 0xcd 12345 1000                         # unaligned both ends (RMW)
op P 0x3c $((96 * M + 511)) $((3 * M + 3))   # unaligned, several MiB, hole area
op P 0x71 $((S - 4096)) 4096                 # the LUN's last 4 KiB
op P 0x99 $((150 * M)) $((8 * M))            # large: many R2Ts / Data-Out PDUs
op P 0x42 $((160 * M)) $((2 * M))
op Z 0 $((160 * M + 512 * K)) $((1 * M))     # WRITE SAME (zeros) in the middle of it
op P 0x55 $((170 * M)) $((1 * M))
op U 0 $((170 * M)) $((512 * K))             # WRITE SAME with UNMAP
op P 0x66 $((200 * M)) $((2 * M))
op D 0 $((200 * M)) $((1 * M))               # UNMAP; LBPRZ=1: reads zeros after

# What each region must hold now: BYTE OFFSET LEN.
checks=(
  "0xab $((1 * M)) $((256 * K))"
  "0xcd 12345 1000"
  "0x3c $((96 * M + 511)) $((3 * M + 3))"
  "0x71 $((S - 4096)) 4096"
  "$ISP_TAIL_BYTE $((S - ISP_TAIL_LEN)) $((ISP_TAIL_LEN - 4096))"
  "0x99 $((150 * M)) $((8 * M))"
  "0x42 $((160 * M)) $((512 * K))"
  "0 $((160 * M + 512 * K)) $((1 * M))"
  "0x42 $((161 * M + 512 * K)) $((512 * K))"
  "0 $((170 * M)) $((512 * K))"
  "0x55 $((170 * M + 512 * K)) $((512 * K))"
  "0 $((200 * M)) $((1 * M))"
  "0x66 $((201 * M)) $((1 * M))"
  "$ISP_PAT_BYTE $ISP_PAT_OFF $ISP_PAT_LEN"
)
for c in "${checks[@]}"; do
  read -r byte off len <<<"$c"
  qio "$URL_PROXY" "read -P $byte $off $len" ||
    isp_fail "read back through the proxy: [$off, +$len) is not all $byte"
  qio "$URL_DIRECT" "read -P $byte $off $len" ||
    isp_fail "read back from tgtd directly: [$off, +$len) is not all $byte"
  isp_expect_bytes "$ISP_IMG" "$off" "$len" "$byte" "backing file"
done
echo "read back: ${#checks[@]} regions hold their pattern through the proxy, directly and in the file"

cmp "$ISP_IMG" "$EXPECT" ||
  isp_fail "the backing file differs from the expected image (a write went astray)"
isp_timeout 300 qemu-img compare -f raw -F raw "$URL_PROXY" "$EXPECT" ||
  isp_fail "the LUN read through the proxy differs from the expected image"
echo "whole LUN equals the expected image (file and through the proxy)"

# tgt punches holes for UNMAP on a thin LUN (informative only).
next_data=$(python3 -c 'import os,sys; f=os.open(sys.argv[1],os.O_RDONLY); print(os.lseek(f,int(sys.argv[2]),os.SEEK_DATA))' \
  "$ISP_IMG" $((200 * M)) 2>/dev/null || echo "?")
echo "after UNMAP of [200 MiB, +1 MiB) the file's next data is at offset $next_data"
isp_proxy_alive "after the writes"
