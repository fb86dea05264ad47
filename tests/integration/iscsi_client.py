"""A minimal iSCSI initiator for protocol-level tests of the proxy's frontend:
what the real initiators here never do (CRC32C data digests, ignoring NOP-In
pings, corrupt digests, task attributes, commands pipelined, any CDB with
Data-Out).  Facts from RFC 7143; test code only."""
import socket
import struct

RESERVED = 0xFFFFFFFF


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    """CRC32C as iSCSI digests use it (RFC 3385): init ~0, final xor ~0."""
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def digest_bytes(data):
    return struct.pack("<I", crc32c(data))      # least significant byte first


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


class Pdu:
    def __init__(self, bhs, data):
        self.bhs = bhs
        self.data = data
        self.opcode = bhs[0] & 0x3F
        self.flags = bhs[1]
        self.itt = struct.unpack(">I", bhs[16:20])[0]
        self.field20 = struct.unpack(">I", bhs[20:24])[0]    # TTT in NOP-In / R2T
        self.statsn = struct.unpack(">I", bhs[24:28])[0]

    def keys(self):
        return dict(kv.split("=", 1) for kv in self.data.decode().split("\0") if kv)


class Session:
    def __init__(self, host, port, timeout=10.0, accept_logout_request=False, source=None):
        """accept_logout_request: an Async Message asking for a logout that
        arrives while a command runs is noted in logout_requested; otherwise
        it is an unexpected PDU. source: the local address to connect from."""
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.accept_logout_request = accept_logout_request
        self.header_digest = False
        self.data_digest = False
        self.cmdsn = 1
        self.expstatsn = 0
        self.itt = 0x100
        self.initial_r2t = True
        self.immediate_data = False
        self.target_mrdsl = 8192       # RFC 7143 13.12 default until the target declares one
        self.first_burst = 65536
        self.last_response = None      # the SCSI Response read_response() ended with
        self.logout_requested = None   # Parameter3 of an Async Message asking for a logout
        self._pending_out = {}         # ITT -> (Data-Out bytes, LUN) of commands sent

    # ---- wire ---------------------------------------------------------------
    def send(self, bhs, data=b"", corrupt_data_digest=False):
        out = bhs
        if self.header_digest:
            out += digest_bytes(bhs)
        if data:
            out += pad4(data)
            if self.data_digest:
                d = digest_bytes(pad4(data))
                out += bytes([d[0] ^ 0xFF]) + d[1:] if corrupt_data_digest else d
        self.sock.sendall(out)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by the target")
            buf += chunk
        return buf

    def recv(self):
        bhs = self._recv_exact(48)
        ahs_len = bhs[4] * 4
        dsl = int.from_bytes(bhs[5:8], "big")
        rest = self._recv_exact(ahs_len)
        if self.header_digest:
            got = self._recv_exact(4)
            if got != digest_bytes(bhs + rest):
                raise ValueError("bad header digest from the target")
        data = self._recv_exact(dsl + (-dsl % 4)) if dsl else b""
        if dsl and self.data_digest:
            got = self._recv_exact(4)
            if got != digest_bytes(data):
                raise ValueError("bad data digest from the target")
        pdu = Pdu(bhs, data[:dsl])
        if pdu.opcode in (0x21, 0x22, 0x23, 0x24, 0x26, 0x3F) or \
                (pdu.opcode == 0x25 and pdu.flags & 0x01) or (pdu.opcode == 0x20 and pdu.itt != RESERVED):
            self.expstatsn = pdu.statsn + 1
        return pdu

    def next_itt(self):
        self.itt += 1
        return self.itt

    # ---- login ---------------------------------------------------------------
    def login_request(self, initiator, target, extra=None):
        """One Login Request going straight to Full Feature Phase; returns the
        Login Response and its status (class << 8 | detail, RFC 7143 11.13.5)."""
        keys = {"InitiatorName": initiator, "SessionType": "Normal", "TargetName": target,
                "HeaderDigest": "None", "DataDigest": "None", "ErrorRecoveryLevel": "0",
                "InitialR2T": "No", "ImmediateData": "Yes", "MaxRecvDataSegmentLength": "65536"}
        keys.update(extra or {})
        text = b"".join(f"{k}={v}".encode() + b"\0" for k, v in keys.items())
        bhs = bytearray(48)
        bhs[0] = 0x43                                  # Login Request, I bit
        bhs[1] = 0x80 | (1 << 2) | 3                   # T, CSG operational, NSG full feature
        bhs[5:8] = len(text).to_bytes(3, "big")
        bhs[8:14] = b"\x80\x00\x00\x00\x00\x01"        # ISID
        struct.pack_into(">I", bhs, 16, self.next_itt())
        struct.pack_into(">I", bhs, 24, self.cmdsn)
        struct.pack_into(">I", bhs, 28, self.expstatsn)
        self.send(bytes(bhs), text)
        rsp = self.recv()
        if rsp.opcode != 0x23:
            raise RuntimeError(f"expected a Login Response, got opcode 0x{rsp.opcode:02x}")
        return rsp, rsp.bhs[36] << 8 | rsp.bhs[37]

    def login(self, initiator, target, extra=None):
        rsp, status = self.login_request(initiator, target, extra)
        if status != 0:
            raise RuntimeError(f"login failed: status {status:04x}")
        got = rsp.keys()
        self.header_digest = got.get("HeaderDigest") == "CRC32C"
        self.data_digest = got.get("DataDigest") == "CRC32C"
        self.initial_r2t = got.get("InitialR2T", "Yes") == "Yes"
        self.immediate_data = got.get("ImmediateData", "Yes") == "Yes"
        self.target_mrdsl = int(got.get("MaxRecvDataSegmentLength", "8192"))
        self.first_burst = int(got.get("FirstBurstLength", "65536"))
        return got

    # ---- full feature phase -------------------------------------------------
    def scsi_bhs(self, cdb, edtl, read, write, itt, final=True, lun=1, data_len=0, attr=1):
        """attr: the ATTR field (RFC 7143 11.3.1): 1 simple, 2 ordered, 3 head of queue."""
        bhs = bytearray(48)
        bhs[0] = 0x01
        bhs[1] = (0x80 if final else 0) | (0x40 if read else 0) | (0x20 if write else 0) | attr
        bhs[5:8] = data_len.to_bytes(3, "big")
        bhs[9] = lun
        struct.pack_into(">IIII", bhs, 16, itt, edtl, self.cmdsn, self.expstatsn)
        bhs[32:32 + len(cdb)] = cdb
        self.cmdsn += 1
        return bytes(bhs)

    def data_out_bhs(self, itt, offset, data_len, datasn=0, final=True, ttt=RESERVED, lun=1):
        bhs = bytearray(48)
        bhs[0] = 0x05
        bhs[1] = 0x80 if final else 0
        bhs[5:8] = data_len.to_bytes(3, "big")
        bhs[9] = lun
        struct.pack_into(">II", bhs, 16, itt, ttt)
        struct.pack_into(">I", bhs, 28, self.expstatsn)
        struct.pack_into(">II", bhs, 36, datasn, offset)
        return bytes(bhs)

    def read_response(self, itt):
        """Collect Data-In for itt until the status; returns (status, data)."""
        data = b""
        while True:
            p = self.recv()
            if p.opcode == 0x32 and p.bhs[36] == 1 and self.accept_logout_request:
                self.logout_requested = int.from_bytes(p.bhs[42:44], "big")
                continue
            if p.itt != itt:
                raise RuntimeError(f"unexpected PDU 0x{p.opcode:02x} for ITT {p.itt:#x}")
            if p.opcode == 0x25:
                data += p.data
                if p.flags & 0x01:
                    return p.bhs[3], data
            elif p.opcode == 0x21:
                self.last_response = p
                return p.bhs[3], data
            else:
                raise RuntimeError(f"unexpected opcode 0x{p.opcode:02x}")

    def read10(self, lba, blocks, block_size=512):
        itt = self.next_itt()
        cdb = struct.pack(">BBIBHB", 0x28, 0, lba, 0, blocks, 0)
        self.send(self.scsi_bhs(cdb, blocks * block_size, True, False, itt))
        return self.read_response(itt)

    def write10(self, lba, data, block_size=512, corrupt_data_digest=False):
        """WRITE(10) whose data fits one Data-Out: unsolicited when InitialR2T=No,
        else in answer to the target's R2T."""
        itt = self.next_itt()
        cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // block_size, 0)
        self.send(self.scsi_bhs(cdb, len(data), False, True, itt, final=self.initial_r2t))
        ttt = RESERVED
        if self.initial_r2t:
            r2t = self.recv()
            if r2t.opcode != 0x31 or r2t.itt != itt:
                raise RuntimeError(f"expected an R2T, got opcode 0x{r2t.opcode:02x}")
            ttt = r2t.field20
        self.send(self.data_out_bhs(itt, 0, len(data), ttt=ttt), data, corrupt_data_digest)
        return itt

    # ---- any SCSI command, pipelined ------------------------------------------------
    def send_command(self, cdb, data_out=b"", read_len=0, attr=1, lun=1):
        """Send one SCSI command (CDB of up to 16 bytes) without waiting: Data-Out
        as immediate data and unsolicited Data-Out as far as negotiated, the rest
        when the target's R2Ts ask (collect() answers them). Returns its ITT."""
        itt = self.next_itt()
        self._pending_out[itt] = (data_out, lun)
        unsol = 0 if self.initial_r2t else min(len(data_out), self.first_burst)
        imm = min(unsol, self.target_mrdsl) if self.immediate_data else 0
        final = imm == unsol
        self.send(self.scsi_bhs(cdb, len(data_out) or read_len, read_len > 0, len(data_out) > 0,
                                itt, final=final, lun=lun, data_len=imm, attr=attr),
                  data_out[:imm])
        self._data_out(itt, imm, unsol, RESERVED)
        return itt

    def _data_out(self, itt, start, end, ttt):
        data, lun = self._pending_out[itt]
        off, datasn = start, 0
        while off < end:
            n = min(end - off, self.target_mrdsl)
            self.send(self.data_out_bhs(itt, off, n, datasn=datasn, final=off + n == end,
                                        ttt=ttt, lun=lun), data[off:off + n])
            off += n
            datasn += 1

    def collect(self, itts):
        """Responses of the commands itts, in whatever order they come; R2Ts are
        answered. Returns {itt: (status, data_in, sense)} (sense without its
        SenseLength prefix) and the order the statuses arrived in."""
        got, order, data = {}, [], {itt: b"" for itt in itts}
        while len(got) < len(itts):
            p = self.recv()
            if p.itt not in data:
                raise RuntimeError(f"unexpected PDU 0x{p.opcode:02x} for ITT {p.itt:#x}")
            if p.opcode == 0x31:                            # R2T
                off, want = struct.unpack(">II", p.bhs[40:48])
                self._data_out(p.itt, off, off + want, p.field20)
                continue
            if p.opcode == 0x25:                            # Data-In
                data[p.itt] += p.data
                if not p.flags & 0x01:
                    continue
                got[p.itt] = (p.bhs[3], data[p.itt], b"")
            elif p.opcode == 0x21:                          # SCSI Response
                sl = int.from_bytes(p.data[:2], "big") if len(p.data) >= 2 else 0
                got[p.itt] = (p.bhs[3], data[p.itt], p.data[2:2 + sl])
            else:
                raise RuntimeError(f"unexpected opcode 0x{p.opcode:02x}")
            order.append(p.itt)
            self._pending_out.pop(p.itt, None)
        return got, order

    def command(self, cdb, data_out=b"", read_len=0, attr=1, lun=1):
        """One SCSI command: (status, data_in, sense)."""
        itt = self.send_command(cdb, data_out, read_len, attr, lun)
        return self.collect([itt])[0][itt]

    def logout(self):
        """Logout (close the session); returns the Logout Response's response code."""
        itt = self.next_itt()
        bhs = bytearray(48)
        bhs[0] = 0x46                                  # Logout Request, I bit
        bhs[1] = 0x80                                  # reason 0: close the session
        struct.pack_into(">I", bhs, 16, itt)
        struct.pack_into(">II", bhs, 24, self.cmdsn, self.expstatsn)
        self.send(bytes(bhs))
        while True:
            p = self.recv()
            if p.opcode == 0x26 and p.itt == itt:
                return p.bhs[2]

    def nop_out(self, itt, ttt=RESERVED, data=b"", immediate=True):
        bhs = bytearray(48)
        bhs[0] = 0x00 | (0x40 if immediate else 0)
        bhs[1] = 0x80
        bhs[5:8] = len(data).to_bytes(3, "big")
        struct.pack_into(">IIII", bhs, 16, itt, ttt, self.cmdsn, self.expstatsn)
        if not immediate:
            self.cmdsn += 1
        self.send(bytes(bhs), data)
