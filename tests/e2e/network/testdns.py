#!/usr/bin/env python3
"""A resolver for dns.bats on ADDRESS:53 (UDP and TCP): outside.test is ANSWER (default
192.0.2.7), every other name NXDOMAIN. usage: testdns.py ADDRESS [ANSWER]. Prints "ready" once it listens. Test code only: husk's own responder
uses ldns for the wire format."""
import socket
import struct
import sys
import threading


def answer(q):
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while q[i] != 0:
        labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
        i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    found = ".".join(labels) == "outside.test"
    rcode = 0 if found else 3
    ans = b""
    if found and qtype == 1:
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(ANSWER)
    hdr = struct.pack(">HHHHHH", qid, 0x8180 | rcode | (flags & 0x0100), 1, 1 if ans else 0, 0, 0)
    return hdr + question + ans


def serve_tcp(t):
    while True:
        c, _ = t.accept()
        with c:
            data = b""
            while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            if len(data) >= 14:
                r = answer(data[2:])
                c.sendall(struct.pack(">H", len(r)) + r)


ANSWER = sys.argv[2] if len(sys.argv) > 2 else "192.0.2.7"
FAMILY = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(FAMILY, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
t = socket.socket(FAMILY, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((sys.argv[1], 53))
t.listen(8)
threading.Thread(target=serve_tcp, args=(t,), daemon=True).start()
print("ready", flush=True)
sys.stdout.close()
while True:
    q, peer = s.recvfrom(4096)
    if len(q) >= 12:
        s.sendto(answer(q), peer)
