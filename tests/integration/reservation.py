"""An Exclusive Access persistent reservation held by another nexus, through
the proxy and against tgtd directly (run by test_reservation.sh).
Usage: reservation.py HOST PORT TARGET INITIATOR1 INITIATOR2 LBA BLOCKS [STATS_PORT]
LBA/BLOCKS: a page known to be a hole (warmed: UNALLOCATED in the proxy's map)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scsi_cmds import BLOCK, fail, lun_counter, pr_out, read10, session  # noqa: E402

host, port, target, ini1, ini2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
lba, blocks = int(sys.argv[6]), int(sys.argv[7])
stats = sys.argv[8] if len(sys.argv) > 8 else ""
KEY = 0x1517
EA = 0x3                                   # Exclusive Access
RESERVATION_CONFLICT = 0x18


def zero_reads():
    return lun_counter(stats, "read_commands_total_zero")


def read_hole(s, who, want):
    z0 = zero_reads()
    status, data, sense = s.command(read10(lba, blocks), read_len=blocks * BLOCK)
    if status != want:
        fail(f"{who}: READ of the hole: status {status:#x} (sense {sense.hex()}), expected {want:#x}")
    if want == 0 and data != bytes(blocks * BLOCK):
        fail(f"{who}: READ of the hole did not return zeros")
    z1 = zero_reads()
    print(f"ok: {who}: READ of the hole -> status {status:#x}"
          + (f", zero-only READs {z0} -> {z1}" if z0 is not None else ""), flush=True)
    return z0, z1


s1 = session(host, port, target, ini1)
s2 = session(host, port, target, ini2)

# Before any reservation the hole is served from zeros (proxy: no backend READ).
z0, z1 = read_hole(s2, "initiator 2, no reservation", 0)
if z0 is not None and z1 != z0 + 1:
    fail("the warmed hole page was not answered from zeros before the reservation")

cdb, params = pr_out(0x00, 0, 0, KEY)                  # REGISTER
st, _, sense = s1.command(cdb, params)
if st != 0:
    fail(f"PERSISTENT RESERVE OUT REGISTER: status {st:#x}, sense {sense.hex()}")
cdb, params = pr_out(0x01, EA, KEY, 0)                 # RESERVE, Exclusive Access
st, _, sense = s1.command(cdb, params)
if st != 0:
    fail(f"PERSISTENT RESERVE OUT RESERVE (Exclusive Access): status {st:#x}, sense {sense.hex()}")
print("ok: initiator 1 registered and reserved Exclusive Access", flush=True)

# Another nexus must get the SAN's RESERVATION CONFLICT, not the cache's zeros.
z0, z1 = read_hole(s2, "initiator 2, Exclusive Access held by initiator 1", RESERVATION_CONFLICT)
if z0 is not None and z1 != z0:
    fail("a READ under another nexus's Exclusive Access reservation was answered from zeros")
# The holder reads its zeros (from the SAN while the reservation may be held).
read_hole(s1, "initiator 1, the holder", 0)

cdb, params = pr_out(0x02, EA, KEY, 0)                 # RELEASE
st, _, sense = s1.command(cdb, params)
if st != 0:
    fail(f"PERSISTENT RESERVE OUT RELEASE: status {st:#x}, sense {sense.hex()}")
print("ok: initiator 1 released", flush=True)

z0, z1 = read_hole(s2, "initiator 2 after the release", 0)
if z0 is not None and z1 != z0 + 1:
    fail("after the release the hole page is not answered from zeros again")

cdb, params = pr_out(0x00, 0, KEY, 0)                  # unregister
s1.command(cdb, params)
s1.logout()
s2.logout()
print("ok: reservation checks passed", flush=True)
