"""The sidecar's validation comes from the zod schemas (protocol_schema.py, generated; the TS test
test/rpc/protocolSchema.test.ts fails when that file is stale), and its op registry matches their op list."""
import msgpack
import pytest

from sempress_sidecar import protocol as P
from sempress_sidecar import protocol_schema as S


def parse(op, **args):
    return P.ARG_PARSERS[op](args)


def test_the_registry_of_python_ops_is_the_ts_op_list():
    from sempress_sidecar.ops import WHITELIST

    assert list(S.OPS) == list(P.ARG_PARSERS)
    assert sorted(S.OPS) == sorted(WHITELIST), "add the op to ops.WHITELIST, or `make protocol` after editing protocol.ts"


def test_every_python_error_code_is_a_ts_error_code():
    codes = {c.code for c in (P.SidecarError, P.BadRequest, P.UnknownOp, P.BadArgs, P.ModelError)} | {P.OUT_OF_MEMORY}
    assert codes == set(S.ERROR_CODES)


def test_envelope_needs_version_id_op_and_args():
    assert P.parse_request({"v": 1, "id": "a", "op": "hello", "args": {}}) == ("a", "hello", {})
    for bad, where in (([1], "request must be a map"), ({"v": 2, "id": "a", "op": "x", "args": {}}, "request.v must be 1"),
                       ({"v": 1, "op": "x", "args": {}}, "request.id is required"),
                       ({"v": 1, "id": "a", "args": {}}, "request.op is required"),
                       ({"v": 1, "id": "a", "op": "x", "args": []}, "request.args must be a map"),
                       ({"v": 1, "id": "a", "op": "x", "args": {1: 2}}, "request.args has a key 1"),
                       ({"v": True, "id": "a", "op": "x", "args": {}}, "request.v must be a number")):
        with pytest.raises(P.BadRequest, match="^" + where.replace(".", r"\.")):
            P.parse_request(bad)


def test_defaults_are_filled_like_the_zod_schemas():
    assert parse("tokenize", texts=["a"]) == {"texts": ["a"], "add_special_tokens": False}
    assert parse("decode", ids=[[1]])["skip_special_tokens"] is True
    assert parse("chat_template", texts=[])["system"] is None
    g = parse("generate", prompts=[[1]], max_new_tokens=2, do_sample=False)
    assert (g["temperature"], g["top_p"], g["n"], g["seeds"]) == (1.0, 1.0, 1, None)
    assert type(g["temperature"]) is float and type(parse("generate", prompts=[[1]], max_new_tokens=2, do_sample=True,
                                                          temperature=2)["temperature"]) is float
    assert parse("trace", sequences=[[1]])["mode"] == "decision"
    assert parse("logit_lens", items=[{"ids": [1], "token_ids": []}])["items"][0]["position"] == -1
    assert parse("patch", items=[{"source": [1], "target": [2], "continuations": []}]) == {
        "items": [{"source": [1], "target": [2], "continuations": [], "layers": None}], "sites": ["resid", "attn"]}
    assert parse("echo") == {"tensor": None} and parse("echo", tensor=bytearray(b"x")) == {"tensor": b"x"}


def test_a_default_list_is_fresh_per_request():
    parse("patch", items=[])["sites"].append("mlp")
    assert parse("patch", items=[])["sites"] == ["resid", "attn"]


def test_null_for_an_optional_field_is_absent_and_unknown_fields_are_dropped():
    assert parse("generate", prompts=[[1]], max_new_tokens=1, do_sample=False, top_p=None, seeds=None, extra=3) == {
        "prompts": [[1]], "max_new_tokens": 1, "do_sample": False, "temperature": 1.0, "top_p": 1.0, "n": 1, "seeds": None,
        "greedy_tokens": 0}
    with pytest.raises(P.BadArgs, match=r"^args\.max_new_tokens must be an integer, got NoneType None$"):
        parse("generate", prompts=[[1]], max_new_tokens=None, do_sample=False)


@pytest.mark.parametrize("op,args,message", [
    ("tokenize", {}, "args.texts is required"),
    ("tokenize", {"texts": "abc"}, "args.texts must be a list, got str 'abc'"),
    ("tokenize", {"texts": ["a", 3]}, "args.texts[1] must be a string, got int 3"),
    ("decode", {"ids": [[1, "2"]]}, "args.ids[0][1] must be an integer, got str '2'"),
    ("decode", {"ids": [[1, True]]}, "args.ids[0][1] must be an integer, got bool True"),
    ("decode", {"ids": [[1, 2**60]]}, "args.ids[0][1] must be <= 9007199254740991"),
    ("score", {"items": [{"prefix": [1], "continuations": [[1]]}, {"prefix": [], "continuations": [[1]]}]},
     "args.items[1].prefix must have at least 1 item(s), got 0"),
    ("score", {"items": [{"prefix": [1], "continuations": [[]]}]}, "args.items[0].continuations[0] must have at least 1"),
    ("score", {"items": [{"prefix": [1]}]}, "args.items[0].continuations is required"),
    ("score", {"items": ["x"]}, "args.items[0] must be a map"),
    ("generate", {"prompts": [[1]], "max_new_tokens": 0, "do_sample": False}, "args.max_new_tokens must be > 0, got 0"),
    ("generate", {"prompts": [[1]], "max_new_tokens": 1, "do_sample": "yes"}, "args.do_sample must be a boolean"),
    ("generate", {"prompts": [[1]], "max_new_tokens": 1, "do_sample": True, "top_p": 1.5}, "args.top_p must be <= 1, got 1.5"),
    ("generate", {"prompts": [[1]], "max_new_tokens": 1, "do_sample": True, "temperature": 0}, "args.temperature must be > 0"),
    ("generate", {"prompts": [[1], [2]], "max_new_tokens": 1, "do_sample": True, "seeds": [1]},
     "args.seeds has 1 entries but there are 2 prompts"),
    ("trace", {"sequences": [[1]], "mode": "some"}, "args.mode must be one of 'decision', 'full', got 'some'"),
    ("patch", {"items": [], "sites": ["resid", "mlp"]}, "args.sites[1] must be one of 'resid', 'attn', got 'mlp'"),
    ("patch", {"items": [{"source": [1], "target": [1], "continuations": [], "layers": [0, 0.5]}]},
     "args.items[0].layers[1] must be an integer"),
    ("set_seed", {"seed": 1.5}, "args.seed must be an integer, got float 1.5"),
    ("echo", {"tensor": "not bytes"}, "args.tensor must be binary (msgpack bin), got str"),
])
def test_bad_args_name_the_field(op, args, message):
    with pytest.raises(P.BadArgs) as e:
        P.ARG_PARSERS[op](args)
    assert str(e.value).startswith(message)


def _reply(payload):
    from sempress_sidecar.server import handle

    reply, _ = handle(None, msgpack.packb(payload, use_bin_type=True) if not isinstance(payload, bytes) else payload)
    P.check_reply(reply)
    return reply


def test_the_servers_replies_match_the_ts_reply_envelope():
    assert _reply({"v": 1, "id": "e", "op": "echo", "args": {"tensor": b"\x01"}})["result"] == {"tensor": b"\x01"}
    assert _reply({"v": 1, "id": "s", "op": "set_seed", "args": {"seed": 3}})["result"] == {}
    assert _reply(b"\xc1")["error"]["code"] == "bad_request"
    assert _reply({"v": 1, "id": "u", "op": "nope", "args": {}})["error"]["code"] == "unknown_op"
    bad = _reply({"v": 1, "id": "b", "op": "set_seed", "args": {}})
    assert bad["error"]["code"] == "bad_args" and bad["error"]["message"] == "args.seed is required"
    with pytest.raises(ValueError, match=r"^reply\.ok must be a boolean, got int 1"):
        P.check_reply({"v": 1, "id": "x", "ok": 1, "result": {}})
    with pytest.raises(ValueError, match=r"^reply\.error\.code must be one of"):
        P.check_reply({"v": 1, "id": "x", "ok": False, "error": {"code": "oops", "type": "E", "message": "m"}})
