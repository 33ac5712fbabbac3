"""The real server in a subprocess on a private ipc endpoint."""
import os
import subprocess
import sys

import msgpack
import numpy as np

from conftest import PY_SIDECAR, TINY_CONFIG
from sempress_sidecar.tensors import decode_tensor_numpy, encode_tensor


def test_hello_answers_with_model_facts(tiny_server):
    r = tiny_server.call("hello")
    assert r["ok"] is True and r["id"] == f"t{tiny_server.n}" and r["v"] == 1
    assert r["result"]["n_layers"] == 3 and r["result"]["pid"] == tiny_server.proc.pid


def test_malformed_msgpack_is_bad_request_and_the_loop_survives(tiny_server):
    r = tiny_server.send_raw(b"\xc1\xff not msgpack")
    assert r["ok"] is False and r["error"]["code"] == "bad_request" and r["id"] is None
    r = tiny_server.send_raw(msgpack.packb({"v": 1, "id": "x", "op": "hello"}))  # no args
    assert r["error"]["code"] == "bad_request" and r["id"] == "x"
    assert tiny_server.call("hello")["ok"] is True


def test_unknown_op_is_refused_by_the_whitelist(tiny_server):
    r = tiny_server.call("__import__", {"name": "os"})
    assert r["ok"] is False and r["error"]["code"] == "unknown_op"
    assert set(r["error"]) >= {"code", "type", "message", "traceback"}


def test_bad_args_name_the_field_and_model_errors_do_not_kill_the_server(tiny_server):
    r = tiny_server.call("generate", {"prompts": [[1]], "max_new_tokens": "8", "do_sample": False})
    assert r["error"]["code"] == "bad_args" and "max_new_tokens" in r["error"]["message"]
    r = tiny_server.call("decode", {"ids": [[-5]]})
    assert r["error"]["code"] == "bad_args"
    assert tiny_server.call("tokenize", {"texts": ["ok"]})["ok"]


def test_echo_returns_the_tensor_bytes(tiny_server):
    data = encode_tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    r = tiny_server.call("echo", {"tensor": data})
    assert r["ok"] and r["result"]["tensor"] == data
    arr, tag = decode_tensor_numpy(r["result"]["tensor"])
    assert tag == "float32" and arr.shape == (3, 4)


def test_score_over_the_wire(tiny_server):
    r = tiny_server.call("score", {"items": [{"prefix": [1, 2, 3], "continuations": [[4], [5, 6]]}]})
    assert r["ok"] and [len(x) for x in r["result"]["logprobs"][0]] == [1, 2]


def test_non_loopback_tcp_endpoints_are_refused():
    for ep in ("tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://192.168.1.2:5555", "tcp://localhost:5555",
               "inproc://x", "ipc://"):
        p = subprocess.run(
            [sys.executable, "-m", "sempress_sidecar", "--model", f"random:{TINY_CONFIG}", "--endpoint", ep],
            capture_output=True, cwd=str(PY_SIDECAR), timeout=60,
        )
        assert p.returncode == 2, ep
        assert b"refusing endpoint" in p.stderr or b"needs a filesystem path" in p.stderr
        assert p.stdout == b""


def test_shutdown_replies_then_exits_zero_with_nothing_on_stdout(tiny_server):
    """Runs last in this module: it stops the shared server."""
    assert tiny_server.call("set_seed", {"seed": 3})["ok"]
    r = tiny_server.call("shutdown")
    assert r["ok"] is True
    assert tiny_server.proc.wait(timeout=30) == 0
    out, err = tiny_server.close()
    assert out == b""
    text = err.decode()
    assert "ready" in text and "[t1]" in text  # logs carry the request id




def test_sidecar_exits_when_its_parent_is_killed(tmp_path):
    """A parent that dies by SIGKILL (no chance to clean up) must not leave the sidecar running."""
    import signal as _signal
    import subprocess as _sp
    import sys as _sys
    import time as _time

    ep = f"ipc://{tmp_path}/s.sock"
    pidfile = tmp_path / "child.pid"
    # the parent: starts the sidecar, writes its pid, then sleeps until killed
    parent_code = (
        "import subprocess, sys, time\n"
        f"c = subprocess.Popen([sys.executable, '-m', 'sempress_sidecar', '--model', 'random:{TINY_CONFIG}', '--endpoint', '{ep}'])\n"
        f"open('{pidfile}', 'w').write(str(c.pid))\n"
        "time.sleep(600)\n"
    )
    parent = _sp.Popen([_sys.executable, "-c", parent_code], cwd=str(PY_SIDECAR))
    try:
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text():
                break
            _time.sleep(0.1)
        child = int(pidfile.read_text())
        parent.send_signal(_signal.SIGKILL)
        parent.wait(timeout=10)
        for _ in range(300):
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                return
            # reap if it became our zombie (it is not our child, so just poll)
            _time.sleep(0.1)
        os.kill(child, _signal.SIGKILL)
        raise AssertionError("sidecar outlived its SIGKILLed parent by 30 s")
    finally:
        if parent.poll() is None:
            parent.kill()
