"""What a sparse image holds from OFFSET to its end, as tgt sees it: data runs
by SEEK_DATA/SEEK_HOLE (what its GET LBA STATUS reports). Prints
"ALLOCATED RUNS ALLOCATED_64K NONZERO": allocated bytes, data runs, bytes of
the 64 KiB pages that hold data, and (with GRANULE) bytes of the GRANULE-sized
blocks whose data is not all zeros (0 without GRANULE; holes are zeros, so
only the data runs are read).
Usage: data_runs.py IMAGE [OFFSET [GRANULE]]"""
import os
import sys


def main():
    fd = os.open(sys.argv[1], os.O_RDONLY)
    off = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    g = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    size = os.fstat(fd).st_size
    total = runs = 0
    pages = set()
    nonzero = set()
    zero = bytes(g)
    while off < size:
        try:
            d = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        h = os.lseek(fd, d, os.SEEK_HOLE)
        total += h - d
        runs += 1
        pages.update(range(d >> 16, (h - 1 >> 16) + 1))
        b = d // g * g if g else h
        while b < h:
            n = min(h - b + g - 1, 1 << 20) // g * g
            buf = os.pread(fd, n, b)
            for i in range(0, len(buf), g):
                if buf[i:i + g] != zero[:len(buf[i:i + g])]:
                    nonzero.add((b + i) // g)
            b += n
        off = h
    print(total, runs, len(pages) << 16, len(nonzero) * g)


main()
