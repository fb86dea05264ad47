"""I/O that runs until told to stop, for test_reload.sh and test_shutdown.sh:
logs in, then writes 64 KiB blocks of a pattern that changes every time and
reads each back, over and over, in one session; says "io running" after the
first round trip. When STOPFILE exists -- or, with "obey", when the target
asks for a logout (Asynchronous Message) -- it reads every block it wrote
once more, compares each with what it last wrote, logs out, says "ok: N
writes" and prints "slot LBA BYTE" for each block as last written. Any
error, any unexpected PDU (an Asynchronous Message without "obey") or a
closed connection ends it with "FAIL: ..." and exit status 1.
Usage: io_client.py HOST PORT TARGET INITIATOR FIRST_LBA STOPFILE [obey]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session  # noqa: E402

BLOCKS = 128                     # 64 KiB of 512-byte blocks
SLOTS = 32

host, port, target, initiator, first_lba, stopfile = sys.argv[1:7]
obey = sys.argv[7:] == ["obey"]
first_lba = int(first_lba)
model = {}


def write(s, slot, fill):
    data = bytes([fill]) * (BLOCKS * 512)
    status, _ = s.read_response(s.write10(first_lba + slot * BLOCKS, data))
    if status != 0:
        raise RuntimeError(f"WRITE of slot {slot}: status 0x{status:02x}")
    model[slot] = fill


def check(s, slot):
    status, got = s.read10(first_lba + slot * BLOCKS, BLOCKS)
    want = bytes([model[slot]]) * (BLOCKS * 512)
    if status != 0 or got != want:
        raise RuntimeError(f"READ of slot {slot}: status 0x{status:02x}, "
                           f"data {'equal' if got == want else 'differs'}")


try:
    s = Session(host, int(port), timeout=30, accept_logout_request=obey)
    s.login(initiator, target)
    s.read10(first_lba, 1)      # takes the unit attention of the new I_T nexus
    n = 0
    while not os.path.exists(stopfile) and s.logout_requested is None:
        write(s, n % SLOTS, n % 251 + 1)
        check(s, n % SLOTS)
        n += 1
        if n == 1:
            print("io running", flush=True)
    for slot in sorted(model):
        check(s, slot)
    response = s.logout()
    if response != 0:
        raise RuntimeError(f"logout response {response}")
    asked = "" if s.logout_requested is None else \
        f" (logout requested within {s.logout_requested} s)"
    print(f"ok: {n} writes, each read back, and {len(model)} blocks checked at the end{asked}")
    for slot in sorted(model):
        print(f"slot {first_lba + slot * BLOCKS} {model[slot]}")
except Exception as e:  # noqa: BLE001 -- any failure is the test's failure
    print(f"FAIL: {type(e).__name__}: {e}")
    sys.exit(1)
