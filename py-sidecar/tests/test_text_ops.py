def test_tokenize_then_decode_gives_back_the_text(tiny_ctx, ops):
    texts = ["Answer with exactly one English word.\nQuestion: What is the capital of France?\nAnswer:",
             "Ünïcödé — naïve café 東京 🙂", " leading space and trailing "]
    ids = ops(tiny_ctx, "tokenize", texts=texts)["ids"]
    assert all(len(x) > 0 for x in ids)
    assert ops(tiny_ctx, "decode", ids=ids)["texts"] == texts


def test_offsets_are_code_point_spans_of_the_input(tiny_ctx, ops):
    text = "café 東京 Paris."
    res = ops(tiny_ctx, "tokenize", texts=[text])
    offs = res["offsets"][0]
    assert len(offs) == len(res["ids"][0])
    assert offs[-1][1] == len(text)  # code points, not UTF-8 bytes
    assert [o for o in offs if text[o[0]:o[1]] == " Paris"], offs


def test_special_tokens_are_kept_or_skipped_on_decode(tiny_ctx, ops):
    tok = tiny_ctx.tokenizer
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    ids = ops(tiny_ctx, "tokenize", texts=["Paris"])["ids"][0] + [eos]
    assert ops(tiny_ctx, "decode", ids=[ids])["texts"] == ["Paris"]
    assert ops(tiny_ctx, "decode", ids=[ids], skip_special_tokens=False)["texts"] == ["Paris<|im_end|>"]


def test_chat_template_wraps_a_single_user_turn(tiny_ctx, ops):
    out = ops(tiny_ctx, "chat_template", texts=["Hi there"])["texts"][0]
    assert "Hi there" in out and out.rstrip().endswith("assistant")
    assert "system" not in out
    with_sys = ops(tiny_ctx, "chat_template", texts=["Hi"], system="Be brief.")["texts"][0]
    assert "Be brief." in with_sys


def test_hello_reports_the_model_and_the_tokenizer(tiny_ctx, ops):
    import json

    h = ops(tiny_ctx, "hello")
    assert (h["n_layers"], h["n_heads"], h["n_kv_heads"], h["hidden_size"]) == (3, 4, 2, 64)
    assert h["model_source"] == "random" and h["architecture"] == "Qwen2ForCausalLM"
    assert json.loads(h["tokenizer_json"])["model"]["type"] == "BPE"
    assert 151645 in h["eos_token_ids"]
    assert h["chat_template"] and h["max_batch_tokens"] > 0
    assert "added_tokens_decoder" in h["tokenizer_config"]
