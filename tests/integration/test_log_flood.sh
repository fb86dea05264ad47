#!/usr/bin/env bash
# Log lines an initiator can cause are rate-limited per source address
# (issue 12): connections from 127.0.0.1, each sending a NOP-Out before
# logging in (a protocol error the proxy logs, then closes), flood the proxy
# until its log says how many lines it suppressed (the first line of the
# next 10 s interval does), at most 30 s. The log must stay within 200 lines
# per started interval from that address plus the count lines, though the
# flood causes about three lines per connection; and the proxy serves after.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { isp_log "direct mode: nothing to test (the proxy's log)"; exit 0; }
ISP_PROXY_KEYS=$'max_connections_per_address = 4096' isp_setup

before=$(wc -l <"$PROXY_LOG")
out=$(python3 - "$PROXY_PORT" "$PROXY_LOG" <<'PY') || isp_fail "the flood client failed: $out"
import socket, struct, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
nop = bytearray(48)
nop[0], nop[1] = 0x40, 0x80                 # NOP-Out, immediate, F: not a Login Request
struct.pack_into(">II", nop, 16, 1, 0xffffffff)
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < 30:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(bytes(nop))
    try:
        s.recv(1)                              # the proxy closes it
    except OSError:
        pass
    s.close()
    n += 1
    if n % 50 == 0 and "suppressed (rate limit)" in open(log, errors="replace").read():
        break
print(n, f"{time.monotonic() - t0:.1f}")
PY
read -r n secs <<<"$out"
lines=$(($(wc -l <"$PROXY_LOG") - before))
intervals=$((${secs%.*} / 10 + 1))
bound=$((intervals * 201 + 10))
echo "## $n bad connections in ${secs}s: $lines log lines (bound $bound, about $((3 * n)) without the limit)"
grep -q "suppressed (rate limit)" "$PROXY_LOG" || isp_fail "no line says how many lines were suppressed"
((lines <= bound)) || isp_fail "the flood wrote $lines log lines, more than $bound"
((3 * n > 2 * bound)) || isp_fail "the flood ($n connections) was too small to prove the limit"
isp_timeout 30 iscsi-inq -i "$ISP_INITIATOR" "$URL_PROXY" >/dev/null || isp_fail "the proxy does not serve after the flood"
isp_proxy_alive "after the log flood"
