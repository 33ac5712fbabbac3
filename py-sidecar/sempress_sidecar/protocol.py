"""The sidecar's side of the wire contract: errors, and validation of requests against the JSON Schema that
scripts/gen_protocol.ts generates from the zod schemas in src/rpc/protocol.ts (protocol_schema.py).

``ARG_PARSERS[op](args)`` returns the op's args as a plain dict with every declared field present (defaults
filled, optional fields without one ``None``), or raises ``BadArgs`` naming the field. Nothing here lists
ops or fields by hand: change the zod schemas, run ``make protocol``.
"""
from __future__ import annotations

from typing import Any, Callable

from . import protocol_schema as S
from .schema_check import Invalid, compile_schema

PROTOCOL_VERSION: int = S.PROTOCOL_VERSION
OPS: tuple[str, ...] = tuple(S.OPS)

# Stable error codes (RemoteErrorSchema.code); the test checks each is in the generated ERROR_CODES.
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


def _seeds_match_prompts(args: dict) -> None:
    seeds, prompts = args["seeds"], args["prompts"]
    if seeds is not None and len(seeds) != len(prompts):
        raise BadArgs(f"args.seeds has {len(seeds)} entries but there are {len(prompts)} prompts")


# Rules across fields, which JSON Schema (and zod without refinements) cannot state.
CROSS_FIELD: dict[str, Callable[[dict], None]] = {"generate": _seeds_match_prompts}


def _parser(op: str, schema: dict) -> Callable[[dict], dict]:
    check = compile_schema(schema)
    cross = CROSS_FIELD.get(op)

    def parse(args: dict) -> dict:
        try:
            out = check(args)
        except Invalid as e:
            raise BadArgs(e.line("args")) from None
        if cross is not None:
            cross(out)
        return out

    parse.__name__ = f"parse_{op}"
    return parse


ARG_PARSERS: dict[str, Callable[[dict], dict]] = {op: _parser(op, S.ARGS[op]) for op in OPS}

_check_request = compile_schema(S.REQUEST)
_check_reply = compile_schema(S.REPLY)


def parse_request(msg: Any) -> tuple[str, str, dict]:
    """Validate the envelope {v, id, op, args}; returns (id, op, args). Raises BadRequest."""
    try:
        req = _check_request(msg)
    except Invalid as e:
        raise BadRequest(e.line("request")) from None
    return req["id"], req["op"], req["args"]


def check_reply(reply: Any) -> None:
    """Raises ValueError when a reply breaks the envelope TS expects (tests check the server's replies)."""
    try:
        _check_reply(reply)
    except Invalid as e:
        raise ValueError(e.line("reply")) from None
