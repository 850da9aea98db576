#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""usage: qmp.py SOCKET COMMAND...: runs QMP commands (stop, cont) on a QEMU's monitor,
printing the host's CLOCK_REALTIME (ns) just after each one returned."""
import json
import socket
import sys
import time

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")


def call(cmd):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r:
            return
        if "error" in r:
            sys.exit("qmp %s: %s" % (cmd, r["error"]))


json.loads(f.readline())  # the greeting
call("qmp_capabilities")
for c in sys.argv[2:]:
    call(c)
    print(c, time.clock_gettime_ns(time.CLOCK_REALTIME), flush=True)
