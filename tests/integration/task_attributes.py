"""Task attributes through the proxy and against tgtd directly (run by
test_task_attributes.sh): a WRITE, an ORDERED READ of the same blocks and a
SIMPLE WRITE of them again, sent pipelined (no waiting in between), in
several rounds; the ORDERED READ must see the first WRITE and not the second
(SAM-5: an ORDERED task waits for every older task and holds the younger).
A round with a HEAD OF QUEUE command behind the held ones checks it is not
held. Usage: task_attributes.py HOST PORT TARGET INITIATOR LBA ROUNDS"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scsi_cmds import BLOCK, fail, read10, session, write10  # noqa: E402

host, port, target, ini = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base, rounds = int(sys.argv[5]), int(sys.argv[6])
SIMPLE, ORDERED, HEAD_OF_QUEUE = 1, 2, 3
BLOCKS = 128                                # 64 KiB

s = session(host, port, target, ini)
for r in range(rounds):
    lba = base + r * BLOCKS
    first, second = bytes([0x10 + r % 0x60]) * (BLOCKS * BLOCK), bytes([0xB0 + r % 0x40]) * (BLOCKS * BLOCK)
    w1 = s.send_command(write10(lba, BLOCKS), first, attr=SIMPLE)
    rd = s.send_command(read10(lba, BLOCKS), read_len=BLOCKS * BLOCK, attr=ORDERED)
    hoq = s.send_command(bytes(6), attr=HEAD_OF_QUEUE) if r == rounds - 1 else None
    w2 = s.send_command(write10(lba, BLOCKS), second, attr=SIMPLE)
    got, order = s.collect([w1, rd, w2] + ([hoq] if hoq else []))
    for itt, what in ((w1, "first WRITE"), (rd, "ORDERED READ"), (w2, "second WRITE"), (hoq, "HEAD OF QUEUE TEST UNIT READY")):
        if itt is not None and got[itt][0] != 0:
            fail(f"round {r}: {what}: status {got[itt][0]:#x}, sense {got[itt][2].hex()}")
    data = got[rd][1]
    if data != first:
        which = "the second WRITE's data" if data == second else "neither WRITE's data"
        fail(f"round {r}: the ORDERED READ saw {which}")
    if order.index(rd) < order.index(w1) or order.index(w2) < order.index(rd):
        fail(f"round {r}: completions out of order around the ORDERED READ: {order}")
    st, data, _ = s.command(read10(lba, BLOCKS), read_len=BLOCKS * BLOCK)
    if st != 0 or data != second:
        fail(f"round {r}: the blocks do not hold the second WRITE's data afterwards")
print(f"ok: {rounds} rounds: each ORDERED READ saw the WRITE before it and not the one after",
      flush=True)
s.logout()
