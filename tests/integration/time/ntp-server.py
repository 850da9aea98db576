#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The host's side of the independent offset measurement: an NTP-style UDP echo.

Each 16-byte request (u64 seq, i64 guest send time t1) gets 32 bytes back: seq, t1,
t2 (host CLOCK_REALTIME when the request was read) and t3 (just before the reply was
sent). The guest's probe (ntp-probe.py) adds t4 and computes the offset and its bound.

usage: ntp-server.py PORTFILE   (binds 127.0.0.1, an ephemeral port written to PORTFILE;
QEMU's slirp maps the guest's 10.0.2.2 to the host's loopback)
"""
import os
import socket
import struct
import sys
import time

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
rt = time.CLOCK_REALTIME
while True:
    data, peer = s.recvfrom(64)
    t2 = time.clock_gettime_ns(rt)
    if len(data) != 16:
        continue  # not ours: ignore
    seq, t1 = struct.unpack("<Qq", data)
    s.sendto(struct.pack("<Qqqq", seq, t1, t2, time.clock_gettime_ns(rt)), peer)
