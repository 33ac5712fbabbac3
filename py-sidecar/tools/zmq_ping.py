"""Start the real sidecar server as a child process and talk to it over ZeroMQ from Python.

    python py-sidecar/tools/zmq_ping.py random:py-sidecar/configs/qwen2.5-7b-instruct.json

Used where Node.js is absent (the GPU box): proves the served path — process, socket, msgpack,
Arrow tensors — works on that machine, and prints one JSON line per op with its wall time.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msgpack
import zmq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sempress_sidecar.tensors import decode_tensor  # noqa: E402


def main() -> None:
    model = sys.argv[1]
    d = tempfile.mkdtemp(prefix="sempress-")
    os.chmod(d, 0o700)
    ep = f"ipc://{d}/sidecar.sock"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-m", "sempress_sidecar", "--model", model, "--endpoint", ep], env=env)
    sock = zmq.Context().socket(zmq.DEALER)
    sock.connect(ep)

    def call(op: str, args: dict, timeout_s: float = 600) -> dict:
        rid = uuid.uuid4().hex
        t = time.time()
        sock.send(msgpack.packb({"v": 1, "id": rid, "op": op, "args": args}, use_bin_type=True))
        if not sock.poll(int(timeout_s * 1000)):
            raise TimeoutError(op)
        rep = msgpack.unpackb(sock.recv_multipart()[-1], raw=False)
        assert rep["id"] == rid and rep["ok"], rep
        print(json.dumps({"op": op, "s": round(time.time() - t, 3)}), flush=True)
        return rep["result"]

    try:
        h = call("hello", {})
        print(json.dumps({k: h[k] for k in ("model_id", "n_layers", "n_heads", "vocab_size", "dtype", "device",
                                              "torch_version", "transformers_version")}), flush=True)
        ids = call("tokenize", {"texts": ["Answer with exactly one English word.\nQuestion: What is the capital of France?\nAnswer:"]})["ids"]
        call("score", {"items": [{"prefix": ids[0], "continuations": [[12095], [12095, 13]]}]})
        call("generate", {"prompts": ids * 4, "max_new_tokens": 10, "do_sample": True, "n": 16, "seeds": [1, 2, 3, 4]})
        tr = call("trace", {"prompts": ids, "max_new_tokens": 8})["items"][0]
        print(json.dumps({"trace_hidden": decode_tensor(tr["hidden"]).shape, "trace_attn": decode_tensor(tr["attentions"]).shape}, default=list))
        call("shutdown", {})
    finally:
        child.wait(timeout=60)


if __name__ == "__main__":
    main()
