"""Clients that test the proxy's limits on frontend connections (run by
test_login_limits.sh): logins that never finish, more connections than
max_connections_per_address and max_connections allow, a second session of
a target with max_sessions = 1.  Every wait has a deadline; the proxy's
/metrics says when it has seen what the client did.

Usage: conn_limits.py timeout  HOST PORT TARGET INITIATOR LOGIN_TIMEOUT
       conn_limits.py limits   HOST PORT STATS PER_ADDRESS TOTAL URL INITIATOR
       conn_limits.py sessions HOST PORT STATS TARGET INITIATOR INITIATOR2 URL"""
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import RESERVED, Session  # noqa: E402

P = "iscsi_sparse_proxy_"


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def metrics(stats):
    with urllib.request.urlopen(f"http://127.0.0.1:{stats}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+) (\S+)$", line)
        if m and not line.startswith("#"):
            out[m.group(1)] = float(m.group(2))
    return out


def wait_metric(stats, name, want, what, seconds=10):
    deadline = time.monotonic() + seconds
    while True:
        got = metrics(stats).get(name)
        if got == want:
            return
        if time.monotonic() > deadline:
            fail(f"{what}: {name} is {got} after {seconds} s, expected {want}")
        time.sleep(0.05)


def refused(reason):
    return P + 'connections_refused_total{reason="%s"}' % reason


def connect(host, port, source):
    return socket.create_connection((host, port), timeout=10, source_address=(source, 0))


def wait_closed(sock, seconds):
    """Seconds until the proxy closes sock (EOF or reset); fails after seconds."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except socket.timeout:
        fail(f"the connection is still open after {seconds} s")
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def login_bhs():
    """A Login Request header (no data), as an initiator would start."""
    bhs = bytearray(48)
    bhs[0] = 0x43
    bhs[1] = 0x80 | (1 << 2) | 3
    bhs[8:14] = b"\x80\x00\x00\x00\x00\x02"
    struct.pack_into(">I", bhs, 16, 1)
    return bytes(bhs)


def run_timeout(host, port, target, initiator, limit):
    # Half a header, then nothing: closed after login_timeout, not before.
    s = socket.create_connection((host, port), timeout=10)
    start = time.monotonic()
    s.sendall(login_bhs()[:24])
    wait_closed(s, limit + 10)
    t = time.monotonic() - start
    if t < limit - 0.5:
        fail(f"half a header: closed after {t:.2f} s, before login_timeout ({limit} s)")
    print(f"ok: half a header, closed after {t:.2f} s (login_timeout {limit} s)", flush=True)

    # One byte every 0.25 s: activity does not restart the timer.
    s = socket.create_connection((host, port), timeout=10)
    start = time.monotonic()
    closed = False
    for b in login_bhs():
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        s.settimeout(0.25)
        try:
            if s.recv(4096) == b"":
                closed = True
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
            break
        if time.monotonic() - start > limit + 10:
            break
    t = time.monotonic() - start
    if not closed or t < limit - 0.5 or t > limit + 10:
        fail(f"slow drip: closed {closed} after {t:.2f} s, login_timeout {limit} s")
    print(f"ok: one byte every 0.25 s, closed after {t:.2f} s", flush=True)

    # A session that logged in is not closed by the login timer: it still
    # answers a ping once login_timeout has passed since it connected.
    sess = Session(host, port, timeout=limit + 10)
    start = time.monotonic()
    sess.login(initiator, target)
    time.sleep(max(0.0, limit + 1 - (time.monotonic() - start)))
    sess.nop_out(0x4242, data=b"still here?")
    while True:
        p = sess.recv()
        if p.opcode == 0x20 and p.itt == 0x4242:
            break
        if p.opcode == 0x20 and p.itt == RESERVED:
            sess.nop_out(RESERVED, ttt=p.field20)
            continue
        fail(f"logged-in session: opcode 0x{p.opcode:02x} instead of the ping's answer")
    if sess.logout() != 0:
        fail("logged-in session: logout refused")
    print(f"ok: a logged-in session outlives login_timeout ({limit} s)", flush=True)


def iscsi_inq(url, initiator):
    r = subprocess.run(["iscsi-inq", "-i", initiator, url], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        fail(f"iscsi-inq {url}: exit {r.returncode}: {r.stderr.strip()}")


def run_limits(host, port, stats, per_address, total, url, initiator):
    # max_connections_per_address: idle connections from 127.0.0.1 up to the
    # limit, then each further one is closed at once (never read), counted.
    held = [connect(host, port, "127.0.0.1") for _ in range(per_address)]
    wait_metric(stats, P + "connections", per_address, "connections from 127.0.0.1")
    extra = 5
    for i in range(extra):
        t = wait_closed(connect(host, port, "127.0.0.1"), 5)
        if t > 2:
            fail(f"connection {per_address + 1 + i} from 127.0.0.1 closed after {t:.2f} s, "
                 "not at once")
    wait_metric(stats, refused("limit_address"), extra, "refusals per address")
    print(f"ok: {per_address} connections from 127.0.0.1 held, {extra} more closed at once",
          flush=True)

    # max_connections: another address fills the rest, then one more is refused.
    held2 = [connect(host, port, "127.0.0.2") for _ in range(total - per_address)]
    wait_metric(stats, P + "connections", total, "connections from both addresses")
    t = wait_closed(connect(host, port, "127.0.0.2"), 5)
    if t > 2:
        fail(f"connection {total + 1} closed after {t:.2f} s, not at once")
    wait_metric(stats, refused("limit_total"), 1, "refusals over max_connections")
    print(f"ok: {total} connections in all, one more closed at once", flush=True)

    # One freed: a real initiator gets in.
    held.pop().close()
    wait_metric(stats, P + "connections", total - 1, "a freed connection")
    iscsi_inq(url, initiator)
    print("ok: iscsi-inq works once a connection is freed", flush=True)
    for s in held + held2:
        s.close()
    wait_metric(stats, P + "connections", 0, "all connections closed")


def run_sessions(host, port, stats, target, initiator, initiator2, url):
    first = Session(host, port)
    first.login(initiator, target)
    second = Session(host, port)
    _, status = second.login_request(initiator2, target)
    if status != 0x0206:
        fail(f"second session of a max_sessions = 1 target: status {status:04x}, expected 0206")
    wait_closed(second.sock, 10)
    wait_metric(stats, refused("limit_sessions"), 1, "sessions refused")
    wait_metric(stats, P + 'login_failures_total{reason="too_many_connections"}', 1,
                "login failures")
    print("ok: the second session got 0x0206 (too many connections)", flush=True)
    if first.logout() != 0:
        fail("first session: logout refused")
    wait_metric(stats, P + 'sessions{target="%s"}' % target, 0, "the first session's logout")
    iscsi_inq(url, initiator2)
    print("ok: after the first session's logout another initiator logs in", flush=True)


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a = sys.argv[4:]
    if cmd == "timeout":
        run_timeout(host, port, a[0], a[1], int(a[2]))
    elif cmd == "limits":
        run_limits(host, port, int(a[0]), int(a[1]), int(a[2]), a[3], a[4])
    elif cmd == "sessions":
        run_sessions(host, port, int(a[0]), a[1], a[2], a[3], a[4])
    else:
        fail(f"unknown command {cmd}")


main()
