#!/usr/bin/env bash
# INQUIRY through the proxy equals INQUIRY straight from tgtd: the standard data
# and the VPD pages 0x00, 0x80 (serial), 0x83 (device identification), 0xb0
# (block limits), 0xb1 and 0xb2 (logical block provisioning).
# iscsi-inq reads -c as a decimal integer ("-c 0x83" silently means page 0).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_setup

inq() { isp_timeout 60 iscsi-inq -i "$ISP_INITIATOR" "$@"; }
for args in "" "-e 1 -c 0" "-e 1 -c 128" "-e 1 -c 131" "-e 1 -c 176" "-e 1 -c 177" "-e 1 -c 178"; do
  # shellcheck disable=SC2086  # $args is a word list on purpose
  d=$(inq $args "$URL_DIRECT") || isp_fail "iscsi-inq $args direct failed: $d"
  # shellcheck disable=SC2086
  p=$(inq $args "$URL_PROXY") || isp_fail "iscsi-inq $args through the proxy failed: $p"
  [[ -n "$p" ]] || isp_fail "iscsi-inq $args through the proxy printed nothing"
  if [[ "$d" != "$p" ]]; then
    diff <(printf '%s\n' "$d") <(printf '%s\n' "$p") || true
    isp_fail "iscsi-inq ${args:-(standard)} differs through the proxy (< direct, > proxy)"
  fi
  echo "iscsi-inq ${args:-(standard)}: identical ($(wc -l <<<"$p") lines)"
done
p83=$(inq -e 1 -c 131 "$URL_PROXY")
grep -q 'DEVICE DESIGNATOR #0' <<<"$p83" || isp_fail "VPD 0x83 through the proxy has no designator"
grep -q '^Unit Serial Number:' < <(inq -e 1 -c 128 "$URL_PROXY") || isp_fail "VPD 0x80 has no serial"
grep -q '^lbprz:1' < <(inq -e 1 -c 178 "$URL_PROXY") || isp_fail "VPD 0xb2 does not say lbprz:1"
isp_proxy_alive "after INQUIRY"
