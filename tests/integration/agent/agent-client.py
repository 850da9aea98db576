#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A test client for vireo-toolsd over AF_VSOCK (guest-local through vsock_loopback).

  agent-client.py [--cid N] [--port P] CMD [ARGS_JSON]   one request; prints the reply
  agent-client.py [--cid N] [--port P] --events N         subscribe; prints N events
  agent-client.py [--cid N] [--port P] --raw LINE         sends LINE as is; prints the reply
Exit status: 0 for an "ok" reply, 1 for an error reply, 2 for no reply.
"""
import json
import socket
import sys

cid, port = 1, 5600  # 1: VMADDR_CID_LOCAL
args = sys.argv[1:]
while args and args[0] in ("--cid", "--port"):
    if args[0] == "--cid":
        cid = int(args[1])
    else:
        port = int(args[1])
    args = args[2:]

s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.settimeout(10)
s.connect((cid, port))
f = s.makefile("rwb")


def send(line):
    f.write(line.encode() + b"\n")
    f.flush()


def reply():
    line = f.readline()
    if not line:
        print("no reply: connection closed", file=sys.stderr)
        sys.exit(2)
    return json.loads(line)


if args[0] == "--events":
    send(json.dumps({"id": 1, "cmd": "subscribe"}))
    print(json.dumps(reply()))
    for _ in range(int(args[1])):
        print(json.dumps(reply()), flush=True)
    sys.exit(0)
if args[0] == "--raw":
    send(args[1])
else:
    req = {"id": 42, "cmd": args[0]}
    if len(args) > 1:
        req["args"] = json.loads(args[1])
    send(json.dumps(req))
r = reply()
print(json.dumps(r))
sys.exit(0 if r.get("ok") else 1)
