"""Initiators that drop their connection in the middle of a WRITE (run by
test_fault_initiator_drop.sh). N connections, one after the
other, each logs in, starts a WRITE of 256 KiB to a slot of its own and
closes its socket at one of these points (cycling):
  cmd         the SCSI Command with 8 KiB of immediate data, nothing more
  mid-pdu     the command, then a Data-Out header and half of its data
  unsol       the command and half of the unsolicited Data-Out (no F bit)
  r2t         InitialR2T=Yes, ImmediateData=No: the command, the target's R2T,
              half of the solicited data
  rst         like unsol, closed with a TCP RST (SO_LINGER 0) instead of a FIN
  full        every byte of data sent, closed before the status: the WRITE
              may or may not be executed
(A target that insists on InitialR2T=Yes, as tgt does, gets no unsolicited
Data-Out: there the first R2T's burst stands for it.)
It prints one line per connection, "slot N CASE".
  fault_drop.py check IMAGE BEFORE LBA OUT  (once the target is done with them)
checks the backing file IMAGE against BEFORE (the slots' bytes before) for the
slots in OUT (the lines above): a slot of a WRITE whose data never all
arrived holds its old bytes (no target may execute a WRITE without its
data); a "full" slot holds its old bytes or the WRITE's pattern, whole.
Usage: fault_drop.py HOST PORT TARGET INITIATOR LBA N"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_io import BLOCK, pattern, write10  # noqa: E402
from iscsi_client import RESERVED, Session  # noqa: E402

CASES = ("cmd", "mid-pdu", "unsol", "r2t", "rst", "full")
BLOCKS = 512                     # 256 KiB
SIZE = BLOCKS * BLOCK



def r2t(s, itt):
    p = s.recv()
    if p.opcode != 0x31 or p.itt != itt:
        raise RuntimeError(f"expected an R2T, got opcode {p.opcode:#x}")
    off, want = struct.unpack(">II", p.bhs[40:48])
    return off, off + want, p.field20


def drop(slot, case):
    lba = base + slot * BLOCKS
    data = pattern(lba, BLOCKS, 1_000_000 + slot)
    s = Session(host, port, timeout=30)
    extra = {"InitialR2T": "Yes", "ImmediateData": "No"} if case == "r2t" else {}
    s.login(ini, target, extra)
    if case == "r2t" and (not s.initial_r2t or s.immediate_data):
        raise RuntimeError("the target did not accept InitialR2T=Yes, ImmediateData=No")
    itt = s.next_itt()
    s._pending_out[itt] = (data, 1)
    # Immediate data, then unsolicited Data-Out up to FirstBurstLength, then
    # what R2Ts ask for (a target that wants InitialR2T=Yes gets no unsolicited).
    imm = min(8192, s.target_mrdsl, s.first_burst) if s.immediate_data else 0
    unsol = imm if s.initial_r2t else min(SIZE, s.first_burst)
    s.send(s.scsi_bhs(write10(lba, BLOCKS), SIZE, False, True, itt, final=imm == unsol,
                      data_len=imm), data[:imm])
    if case != "cmd":
        # The first stage of Data-Out: the unsolicited rest, or the first R2T's burst.
        start, end, ttt = (imm, unsol, RESERVED) if unsol > imm else r2t(s, itt)
        if case == "mid-pdu":
            seg = min(s.target_mrdsl, end - start)
            # A Data-Out header saying seg bytes, then half of them: the PDU is cut.
            s.sock.sendall(s.data_out_bhs(itt, start, seg, ttt=ttt, final=start + seg == end) +
                           data[start:start + seg // 2])
        elif case in ("unsol", "rst", "r2t"):
            s._data_out(itt, start, start + (end - start) // 2, ttt)     # F bit never set
        else:                                           # full: every byte
            s._data_out(itt, start, end, ttt)
            while end < SIZE:
                start, end, ttt = r2t(s, itt)
                s._data_out(itt, start, end, ttt)
    if case == "rst":
        s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sock.close()


def check(image, before, out):
    img, old = os.open(image, os.O_RDONLY), os.open(before, os.O_RDONLY)
    counts = {}
    for line in open(out):
        w = line.split()
        if len(w) != 3 or w[0] != "slot":
            continue
        slot, case = int(w[1]), w[2]
        lba = base + slot * BLOCKS
        got = os.pread(img, SIZE, lba * BLOCK)
        was = os.pread(old, SIZE, slot * SIZE)
        if got == was:
            what = "old"
        elif case == "full" and got == pattern(lba, BLOCKS, 1_000_000 + slot):
            what = "new"
        else:
            print(f"FAIL: slot {slot} ({case}): the backing file holds "
                  f"{'neither old data nor the WRITE' if case == 'full' else 'other than its old data'}",
                  flush=True)
            return 1
        counts[f"{case} {what}"] = counts.get(f"{case} {what}", 0) + 1
    print("ok: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())), flush=True)
    return 0


if sys.argv[1] == "check":
    base = int(sys.argv[4])
    sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[5]))
host, port, target, ini = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base, n = int(sys.argv[5]), int(sys.argv[6])
for i in range(n):
    case = CASES[i % len(CASES)]
    drop(i, case)
    print(f"slot {i} {case}", flush=True)
