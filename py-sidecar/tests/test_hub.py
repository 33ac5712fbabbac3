"""Hub ids load the way HF users expect, against a real local HTTP hub (tests/hub_server.py), no mocks.

Everything that reads HF_* variables runs in a subprocess (huggingface_hub reads them at import time), with
HF_HOME in a fresh directory and HF_ENDPOINT at the local hub.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PY_SIDECAR, SidecarProc
from hub_server import DECOY_FILES, FakeHub, HubServer, make_tiny_repo
from sempress_sidecar.hub import is_hub_id

REPO = "sempress-test/tiny-qwen2"
TOKEN = "hf_sEcReT0123456789abcdefTOKEN"
WANTED = {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}


@pytest.fixture(scope="module")
def repo_dir(tmp_path_factory) -> Path:
    return make_tiny_repo(tmp_path_factory.mktemp("hub") / "repo")


@pytest.fixture()
def hub(repo_dir):
    fake = FakeHub()
    fake.add_repo(REPO, repo_dir)
    with HubServer(fake) as srv:
        yield srv


@pytest.fixture()
def hf_env(monkeypatch, tmp_path, hub):
    """HF_HOME in a fresh dir, HF_ENDPOINT at the local hub, no token and online unless a test says so."""
    for k in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    return monkeypatch


def model_requests(hub: HubServer) -> list:
    """Requests about the model (huggingface_hub may also ask the endpoint for unrelated registries)."""
    return [r for r in hub.hub.requests if r.path.startswith(f"/api/models/{REPO}/") or r.path.startswith(f"/{REPO}/")]


def fetched_files(hub: HubServer) -> list[str]:
    return sorted(r.path.rsplit("/", 1)[-1] for r in hub.hub.file_gets())


def pull(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PY_SIDECAR)}
    return subprocess.run([sys.executable, "-m", "sempress_sidecar.hub", "pull", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def start_and_forward(model: str) -> tuple[dict, bytes]:
    """Start a real sidecar on ``model``, check hello and one forward (score), return (hello, stderr)."""
    sp = SidecarProc(model)
    try:
        hello = sp.call("hello")
        assert hello["ok"], hello
        ids = sp.call("tokenize", {"texts": ["The capital of France is"]})["result"]["ids"][0]
        r = sp.call("score", {"items": [{"prefix": ids, "continuations": [[12095], [11]]}]})
        assert r["ok"] and [len(x) for x in r["result"]["logprobs"][0]] == [1, 1]
        assert all(lp < 0 for lp in sum(r["result"]["logprobs"][0], []))
        return hello["result"], sp.close()[1]
    finally:
        sp.close()


# ---------------------------------------------------------------- loading

def test_a_hub_id_downloads_once_then_loads_from_the_cache_even_offline(hf_env, hub):
    hello, err = start_and_forward(REPO)
    assert hello["model_id"] == REPO and hello["n_layers"] == 3
    assert fetched_files(hub) == sorted(WANTED), "each wanted file exactly once"
    assert not any(d in r.path for r in hub.hub.requests for d in DECOY_FILES), "never *.bin or README"

    hub.hub.clear()
    start_and_forward(REPO)  # online again: the hub is asked for the revision, no file is fetched
    assert fetched_files(hub) == [] and not any(r.method == "HEAD" for r in hub.hub.requests)

    hub.hub.clear()
    hf_env.setenv("HF_HUB_OFFLINE", "1")
    start_and_forward(REPO)
    assert hub.hub.requests == []


def test_offline_with_an_empty_cache_is_one_clear_line(hf_env, hub, tmp_path):
    hf_env.setenv("HF_HUB_OFFLINE", "1")
    sp = SidecarProc(REPO)
    try:
        assert sp.proc.wait(timeout=120) == 3
    finally:
        _, err = sp.close()
    text = err.decode()
    lines = [ln for ln in text.splitlines() if "cannot load model" in ln]
    assert len(lines) == 1, text
    line = lines[0]
    where = str(tmp_path / "hf-home" / "hub" / f"models--{REPO.replace('/', '--')}")
    assert REPO in line and "not in the HF cache" in line and where in line and "offline mode is on" in line
    assert "Traceback" not in text
    assert hub.hub.requests == []


def test_a_local_directory_still_loads_without_the_hub(hf_env, hub, repo_dir):
    hello, _ = start_and_forward(str(repo_dir))
    assert hello["model_id"] == str(repo_dir)
    assert hub.hub.requests == []


def test_a_name_that_is_neither_a_directory_nor_a_hub_id_is_refused(hf_env, hub, tmp_path):
    sp = SidecarProc(str(tmp_path / "no" / "such" / "dir"))
    try:
        assert sp.proc.wait(timeout=120) == 3
    finally:
        _, err = sp.close()
    assert "neither a local directory nor a Hugging Face hub id" in err.decode()
    assert hub.hub.requests == []


# ---------------------------------------------------------------- token

def test_hf_token_is_sent_as_bearer_and_never_logged(hf_env, hub):
    hub.hub.token = TOKEN
    hf_env.setenv("HF_TOKEN", TOKEN)
    p = pull(REPO)
    assert p.returncode == 0, p.stderr
    reqs = model_requests(hub)
    assert reqs and all(r.authorization == f"Bearer {TOKEN}" for r in reqs)
    assert TOKEN not in p.stdout and TOKEN not in p.stderr

    hub.hub.clear()
    hf_env.setenv("HF_HOME", str(Path(os.environ["HF_HOME"]).parent / "other-home"))
    _, err = start_and_forward(REPO)
    assert fetched_files(hub) == sorted(WANTED)
    assert all(r.authorization == f"Bearer {TOKEN}" for r in model_requests(hub))
    assert TOKEN.encode() not in err


def test_a_private_repo_without_a_token_says_to_set_hf_token(hf_env, hub):
    hub.hub.token = TOKEN
    p = pull(REPO)
    assert p.returncode == 3 and p.stdout == ""
    assert "set HF_TOKEN" in p.stderr and "Traceback" not in p.stderr


# ---------------------------------------------------------------- pull

def test_pull_prints_one_json_document_and_logs_to_stderr(hf_env, hub):
    p = pull(REPO)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)  # the whole of stdout is one JSON document
    assert doc["id"] == REPO and doc["revision"] == "main" and doc["commit"] == hub.hub.commits[REPO]
    assert set(doc["files"]) == WANTED
    snap = Path(doc["path"])
    assert snap.is_dir() and snap.is_relative_to(Path(os.environ["HF_HOME"]))
    assert doc["bytes"] == sum((snap / f).stat().st_size for f in doc["files"]) > 1_000_000
    assert "Fetching" in p.stderr  # huggingface_hub's progress bar, on stderr

    hub.hub.clear()
    again = pull(REPO, "--revision", hub.hub.commits[REPO])
    assert again.returncode == 0 and json.loads(again.stdout)["path"] == doc["path"]
    assert fetched_files(hub) == []


def test_pull_refuses_a_local_path_and_unknown_repos_in_one_line(hf_env, hub, repo_dir):
    p = pull(str(repo_dir))
    assert p.returncode == 2 and p.stdout == ""
    assert "not a hub id" in p.stderr and "local path" in p.stderr and len(p.stderr.strip().splitlines()) == 1

    p = pull("sempress-test/no-such-model")
    assert p.returncode == 3 and "was not found on" in p.stderr and "Traceback" not in p.stderr

    p = pull(REPO, "--revision", "v9")
    assert p.returncode == 3 and "has no revision 'v9'" in p.stderr


@pytest.mark.parametrize("name,ok", [
    ("Qwen/Qwen2.5-7B-Instruct", True), ("gpt2", True), ("org/name_with.dots-1", True),
    ("/abs/path", False), ("./rel", False), ("a/b/c", False), ("org/..", False), ("org--x/y", False),
    ("", False), ("random:cfg.json", False),
])
def test_hub_ids_are_owner_slash_name(name, ok):
    assert is_hub_id(name) is ok


# ---------------------------------------------------------------- remote code

@pytest.fixture()
def custom_code_dir(tmp_path) -> Path:
    """A model dir whose config points at its own Python code; that code, if run, says so and exits."""
    from hub_server import QWEN_TOKENIZER_DIR

    d = tmp_path / "custom"
    d.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (d / name).write_bytes((QWEN_TOKENIZER_DIR / name).read_bytes())
    (d / "config.json").write_text(json.dumps({
        "model_type": "sempress_custom", "architectures": ["CustomForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_custom.CustomConfig",
                     "AutoModelForCausalLM": "modeling_custom.CustomForCausalLM"},
    }), encoding="utf-8")
    for name in ("configuration_custom.py", "modeling_custom.py"):
        (d / name).write_text('raise SystemExit("REMOTE CODE RAN")\n', encoding="utf-8")
    return d


def _start_fails(model: str, extra: list[str] | None = None) -> tuple[int, str]:
    sp = SidecarProc(model, extra)
    try:
        code = sp.proc.wait(timeout=120)
    finally:
        _, err = sp.close()
    return code, err.decode()


def test_remote_code_never_runs_without_the_flag(hf_env, custom_code_dir):
    code, err = _start_fails(str(custom_code_dir))
    assert code == 3 and "REMOTE CODE RAN" not in err
    assert "needs its own Python code" in err and "--trust-remote-code" in err and "Traceback" not in err


def test_trust_remote_code_flag_reaches_transformers(hf_env, custom_code_dir):
    code, err = _start_fails(str(custom_code_dir), ["--trust-remote-code"])
    assert code != 0 and "REMOTE CODE RAN" in err


# ---------------------------------------------------------------- sharded weights

def test_sharded_weights_fetch_the_index_and_exactly_the_shards_it_names(hf_env, hub, tmp_path):
    from transformers import AutoConfig, AutoModelForCausalLM

    from hub_server import QWEN_TOKENIZER_DIR, TINY_CONFIG

    d = tmp_path / "sharded"
    AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(TINY_CONFIG))).save_pretrained(str(d), max_shard_size="20MB")
    index = json.loads((d / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) >= 2
    # one shard with a name outside the usual pattern: fetched because the index names it
    (d / shards[-1]).rename(d / "odd-name.safetensors")
    index["weight_map"] = {k: ("odd-name.safetensors" if v == shards[-1] else v) for k, v in index["weight_map"].items()}
    (d / "model.safetensors.index.json").write_text(json.dumps(index))
    (d / "consolidated.safetensors").write_bytes(b"\0" * 1024)  # another layout's copy: never fetched
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (d / name).write_bytes((QWEN_TOKENIZER_DIR / name).read_bytes())
    hub.hub.add_repo("sempress-test/sharded", d)

    p = pull("sempress-test/sharded")
    assert p.returncode == 0, p.stderr
    files = set(json.loads(p.stdout)["files"])
    assert files >= {"model.safetensors.index.json", "odd-name.safetensors", *shards[:-1]}
    assert "consolidated.safetensors" not in files
    assert not any("consolidated" in r.path for r in hub.hub.requests)
