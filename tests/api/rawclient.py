#!/usr/bin/env python3
"""Raw clients for the API tier (tests/api/run.sh), for what curl cannot do: exact bytes, a
stalled half request, a flood of connections, a client that leaves mid-response, and the request
latency over one kept-alive connection.
Usage: rawclient.py SOCK raw BYTES | stall | flood N | hangup | latency N"""
import socket
import statistics
import sys
import time


def conn(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_all(s):
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    return out


def status(reply):
    line = reply.split(b"\r\n", 1)[0].decode(errors="replace")
    return line if line else "(closed)"


def read_one(s):
    """One whole response on a kept-alive connection."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        rest += s.recv(65536)
    return head


def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "raw":
        s = conn(path)
        s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
        print(status(read_all(s)))
    elif what == "stall":
        s = conn(path, timeout=15.0)
        s.sendall(b"PUT /machine-config HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"vcpu")
        t0 = time.monotonic()
        reply = read_all(s)
        print("%s after %.1f s" % (status(reply), time.monotonic() - t0))
    elif what == "flood":
        # N clients connect and say nothing; while they hold on, one more asks GET /.
        socks, refused = [], 0
        for _ in range(int(sys.argv[3])):
            try:
                socks.append(conn(path))
            except (BlockingIOError, ConnectionRefusedError):
                refused += 1    # the listen backlog was full for a moment: a refusal is fine
        t0 = time.monotonic()
        for _ in range(50):
            try:
                s = conn(path)
                break
            except (BlockingIOError, ConnectionRefusedError):
                time.sleep(0.01)
        s.sendall(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        reply = status(read_all(s))
        print("%d connected, %d refused at connect; then %s in %.0f ms" % (
            len(socks), refused, reply, (time.monotonic() - t0) * 1000))
        if not reply.startswith("HTTP/1.1 200"):
            sys.exit(1)
    elif what == "hangup":
        s = conn(path)
        s.sendall(b"GET /vm/config HTTP/1.1\r\n\r\n" * 300)
        s.close()
        s = conn(path)
        s.sendall(b"GET /vm/config HTTP/1.1\r\n\r\n" * 300)
        s.recv(10)
        s.close()
        print("left")
    elif what == "latency":
        n = int(sys.argv[3])
        s = conn(path)
        req = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
        times = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            s.sendall(req)
            head = read_one(s)
            times.append(time.perf_counter_ns() - t0)
            if not head.startswith(b"HTTP/1.1 200"):
                print("bad reply: %s" % head[:40])
                sys.exit(1)
        times.sort()
        print("median %.0f us, p99 %.0f us, min %.0f us over %d GET /" % (
            statistics.median(times) / 1000, times[int(n * 0.99) - 1] / 1000, times[0] / 1000, n))
    else:
        sys.exit("unknown " + what)


if __name__ == "__main__":
    main()
