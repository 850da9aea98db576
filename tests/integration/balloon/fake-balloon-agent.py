#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile stand-in for vireo-toolsd's balloon relay, run in the guest: listens on
AF_VSOCK port 5600, answers version and subscribe, beats every second, and sends
balloon-batch events whose ranges vireod must refuse (never one it may punch: that
would release the guest's live memory). RAM_END is the end of guest RAM (bytes).

  fake-balloon-agent.py RAM_END

Logs "listening", then "done SEQ OK ERROR" for every balloon-done vireod sends.
"""
import json
import socket
import sys
import threading
import time

ram_end = int(sys.argv[1])
batches = [
    # (seq, extra fields, ranges); each must be refused for the reason in the comment
    (1, {}, [[0x100000000000, 4096]]),  # foreign: far above RAM
    (2, {}, [[0xFEE00000, 4096]]),  # foreign: the APIC's MMIO hole
    (3, {}, [[0x100000, 4096], [0x201001, 4096]]),  # unaligned (the first is fine)
    (4, {}, [[ram_end - 4096, 8192]]),  # foreign: runs past the end of the RAM region
    (5, {}, [[0xFFFFFFFFFFFFF000, 0x2000]]),  # wrap
    (6, {}, [[0x100000, 0]]),  # zero length
    (7, {}, [[0x100000, 0x7FFFFFFFFFFFF000]]),  # foreign: a huge length
    (8, {}, [[-4096, 4096]]),  # malformed: negative
    (9, {"part": 1, "parts": 2}, [[0x100000, 4096]]),  # malformed: parts out of order
    (10, {"flags": 1}, "not a list"),  # malformed
    (11, {}, [[0x100000, 4096, 7]]),  # malformed: not a pair
]

srv = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((socket.VMADDR_CID_ANY, 5600))
srv.listen(4)
print("listening", flush=True)
lock = threading.Lock()


def send(c, obj):
    with lock:
        c.sendall((json.dumps(obj) + "\n").encode())


def beat(c):
    n = 0
    try:
        while True:
            n += 1
            send(c, {"event": "heartbeat", "seq": n, "uptime_s": n, "version": "9.9.9-fake", "protocol": 1})
            time.sleep(1)
    except OSError:
        pass


while True:
    c, _ = srv.accept()
    print("conn", flush=True)
    try:
        for line in c.makefile("rb"):
            req = json.loads(line)
            res = {}
            if req["cmd"] == "version":
                res = {"version": "9.9.9-fake", "protocol": 1}
            elif req["cmd"] == "subscribe":
                res = {"heartbeat_s": 1}
            elif req["cmd"] == "balloon-done":
                a = req["args"]
                print("done %d %s %s" % (a["seq"], a["ok"], a.get("error", "")), flush=True)
            send(c, {"id": req["id"], "ok": True, "result": res})
            if req["cmd"] == "subscribe":
                threading.Thread(target=beat, args=(c,), daemon=True).start()
                send(c, {"event": "balloon-batch", "part": 0, "parts": 1, "ranges": [[0x100000, 4096]]})  # no seq
                for seq, extra, ranges in batches:
                    ev = {"event": "balloon-batch", "seq": seq, "flags": 0, "part": 0, "parts": 1, "ranges": ranges}
                    ev.update(extra)
                    send(c, ev)
    except (OSError, ValueError):
        pass
    c.close()
