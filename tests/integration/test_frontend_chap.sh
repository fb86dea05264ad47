#!/usr/bin/env bash
# Who may log in (issue 10): frontend CHAP, ACLs and SendTargets filtering,
# with initiators nobody here wrote (libiscsi 1.19: CHAP MD5 in hex, one-way
# and mutual; QEMU's own CHAP through libiscsi) and the project's protocol
# client for what libiscsi cannot send (SHA-1, SHA-256, SHA3-256, base64,
# reflection, oversize values, CHAP_I out of range, a source address other
# than 127.0.0.1). Counted in login_failures_total{reason}. Last, the
# configuration rule against borrowed credentials: a target whose backend
# needs CHAP and that has no frontend CHAP or ACL is refused, and with
# allow_anonymous = yes it starts with a warning.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_require_root
((ISP_DIRECT == 0)) || { isp_log "direct mode: nothing to test (frontend authentication)"; exit 0; }

isp_start_tgtd
IMG=$ISP_WORK/chap.img
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 65536)' >"$IMG"   # 16 MiB
isp_tgt_add_target 1 "$BACKEND_IQN" "$IMG"

T=iqn.2026-11.org.example:proxy
CHAP=$T.chap NOMD5=$T.nomd5 INI=$T.ini ADDR=$T.addr
port="" stats=""
isp_pick_port port
isp_pick_port stats
PROXY_CONF=$ISP_WORK/proxy.conf PROXY_LOG=$ISP_WORK/proxy.log
(umask 077 && cat >"$ISP_WORK/proxy.auth") <<'AUTH'
[account alice]
secret = alicesecret123

[account carol]
secret = carolsecret456

[account proxytarget]
secret = targetsecret99
AUTH
target() { # NAME KEY=VALUE...
  printf '\n[target %s]\nbackend_portal = 127.0.0.1:%s\nbackend_target = %s\n' "$1" "$TGT_PORT" "$BACKEND_IQN"
  shift
  printf '%s\n' "$@"
}
{
  printf '[proxy]\nlisten = 127.0.0.1:%s\nstats_listen = 127.0.0.1:%s\nauth_file = proxy.auth\n' "$port" "$stats"
  printf 'discovery_chap_accounts = alice\n'
  target "$CHAP" "chap_accounts = alice, carol" "mutual_account = proxytarget"
  target "$NOMD5" "chap_accounts = alice" "chap_algorithms = sha256, sha1"
  target "$INI" "allowed_initiators = $ISP_INITIATOR2"
  target "$ADDR" "chap_accounts = alice" "allowed_addresses = 127.0.0.2"
} >"$PROXY_CONF"
"$PROXY_BIN" -c "$PROXY_CONF" >"$PROXY_LOG" 2>&1 &
PROXY_PID=$!
_ISP_PROXY_PIDS+=("$PROXY_PID") _ISP_PROXY_LOGS+=("$PROXY_LOG")
isp_wait_listen "$port" "$PROXY_PID" proxy "$PROXY_LOG" 20 || isp_fail "the proxy did not start"

url() { echo "iscsi://${2:+$2@}127.0.0.1:$port/$1/$ISP_LUN"; }
inq() { isp_timeout 30 iscsi-inq -i "${3:-$ISP_INITIATOR}" "$(url "$1" "${2:-}")" >/dev/null 2>&1; }
n_refused=0
refused() { # WHAT STATUS: one more refusal in the log, with this status
  local last n
  n=$(grep -c "login refused with status" "$PROXY_LOG" || true)
  ((n == n_refused + 1)) || isp_fail "$1: $((n - n_refused)) new refusals in the log, expected 1"
  n_refused=$n
  last=$(grep "login refused with status" "$PROXY_LOG" | tail -n 1)
  [[ "$last" == *"status $2"* ]] || isp_fail "$1: expected a refusal with $2, log says: ${last:-nothing}"
  [[ "$last" != *alicesecret* && "$last" != *carolsecret* ]] || isp_fail "$1: a secret in the log"
}

# --- libiscsi: CHAP MD5, hex ---------------------------------------------
inq "$CHAP" "alice%alicesecret123" || isp_fail "CHAP with the right secret: login failed"
isp_timeout 60 qemu-img convert -f raw -O raw "$(url "$CHAP" "alice%alicesecret123")" "$ISP_WORK/copy.raw" ||
  isp_fail "qemu-img convert with CHAP failed"
cmp "$ISP_WORK/copy.raw" "$IMG" || isp_fail "qemu-img convert with CHAP: the copy differs"
echo "## libiscsi and QEMU, CHAP MD5: logged in, copy byte-identical"
! inq "$CHAP" "alice%wrongsecret99" || isp_fail "CHAP with a wrong secret logged in"
refused "wrong secret" 0x0201
! inq "$CHAP" || isp_fail "a CHAP target let an initiator in without CHAP"
refused "no credentials" 0x0201
! inq "$NOMD5" "alice%alicesecret123" || isp_fail "MD5 logged in to a target that disallows it"
refused "MD5 disallowed" 0x0201
echo "## wrong secret, no CHAP, MD5 where it is not allowed: refused with 0x0201"

# mutual, as libiscsi does it (environment)
LIBISCSI_CHAP_TARGET_USERNAME=proxytarget LIBISCSI_CHAP_TARGET_PASSWORD=targetsecret99 \
  inq "$CHAP" "carol%carolsecret456" || isp_fail "mutual CHAP with the right secrets failed"
! LIBISCSI_CHAP_TARGET_USERNAME=proxytarget LIBISCSI_CHAP_TARGET_PASSWORD=notthetarget1 \
  inq "$CHAP" "carol%carolsecret456" || isp_fail "the initiator accepted a target that does not know its secret"
echo "## mutual CHAP (libiscsi): logged in; with a wrong target secret the initiator refuses"

# --- ACLs and SendTargets -------------------------------------------------
! inq "$INI" || isp_fail "an InitiatorName the target does not allow logged in"
refused "InitiatorName not allowed" 0x0202
inq "$INI" "" "$ISP_INITIATOR2" || isp_fail "the allowed InitiatorName could not log in"
ls_out=$(isp_timeout 30 iscsi-ls -i "$ISP_INITIATOR" "iscsi://alice%alicesecret123@127.0.0.1:$port" 2>&1) ||
  isp_fail "iscsi-ls with discovery CHAP failed: $ls_out"
for t in "$CHAP" "$NOMD5"; do grep -q "$t" <<<"$ls_out" || isp_fail "SendTargets does not list $t"; done
for t in "$INI" "$ADDR"; do ! grep -q "$t" <<<"$ls_out" || isp_fail "SendTargets lists $t, closed to this initiator"; done
! isp_timeout 30 iscsi-ls -i "$ISP_INITIATOR" "iscsi://127.0.0.1:$port" >/dev/null 2>&1 ||
  isp_fail "discovery without CHAP succeeded though it requires CHAP"
echo "## ACL by InitiatorName: 0x0202; discovery needs CHAP and lists only the targets this initiator may use"

# --- the protocol client: what libiscsi cannot send -------------------------
chap() { # TARGET CASE WANT [USER SECRET [TUSER TSECRET]]
  local out
  out=$(isp_timeout 30 python3 "$(dirname "$0")/chap_login.py" 127.0.0.1 "$port" "$1" "$ISP_INITIATOR" \
    "$2" "${4:-alice}" "${5:-alicesecret123}" "${@:6}" 2>&1) || isp_fail "chap_login.py $2: $out"
  [[ "$out" == "status $3" ]] || isp_fail "CHAP case $2 on $1: $out, expected status $3"
}
for c in md5 sha1 sha256 sha3 b64-sha256; do chap "$CHAP" "$c" 0000; done
chap "$CHAP" mutual-sha256 0000 carol carolsecret456 proxytarget targetsecret99
chap "$NOMD5" sha256 0000
for c in wrong-secret reflect long-response short-response bad-id big-challenge bad-base64; do
  chap "$CHAP" "$c" 0201
done
chap "$ADDR" sha256 0202
chap "$ADDR" from-127.0.0.2 0000
echo "## CHAP_A 5-8 in hex and base64, mutual: logged in; wrong, reflected, oversize, short, CHAP_I 256,"
echo "## a 1025-byte CHAP_C, malformed base64: 0x0201; address ACL: 0x0202 from 127.0.0.1, in from 127.0.0.2"
grep -q "CHAP as alice" "$PROXY_LOG" || isp_fail "no session line names the CHAP account"
isp_proxy_alive "after the CHAP logins"

python3 - "$(isp_stats_get "$stats" metrics)" <<'PY' || isp_fail "login failures by reason are not counted"
import re, sys
got = {m[0]: int(m[1]) for m in re.findall(r'login_failures_total\{reason="(\w+)"\} (\d+)', sys.argv[1])}
if got.get("authentication", 0) < 11 or got.get("authorization", 0) < 2:
    sys.exit(f"login_failures_total: {got}")
print(f"## login_failures_total: authentication {got['authentication']}, authorization {got['authorization']}")
PY

# --- SIGHUP: new secrets apply to new logins; sessions already in stay -----
ups=$(grep -c "session up" "$PROXY_LOG" || true)
isp_timeout 60 iscsi-perf -i "$ISP_INITIATOR" -t 6 -m 4 -b 8 "$(url "$CHAP" "alice%alicesecret123")" \
  </dev/null >"$ISP_WORK/perf.out" 2>&1 &
perf_pid=$!
for ((i = 0; i < 200; i++)); do (($(grep -c "session up" "$PROXY_LOG") > ups)) && break; sleep 0.05; done
(($(grep -c "session up" "$PROXY_LOG") > ups)) || isp_fail "iscsi-perf did not log in"
sed -i 's/^secret = alicesecret123$/secret = alicesecret-two/' "$ISP_WORK/proxy.auth"
isp_reload "reload: "
n_refused=$(grep -c "login refused with status" "$PROXY_LOG" || true)
! inq "$CHAP" "alice%alicesecret123" || isp_fail "the old secret still logs in after the reload"
refused "old secret after the reload" 0x0201
inq "$CHAP" "alice%alicesecret-two" || isp_fail "the new secret does not log in after the reload"
wait "$perf_pid" || { cat "$ISP_WORK/perf.out" >&2; isp_fail "the session logged in before the reload did not survive it"; }
! grep -q "asking initiator .* to log out" "$PROXY_LOG" || isp_fail "the reload of secrets asked a session to log out"
echo "## SIGHUP with a new secret: the old one refused, the new one in, the running session stayed"

# --- no borrowed credentials ------------------------------------------------
BAD=$ISP_WORK/borrowed.conf
{
  printf '[proxy]\nlisten = 127.0.0.1:%s\nstats_listen =\nauth_file = proxy.auth\n' "$port"
  target "$T.open" "backend_chap_account = alice"
} >"$BAD"
! out=$("$PROXY_BIN" --check-config -c "$BAD" 2>&1) || isp_fail "a target lending the SAN's CHAP account to anyone was accepted"
grep -q "allow_anonymous" <<<"$out" || isp_fail "the refusal does not say how to allow it: $out"
echo "## backend CHAP behind an open target: refused ($(head -n 1 <<<"$out"))"
echo "allow_anonymous = yes" >>"$BAD"
p2=""
isp_pick_port p2
sed -i "s/^listen = .*/listen = 127.0.0.1:$p2/" "$BAD"
"$PROXY_BIN" -c "$BAD" >"$ISP_WORK/open.log" 2>&1 &
open_pid=$!
_ISP_PROXY_PIDS+=("$open_pid") _ISP_PROXY_LOGS+=("$ISP_WORK/open.log")
isp_wait_listen "$p2" "$open_pid" proxy "$ISP_WORK/open.log" 20 || isp_fail "allow_anonymous = yes: the proxy did not start"
grep -q "allow_anonymous = yes" "$ISP_WORK/open.log" || isp_fail "allow_anonymous = yes: no warning at start"
echo "## with allow_anonymous = yes it starts and warns"
