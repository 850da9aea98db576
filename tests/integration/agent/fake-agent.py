#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile stand-in for vireo-toolsd, run in the guest: listens on AF_VSOCK port 5600
and misbehaves towards whoever connects (vireod's agent client), one mode per run:

  fake-agent.py junk      answers every line with lines that are not JSON objects
  fake-agent.py silent    reads everything, never answers
  fake-agent.py endless   sends one line that never ends
  fake-agent.py mute      answers version and subscribe, then nothing (no heartbeats)

It serves connections one after another until killed, and logs one line per
connection to stdout ("conn N") so the test can see vireod come back.
"""
import json
import socket
import sys
import time

mode = sys.argv[1]
srv = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((socket.VMADDR_CID_ANY, 5600))
srv.listen(4)
print("listening", flush=True)
n = 0
while True:
    c, _ = srv.accept()
    n += 1
    print("conn %d" % n, flush=True)
    c.settimeout(60)
    try:
        if mode == "junk":
            c.sendall(b"garbage\n" * 10)
            f = c.makefile("rb")
            for line in f:
                c.sendall(b"garbage \x00\xff not json\n[1, 2, 3]\n{\"neither\": 1}\n")
        elif mode == "silent":
            while c.recv(65536):
                pass
        elif mode == "endless":
            chunk = b"x" * 65536
            while True:
                c.sendall(chunk)
        elif mode == "mute":
            f = c.makefile("rb")
            for line in f:
                req = json.loads(line)
                if req["cmd"] == "version":
                    res = {"version": "9.9.9-fake", "protocol": 1}
                elif req["cmd"] == "subscribe":
                    res = {"heartbeat_s": 1}
                else:
                    continue  # never answers anything else, never beats
                c.sendall((json.dumps({"id": req["id"], "ok": True, "result": res}) + "\n").encode())
    except (OSError, ValueError):
        pass
    c.close()
