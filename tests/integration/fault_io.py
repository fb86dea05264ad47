"""Pipelined I/O that logs what the target acknowledged, for the fault tests
(test_fault_*.sh) and the soak (tests/soak/soak.sh). Test code only.

Every WRITE carries a pattern that names each 512-byte block and the write
(pattern()): a block on disk tells which write put it there, byte for byte.

  fault_io.py write HOST PORT TARGET INITIATOR LOG [options]
      WRITEs of --blocks blocks to --slots consecutive slots from --lba, slot
      after slot from --slot (wrapping), --qd in flight, each with the next sequence number
      from --seq. LOG gets "S slot seq" before a WRITE is sent, "A slot seq"
      when it came back GOOD, "E slot seq status" when it came back otherwise
      (flushed line by line). Prints "running" after the first GOOD and
      "done N" after every 100th. Ends
      after --count WRITEs, when --stop FILE exists, or when the connection is
      lost ("lost: ..." on stdout; exit 0 with --allow-loss, else 1).
  fault_io.py read HOST PORT TARGET INITIATOR IMAGE [options]
      READs of random slots compared with IMAGE (the LUN's backing file, not
      written meanwhile) at the same offset; a READ that comes back GOOD with
      other data fails (exit 1). Same ending rules as write.
  fault_io.py verify IMAGE LOG... [options]
      The LOGs of write runs (in the order they ran) against IMAGE: the last
      WRITE of each slot that came back GOOD is in IMAGE byte for byte, unless
      a later WRITE of that slot has no known outcome (sent, then the
      connection was lost), which may have replaced it -- block by block, each
      block holds one of those. With --before SNAPSHOT (the slots' bytes before
      the first run) slots never acknowledged are checked too: each block holds
      its old bytes or a pattern of a WRITE of unknown outcome.
Options: --lba N (first LBA, default 0) --slots N (default 1024) --blocks N
(per slot, default 16) --qd N (default 8) --count N --stop FILE --seq N
(first sequence number, default 1) --slot N (write: the first slot, default 0)
--allow-loss --timeout SECONDS (socket,
default 30)."""
import argparse
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import RESERVED, Session  # noqa: E402

BLOCK = 512
GOOD, CHECK_CONDITION = 0x00, 0x02


def pattern(lba, blocks, seq):
    """blocks x 512 bytes: (LBA, seq) as two big-endian 64-bit numbers, 32 times per block."""
    return b"".join(struct.pack(">QQ", lba + i, seq) * (BLOCK // 16) for i in range(blocks))


def block_seq(lba, data):
    """The seq whose pattern a 512-byte block holds exactly, else None."""
    head = data[:16]
    got_lba, seq = struct.unpack(">QQ", head)
    return seq if got_lba == lba and data == head * (BLOCK // 16) else None


def read10(lba, blocks):
    return struct.pack(">BBIBHB", 0x28, 0, lba, 0, blocks, 0)


def write10(lba, blocks):
    return struct.pack(">BBIBHB", 0x2A, 0, lba, 0, blocks, 0)


def is_unit_attention(status, sense):
    return status == CHECK_CONDITION and len(sense) > 2 and sense[2] & 0x0F == 6


class Lost(Exception):
    """The connection ended (closed, reset, timed out)."""


class Pipe:
    """Commands in flight on one Session, completed in whatever order they come.
    R2Ts are answered, NOP-In pings too; Asynchronous Messages are noted."""

    def __init__(self, session):
        self.s = session
        self.out = {}           # ITT -> [info, start time, Data-In so far]
        self.async_events = []
        self.late_ok = set()    # ITTs given up on (a TMF ended them): PDUs for them are dropped
        self.late = 0           # responses (statuses) that came for those

    def submit(self, cdb, data_out=b"", read_len=0, info=None, attr=1):
        try:
            itt = self.s.send_command(cdb, data_out, read_len, attr=attr)
        except OSError as e:
            raise Lost(f"send: {e}") from e
        self.out[itt] = [info, time.perf_counter(), b""]
        return itt

    def tmf(self, function, ref_itt=RESERVED, ref_cmdsn=0, lun=1, info=None):
        """A Task Management Function Request (RFC 7143 11.5), immediate."""
        s = self.s
        itt = s.next_itt()
        bhs = bytearray(48)
        bhs[0] = 0x40 | 0x02
        bhs[1] = 0x80 | function
        bhs[9] = lun
        struct.pack_into(">IIII", bhs, 16, itt, ref_itt, s.cmdsn, s.expstatsn)
        struct.pack_into(">I", bhs, 32, ref_cmdsn)
        try:
            s.send(bytes(bhs))
        except OSError as e:
            raise Lost(f"send: {e}") from e
        self.out[itt] = [info, time.perf_counter(), b""]
        return itt

    def next(self):
        """The next completion: (itt, status, data_in, sense, info, seconds).
        For a TMF, status is the TMF response code. Raises Lost."""
        s = self.s
        while True:
            try:
                p = s.recv()
            except (OSError, ConnectionError) as e:
                raise Lost(f"{type(e).__name__}: {e}") from e
            if p.opcode == 0x20:                            # NOP-In
                if p.field20 != RESERVED:
                    try:
                        s.nop_out(RESERVED, ttt=p.field20)
                    except OSError as e:
                        raise Lost(f"send: {e}") from e
                continue
            if p.opcode == 0x32:                            # Asynchronous Message
                self.async_events.append(p.bhs[36])
                continue
            if p.itt in self.late_ok and p.itt not in self.out:
                if p.opcode == 0x21 or (p.opcode == 0x25 and p.flags & 0x01):
                    self.late += 1
                    self.late_ok.discard(p.itt)
                continue
            if p.itt not in self.out:
                raise RuntimeError(f"PDU 0x{p.opcode:02x} for ITT {p.itt:#x}, which is not in flight")
            ent = self.out[p.itt]
            if p.opcode == 0x31:                            # R2T
                off, want = struct.unpack(">II", p.bhs[40:48])
                try:
                    s._data_out(p.itt, off, off + want, p.field20)
                except OSError as e:
                    raise Lost(f"send: {e}") from e
                continue
            if p.opcode == 0x25:                            # Data-In
                ent[2] += p.data
                if not p.flags & 0x01:
                    continue
                status, sense = p.bhs[3], b""
            elif p.opcode == 0x21:                          # SCSI Response
                sl = int.from_bytes(p.data[:2], "big") if len(p.data) >= 2 else 0
                status, sense = p.bhs[3], p.data[2:2 + sl]
            elif p.opcode == 0x22:                          # TMF Response
                status, sense = p.bhs[2], b""
            else:
                raise RuntimeError(f"unexpected opcode 0x{p.opcode:02x}")
            del self.out[p.itt]
            s._pending_out.pop(p.itt, None)
            return p.itt, status, ent[2], sense, ent[0], time.perf_counter() - ent[1]


def connect(host, port, target, initiator, timeout=30.0):
    """A Session logged in, past the unit attention of a new I_T nexus."""
    try:
        s = Session(host, port, timeout=timeout)
        # As initiators do: no Nagle delay on small PDUs (an R2T's Data-Out).
        s.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.login(initiator, target)
    except (OSError, ConnectionError) as e:
        raise Lost(f"login: {type(e).__name__}: {e}") from e
    pipe = Pipe(s)
    for _ in range(4):
        pipe.submit(bytes(6))                                 # TEST UNIT READY
        _, status, _, sense, _, _ = pipe.next()
        if status == GOOD:
            return pipe
        if not is_unit_attention(status, sense):
            break
    raise RuntimeError(f"{initiator}: TEST UNIT READY does not succeed")


def stopping(args, done):
    return (args.count is not None and done >= args.count) or \
        (args.stop is not None and os.path.exists(args.stop))


def run_write(args):
    log = open(args.log, "a", buffering=1)
    pipe = connect(args.host, args.port, args.target, args.initiator, args.timeout)
    seq, slot, sent, acked, errors = args.seq, args.slot % args.slots, 0, 0, 0
    try:
        while True:
            while len(pipe.out) < args.qd and not stopping(args, sent):
                lba = args.lba + slot * args.blocks
                log.write(f"S {slot} {seq}\n")
                pipe.submit(write10(lba, args.blocks), pattern(lba, args.blocks, seq), info=(slot, seq))
                sent += 1
                seq += 1
                slot = (slot + 1) % args.slots
            if not pipe.out:
                break
            _, status, _, sense, (wslot, wseq), _ = pipe.next()
            if status == GOOD:
                log.write(f"A {wslot} {wseq}\n")
                acked += 1
                if acked == 1:
                    print("running", flush=True)
                if acked % 100 == 0:
                    print(f"done {acked}", flush=True)
            else:
                log.write(f"E {wslot} {wseq} {status:#x} {sense[:18].hex()}\n")
                errors += 1
    except Lost as e:
        print(f"lost: {e} after {sent} WRITEs sent, {acked} GOOD, {errors} not GOOD", flush=True)
        return 0 if args.allow_loss else 1
    pipe.s.logout()
    print(f"ok: {sent} WRITEs sent, {acked} GOOD, {errors} not GOOD", flush=True)
    return 0


def run_read(args):
    img = os.open(args.image, os.O_RDONLY)
    pipe = connect(args.host, args.port, args.target, args.initiator, args.timeout)
    rng = random.Random(args.seq)
    size = args.blocks * BLOCK
    sent, good, other = 0, 0, 0
    try:
        while True:
            while len(pipe.out) < args.qd and not stopping(args, sent):
                lba = args.lba + rng.randrange(args.slots) * args.blocks
                pipe.submit(read10(lba, args.blocks), read_len=size, info=lba)
                sent += 1
            if not pipe.out:
                break
            _, status, data, _, lba, _ = pipe.next()
            if status != GOOD:
                other += 1
                continue
            want = os.pread(img, size, lba * BLOCK)
            if data != want:
                print(f"FAIL: READ of LBA {lba} (+{args.blocks}) came back GOOD with other data "
                      f"than the backing file", flush=True)
                return 1
            good += 1
            if good == 1:
                print("running", flush=True)
            if good % 100 == 0:
                print(f"done {good}", flush=True)
    except Lost as e:
        print(f"lost: {e} after {sent} READs sent, {good} GOOD and equal to the file, "
              f"{other} not GOOD", flush=True)
        return 0 if args.allow_loss else 1
    pipe.s.logout()
    print(f"ok: {sent} READs, {good} GOOD and equal to the file, {other} not GOOD", flush=True)
    return 0


def run_verify(args):
    sends = {}          # slot -> [seq, ...] in send order
    acks = set()
    for path in args.logs:
        with open(path) as f:
            for line in f:
                w = line.split()
                if w and w[0] == "S":
                    sends.setdefault(int(w[1]), []).append(int(w[2]))
                elif w and w[0] == "A":
                    acks.add(int(w[2]))
    size = args.blocks * BLOCK
    img = os.open(args.image, os.O_RDONLY)
    before = os.open(args.before, os.O_RDONLY) if args.before else None
    checked = replaced = unacked = torn = landed = 0
    for slot, seqs in sorted(sends.items()):
        lba = args.lba + slot * args.blocks
        last = max((i for i, q in enumerate(seqs) if q in acks), default=None)
        later = [q for q in seqs[(last + 1 if last is not None else 0):] if q not in acks]
        if last is None and before is None:
            unacked += 1
            continue
        ok = set(later)
        if last is not None:
            ok.add(seqs[last])
        data = os.pread(img, size, lba * BLOCK)
        old = os.pread(before, size, (slot * args.blocks) * BLOCK) if last is None else None
        held = set()
        for b in range(args.blocks):
            blk = data[b * BLOCK:(b + 1) * BLOCK]
            q = block_seq(lba + b, blk)
            if q in ok:
                held.add(q)
                continue
            if old is not None and blk == old[b * BLOCK:(b + 1) * BLOCK]:
                held.add("old")
                continue
            what = f"the pattern of WRITE seq {q}" if q is not None else "no WRITE's pattern"
            want = (f"WRITE seq {seqs[last]} (acknowledged GOOD)" if last is not None
                    else "its old bytes")
            if later:
                want += f" or one of WRITEs {later} (outcome unknown)"
            print(f"FAIL: slot {slot} (LBA {lba}) block {b} holds {what}; expected {want}",
                  flush=True)
            return 1
        if len(held) > 1:
            torn += 1
        landed += len(held & set(later))
        if last is None:
            unacked += 1
        elif seqs[last] not in held:
            replaced += 1
        checked += 1
    print(f"ok: {checked} slots checked byte for byte ({len(acks)} WRITEs acknowledged in all); "
          f"{unacked} slots never acknowledged; WRITEs of unknown outcome found in the file: "
          f"{landed} ({replaced} over an acknowledged one); {torn} slots mix two WRITEs "
          f"block by block", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("write", "read", "verify"))
    ap.add_argument("rest", nargs="+")
    ap.add_argument("--lba", type=int, default=0)
    ap.add_argument("--slots", type=int, default=1024)
    ap.add_argument("--blocks", type=int, default=16)
    ap.add_argument("--qd", type=int, default=8)
    ap.add_argument("--count", type=int)
    ap.add_argument("--stop")
    ap.add_argument("--seq", type=int, default=1)
    ap.add_argument("--slot", type=int, default=0)
    ap.add_argument("--allow-loss", action="store_true")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--before")
    args = ap.parse_args()
    if args.mode == "verify":
        args.image, args.logs = args.rest[0], args.rest[1:]
        return run_verify(args)
    if len(args.rest) != 5:
        ap.error(f"{args.mode}: HOST PORT TARGET INITIATOR {'LOG' if args.mode == 'write' else 'IMAGE'}")
    args.host, args.port = args.rest[0], int(args.rest[1])
    args.target, args.initiator = args.rest[2], args.rest[3]
    if args.mode == "write":
        args.log = args.rest[4]
        return run_write(args)
    args.image = args.rest[4]
    return run_read(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Lost as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
