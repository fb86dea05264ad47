"""Load for the soak (tests/soak/soak.sh): SESSIONS iSCSI sessions, each with
its own initiator name and its own slots of the LUN, one command at a time,
READs and WRITEs mixed (--write-pct), transfer sizes of 4 to 32 KiB, each
session paced at --rate commands per second (0: as fast as it can), for
SECONDS. Every WRITE carries a pattern naming its blocks and itself; every
READ is checked against what the session wrote there (the slots start as
zeros: a sparse LUN). A session whose connection ends (the SAN restarts) logs
in again, every 0.2 s, for at most --relogin seconds; a WRITE in flight then
has an unknown outcome, and its slot may hold the old or the new data until
written again.

The sessions run as threads spread over --procs processes. The result, one
JSON object, goes to RESULT: commands and latencies (a log-scale histogram,
5% wide buckets) of READs and WRITEs that came back GOOD, data errors, lost
connections, the longest time to log in again. A data error or a session
that cannot log in again makes the exit status 1.
Usage: soak_load.py HOST PORT TARGET INITIATOR_PREFIX SESSIONS SECONDS RESULT
       [--rate N] [--write-pct N] [--procs N] [--lba N] [--slots N] [--relogin S]"""
import argparse
import array
import json
import math
import multiprocessing
import os
import random
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from fault_io import BLOCK, GOOD, Lost, block_seq, connect, pattern, read10, write10  # noqa: E402

SLOT_BLOCKS = 64                  # 32 KiB: a session has --slots of them
SIZES = (8, 16, 32, 64)           # blocks per command, 4 KiB aligned
STEP = math.log(1.05)


def bucket(seconds):
    return max(0, int(math.log(max(seconds, 1e-6) * 1e6) / STEP))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.hist = {"read": {}, "write": {}}
        self.count = {"read": 0, "write": 0}
        self.max = {"read": 0.0, "write": 0.0}
        self.data_errors = []
        self.lost = 0
        self.relogin_max = 0.0
        self.relogin_failed = 0
        self.other_status = 0

    def add(self, kind, seconds):
        b = bucket(seconds)
        with self.lock:
            h = self.hist[kind]
            h[b] = h.get(b, 0) + 1
            self.count[kind] += 1
            if seconds > self.max[kind]:
                self.max[kind] = seconds

    def dump(self):
        return {"hist": {k: {str(b): n for b, n in v.items()} for k, v in self.hist.items()},
                "count": self.count, "max": self.max, "data_errors": self.data_errors[:20],
                "n_data_errors": len(self.data_errors), "lost": self.lost,
                "relogin_max": self.relogin_max, "relogin_failed": self.relogin_failed,
                "other_status": self.other_status}


def session_loop(a, idx, stats, deadline):
    rng = random.Random(idx)
    first = a.lba + idx * a.slots * SLOT_BLOCKS
    nblocks = a.slots * SLOT_BLOCKS
    cur = array.array("Q", bytes(8 * nblocks))   # block -> seq of its last GOOD WRITE (0: zeros)
    unknown = {}                                 # block -> seqs it may hold besides
    zeros = bytes(BLOCK)
    initiator = f"{a.prefix}-{idx}"
    seq = idx << 40
    pipe = None
    lost_at = None
    next_t = time.monotonic()
    while time.monotonic() < deadline:
        if pipe is None:
            t0 = time.monotonic()
            while pipe is None:
                try:
                    pipe = connect(a.host, a.port, a.target, initiator, timeout=30)
                except (Lost, RuntimeError):
                    if time.monotonic() - t0 > a.relogin:
                        with stats.lock:
                            stats.relogin_failed += 1
                        return
                    time.sleep(0.2)
            if lost_at is not None:
                with stats.lock:
                    stats.relogin_max = max(stats.relogin_max, time.monotonic() - lost_at)
            next_t = time.monotonic()
        if a.rate > 0:
            next_t += 1.0 / a.rate
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                next_t = time.monotonic()      # fell behind: do not burst to catch up
        blocks = rng.choice(SIZES)
        rel = rng.randrange(0, nblocks - blocks + 1, 8)
        lba = first + rel
        write = rng.randrange(100) < a.write_pct
        try:
            if write:
                seq += 1
                pipe.submit(write10(lba, blocks), pattern(lba, blocks, seq))
            else:
                pipe.submit(read10(lba, blocks), read_len=blocks * BLOCK)
            _, status, data, _, _, secs = pipe.next()
        except Lost:
            with stats.lock:
                stats.lost += 1
            lost_at = time.monotonic()
            if write:                              # may or may not have landed
                for b in range(rel, rel + blocks):
                    unknown.setdefault(b, set()).add(seq)
            pipe = None
            continue
        if status != GOOD:
            with stats.lock:
                stats.other_status += 1
            if write:
                for b in range(rel, rel + blocks):
                    unknown.setdefault(b, set()).add(seq)
            continue
        stats.add("write" if write else "read", secs)
        if write:
            for b in range(rel, rel + blocks):
                cur[b] = seq
                unknown.pop(b, None)
            continue
        for i in range(blocks):
            b = rel + i
            blk = data[i * BLOCK:(i + 1) * BLOCK]
            want = cur[b]
            if blk == (zeros if want == 0 else struct.pack(">QQ", lba + i, want) * (BLOCK // 16)):
                continue
            q = 0 if blk == zeros else block_seq(lba + i, blk)
            if b in unknown and q in unknown[b]:
                cur[b] = q                         # the WRITE of unknown outcome landed
                del unknown[b]
                continue
            if b in unknown and q == want:
                del unknown[b]
                continue
            with stats.lock:
                stats.data_errors.append(
                    f"{initiator}: READ of LBA {lba} (+{blocks}): block {lba + i} holds "
                    f"{'no pattern' if q is None else f'seq {q:#x}'}, expected seq {want:#x}"
                    f"{' or ' + str(sorted(unknown[b])) if b in unknown else ''}")
            break
    if pipe is not None:
        try:
            pipe.s.logout()
        except (OSError, ConnectionError):
            pass


def proc_main(a, indexes, out_path, deadline):
    stats = Stats()
    threads = [threading.Thread(target=session_loop, args=(a, i, stats, deadline), daemon=True)
               for i in indexes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, deadline - time.monotonic() + a.relogin + 60))
    with open(out_path, "w") as f:
        json.dump(stats.dump(), f)


def merge(parts):
    m = {"hist": {"read": {}, "write": {}}, "count": {"read": 0, "write": 0},
         "max": {"read": 0.0, "write": 0.0}, "data_errors": [], "n_data_errors": 0, "lost": 0,
         "relogin_max": 0.0, "relogin_failed": 0, "other_status": 0}
    for p in parts:
        for k in ("read", "write"):
            for b, n in p["hist"][k].items():
                m["hist"][k][b] = m["hist"][k].get(b, 0) + n
            m["count"][k] += p["count"][k]
            m["max"][k] = max(m["max"][k], p["max"][k])
        m["data_errors"] += p["data_errors"]
        for k in ("n_data_errors", "lost", "relogin_failed", "other_status"):
            m[k] += p[k]
        m["relogin_max"] = max(m["relogin_max"], p["relogin_max"])
    return m


def quantile(hist, q):
    total = sum(hist.values())
    if not total:
        return None
    want, seen = q * total, 0
    for b in sorted(hist, key=int):
        seen += hist[b]
        if seen >= want:
            return math.exp((int(b) + 1) * STEP) / 1e6       # the bucket's upper edge
    return None


def main():
    ap = argparse.ArgumentParser()
    for name in ("host", "port", "target", "prefix", "sessions", "seconds", "result"):
        ap.add_argument(name)
    ap.add_argument("--rate", type=float, default=25)
    ap.add_argument("--write-pct", type=int, default=30)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--lba", type=int, default=0)
    ap.add_argument("--slots", type=int, default=256)
    ap.add_argument("--relogin", type=float, default=60)
    a = ap.parse_args()
    a.port, a.sessions, a.seconds = int(a.port), int(a.sessions), float(a.seconds)
    start = time.monotonic()
    deadline = start + a.seconds
    procs, outs = [], []
    for p in range(a.procs):
        idx = list(range(p, a.sessions, a.procs))
        out = f"{a.result}.part{p}"
        outs.append(out)
        pr = multiprocessing.Process(target=proc_main, args=(a, idx, out, deadline))
        pr.start()
        procs.append(pr)
    print(f"running {a.sessions} sessions in {a.procs} processes for {a.seconds:.0f} s", flush=True)
    for pr in procs:
        pr.join()
    elapsed = time.monotonic() - start
    parts = []
    for out in outs:
        with open(out) as f:
            parts.append(json.load(f))
        os.unlink(out)
    m = merge(parts)
    m["seconds"] = elapsed
    for k in ("read", "write"):
        for q in (0.5, 0.99, 0.999):
            m[f"{k}_p{q * 100:g}"] = quantile(m["hist"][k], q)
    m["iops"] = (m["count"]["read"] + m["count"]["write"]) / elapsed
    with open(a.result, "w") as f:
        json.dump(m, f)
    for e in m["data_errors"]:
        print(f"DATA ERROR: {e}", flush=True)
    bad = m["n_data_errors"] or m["relogin_failed"] or any(pr.exitcode for pr in procs)
    print(f"{'FAIL' if bad else 'ok'}: {m['count']['read']} READs, {m['count']['write']} WRITEs GOOD "
          f"({m['iops']:.0f}/s), {m['n_data_errors']} data errors, {m['lost']} connections lost, "
          f"{m['relogin_failed']} sessions that could not log in again, {m['other_status']} other "
          f"statuses", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
