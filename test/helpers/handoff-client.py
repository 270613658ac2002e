#!/usr/bin/env python3
"""A client that connects to jaid, forks and exits, leaving the connected socket to its child (checklist #2).

    handoff-client.py SOCKET HELLO_HEX SPAWN_HEX CWD GO_FILE

The connecting process prints its pid and exits at once. The child waits until GO_FILE exists (the test has made
another process take the dead parent's pid by then), sends Hello and the spawn request with an O_PATH fd of CWD
attached, and prints every packet the daemon sends as `msg HEX` until the connection closes."""
import array
import os
import socket
import sys
import time

sock_path, hello_hex, spawn_hex, cwd, go_file = sys.argv[1:6]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sock_path)
if os.fork() != 0:
    print(os.getpid(), flush=True)
    os._exit(0)
deadline = time.monotonic() + 30
while not os.path.exists(go_file):
    if time.monotonic() > deadline:
        sys.exit("no go file")
    time.sleep(0.01)
s.send(bytes.fromhex(hello_hex))
print("msg", s.recv(65536).hex(), flush=True)
fd = os.open(cwd, os.O_PATH | os.O_DIRECTORY)
s.sendmsg([bytes.fromhex(spawn_hex)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
while True:
    m = s.recv(65536)
    if not m:
        break
    print("msg", m.hex(), flush=True)
