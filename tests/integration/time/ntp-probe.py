#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The guest's side of the independent offset measurement (see ntp-server.py).

usage: ntp-probe.py HOST PORT COUNT INTERVAL_S
Prints one line per answered probe: "t3 offset_ns bound_ns", where t3 is the host's
send time, offset = host - guest = ((t2 - t1) + (t3 - t4)) / 2 and bound = half the
round trip less the host's own time, ((t4 - t1) - (t3 - t2)) / 2: the true offset at
that moment lies within offset +- bound. Lost probes (1 s) are skipped.
"""
import socket
import struct
import sys
import time

host, port, count, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
s.settimeout(1.0)
rt = time.CLOCK_REALTIME
out = []
for seq in range(count):
    t1 = time.clock_gettime_ns(rt)
    s.send(struct.pack("<Qq", seq, t1))
    while True:
        try:
            data = s.recv(64)
        except socket.timeout:
            data = None
            break
        t4 = time.clock_gettime_ns(rt)
        if len(data) == 32 and struct.unpack("<Q", data[:8])[0] == seq:
            break
    if data:
        _, e1, t2, t3 = struct.unpack("<Qqqq", data)
        if e1 == t1:
            out.append("%d %d %d" % (t3, ((t2 - t1) + (t3 - t4)) // 2, ((t4 - t1) - (t3 - t2)) // 2))
    time.sleep(interval)
print("\n".join(out), flush=True)
