"""CDBs and helpers shared by the Python-client tests (reservation.py,
task_attributes.py). Facts from SBC-4 / SPC-5; test code only."""
import json
import os
import struct
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session  # noqa: E402

BLOCK = 512


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def read10(lba, blocks):
    return struct.pack(">BBIBHB", 0x28, 0, lba, 0, blocks, 0)


def write10(lba, blocks):
    return struct.pack(">BBIBHB", 0x2A, 0, lba, 0, blocks, 0)


def pr_out(sa, prtype, key, sa_key):
    """PERSISTENT RESERVE OUT: SERVICE ACTION byte 1, SCOPE/TYPE byte 2,
    PARAMETER LIST LENGTH bytes 5-8; the 24-byte basic parameter list."""
    cdb = struct.pack(">BBBHIB", 0x5F, sa, prtype & 0x0F, 0, 24, 0)
    return cdb, struct.pack(">QQ8x", key, sa_key)


def session(host, port, target, initiator):
    """Logged in, past the unit attention a new nexus gets (TEST UNIT READY)."""
    s = Session(host, port, timeout=30)
    s.login(initiator, target)
    for _ in range(3):
        status, _, _ = s.command(bytes(6))
        if status == 0:
            return s
    fail(f"{initiator}: TEST UNIT READY does not succeed")


def lun_counter(stats_port, name):
    """A counter of the only LUN in the proxy's /stats (None in direct mode)."""
    if not stats_port:
        return None
    with urllib.request.urlopen(f"http://127.0.0.1:{stats_port}/stats", timeout=10) as r:
        luns = json.loads(r.read())["luns"]
    return luns[0]["counters"][name]
