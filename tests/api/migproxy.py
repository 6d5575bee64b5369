#!/usr/bin/env python3
"""A man in the middle for the migration tests: listens on a unix socket, forwards one source's
stream to the destination's unix socket and the destination's answer back.
  migproxy.py LISTEN TARGET flip OFFSET   XOR byte OFFSET of the stream with 0x10
  migproxy.py LISTEN TARGET stall OFFSET  forward OFFSET bytes, then swallow the rest (the test
                                          kills the destination meanwhile)
  migproxy.py LISTEN TARGET flipdisk N    XOR byte N of the first disk block's data with 0x10
                                          (the records are followed to find it)
It ends when either side closes, closing the other."""
import os
import select
import socket
import struct
import sys

listen_path, target, mode, offset = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if os.path.exists(listen_path):
    os.unlink(listen_path)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(listen_path)
srv.listen(1)
src, _ = srv.accept()
dst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
dst.connect(target)
seen = 0
stream = bytearray()    # flipdisk: what came so far, and where the next record starts
rec = 32                # after the hello
while True:
    r, _, _ = select.select([src, dst], [], [])
    try:
        if dst in r:
            data = dst.recv(65536)
            if not data:
                break
            src.sendall(data)
        if src not in r:
            continue
        data = bytearray(src.recv(65536))
    except OSError:  # a side reset: the other one sees the end
        break
    if not data:
        break
    if mode == "flipdisk":
        stream += data
        while rec + 16 <= len(stream):
            rtype, _, arg = struct.unpack_from("<IIQ", stream, rec)
            if rtype == 4:      # DISK: 16-byte record header, 16-byte block header, the data
                mode, offset = "flip", rec + 32 + offset
                break
            rec += 16 + (4096 if rtype == 1 else 0 if rtype == 2 else arg)
    if mode == "flip" and seen <= offset < seen + len(data):
        data[offset - seen] ^= 0x10
    keep = len(data) if mode != "stall" else max(0, min(len(data), offset - seen))
    seen += len(data)
    try:
        if keep:
            dst.sendall(bytes(data[:keep]))
    except OSError:
        break
src.close()
dst.close()
