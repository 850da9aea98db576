#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""usage: shift-clock.py SECONDS: moves CLOCK_REALTIME by SECONDS (a decimal, may be
negative) in one adjtimex(ADJ_SETOFFSET) call: unlike `date -s`, no time passes between
reading the clock and setting it, however slow the guest is."""
import ctypes
import struct
import sys

ADJ_SETOFFSET, ADJ_NANO = 0x0100, 0x2000
ns = round(float(sys.argv[1]) * 1e9)
sec, nsec = divmod(ns, 10**9)  # nsec in [0, 1e9), as the kernel wants
buf = ctypes.create_string_buffer(208)  # struct timex on x86_64
struct.pack_into("<I", buf, 0, ADJ_SETOFFSET | ADJ_NANO)
struct.pack_into("<qq", buf, 72, sec, nsec)  # .time: tv_sec, tv_usec (ns with ADJ_NANO)
libc = ctypes.CDLL(None, use_errno=True)
if libc.adjtimex(buf) < 0:
    sys.exit("adjtimex: %s" % ctypes.get_errno())
