"""Python mirror of src/rpc/protocol.ts: version, op names, error codes and hand-written arg validation.

Every ``parse_*`` function takes the raw ``args`` map and returns a plain dict with defaults filled in,
or raises ``BadArgs`` naming the offending field. Keep in step with the zod schemas in protocol.ts.
"""
from __future__ import annotations

from typing import Any, Callable

PROTOCOL_VERSION = 1

OPS = (
    "hello", "tokenize", "decode", "chat_template", "score", "generate", "trace",
    "logit_lens", "decompose", "patch", "set_seed", "echo", "shutdown",
)

# Stable error codes (RemoteErrorSchema.code)
BAD_REQUEST = "bad_request"
UNKNOWN_OP = "unknown_op"
BAD_ARGS = "bad_args"
MODEL_ERROR = "model_error"
OUT_OF_MEMORY = "out_of_memory"
INTERNAL = "internal"


class SidecarError(Exception):
    code = INTERNAL


class BadRequest(SidecarError):
    code = BAD_REQUEST


class UnknownOp(SidecarError):
    code = UNKNOWN_OP


class BadArgs(SidecarError):
    code = BAD_ARGS


class ModelError(SidecarError):
    code = MODEL_ERROR


# ---------------------------------------------------------------- field checks

def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_num(x: Any) -> bool:
    return (isinstance(x, (int, float))) and not isinstance(x, bool)


def _get(args: dict, name: str, check: Callable[[Any, str], Any], default: Any = ..., ) -> Any:
    if name not in args or (args[name] is None and default is not ...):
        if default is ...:
            raise BadArgs(f"args.{name} is required")
        return default
    return check(args[name], f"args.{name}")


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise BadArgs(f"{path} must be a boolean")
    return v


def _int(v: Any, path: str) -> int:
    if not _is_int(v):
        raise BadArgs(f"{path} must be an integer")
    return v


def _pos_int(v: Any, path: str) -> int:
    if not _is_int(v) or v <= 0:
        raise BadArgs(f"{path} must be a positive integer")
    return v


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise BadArgs(f"{path} must be a string")
    return v


def _opt_str(v: Any, path: str) -> str | None:
    return None if v is None else _str(v, path)


def _list(v: Any, path: str) -> list:
    if not isinstance(v, (list, tuple)):
        raise BadArgs(f"{path} must be an array")
    return list(v)


def _strs(v: Any, path: str) -> list[str]:
    return [_str(x, f"{path}[{i}]") for i, x in enumerate(_list(v, path))]


def _ids(v: Any, path: str, min_len: int = 0) -> list[int]:
    xs = _list(v, path)
    if len(xs) < min_len:
        raise BadArgs(f"{path} must have at least {min_len} token id(s)")
    for i, x in enumerate(xs):
        if not _is_int(x):
            raise BadArgs(f"{path}[{i}] must be an integer token id")
    return xs


def _ids_list(v: Any, path: str, min_len: int = 0) -> list[list[int]]:
    return [_ids(x, f"{path}[{i}]", min_len) for i, x in enumerate(_list(v, path))]


def _map(v: Any, path: str) -> dict:
    if not isinstance(v, dict):
        raise BadArgs(f"{path} must be a map")
    return v


def _bytes(v: Any, path: str) -> bytes:
    if not isinstance(v, (bytes, bytearray)):
        raise BadArgs(f"{path} must be binary (Arrow IPC bytes)")
    return bytes(v)


# ---------------------------------------------------------------- per-op args

def parse_empty(args: dict) -> dict:
    return {}


def parse_tokenize(args: dict) -> dict:
    return {"texts": _get(args, "texts", _strs), "add_special_tokens": _get(args, "add_special_tokens", _bool, False)}


def parse_decode(args: dict) -> dict:
    return {"ids": _get(args, "ids", _ids_list), "skip_special_tokens": _get(args, "skip_special_tokens", _bool, True)}


def parse_chat_template(args: dict) -> dict:
    return {"texts": _get(args, "texts", _strs), "system": _get(args, "system", _opt_str, None)}


def parse_score(args: dict) -> dict:
    items = []
    for i, it in enumerate(_get(args, "items", _list)):
        it = _map(it, f"args.items[{i}]")
        items.append({
            "prefix": _get(it, "prefix", lambda v, p: _ids(v, f"args.items[{i}].prefix", 1)),
            "continuations": _get(it, "continuations", lambda v, p: _ids_list(v, f"args.items[{i}].continuations", 1)),
        })
    return {"items": items}


def parse_generate(args: dict) -> dict:
    prompts = _get(args, "prompts", lambda v, p: _ids_list(v, p, 1))
    out = {
        "prompts": prompts,
        "max_new_tokens": _get(args, "max_new_tokens", _pos_int),
        "do_sample": _get(args, "do_sample", _bool),
        "temperature": _get(args, "temperature", _num_pos, 1.0),
        "top_p": _get(args, "top_p", _top_p, 1.0),
        "n": _get(args, "n", _pos_int, 1),
        "seeds": _get(args, "seeds", lambda v, p: [_int(x, f"{p}[{i}]") for i, x in enumerate(_list(v, p))], None),
    }
    if out["seeds"] is not None and len(out["seeds"]) != len(prompts):
        raise BadArgs(f"args.seeds has {len(out['seeds'])} entries but there are {len(prompts)} prompts")
    return out


def _num_pos(v: Any, path: str) -> float:
    if not _is_num(v) or v <= 0:
        raise BadArgs(f"{path} must be a positive number")
    return float(v)


def _top_p(v: Any, path: str) -> float:
    if not _is_num(v) or not (0 < v <= 1):
        raise BadArgs(f"{path} must be a number in (0, 1]")
    return float(v)


def parse_trace(args: dict) -> dict:
    mode = _get(args, "mode", _str, "decision")
    if mode not in ("decision", "full"):
        raise BadArgs('args.mode must be "decision" or "full"')
    return {"sequences": _get(args, "sequences", lambda v, p: _ids_list(v, p, 1)), "mode": mode}


def parse_lens_items(args: dict) -> dict:
    """LogitLensArgs / DecomposeArgs: items of {ids, position = -1, token_ids}."""
    items = []
    for i, it in enumerate(_get(args, "items", _list)):
        it = _map(it, f"args.items[{i}]")
        items.append({
            "ids": _get(it, "ids", lambda v, p: _ids(v, f"args.items[{i}].ids", 1)),
            "position": _get(it, "position", lambda v, p: _int(v, f"args.items[{i}].position"), -1),
            "token_ids": _get(it, "token_ids", lambda v, p: _ids(v, f"args.items[{i}].token_ids")),
        })
    return {"items": items}


def parse_patch(args: dict) -> dict:
    items = []
    for i, it in enumerate(_get(args, "items", _list)):
        it = _map(it, f"args.items[{i}]")
        base = f"args.items[{i}]"
        items.append({
            "source": _get(it, "source", lambda v, p: _ids(v, f"{base}.source", 1)),
            "target": _get(it, "target", lambda v, p: _ids(v, f"{base}.target", 1)),
            "continuations": _get(it, "continuations", lambda v, p: _ids_list(v, f"{base}.continuations", 1)),
            "layers": _get(it, "layers", lambda v, p: _ids(v, f"{base}.layers"), None),
        })
    sites = _get(args, "sites", _strs, ["resid", "attn"])
    for s in sites:
        if s not in ("resid", "attn"):
            raise BadArgs(f'args.sites entries must be "resid" or "attn", got {s!r}')
    return {"items": items, "sites": sites}


def parse_set_seed(args: dict) -> dict:
    return {"seed": _get(args, "seed", _int)}


def parse_echo(args: dict) -> dict:
    return {"tensor": _get(args, "tensor", _bytes, None)}


ARG_PARSERS: dict[str, Callable[[dict], dict]] = {
    "hello": parse_empty,
    "tokenize": parse_tokenize,
    "decode": parse_decode,
    "chat_template": parse_chat_template,
    "score": parse_score,
    "generate": parse_generate,
    "trace": parse_trace,
    "logit_lens": parse_lens_items,
    "decompose": parse_lens_items,
    "patch": parse_patch,
    "set_seed": parse_set_seed,
    "echo": parse_echo,
    "shutdown": parse_empty,
}


def parse_request(msg: Any) -> tuple[str, str, dict]:
    """Validate the envelope {v, id, op, args}; returns (id, op, args). Raises BadRequest."""
    if not isinstance(msg, dict):
        raise BadRequest("request must be a msgpack map")
    rid = msg.get("id")
    if not isinstance(rid, str):
        raise BadRequest("request.id must be a string")
    if msg.get("v") != PROTOCOL_VERSION or isinstance(msg.get("v"), bool):
        raise BadRequest(f"request.v must be {PROTOCOL_VERSION}, got {msg.get('v')!r}")
    op = msg.get("op")
    if not isinstance(op, str):
        raise BadRequest("request.op must be a string")
    args = msg.get("args")
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise BadRequest("request.args must be a map with string keys")
    return rid, op, args
