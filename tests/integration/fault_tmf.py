"""ABORT TASK and LOGICAL UNIT RESET under load (run by test_fault_tmf_load.sh).
One session; each round sends QD commands of 64 KiB pipelined, then at once
a Task Management Function: even rounds ABORT TASK of the READ sent last,
odd rounds LOGICAL UNIT RESET. The commands in flight are READs (of slots
written before, mostly) after a burst of QD/2 WRITEs that have completed;
with --writes-in-flight, READs and WRITEs mixed instead (see
test_fault_tmf_load.sh for why that is not the default through the proxy).
Every WRITE goes to a slot of its own, never written before, with a pattern
naming its blocks and itself; READs go to slots no WRITE of the round touches.
Checked:
  - the TMF is answered within the socket timeout: FUNCTION COMPLETE, or for
    ABORT TASK, TASK DOES NOT EXIST;
  - every task the TMF did not end gets exactly one response, and no PDU
    comes for a task that was never sent; a response for a task the TMF ended
    that comes after the TMF response is counted, not failed (tgt completes
    tasks it had not queued yet after its FUNCTION COMPLETE);
  - every READ that came back GOOD holds, whole, its slot's old data or the
    pattern of the one WRITE ever sent to it, and never a torn mix;
  - the session goes on after each TMF (the next round runs on it after the
    unit attention a reset leaves);
  - at the end, in the backing file IMAGE: each slot of a WRITE that came back
    GOOD holds its pattern byte for byte; a slot of a WRITE a TMF ended holds
    its old data or the WRITE's pattern, whole.
Prints "ok: ..." with the counts, or "FAIL: ..." and exits 1.
Usage: fault_tmf.py HOST PORT TARGET INITIATOR IMAGE LBA ROUNDS [--qd N]
       [--writes-in-flight]"""
import argparse
import os
import random
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_io import (BLOCK, GOOD, Lost, connect, is_unit_attention, pattern,  # noqa: E402
                      read10, write10)
from iscsi_client import RESERVED  # noqa: E402

ABORT_TASK, LUN_RESET = 1, 5
FUNCTION_COMPLETE, TASK_DOES_NOT_EXIST = 0, 1
BLOCKS = 128                      # 64 KiB
SIZE = BLOCKS * BLOCK

ap = argparse.ArgumentParser()
for a in ("host", "port", "target", "initiator", "image", "lba", "rounds"):
    ap.add_argument(a)
ap.add_argument("--qd", type=int, default=24)
ap.add_argument("--writes-in-flight", action="store_true")
args = ap.parse_args()
port, base, rounds, qd = int(args.port), int(args.lba), int(args.rounds), args.qd
slots = rounds * qd               # enough for every WRITE to have a slot of its own


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


img = os.open(args.image, os.O_RDONLY)
old = {s: os.pread(img, SIZE, (base + s * BLOCKS) * BLOCK) for s in range(slots)}
written = {}                      # slot -> pattern of the one WRITE sent to it
outcome = {}                      # slot -> "good" | "ended" | "other"
rng = random.Random(12)
seq = 1
free = list(range(slots))
rng.shuffle(free)
n = {"abort_complete": 0, "abort_no_task": 0, "reset_complete": 0, "ended": 0, "late": 0,
     "good": 0, "reads": 0, "ua": 0}


class Round:
    """One session; ITTs of tasks a TMF ended go to pipe.late_ok, whose
    responses may still come (counted as late)."""

    def __init__(self):
        self.pipe = connect(args.host, port, args.target, args.initiator)

    def next(self):
        try:
            return self.pipe.next()
        except RuntimeError as e:
            fail(str(e))


class Stuck(Exception):
    pass


def alarm(signum, frame):
    raise Stuck()


signal.signal(signal.SIGALRM, alarm)
ROUND_SECONDS = 20                # a round normally takes milliseconds


def check_read(slot, data, r):
    n["reads"] += 1
    if data == old[slot] or (slot in written and data == written[slot]):
        return
    fail(f"round {r}: a GOOD READ of slot {slot} holds neither its old data nor its WRITE's, whole")


try:
    sess = Round()
except Lost as e:
    fail(str(e))
for r in range(rounds):
    pipe = sess.pipe
    s = pipe.s
    cmds = {}                     # ITT -> (kind, slot)
    busy = set()
    tmf = None
    tmf_rsp = None
    done = {}
    ended = set()
    signal.alarm(ROUND_SECONDS)
    try:
        fn = ABORT_TASK if r % 2 == 0 else LUN_RESET
        writes = args.writes_in_flight
        if not writes:
            # A burst of WRITEs first, all completed; then the TMF meets READs of them.
            burst = {}
            for _ in range(qd // 2):
                slot = free.pop()
                data = pattern(base + slot * BLOCKS, BLOCKS, seq)
                seq += 1
                written[slot] = data
                outcome[slot] = "sent"
                burst[pipe.submit(write10(base + slot * BLOCKS, BLOCKS), data)] = slot
            while burst:
                itt, status, _, sense, _, _ = sess.next()
                slot = burst.pop(itt)
                if status == GOOD:
                    outcome[slot] = "good"
                    n["good"] += 1
                elif is_unit_attention(status, sense):
                    outcome[slot] = "ended"           # not executed; checked as old-or-new
                    n["ua"] += 1
                else:
                    fail(f"round {r}: WRITE of slot {slot}: status {status:#x} sense {sense[:18].hex()}")
        abort_itt = abort_cmdsn = None
        for _ in range(qd):
            if writes and rng.random() < 0.5:
                slot = free.pop()
                busy.add(slot)
                data = pattern(base + slot * BLOCKS, BLOCKS, seq)
                seq += 1
                written[slot] = data
                outcome[slot] = "sent"
                itt = pipe.submit(write10(base + slot * BLOCKS, BLOCKS), data)
                cmds[itt] = ("W", slot)
            else:
                pool = [x for x in written if x not in busy]
                if not pool or rng.random() < 0.25:
                    pool = [x for x in range(slots) if x not in busy]
                slot = rng.choice(pool)
                itt = pipe.submit(read10(base + slot * BLOCKS, BLOCKS), read_len=SIZE)
                cmds[itt] = ("R", slot)
                abort_itt, abort_cmdsn = itt, s.cmdsn - 1
        if abort_itt is None:
            abort_itt, abort_cmdsn = itt, s.cmdsn - 1
        tmf = pipe.tmf(fn, ref_itt=abort_itt if fn == ABORT_TASK else RESERVED,
                       ref_cmdsn=abort_cmdsn if fn == ABORT_TASK else 0)
        while tmf_rsp is None:
            itt, status, data, sense, _, _ = sess.next()
            if itt == tmf:
                tmf_rsp = status
            else:
                done[itt] = (status, data, sense)
        if fn == ABORT_TASK:
            if tmf_rsp == FUNCTION_COMPLETE:
                n["abort_complete"] += 1
                ended = {abort_itt} - set(done)
            elif tmf_rsp == TASK_DOES_NOT_EXIST:
                n["abort_no_task"] += 1
                ended = set()
            else:
                fail(f"round {r}: ABORT TASK answered {tmf_rsp}")
        else:
            if tmf_rsp != FUNCTION_COMPLETE:
                fail(f"round {r}: LOGICAL UNIT RESET answered {tmf_rsp}")
            n["reset_complete"] += 1
            ended = set(cmds) - set(done)
        n["ended"] += len(ended)
        for itt in ended:
            pipe.late_ok.add(itt)
            pipe.out.pop(itt, None)
            s._pending_out.pop(itt, None)
        while len(done) + len(ended) < len(cmds):       # the others all complete
            itt, status, data, sense, _, _ = sess.next()
            done[itt] = (status, data, sense)
        # The unit attention a reset leaves; the session goes on.
        for _ in range(4):
            pipe.submit(bytes(6))
            _, status, _, sense, _, _ = sess.next()
            if status == GOOD:
                break
            if not is_unit_attention(status, sense):
                fail(f"round {r}: TEST UNIT READY after the TMF: status {status:#x}")
        else:
            fail(f"round {r}: TEST UNIT READY does not succeed after the TMF")
    except Lost as e:
        fail(f"round {r}: the session did not survive "
             f"({'after' if tmf_rsp is not None else 'before'} the TMF response): {e}")
    except Stuck:
        what = "the TMF response" if tmf_rsp is None else \
            f"{len(cmds) - len(done) - len(ended)} responses to commands the TMF did not end"
        fail(f"round {r}: {ROUND_SECONDS} s without {what}")
    signal.alarm(0)
    for itt, (kind, slot) in cmds.items():
        if itt in ended or itt not in done:
            if kind == "W":
                outcome[slot] = "ended"
            continue
        status, data, sense = done[itt]
        if status != GOOD:
            if is_unit_attention(status, sense):
                n["ua"] += 1
                if kind == "W":
                    outcome[slot] = "ended"       # not executed; checked as old-or-new
                continue
            fail(f"round {r}: {kind} of slot {slot}: status {status:#x} sense {sense[:18].hex()}")
        n["good"] += 1
        if kind == "W":
            outcome[slot] = "good"
        else:
            check_read(slot, data, r)
n["late"] += sess.pipe.late
try:
    if sess.pipe.s.logout() != 0:
        fail("logout was not clean")
except (OSError, ConnectionError) as e:
    fail(f"logout: {e}")

landed = 0
for slot, data in written.items():
    got = os.pread(img, SIZE, (base + slot * BLOCKS) * BLOCK)
    if outcome[slot] == "good":
        if got != data:
            fail(f"slot {slot}: a WRITE that came back GOOD is not in the backing file")
    elif got == data:
        landed += 1
    elif got != old[slot]:
        fail(f"slot {slot}: the backing file holds neither the old data nor the ended WRITE's, whole")
ended_writes = sum(1 for o in outcome.values() if o == "ended")
print(f"ok: {rounds} rounds of {qd} commands; ABORT TASK: FUNCTION COMPLETE {n['abort_complete']}, "
      f"TASK DOES NOT EXIST {n['abort_no_task']}; LUN RESET: FUNCTION COMPLETE {n['reset_complete']}; "
      f"{n['ended']} tasks ended by a TMF ({n['late']} responses for them came after the TMF "
      f"response); {n['good']} GOOD, {n['reads']} READs checked, {n['ua']} unit attentions; "
      f"ended WRITEs in the file: {landed} of {ended_writes}, the rest old data", flush=True)
