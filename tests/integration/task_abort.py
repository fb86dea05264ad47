"""ABORT TASK of an ORDERED task the proxy holds (run by test_task_abort.sh).
With tgtd stopped (SIGSTOP by its PID, which the test started), a SIMPLE
WRITE waits at the SAN, an ORDERED READ behind it is held by the proxy (the
task order, SAM-5 8.6), and a SIMPLE READ behind that is held too. ABORT TASK
of the ORDERED READ must be answered FUNCTION COMPLETE while the SAN is still
stopped (nothing of it is at the SAN), it never gets a response, and after
SIGCONT the WRITE and the SIMPLE READ complete GOOD (the two are SIMPLE, so
in either order), and the blocks hold the WRITE's data. Usage: task_abort.py HOST PORT TARGET INITIATOR LBA TGTD_PID"""
import os
import select
import signal
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scsi_cmds import BLOCK, fail, read10, session, write10  # noqa: E402

host, port, target, ini = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lba, tgtd = int(sys.argv[5]), int(sys.argv[6])
SIMPLE, ORDERED = 1, 2
BLOCKS = 16
TMF_ABORT_TASK, TMF_FUNCTION_COMPLETE = 1, 0


def abort_task(s, ref_itt, ref_cmdsn, lun=1):
    """Task Management Function Request (RFC 7143 11.5), immediate."""
    itt = s.next_itt()
    bhs = bytearray(48)
    bhs[0] = 0x40 | 0x02
    bhs[1] = 0x80 | TMF_ABORT_TASK
    bhs[9] = lun
    struct.pack_into(">IIII", bhs, 16, itt, ref_itt, s.cmdsn, s.expstatsn)
    struct.pack_into(">I", bhs, 32, ref_cmdsn)
    s.send(bytes(bhs))
    return itt


s = session(host, port, target, ini)
data = bytes([0x3c]) * (BLOCKS * BLOCK)
os.kill(tgtd, signal.SIGSTOP)
try:
    w = s.send_command(write10(lba, BLOCKS), data, attr=SIMPLE)
    held_cmdsn = s.cmdsn
    held = s.send_command(read10(lba, BLOCKS), read_len=BLOCKS * BLOCK, attr=ORDERED)
    behind = s.send_command(read10(lba, BLOCKS), read_len=BLOCKS * BLOCK, attr=SIMPLE)
    tmf = abort_task(s, held, held_cmdsn)
    # The answer must come while the SAN is stopped: the proxy held the task.
    if not select.select([s.sock], [], [], 10)[0]:
        fail("no answer to ABORT TASK of the held ORDERED READ within 10 s")
    p = s.recv()
    if p.opcode != 0x22 or p.itt != tmf:
        fail(f"expected the Task Management Function Response, got opcode {p.opcode:#x} ITT {p.itt:#x}")
    if p.bhs[2] != TMF_FUNCTION_COMPLETE:
        fail(f"ABORT TASK of the held ORDERED READ answered {p.bhs[2]}, not FUNCTION COMPLETE")
finally:
    os.kill(tgtd, signal.SIGCONT)
got, order = s.collect([w, behind])
if got[w][0] != 0:
    fail(f"the WRITE before the aborted task: status {got[w][0]:#x}")
if got[behind][0] != 0:
    # SIMPLE, like the WRITE: it may run before or after it, but it runs.
    fail(f"the READ behind the aborted task: status {got[behind][0]:#x}")
st, back, _ = s.command(read10(lba, BLOCKS), read_len=BLOCKS * BLOCK)
if st != 0 or back != data:
    fail("the blocks do not hold the WRITE's data afterwards")
if s.logout() != 0:
    fail("logout after the abort was not clean")
print(f"ok: ABORT TASK of the held ORDERED READ answered while the SAN was stopped; "
      f"no response for it; completions {order}", flush=True)
