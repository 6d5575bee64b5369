#!/usr/bin/env python3
"""A hostile GDB client for ckvm's stub (tests/guests/gdb.sh): bad checksums, oversized and
malformed packets, run-length bombs, random bytes, a second client; after each the stub must still
answer '?'. Then Ctrl-C against the spinning gdbstep64 guest, and a detach that lets it finish.
Usage: gdb_hostile.py SOCKET HOLD_ADDR STRING_ADDR SPIN_ADDR   (addresses in hex, from nm)
Prints PASS/FAIL lines; exits 1 on any failure."""
import random
import socket
import sys
import time

path, hold, string, spin = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16), int(sys.argv[4], 16)
fails = 0


def check(name, ok, detail=""):
    global fails
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else " (%s)" % detail))
    if not ok:
        fails += 1


def connect():
    deadline = time.time() + 20
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.settimeout(20)
            return s
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)  # polling for the listener with a bound, not synchronisation


def frame(data):
    return b"$" + data + b"#%02x" % (sum(data) & 0xff)


class Client:
    def __init__(self):
        self.s = connect()
        self.buf = b""

    def recv_more(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def reply(self):
        """The next packet's data, skipping acks ('+', '-' are returned as such)."""
        while True:
            while self.buf[:1] == b"+":
                self.buf = self.buf[1:]
            if self.buf[:1] == b"-":
                self.buf = self.buf[1:]
                return b"-"
            i = self.buf.find(b"$")
            j = self.buf.find(b"#", i + 1) if i >= 0 else -1
            if i >= 0 and j >= 0 and len(self.buf) >= j + 3:
                data = self.buf[i + 1:j]
                self.buf = self.buf[j + 3:]
                return data
            self.recv_more()

    def cmd(self, data):
        self.s.sendall(frame(data))
        return self.reply()

    def alive(self, name):
        try:
            r = self.cmd(b"?")
            check(name + ": stub still answers", r.startswith(b"T"), r)
        except (OSError, EOFError) as e:
            check(name + ": stub still answers", False, e)


c = Client()
r = c.cmd(b"qSupported:swbreak+;hwbreak+")
check("qSupported", b"PacketSize=1000" in r, r)
c.alive("start")

# a second client is turned away while one is attached
c2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c2.connect(path)
c2.settimeout(20)
check("second client closed", c2.recv(10) == b"")
c2.close()
c.alive("second client")

c.s.sendall(b"$g#00")
check("bad checksum gets '-'", c.reply() == b"-")
c.alive("bad checksum")

big = b"m" + b"0" * 20000
c.s.sendall(frame(big))
check("oversized packet gets E01", c.reply() == b"E01")
c.alive("oversized")

c.s.sendall(b"$m0,1" + b"0*\xfe" * 200 + b"#00")   # run-length bomb (and a bad checksum)
r = c.reply()
check("run-length bomb refused", r in (b"-", b"E01"), r)
c.alive("rle bomb")

for bad in [b"m", b"mzz,1", b"m0,ffffffffffffffffff", b"Mffffffffffffffff,4:00000000",
            b"M100000,4:zz", b"X1,10:ab", b"Z0,", b"Z0,1,99", b"Hg99", b"Hgzz", b"p9999", b"P0=12",
            b"G00", b"qXfer:features:read:../../etc/passwd:0,100", b"qXfer:features:read:target.xml:zz",
            b"vCont;x", b"vCont;s:zz", b"T99", b"\x00\xff\x7f", b"D;zz"]:
    r = c.cmd(bad)
    check("malformed %r refused" % bad[:24], r.startswith(b"E") or r == b"", r)
c.alive("malformed")

r = c.cmd(b"Z2,%x,1" % hold)
check("watchpoint unsupported (empty reply)", r == b"", r)
r = c.cmd(b"m7fff00000000,10")
check("unmapped memory is an error", r.startswith(b"E"), r)
r = c.cmd(b"m8000000000000000,10")
check("non-canonical address is an error", r.startswith(b"E"), r)
r = c.cmd(b"m%x,14" % string)
check("memory read of the known string", bytes.fromhex(r.decode()) == b"ckvm gdb memory test", r)

rng = random.Random(11)
junk = bytes(b for b in (rng.randrange(256) for _ in range(20000)) if b not in (ord("#"), 3))
c.s.sendall(junk + b"#00")
c.buf = b""
c.s.sendall(b"+")
# drain whatever the junk produced ('-', E01), then resynchronise on a fresh '?'
c.s.settimeout(2)
try:
    while True:
        c.recv_more()
except (socket.timeout, BlockingIOError):
    pass
c.s.settimeout(20)
c.buf = b""
c.alive("20000 random bytes")

# Ctrl-C: make the guest spin, continue, interrupt
check("set gdb_hold", c.cmd(b"M%x,1:01" % hold) == b"OK")
c.s.sendall(frame(b"vCont;c"))
c.s.sendall(b"\x03")
r = c.reply()
check("Ctrl-C stops the spinning guest (T02)", r.startswith(b"T02"), r)
orig = c.cmd(b"m%x,1" % spin)
check("software breakpoint in the spin loop", c.cmd(b"Z0,%x,1" % spin) == b"OK")
# vanish while the guest runs into it: the stub must take the int3 out and let the VM run
c.s.sendall(frame(b"vCont;c"))
c.s.close()
c = Client()
c.alive("reconnect after a client vanished mid-run")
r = c.cmd(b"m%x,1" % spin)
check("the int3 was taken out", r == orig and r != b"cc", (r, orig))
check("clear gdb_hold", c.cmd(b"M%x,1:00" % hold) == b"OK")
check("detach", c.cmd(b"D") == b"OK")
c.s.close()
print("%d failed" % fails)
sys.exit(1 if fails else 0)
