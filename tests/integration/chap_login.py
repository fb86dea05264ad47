"""CHAP logins that libiscsi 1.19 cannot make (it speaks MD5 in hex only), for
test_frontend_chap.sh: every CHAP_A of RFC 7143 12.1.3 (5 MD5, 6 SHA-1,
7 SHA-256, 8 SHA3-256), values in hex (0x) or base64 (0b), mutual CHAP, and
the hostile cases a target must refuse. Digests per RFC 1994: H(id || secret
|| challenge). Test code only.

Usage: chap_login.py HOST PORT TARGET INITIATOR CASE [USER SECRET [TUSER TSECRET]]
  CASE: md5 | sha1 | sha256 | sha3 (hex), b64-sha256 (base64), mutual-sha256,
        wrong-secret, reflect, long-response, short-response, bad-id, big-challenge,
        bad-base64, from-127.0.0.2 (sha256 from that source address)
Prints "status XXXX" (the final login status, 0000 = logged in) and exits 0;
exits 1 when the exchange itself goes wrong (protocol error, bad mutual answer)."""
import base64
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session  # noqa: E402

ALGS = {5: "md5", 6: "sha1", 7: "sha256", 8: "sha3_256"}


def enc(b, b64):
    return "0b" + base64.b64encode(b).decode() if b64 else "0x" + b.hex()


def dec(v):
    if v[:2] in ("0x", "0X"):
        return bytes.fromhex(v[2:])
    if v[:2] in ("0b", "0B"):
        return base64.b64decode(v[2:])
    raise ValueError(f"not a binary value: {v}")


def digest(alg, ident, secret, challenge):
    return hashlib.new(ALGS[alg], bytes([ident]) + secret + challenge).digest()


class Login:
    def __init__(self, s, initiator, target):
        self.s, self.initiator, self.target, self.first = s, initiator, target, True

    def step(self, keys, csg, nsg, transit):
        text = b"".join(f"{k}={v}".encode() + b"\0" for k, v in keys)
        bhs = bytearray(48)
        bhs[0] = 0x43
        bhs[1] = (0x80 if transit else 0) | (csg << 2) | (nsg if transit else 0)
        bhs[5:8] = len(text).to_bytes(3, "big")
        bhs[8:14] = b"\x80\x00\x00\x00\x00\x02"
        struct.pack_into(">I", bhs, 16, 0x77)
        struct.pack_into(">I", bhs, 24, self.s.cmdsn)
        struct.pack_into(">I", bhs, 28, self.s.expstatsn)
        self.s.send(bytes(bhs), text)
        rsp = self.s.recv()
        if rsp.opcode != 0x23:
            raise RuntimeError(f"expected a Login Response, got opcode {rsp.opcode:#x}")
        return (rsp.bhs[36] << 8) | rsp.bhs[37], rsp.keys(), rsp.flags


def run(host, port, target, initiator, case, user, secret, tuser=None, tsecret=None):
    source = "127.0.0.2" if case == "from-127.0.0.2" else None
    s = Session(host, port, timeout=10, source=source)
    lg = Login(s, initiator, target)
    alg = {"md5": 5, "sha1": 6, "sha3": 8}.get(case, 7)
    b64 = case in ("b64-sha256", "bad-base64")
    st, keys, _ = lg.step([("InitiatorName", initiator), ("SessionType", "Normal"),
                           ("TargetName", target), ("AuthMethod", "CHAP,None")], 0, 1, False)
    if st:
        return st
    if keys.get("AuthMethod") != "CHAP":
        raise RuntimeError(f"target chose AuthMethod={keys.get('AuthMethod')}")
    st, keys, _ = lg.step([("CHAP_A", str(alg))], 0, 1, False)
    if st:
        return st
    if int(keys["CHAP_A"]) != alg:
        raise RuntimeError(f"target chose CHAP_A={keys['CHAP_A']}, not {alg}")
    ident, challenge = int(keys["CHAP_I"]), dec(keys["CHAP_C"])
    if len(challenge) < 16:
        raise RuntimeError(f"challenge of {len(challenge)} bytes, fewer than 16")
    good = digest(alg, ident, secret.encode(), challenge)
    resp = {"wrong-secret": digest(alg, ident, b"not-the-secret!", challenge),
            "long-response": good + b"\0", "short-response": good[:-1]}.get(case, good)
    out = [("CHAP_N", user), ("CHAP_R", enc(resp, b64))]
    if case == "bad-base64":
        out[1] = ("CHAP_R", "0b" + base64.b64encode(resp).decode()[:-2] + "*=")
    my_id, my_chal = 0x5a, os.urandom(32)
    if case == "reflect":                      # the target's own challenge back
        out += [("CHAP_I", str(ident)), ("CHAP_C", enc(challenge, b64))]
    elif case == "bad-id":
        out += [("CHAP_I", "256"), ("CHAP_C", enc(my_chal, b64))]
    elif case == "big-challenge":
        out += [("CHAP_I", "7"), ("CHAP_C", enc(os.urandom(1025), b64))]
    elif case.startswith("mutual"):
        out += [("CHAP_I", str(my_id)), ("CHAP_C", enc(my_chal, b64))]
    st, keys, flags = lg.step(out, 0, 1, True)
    if st:
        return st
    if case.startswith("mutual"):
        want = digest(alg, my_id, tsecret.encode(), my_chal)
        if keys.get("CHAP_N") != tuser or dec(keys.get("CHAP_R", "0x")) != want:
            raise RuntimeError("the target's mutual CHAP answer is wrong")
    if not flags & 0x80:
        raise RuntimeError("authenticated but the target did not transit")
    st, keys, _ = lg.step([("HeaderDigest", "None"), ("DataDigest", "None"),
                           ("MaxRecvDataSegmentLength", "65536")], 1, 3, True)
    return st


def main():
    a = sys.argv[1:]
    st = run(a[0], int(a[1]), a[2], a[3], a[4], *(a[5:9]))
    print(f"status {st:04x}", flush=True)


if __name__ == "__main__":
    main()
