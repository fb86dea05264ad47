"""Frontend protocol checks no stock initiator here makes (run by
test_frontend_protocol.sh): CRC32C header and data digests both ways, NOP-Out
ping echo, NOP-In keepalive (answered, then ignored), corrupt digests, CDBs
libiscsi cannot carry to the backend.
Usage: frontend_protocol.py HOST PORT TARGET INITIATOR NOP_INTERVAL NOP_TIMEOUT
       frontend_protocol.py HOST PORT TARGET INITIATOR backend-loss
  (the second form logs in, prints "logged in", and expects the proxy to close
  the connection within 20 s: the caller ends its backend session meanwhile)"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import RESERVED, Session  # noqa: E402

host, port, target, initiator = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
backend_loss = sys.argv[5] == "backend-loss"
nop_interval, nop_timeout = (1, 1) if backend_loss else (int(sys.argv[5]), int(sys.argv[6]))
DIGESTS = {"HeaderDigest": "CRC32C", "DataDigest": "CRC32C"}


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def session(extra=None):
    s = Session(host, port, timeout=nop_interval + nop_timeout + 10)
    keys = s.login(initiator, target, extra)
    # The backend reports a unit attention to a new nexus's first command.
    for _ in range(2):
        itt = s.next_itt()
        s.send(s.scsi_bhs(bytes(6), 0, False, False, itt))
        status, _ = s.read_response(itt)
        if status == 0:
            return s, keys
    fail("TEST UNIT READY does not succeed")


def expect_closed(s, what):
    """The target closes the connection; keepalive pings meanwhile are answered."""
    while True:
        try:
            p = s.recv()
        except ConnectionError:
            return
        if p.opcode == 0x20 and p.itt == RESERVED:
            s.nop_out(RESERVED, ttt=p.field20)
            continue
        fail(f"{what}: got opcode 0x{p.opcode:02x} instead of the connection closing")


def expect_invalid_opcode(s, what, itt):
    status, _ = s.read_response(itt)
    p = s.last_response
    if status != 0x02 or len(p.data) < 2 + 14 or (p.data[4] & 0x0F) != 0x05 or p.data[14] != 0x20:
        fail(f"{what}: status {status:#x}, sense {p.data.hex()}: not ILLEGAL REQUEST, "
             "INVALID COMMAND OPERATION CODE")


if backend_loss:
    s, _ = session()
    print("logged in", flush=True)
    s.sock.settimeout(20)
    expect_closed(s, "after its backend session ended")
    print("ok: backend session loss closed the initiator's connection")
    sys.exit(0)

# 0. CDBs libiscsi cannot carry: longer than 16 bytes (Extended CDB AHS) and
# bidirectional commands get CHECK CONDITION, never a silent drop.
s, _ = session()
itt = s.next_itt()
bhs = bytearray(s.scsi_bhs(bytes([0x7F] + [0] * 15), 0, False, False, itt))
bhs[4] = 2                                     # TotalAHSLength: one 8-byte AHS
ahs = bytes([0x00, 0x05, 0x01, 0x00]) + bytes(4)  # AHSLength 5, Extended CDB, 4 more bytes
s.sock.sendall(bytes(bhs) + ahs)
expect_invalid_opcode(s, "a 20-byte CDB", itt)
itt = s.next_itt()
s.send(s.scsi_bhs(struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0), 512, True, True, itt))
expect_invalid_opcode(s, "a bidirectional command", itt)
print("ok: extended and bidirectional CDBs answered INVALID COMMAND OPERATION CODE")

# 1. Digests negotiated, data both ways under CRC32C.
s, keys = session(DIGESTS)
if keys.get("HeaderDigest") != "CRC32C" or keys.get("DataDigest") != "CRC32C":
    fail(f"digests not negotiated: {keys}")
data = bytes((i * 7) & 0xFF for i in range(8192))
status, _ = s.read_response(s.write10(4096, data))
if status != 0:
    fail(f"WRITE(10) with digests: status {status:#x}")
status, got = s.read10(4096, 16)
if status != 0 or got != data:
    fail("READ(10) with digests did not return the written data")
print("ok: CRC32C header and data digests, WRITE and READ")

# 2. NOP-Out ping: echoed with the same ITT and data.
s.nop_out(0x7777, data=b"are you there?")
p = s.recv()
if p.opcode != 0x20 or p.itt != 0x7777 or p.data != b"are you there?":
    fail(f"NOP-Out ping answered by opcode 0x{p.opcode:02x} ITT {p.itt:#x} data {p.data!r}")
print("ok: NOP-Out ping echoed")

# 3. NOP-In keepalive: answered pings keep the connection, an ignored one ends it.
deadline = time.monotonic() + nop_interval + nop_timeout + 5
answered = 0
while answered < 2:
    p = s.recv()
    if time.monotonic() > deadline:
        fail("no NOP-In ping within the interval")
    if p.opcode == 0x20 and p.itt == RESERVED and p.field20 != RESERVED:
        s.nop_out(RESERVED, ttt=p.field20)
        answered += 1
print("ok: two NOP-In pings answered, connection kept")
start = time.monotonic()
while True:
    try:
        p = s.recv()
    except ConnectionError:
        break
    if p.opcode != 0x20:
        fail(f"unexpected opcode 0x{p.opcode:02x} while ignoring pings")
waited = time.monotonic() - start
if waited > nop_interval + nop_timeout + 3:
    fail(f"connection closed only after {waited:.1f} s of ignored pings")
print(f"ok: ignored ping closed the connection after {waited:.1f} s")

# 4. Corrupt data digest: Reject (data digest error), then the connection closes.
s, _ = session(DIGESTS)
s.write10(8192, data, corrupt_data_digest=True)
p = s.recv()
if p.opcode != 0x3F or p.bhs[2] != 0x02:
    fail(f"corrupt data digest answered by opcode 0x{p.opcode:02x} reason {p.bhs[2]:#x}")
expect_closed(s, "after a data digest error")
print("ok: corrupt data digest rejected (0x02), connection closed")

# 5. Corrupt header digest: the connection closes (ERL 0, RFC 7143 7.8).
s, _ = session(DIGESTS)
s.header_digest = False
bhs = s.scsi_bhs(bytes(6), 0, False, False, s.next_itt())
s.sock.sendall(bhs + b"\xde\xad\xbe\xef")
expect_closed(s, "after a header digest error")
print("ok: corrupt header digest closes the connection")
print("frontend protocol: all checks passed")
