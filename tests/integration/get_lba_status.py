"""One GET LBA STATUS (16) (SBC-5 5.6) from our own iSCSI client, its
descriptors printed one per line as "LBA BLOCKS PROVISIONING_STATUS" (exit 0),
for tests that must see exactly what an initiator is told. Test code only.

    get_lba_status.py HOST PORT TARGET INITIATOR LUN LBA DESCRIPTORS
"""
import struct
import sys

from scsi_cmds import fail, session

GLS_HDR, GLS_DESC = 8, 16


def main():
    host, port, target, initiator = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    lun, lba, ndesc = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    alloc = GLS_HDR + ndesc * GLS_DESC
    # SERVICE ACTION IN (16) 9Eh, GET LBA STATUS 12h, STARTING LBA, ALLOCATION LENGTH
    cdb = struct.pack(">BBQIBB", 0x9E, 0x12, lba, alloc, 0, 0)
    s = session(host, port, target, initiator)
    status, data, sense = s.command(cdb, read_len=alloc, lun=lun)
    if status != 0:
        fail(f"GET LBA STATUS at {lba}: status {status:#x}, sense {sense.hex()}")
    if len(data) < GLS_HDR:
        fail(f"GET LBA STATUS at {lba}: {len(data)} bytes of parameter data")
    pdl = struct.unpack(">I", data[:4])[0]
    n = min(pdl - 4, len(data) - GLS_HDR) // GLS_DESC
    for i in range(n):
        d = data[GLS_HDR + i * GLS_DESC:GLS_HDR + (i + 1) * GLS_DESC]
        dlba, blocks, prov = struct.unpack(">QIB", d[:13])
        print(dlba, blocks, prov & 0x0F)
    s.logout()


main()
