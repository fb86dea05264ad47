"""A unit attention the SAN raises for a session that only gets zeros reaches
it within the proxy's bound (run by test_reservation.sh). Initiator 2 registers
a key and reads a hole page (zeros from the cache); initiator 1 registers and
PREEMPTs initiator 2's registration (type Write Exclusive, which does not block
READs), so the SAN holds a unit attention for initiator 2's nexus (tgt
reports RESERVATIONS PREEMPTED, 2Ah/03h). Initiator 2 keeps reading the hole
every 50 ms and must get that CHECK CONDITION within BOUND seconds.
Usage: unit_attention.py HOST PORT TARGET INITIATOR1 INITIATOR2 LBA BLOCKS BOUND"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scsi_cmds import BLOCK, fail, pr_out, read10, session  # noqa: E402

host, port, target, ini1, ini2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
lba, blocks, bound = int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
K1, K2 = 0x1111, 0x2222
WRITE_EXCLUSIVE = 0x1

s1 = session(host, port, target, ini1)
s2 = session(host, port, target, ini2)
for s, key, who in ((s2, K2, "initiator 2"), (s1, K1, "initiator 1")):
    st, _, sense = s.command(*pr_out(0x00, 0, 0, key))
    if st != 0:
        fail(f"{who}: REGISTER: status {st:#x}, sense {sense.hex()}")


def read_hole():
    return s2.command(read10(lba, blocks), read_len=blocks * BLOCK)


for _ in range(3):
    st, _, sense = read_hole()
    if st != 0:
        fail(f"initiator 2: READ of the hole before the preempt: status {st:#x}, sense {sense.hex()}")
st, _, sense = s1.command(*pr_out(0x04, WRITE_EXCLUSIVE, K1, K2))     # PREEMPT
if st != 0:
    fail(f"initiator 1: PREEMPT: status {st:#x}, sense {sense.hex()}")
t0 = time.monotonic()
zeros_after = 0
while True:
    st, data, sense = read_hole()
    waited = time.monotonic() - t0
    if st == 0x02 and len(sense) >= 14 and sense[2] & 0x0F == 0x06:
        print(f"ok: initiator 2 got the unit attention (ASC/ASCQ {sense[12]:02x}h/{sense[13]:02x}h) "
              f"{waited:.2f} s after the preempt, {zeros_after} READs of zeros before it", flush=True)
        break
    if st != 0:
        fail(f"initiator 2: READ of the hole: status {st:#x}, sense {sense.hex()}")
    zeros_after += 1
    if waited > bound:
        fail(f"initiator 2: no unit attention {waited:.2f} s after the preempt "
             f"({zeros_after} READs answered with zeros meanwhile)")
    time.sleep(0.05)
st, _, _ = s1.command(*pr_out(0x00, 0, K1, 0))                        # unregister
s1.logout()
s2.logout()
