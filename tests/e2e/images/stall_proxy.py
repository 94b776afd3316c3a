#!/usr/bin/env python3
"""A TCP proxy to a registry whose connections stall once, mid-response.

usage: stall_proxy.py TARGET_HOST:PORT STALL_AFTER_BYTES STALL_SECONDS

Listens on 127.0.0.1 at a free port and prints that port on stdout. Every connection
is forwarded both ways; once a connection has sent STALL_AFTER_BYTES to its client, it
holds the rest for STALL_SECONDS, once. Small responses (the API's JSON, manifests)
pass untouched; a large blob is seen half-downloaded: what a progress display shows in
the middle of a pull. Runs until killed.
"""
import socket
import sys
import threading
import time


def pump(src, dst, stall_after, stall_seconds):
    sent = 0
    stalled = stall_after is None
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if not stalled and sent + len(data) >= stall_after:
                cut = stall_after - sent
                dst.sendall(data[:cut])
                time.sleep(stall_seconds)
                stalled = True
                data = data[cut:]
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    stall_after, stall_seconds = int(sys.argv[2]), float(sys.argv[3])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((host, int(port)))
        threading.Thread(target=pump, args=(client, upstream, None, 0), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, stall_after, stall_seconds),
                         daemon=True).start()


if __name__ == "__main__":
    main()
