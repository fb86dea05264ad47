#!/usr/bin/env bash
# Login redirection from the SAN (RFC 7143 11.13.5; docs/ARCHITECTURE.md,
# "Portals"): two tgtds serve the same target name on the same image; the
# proxy lists only the first, which answers every login with 0x0101 (target
# moved temporarily) and a TargetAddress naming the second (127.0.0.2).
#   1. a login through the proxy follows the redirection: the log says
#      "redirected to" the second, and the data read equals the image;
#   2. the second redirects back to the first (a loop): the proxy gives up
#      after 4 redirections, the initiator's login fails with 0x0301
#      (service unavailable), and the proxy lives on.
# Fails if the redirection is not followed, or the loop is not bounded.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { isp_log "direct mode: nothing to test (the proxy's backend logins)"; exit 0; }

isp_start_layout_backend
A=$TGT_PORT A_CUR=$_ISP_TGT_CUR
isp_start_tgtd
B=$TGT_PORT B_CUR=$_ISP_TGT_CUR
isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_IMG"
# tgt does not redirect a login to an address it has itself, so the second
# tgtd is reached as 127.0.0.2 (still loopback) ...
isp_tgtadm --op new --mode portal --param portal="127.0.0.2:$B" || isp_fail "tgtadm cannot add 127.0.0.2:$B"
redirect() { # CUR (tgtd) ADDRESS PORT: that tgtd redirects target 1's logins there
  _ISP_TGT_CUR=$1 TGT_CTL=${_ISP_TGT_CTLS[$1]}
  isp_tgtadm --op update --mode target --tid 1 -n RedirectAddress -v "$2" &&
    isp_tgtadm --op update --mode target --tid 1 -n RedirectPort -v "$3" &&
    isp_tgtadm --op update --mode target --tid 1 -n RedirectReason -v Temporary ||
    isp_fail "tgtadm cannot set a redirection to $2:$3"
}
redirect "$A_CUR" 127.0.0.2 "$B"
TGT_PORT=$A         # the proxy lists only the first tgtd
isp_start_proxy_cache verify
URL=$URL_PROXY

isp_read_range "$URL" 0 $((4 << 20)) "$ISP_WORK/head.bin"
cmp -s "$ISP_WORK/head.bin" <(head -c $((4 << 20)) "$ISP_IMG") ||
  isp_fail "the first 4 MiB read through the redirection differ from the image"
grep -q "through portal 127.0.0.1:$A (1 of 1), redirected to 127.0.0.2:$B" "$PROXY_LOG" ||
  isp_fail "the log does not show the login redirected from $A to $B"
grep -m1 "login through 127.0.0.1:$A: status 0x0101" "$PROXY_LOG" | sed 's/^.*backend /    backend /'
echo "## login redirected by 127.0.0.1:$A to 127.0.0.2:$B (0x0101): followed, 4 MiB read equal the image"

# ... and the first as 127.0.0.3, an address the second does not have.
_ISP_TGT_CUR=$A_CUR TGT_CTL=${_ISP_TGT_CTLS[$A_CUR]}
isp_tgtadm --op new --mode portal --param portal="127.0.0.3:$A" || isp_fail "tgtadm cannot add 127.0.0.3:$A"
redirect "$B_CUR" 127.0.0.3 "$A"
refused_before=$(grep -c "login refused with status 0x0301" "$PROXY_LOG" || true)
followed() { grep -c "status 0x0101 (login redirected): login redirected; trying" "$PROXY_LOG" || true; }
followed_before=$(followed)
! isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR" "$URL" >/dev/null 2>&1 ||
  isp_fail "a login succeeded although the two tgtds redirect to each other"
grep -q "too many login redirections" "$PROXY_LOG" || isp_fail "the redirection loop was not cut by its bound"
(($(grep -c "login refused with status 0x0301" "$PROXY_LOG") > refused_before)) ||
  isp_fail "the initiator was not refused with 0x0301 after the loop"
n=$(($(followed) - followed_before))
((n == 4)) || isp_fail "the looping login followed $n redirections, expected 4"
echo "## two tgtds redirecting to each other: given up after $n redirections, login refused 0x0301"
isp_proxy_alive "after the redirection loop"
