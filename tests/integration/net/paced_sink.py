#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Accept one TCP connection and write what it sends to a file, reading slowly.

    paced_sink.py PORT FILE [BYTES_PER_SECOND]

A small receive buffer and paced reads keep the sender's TCP limited by the receive
window rather than by its own writes: its data queues, and queued data leaves as
segmentation-sized frames. That makes a TSO check independent of how fast the host
happens to turn ACKs around. Prints nothing; exits when the peer closes.
"""
import socket
import sys
import time


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 2 * 1024 * 1024
    chunk = 64 * 1024
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, chunk)
    listener.bind(("0.0.0.0", port))
    listener.listen(1)
    conn, _ = listener.accept()
    listener.close()
    with conn, open(path, "wb") as out:
        while True:
            data = conn.recv(chunk)
            if not data:
                return
            out.write(data)
            time.sleep(len(data) / rate)


if __name__ == "__main__":
    main()
