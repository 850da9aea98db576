#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A host relay that never answers, run in the guest: connects to vireo-toolsd over
vsock_loopback (CID 1, port 5600), subscribes with "balloon": true (so it takes the
relay over from vireod's connection), and logs every balloon-batch event it gets
("batch SEQ PART/PARTS RANGES") without ever sending balloon-done. It stays until
killed; its connection closing is what hands the relay back.
"""
import json
import socket

s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.connect((1, 5600))
f = s.makefile("rwb")
f.write(json.dumps({"id": 1, "cmd": "subscribe", "args": {"balloon": True}}).encode() + b"\n")
f.flush()
for line in f:
    m = json.loads(line)
    if m.get("id") == 1:
        print("subscribed", flush=True)
    elif m.get("event") == "balloon-batch":
        print("batch %d %d/%d %d" % (m["seq"], m["part"], m["parts"], len(m["ranges"])), flush=True)
