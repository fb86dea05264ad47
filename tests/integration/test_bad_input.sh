#!/usr/bin/env bash
# Malformed input on the proxy's port: garbage, a BHS announcing a 16 MiB data
# segment, unknown opcodes, truncated and oversized logins, PDUs that are invalid
# in full feature phase, connection floods. What the proxy answers is printed;
# the test fails if the proxy dies, stops answering a normal initiator while a
# bad connection is held open, or serves INQUIRY differently afterwards.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
isp_setup
command -v python3 >/dev/null || isp_fail "python3 not found (run tests/deps.sh)"

cat >"$ISP_WORK/bad.py" <<'PY'
import os, socket, struct, subprocess, sys, time

host, port, target, initiator, inq_url = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
failures = []

def connect():
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(2)
    return s

def bhs(opcode, flags=0, dsl=0, itt=1, rest=b""):
    h = bytearray(48)
    h[0] = opcode
    h[1] = flags
    h[5:8] = dsl.to_bytes(3, "big")
    h[16:20] = struct.pack(">I", itt)
    h[20:20 + len(rest)] = rest
    return bytes(h)

def pad(b):
    return b + b"\0" * (-len(b) % 4)

def login_pdu(keys, target_name=target, dsl=None, cmdsn=0):
    data = b"".join(k.encode() + b"\0" for k in keys)
    h = bytearray(48)
    h[0] = 0x43                      # Immediate | Login Request
    h[1] = 0x87                      # T=1, CSG=1 (operational), NSG=3 (full feature)
    n = len(data) if dsl is None else dsl
    h[5:8] = n.to_bytes(3, "big")
    h[8:14] = bytes([0x80, 0x00, 0x12, 0x34, 0x56, 0x78])   # ISID, random type
    h[16:20] = struct.pack(">I", 0x1000)                      # ITT
    h[24:28] = struct.pack(">I", cmdsn)
    return bytes(h) + pad(data)

def std_keys(tn=target):
    return ["InitiatorName=" + initiator, "SessionType=Normal", "TargetName=" + tn,
            "HeaderDigest=None", "DataDigest=None", "MaxRecvDataSegmentLength=262144",
            "InitialR2T=Yes", "ImmediateData=Yes", "ErrorRecoveryLevel=0"]

def read_pdu(s):
    """One PDU, or a string saying why there is none."""
    buf = b""
    try:
        while len(buf) < 48:
            c = s.recv(48 - len(buf))
            if not c:
                return "closed" if not buf else "closed mid-BHS"
            buf += c
        ahs = buf[4] * 4
        dsl = int.from_bytes(buf[5:8], "big")
        want = ahs + dsl + (-dsl % 4)
        body = b""
        while len(body) < want:
            c = s.recv(min(65536, want - len(body)))
            if not c:
                return "closed mid-PDU"
            body += c
        return buf + body
    except socket.timeout:
        return "no answer within 2s (connection still open)"
    except ConnectionResetError:
        return "reset"

def describe(p):
    if isinstance(p, str):
        return p
    op = p[0] & 0x3f
    if op == 0x23:
        return "Login Response status %d/%d T=%d" % (p[36], p[37], p[1] >> 7)
    if op == 0x3f:
        return "Reject reason 0x%02x" % p[2]
    if op == 0x20:
        return "NOP-In"
    if op == 0x21:
        return "SCSI Response status 0x%02x" % p[3]
    if op == 0x22:
        return "TMF Response %d" % p[2]
    if op == 0x26:
        return "Logout Response"
    return "PDU opcode 0x%02x" % op

def case(name, payload, close_write=False):
    s = connect()
    try:
        s.sendall(payload)
        if close_write:
            s.shutdown(socket.SHUT_WR)
        answers = []
        for _ in range(3):
            p = read_pdu(s)
            answers.append(describe(p))
            if isinstance(p, str):
                break
    except (BrokenPipeError, ConnectionResetError) as e:
        answers = ["send failed: %s" % e]
    finally:
        s.close()
    print("%-44s -> %s" % (name, "; ".join(answers)))

def inquiry_ok(why):
    r = subprocess.run(["iscsi-inq", "-i", initiator, inq_url], capture_output=True, timeout=30)
    if r.returncode != 0:
        failures.append("iscsi-inq failed while %s: %s" % (why, r.stderr.decode(errors="replace").strip()))
        return False
    return True

rnd = os.urandom(4096)
case("random garbage (4 KiB)", rnd)
case("48 zero bytes (NOP-Out before login)", bytes(48))
case("truncated BHS (20 bytes) then EOF", login_pdu(std_keys())[:20], close_write=True)
case("unknown opcode 0x1f before login", bhs(0x1f, 0x80))
case("reserved opcode 0x3e before login", bhs(0x3e, 0x80))
case("SCSI Command before login", bhs(0x01, 0xc0, 0, rest=b""))
case("login: truncated data segment then EOF", login_pdu(std_keys())[:48 + 30], close_write=True)
case("login: unknown target name", login_pdu(std_keys("iqn.2026-11.org.example:no-such-target")))
case("login: no InitiatorName", login_pdu(std_keys()[1:]))
case("login: keys without NUL, 8 KiB of 'A'", login_pdu([], dsl=8192) + b"A" * 8192)
case("login: version max 0x7f / min 0x7f", login_pdu(std_keys())[:2] + b"\x7f\x7f" + login_pdu(std_keys())[4:])
case("login: AHS length 255 announced", login_pdu(std_keys())[:4] + b"\xff" + login_pdu(std_keys())[5:],
     close_write=True)
case("login: CSG=NSG=2 (reserved stage)", bytes([0x43, 0x8a]) + login_pdu(std_keys())[2:])

# A BHS announcing a 16 MiB data segment, held open while a normal initiator works.
s = connect()
s.sendall(login_pdu(std_keys(), dsl=0xFFFFFF)[:48] + b"x" * 1000)
held = inquiry_ok("a connection announcing a 16 MiB login segment was held open")
print("%-44s -> %s" % ("login BHS with DataSegmentLength 16 MiB",
      describe(read_pdu(s)) + ("; proxy kept serving others" if held else "; PROXY STALLED")))
s.close()

# Half a BHS, held open.
s = connect()
s.sendall(b"\x43\x87\x00")
held = inquiry_ok("a connection with 3 bytes of a BHS was held open")
print("%-44s -> %s" % ("3 bytes of a BHS, held open", "proxy kept serving others" if held else "PROXY STALLED"))
s.close()

# A proper login, then bad PDUs in full feature phase.
def ffp_session():
    s = connect()
    s.sendall(login_pdu(std_keys()))
    p = read_pdu(s)
    if isinstance(p, str) or (p[0] & 0x3f) != 0x23 or p[36] != 0:
        s.close()
        failures.append("a well-formed login was refused: " + describe(p))
        return None, 0
    if not (p[1] & 0x80) or (p[1] & 3) != 3:
        s.close()
        print("%-44s -> %s" % ("login for the full-feature cases", "target did not go to FFP in one step; skipped"))
        return None, 0
    statsn, expcmdsn = struct.unpack(">II", p[24:32])
    return s, (statsn, expcmdsn)

for name, mk in [
    ("FFP: unknown opcode 0x0f", lambda: bhs(0x0f, 0x80, itt=7, rest=b"")),
    ("FFP: SCSI Command, DSL 16 MiB", lambda: bhs(0x01, 0xa0, 0xFFFFFF, itt=8)),
    ("FFP: Data-Out for an unknown task", lambda: bhs(0x05, 0x80, 512, itt=9) + b"\0" * 512),
    ("FFP: SNACK at ErrorRecoveryLevel 0", lambda: bhs(0x10, 0x80, itt=10)),
    ("FFP: Text Request, 300 KiB of keys", lambda: bhs(0x04, 0x80, 300 * 1024, itt=11) + b"A=B\0" * (75 * 1024)),
    ("FFP: TMF function 0 (reserved)", lambda: bhs(0x02, 0x80, itt=12)),
    ("FFP: CDB with 200 bytes of AHS", lambda: (lambda h: h[:4] + bytes([50]) + h[5:])(bhs(0x01, 0xc0, itt=13)) + b"\1" * 200),
]:
    s, statsn = ffp_session()
    if s is None:
        continue
    try:
        s.sendall(mk())
        answers = [describe(read_pdu(s))]
        if answers[0].startswith("Reject") or answers[0].startswith("SCSI") or answers[0].startswith("no answer"):
            # Still usable? A NOP-Out ping must come back as NOP-In.
            ping = bytearray(bhs(0x40, 0x80, 4, itt=0x77))   # immediate NOP-Out
            ping[20:24] = b"\xff\xff\xff\xff"          # TTT reserved value
            ping[24:32] = struct.pack(">II", statsn[1], statsn[0] + 1)
            s.sendall(bytes(ping) + b"ping")
            answers.append("ping: " + describe(read_pdu(s)))
    except (BrokenPipeError, ConnectionResetError) as e:
        answers = ["send failed: %s" % e]
    s.close()
    print("%-44s -> %s" % (name, "; ".join(answers)))

# Flood: 200 connections opened at once from another address, then dropped
# (the proxy keeps max_connections_per_address of them and closes the rest;
# the initiator at 127.0.0.1 is served meanwhile).
socks = []
for _ in range(200):
    try:
        socks.append(socket.create_connection((host, port), timeout=5,
                                              source_address=("127.0.0.2", 0)))
    except OSError as e:
        print("flood: connect failed after %d: %s" % (len(socks), e))
        break
inquiry_ok("200 idle connections were open")
for s in socks:
    s.close()
print("%-44s -> %d connections opened and dropped" % ("connection flood", len(socks)))

for f in failures:
    print("FAILURE: " + f)
sys.exit(1 if failures else 0)
PY

isp_timeout 300 python3 "$ISP_WORK/bad.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$URL_PROXY" ||
  isp_fail "bad-input script reports failures (above)"
isp_proxy_alive "after malformed input"

# Still serving, with the same answers as tgtd gives directly.
d=$(isp_timeout 60 iscsi-inq -i "$ISP_INITIATOR" "$URL_DIRECT") || isp_fail "iscsi-inq direct failed"
p=$(isp_timeout 60 iscsi-inq -i "$ISP_INITIATOR" "$URL_PROXY") ||
  isp_fail "the proxy no longer serves iscsi-inq after malformed input"
[[ "$d" == "$p" ]] || isp_fail "INQUIRY through the proxy differs after malformed input"
isp_timeout 60 qemu-img compare -f raw -F raw "$URL_PROXY" "$ISP_IMG" >/dev/null ||
  isp_fail "the LUN read through the proxy differs from the backing file after malformed input"
echo "proxy alive and serving after malformed input"
