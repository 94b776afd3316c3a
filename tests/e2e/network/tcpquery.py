#!/usr/bin/env python3
"""usage: tcpquery.py SERVER NAME: one A query over TCP to SERVER:53; prints the answer's
addresses, one a line, or "rcode N" when there is none. Test code only."""
import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"".join(
    bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.create_connection((server, 53), timeout=10)
s.sendall(struct.pack(">H", len(q)) + q)


def read(n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            sys.exit("connection closed")
        out += chunk
    return out


r = read(struct.unpack(">H", read(2))[0])
assert r[:2] == q[:2], "reply of another query"
rcode, ancount = r[3] & 0xF, struct.unpack(">H", r[6:8])[0]
i = len(q)  # the question, as asked, then the answers
found = []
for _ in range(ancount):
    i += 2 if r[i] & 0xC0 == 0xC0 else r.index(b"\0", i) + 1 - i
    rtype, _, _, rdlen = struct.unpack(">HHIH", r[i:i + 10])
    i += 10
    if rtype == 1:
        found.append(socket.inet_ntoa(r[i:i + 4]))
    i += rdlen
print("\n".join(found) if found else f"rcode {rcode}")
