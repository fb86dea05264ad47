#!/usr/bin/env bash
# SendTargets discovery through the proxy: iscsi-ls lists the proxy's own target
# name and portal (never the backend's port or name), and the LUN list is the
# backend's.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_setup

out=$(isp_timeout 60 iscsi-ls -i "$ISP_INITIATOR" -s "iscsi://127.0.0.1:$PROXY_PORT") ||
  isp_fail "iscsi-ls -s against 127.0.0.1:$PROXY_PORT failed: $out"
printf '%s\n' "$out"
grep -qE "^Target:$PROXY_IQN Portal:127\.0\.0\.1:$PROXY_PORT,[0-9]+$" <<<"$out" ||
  isp_fail "discovery does not list 'Target:$PROXY_IQN Portal:127.0.0.1:$PROXY_PORT,<tpgt>'"
ntargets=$(grep -c '^Target:' <<<"$out" || true)
[[ "$ntargets" -eq 1 ]] || isp_fail "discovery lists $ntargets targets, expected 1"
if ((!ISP_DIRECT)); then
  grep -q ":$TGT_PORT\b" <<<"$out" && isp_fail "discovery leaks the backend port $TGT_PORT"
  grep -q "$BACKEND_IQN" <<<"$out" && isp_fail "discovery leaks the backend target name $BACKEND_IQN"
fi

# The same LUNs (REPORT LUNS is forwarded) as tgtd reports directly.
direct=$(isp_timeout 60 iscsi-ls -i "$ISP_INITIATOR" -s "iscsi://127.0.0.1:$TGT_PORT") ||
  isp_fail "iscsi-ls -s against tgtd failed: $direct"
diff <(grep '^Lun:' <<<"$direct") <(grep '^Lun:' <<<"$out") ||
  isp_fail "LUN list through the proxy differs from tgtd's (diff above: < direct, > proxy)"
grep -qE "^Lun:$ISP_LUN +Type:DIRECT_ACCESS" <<<"$out" || isp_fail "LUN $ISP_LUN is not listed as a disk"

# Discovery-only output (no login to the target) says the same.
out2=$(isp_timeout 60 iscsi-ls -i "$ISP_INITIATOR" "iscsi://127.0.0.1:$PROXY_PORT") ||
  isp_fail "iscsi-ls (discovery only) failed: $out2"
grep -qE "^Target:$PROXY_IQN Portal:127\.0\.0\.1:$PROXY_PORT,[0-9]+$" <<<"$out2" ||
  isp_fail "discovery-only listing differs: $out2"
isp_proxy_alive "after discovery"
echo "discovery ok"
