"""Raw pyzmq ROUTER echo for the bridge benchmark: sends every message straight back, no msgpack, no Arrow.

usage: python bench/raw_echo.py ENDPOINT   (exits on a message equal to b"__quit__")
"""
import sys

import zmq

ctx = zmq.Context.instance()
sock = ctx.socket(zmq.ROUTER)
sock.setsockopt(zmq.LINGER, 0)
sock.bind(sys.argv[1])
sys.stderr.write("raw echo ready\n")
sys.stderr.flush()
while True:
    frames = sock.recv_multipart(copy=False)
    sock.send_multipart(frames, copy=False)
    if frames[-1].bytes == b"__quit__":
        break
sock.close()
ctx.term()
