"""Client side of test_shutdown.sh: logs in, says "logged in", then waits for
the proxy's Asynchronous Message asking for a logout (AsyncEvent 1) and, in
mode "obey", logs out; in mode "ignore", just waits for the connection to end.
Usage: shutdown_client.py HOST PORT TARGET INITIATOR obey|ignore SECONDS"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session  # noqa: E402

host, port, target, initiator, mode, seconds = sys.argv[1:7]
s = Session(host, int(port), timeout=int(seconds) + 20)
s.login(initiator, target)
print("logged in", flush=True)
while True:
    try:
        p = s.recv()
    except ConnectionError:
        if mode == "ignore":
            print("ok: connection closed by the proxy")
            sys.exit(0)
        print("FAIL: connection closed before any logout request")
        sys.exit(1)
    if p.opcode == 0x32 and p.bhs[36] == 1:
        param3 = int.from_bytes(p.bhs[42:44], "big")
        if param3 != int(seconds):
            print(f"FAIL: logout requested within {param3} s, expected {seconds}")
            sys.exit(1)
        print(f"ok: Asynchronous Message asks for a logout within {param3} s")
        if mode == "ignore":
            continue
        response = s.logout()
        print(f"ok: logout response {response}")
        sys.exit(0 if response == 0 else 1)
