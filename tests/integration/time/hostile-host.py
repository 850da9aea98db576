#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile stand-in for vireod's time service, for vireo_ptp: listens on the unix
socket PATH (a guest connecting to host port P reaches "<uds>_P") and, per connection,
either never answers (MODE silent) or answers each request with 32 bytes of junk
(MODE junk).

usage: hostile-host.py MODE PATH
"""
import os
import socket
import sys
import threading

mode, path = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(8)


def serve(c):
    while True:
        data = c.recv(64)
        if not data:
            return
        if mode == "junk":
            c.sendall(b"\xa5" * 32)


while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
