#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reads vireo_ptp's PHC against CLOCK_REALTIME with PTP_SYS_OFFSET_EXTENDED.

usage: phc-offset.py DEVICE ROUNDS [SAMPLES]
Prints one line per round, from the sample with the shortest round trip:
"offset_ns rtt_ns" with offset = phc - (pre + post) / 2.
"""
import fcntl
import os
import struct
import sys
import time

dev, rounds = sys.argv[1], int(sys.argv[2])
samples = int(sys.argv[3]) if len(sys.argv) > 3 else 5
size = 16 + 25 * 3 * 16  # struct ptp_sys_offset_extended
req = (3 << 30) | (size << 16) | (ord("=") << 8) | 9  # _IOWR('=', 9, ...)
fd = os.open(dev, os.O_RDONLY)
for _ in range(rounds):
    buf = bytearray(struct.pack("<I12x", samples) + bytes(size - 16))
    fcntl.ioctl(fd, req, buf)
    best = None
    for i in range(samples):
        pre, phc, post = (struct.unpack_from("<qI", buf, 16 + (3 * i + k) * 16) for k in range(3))
        pre, phc, post = (t[0] * 10**9 + t[1] for t in (pre, phc, post))
        if best is None or post - pre < best[1]:
            best = (phc - (pre + post) // 2, post - pre)
    print("%d %d" % best, flush=True)
    time.sleep(0.05)
