import pytest

from sempress_sidecar import protocol as P


def test_every_ts_op_has_a_parser_and_a_whitelisted_function():
    from sempress_sidecar.ops import WHITELIST

    assert set(P.OPS) == set(P.ARG_PARSERS) == set(WHITELIST)


def test_envelope_needs_version_id_op_and_args():
    assert P.parse_request({"v": 1, "id": "a", "op": "hello", "args": {}}) == ("a", "hello", {})
    for bad in ([1], {"v": 2, "id": "a", "op": "x", "args": {}}, {"v": 1, "op": "x", "args": {}},
                {"v": 1, "id": "a", "args": {}}, {"v": 1, "id": "a", "op": "x", "args": []},
                {"v": True, "id": "a", "op": "x", "args": {}}):
        with pytest.raises(P.BadRequest):
            P.parse_request(bad)


def test_defaults_are_filled_like_the_zod_schemas():
    assert P.parse_tokenize({"texts": ["a"]}) == {"texts": ["a"], "add_special_tokens": False}
    assert P.parse_decode({"ids": [[1]]})["skip_special_tokens"] is True
    assert P.parse_chat_template({"texts": []})["system"] is None
    g = P.parse_generate({"prompts": [[1]], "max_new_tokens": 2, "do_sample": False})
    assert (g["temperature"], g["top_p"], g["n"], g["seeds"]) == (1.0, 1.0, 1, None)
    assert P.parse_trace({"sequences": [[1]]})["mode"] == "decision"
    assert P.parse_lens_items({"items": [{"ids": [1], "token_ids": []}]})["items"][0]["position"] == -1
    assert P.parse_patch({"items": []})["sites"] == ["resid", "attn"]


@pytest.mark.parametrize("parse,args,field", [
    (P.parse_tokenize, {"texts": "abc"}, "texts"),
    (P.parse_tokenize, {"texts": ["a", 3]}, "texts[1]"),
    (P.parse_decode, {"ids": [[1, "2"]]}, "ids[0][1]"),
    (P.parse_decode, {"ids": [[1, True]]}, "ids[0][1]"),
    (P.parse_score, {"items": [{"prefix": [], "continuations": [[1]]}]}, "prefix"),
    (P.parse_score, {"items": [{"prefix": [1], "continuations": [[]]}]}, "continuations[0]"),
    (P.parse_generate, {"prompts": [[1]], "max_new_tokens": 0, "do_sample": False}, "max_new_tokens"),
    (P.parse_generate, {"prompts": [[1]], "max_new_tokens": 1, "do_sample": "yes"}, "do_sample"),
    (P.parse_generate, {"prompts": [[1]], "max_new_tokens": 1, "do_sample": True, "top_p": 1.5}, "top_p"),
    (P.parse_generate, {"prompts": [[1]], "max_new_tokens": 1, "do_sample": True, "temperature": 0}, "temperature"),
    (P.parse_generate, {"prompts": [[1], [2]], "max_new_tokens": 1, "do_sample": True, "seeds": [1]}, "seeds"),
    (P.parse_trace, {"sequences": [[1]], "mode": "some"}, "mode"),
    (P.parse_patch, {"items": [], "sites": ["mlp"]}, "sites"),
    (P.parse_set_seed, {"seed": 1.5}, "seed"),
    (P.parse_echo, {"tensor": "not bytes"}, "tensor"),
])
def test_bad_args_name_the_field(parse, args, field):
    with pytest.raises(P.BadArgs, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse(args)
