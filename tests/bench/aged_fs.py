#!/usr/bin/env python3
"""Plan an aged ext4 filesystem for tests/bench/slow_san.sh.

Writes a pool of source files (pseudo-random contents) into POOL_DIR and a
debugfs command script to CMDS that, run with `debugfs -w -f CMDS IMAGE` on a
freshly made ext4, writes and deletes files in rounds so that the free space
ends up fragmented and the surviving files cover about FINAL_PCT percent of
the filesystem in thousands of extents, spread over the whole filesystem.
Three rounds: write files (log-uniform 4 KiB..128 KiB), each followed with
probability 1/2 by a "spacer" file that is only fallocated (no data written,
so cheap), until 85 % of the blocks are in use; then delete every spacer and
files at random down to 16 %, 12 % and finally FINAL_PCT %. Later rounds fill
the holes left by earlier ones, so many files end up in pieces. libext2fs
allocates first-fit from the inode's group: without the spacers everything
would sit at the start of the filesystem. About 1.8 GB of data is written in
all (some seconds with debugfs).

Everything comes from one seeded generator (random.random() only, whose
sequence is stable across Python versions), so the same arguments always give
the same layout.

usage: aged_fs.py POOL_DIR CMDS FS_BYTES [SEED [FINAL_PCT]]
"""
import math
import os
import random
import sys

BLOCK = 4096
POOL_FILES = 192
MIN_SIZE = 4 << 10       # file sizes log-uniform in [MIN_SIZE, MAX_SIZE]
MAX_SIZE = 128 << 10
SPACER_MIN = 8           # spacer sizes in blocks, log-uniform
SPACER_MAX = 256
SPACER_PROB = 0.5        # chance of a spacer after each file in round 1
DIRS = 128               # keeps directories small (debugfs links linearly)
# (fill to % of the blocks with files and spacers, delete down to % or None = FINAL_PCT)
ROUNDS = ((85.0, 16.0), (85.0, 12.0), (85.0, None))


def log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return lo * math.exp(rng.random() * math.log(hi / lo))


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    pool_dir, cmds_path, fs_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 20261107
    final_pct = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    rng = random.Random(seed)
    fs_blocks = fs_bytes // BLOCK

    # The pool: contents pseudo-random and different in every 4 KiB block
    # (not zero: the proxy must fetch them from the SAN).
    os.makedirs(pool_dir, exist_ok=True)
    pool = []
    for i in range(POOL_FILES):
        size = max(1, int(log_uniform(rng, MIN_SIZE, MAX_SIZE)) - int(rng.random() * 1000))
        path = os.path.join(pool_dir, f"p{i:03d}")
        pattern = bytes(int(rng.random() * 256) for _ in range(256))
        buf = bytearray((pattern * (size // 256 + 1))[:size])
        for off in range(0, size, BLOCK):
            buf[off:off + 8] = (i * 1000003 + off).to_bytes(8, "little")
        with open(path, "wb") as f:
            f.write(buf)
        pool.append((path, (size + BLOCK - 1) // BLOCK))
    empty = os.path.join(pool_dir, "empty")
    open(empty, "wb").close()

    live = {}            # name -> blocks, data files
    spacers = []
    used = 0             # blocks of data files and spacers
    serial = 0
    out = [f"mkdir /{k}{d:03d}" for k in "ds" for d in range(DIRS)]

    def write_until(pct: float) -> None:
        nonlocal used, serial
        while used * 100.0 < pct * fs_blocks:
            path, blocks = pool[int(rng.random() * len(pool))]
            name = f"/d{int(rng.random() * DIRS):03d}/f{serial:06d}"
            serial += 1
            out.append(f"write {path} {name}")
            live[name] = blocks
            used += blocks
            if rng.random() < SPACER_PROB:
                sblocks = int(log_uniform(rng, SPACER_MIN, SPACER_MAX))
                sname = f"/s{len(spacers) % DIRS:03d}/s{len(spacers):06d}"
                out.append(f"write {empty} {sname}")
                out.append(f"fallocate {sname} 0 {sblocks - 1}")
                spacers.append((sname, sblocks))
                used += sblocks

    def delete_down_to(pct: float) -> None:
        nonlocal used
        for sname, sblocks in spacers:
            out.append(f"rm {sname}")
            used -= sblocks
        spacers.clear()
        prob = max(0.0, 1.0 - pct / (used * 100.0 / fs_blocks))
        for name in sorted(live):
            if rng.random() < prob:
                out.append(f"rm {name}")
                used -= live.pop(name)

    for high, low in ROUNDS:
        write_until(high)
        delete_down_to(final_pct if low is None else low)

    with open(cmds_path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"aged_fs: {serial} files written, {len(live)} kept, "
          f"{used * BLOCK >> 20} MiB of data ({used * 100.0 / fs_blocks:.1f}% of the filesystem)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
