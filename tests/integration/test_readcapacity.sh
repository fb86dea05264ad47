#!/usr/bin/env bash
# READ CAPACITY(16) through the proxy equals tgtd's answer (size, block size,
# LBPME=1 LBPRZ=1 of the thin LUN).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_setup

d=$(isp_timeout 60 iscsi-readcapacity16 -i "$ISP_INITIATOR" "$URL_DIRECT") ||
  isp_fail "iscsi-readcapacity16 direct failed: $d"
p=$(isp_timeout 60 iscsi-readcapacity16 -i "$ISP_INITIATOR" "$URL_PROXY") ||
  isp_fail "iscsi-readcapacity16 through the proxy failed: $p"
printf '%s\n' "$p"
if [[ "$d" != "$p" ]]; then
  diff <(printf '%s\n' "$d") <(printf '%s\n' "$p") || true
  isp_fail "READ CAPACITY(16) differs through the proxy (< direct, > proxy)"
fi
grep -qx "Total size:$ISP_IMG_SIZE" <<<"$p" || isp_fail "size is not $ISP_IMG_SIZE"
grep -qx 'LBPME:1 LBPRZ:1' <<<"$p" || isp_fail "the thin LUN does not report LBPME:1 LBPRZ:1"
isp_proxy_alive "after READ CAPACITY"
