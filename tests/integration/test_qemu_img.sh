#!/usr/bin/env bash
# QEMU's initiator through the proxy: qemu-img convert (which asks GET LBA STATUS
# and skips what is unallocated), qemu-img dd (plain READs of every block, the
# unallocated ones included), qemu-img compare and qemu-img map (GET LBA STATUS
# answers) all agree with the backing file and with tgtd directly. The proxy
# (default coherence, verify) answers GET LBA STATUS of mapped blocks from its
# map, so the LUN is one whose holes tgtd's reads do not change
# (isp_make_layout_image).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_setup layout

qi() { isp_timeout 300 qemu-img "$@"; }

# 1. convert through the proxy, byte-compare with the backing file.
qi convert -f raw -O raw "$URL_PROXY" "$ISP_WORK/convert.raw" ||
  isp_fail "qemu-img convert from $URL_PROXY failed"
cmp "$ISP_WORK/convert.raw" "$ISP_IMG" ||
  isp_fail "qemu-img convert through the proxy: the copy differs from the backing file"
isp_check_fs_files "$ISP_WORK/convert.raw" "ext4 copied with qemu-img convert"
echo "convert: identical to the backing file, ext4 files intact"
rm -f "$ISP_WORK/convert.raw"

# 2. dd reads every block (no block-status shortcut).
qi dd -f raw -O raw bs=1M if="$URL_PROXY" of="$ISP_WORK/dd.raw" ||
  isp_fail "qemu-img dd from $URL_PROXY failed"
cmp "$ISP_WORK/dd.raw" "$ISP_IMG" ||
  isp_fail "qemu-img dd through the proxy: the copy differs from the backing file"
echo "dd: identical to the backing file"
rm -f "$ISP_WORK/dd.raw"

# 3. compare the LUN with the file, and through the proxy with tgtd directly.
qi compare -f raw -F raw "$URL_PROXY" "$ISP_IMG" ||
  isp_fail "qemu-img compare $URL_PROXY vs the backing file reports a difference"
qi compare -f raw -F raw "$URL_PROXY" "$URL_DIRECT" ||
  isp_fail "qemu-img compare proxy vs direct reports a difference"
echo "compare: identical"

# 4. the allocation map QEMU builds with GET LBA STATUS is the same both ways,
#    and it really shows holes (the LUN is thin and mostly unallocated).
md=$(qi map --output=json -f raw "$URL_DIRECT") || isp_fail "qemu-img map direct failed"
mp=$(qi map --output=json -f raw "$URL_PROXY") || isp_fail "qemu-img map through the proxy failed"
if [[ "$md" != "$mp" ]]; then
  diff <(printf '%s\n' "$md") <(printf '%s\n' "$mp") || true
  isp_fail "qemu-img map (GET LBA STATUS) differs through the proxy (< direct, > proxy)"
fi
grep -q '"zero": true, "data": false' <<<"$mp" ||
  isp_fail "qemu-img map shows no unallocated extent: GET LBA STATUS/thin LUN not working"
echo "map: identical, $(grep -c '"data": true' <<<"$mp") data and $(grep -c '"data": false' <<<"$mp") hole extents"
isp_proxy_alive "after qemu-img"
