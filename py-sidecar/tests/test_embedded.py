"""The embedded default model, Qwen2.5-Coder-0.5B-Instruct (slow: loads real weights). Deselect with -m 'not embedded'."""
import pytest

FRANCE = "Answer with exactly one English word.\nQuestion: What is the capital of France?\nAnswer:"

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def emb_ctx(embedded_ctx):
    return embedded_ctx


def test_embedded_model_answers_the_france_question(emb_ctx, ops):
    ids = ops(emb_ctx, "tokenize", texts=[FRANCE], add_special_tokens=True)["ids"][0]
    seq = ops(emb_ctx, "generate", prompts=[ids], max_new_tokens=4, do_sample=False)["sequences"][0][0]
    text = ops(emb_ctx, "decode", ids=[seq])["texts"][0]
    assert text.strip(), seq
    assert "paris" in text.lower()


def test_embedded_hello_describes_a_real_model(emb_ctx, ops):
    h = ops(emb_ctx, "hello")
    assert h["model_source"] == "embedded" and h["n_layers"] >= 12
    assert h["architecture"] == "Qwen2ForCausalLM" and "<|im_start|>" in (h["chat_template"] or "")
    assert h["model_id"] == "embedded:qwen2.5-coder-0.5b-instruct"
    assert h["tokenizer_json"].startswith("{") and h["eos_token_ids"]


def test_embedded_score_prefers_the_right_answer(emb_ctx, ops):
    tok = emb_ctx.tokenizer
    ids = tok(FRANCE, add_special_tokens=True)["input_ids"]
    paris, tokyo = (tok(w, add_special_tokens=False)["input_ids"] for w in (" Paris", " Tokyo"))
    lp = ops(emb_ctx, "score", items=[{"prefix": ids, "continuations": [paris, tokyo]}])["logprobs"][0]
    assert sum(lp[0]) > sum(lp[1])


def test_embedded_hello_fits_in_one_msgpack_reply(emb_ctx, ops):
    import msgpack

    h = ops(emb_ctx, "hello")
    back = msgpack.unpackb(msgpack.packb(h, use_bin_type=True), raw=False)
    assert back["tokenizer_config"]["add_bos_token"] is False  # Qwen prompts start without a BOS token


def test_embedded_chat_template_wraps_the_prompt_as_the_user_turn(emb_ctx, ops):
    out = ops(emb_ctx, "chat_template", texts=[FRANCE])
    text = out["texts"][0]
    assert "<|im_start|>user\n" + FRANCE + "<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_embedded_model_answers_in_one_word_in_chat_format(emb_ctx, ops):
    text = ops(emb_ctx, "chat_template", texts=[FRANCE])["texts"][0]
    ids = ops(emb_ctx, "tokenize", texts=[text], add_special_tokens=True)["ids"][0]
    seq = ops(emb_ctx, "generate", prompts=[ids], max_new_tokens=6, do_sample=False)["sequences"][0][0]
    answer = ops(emb_ctx, "decode", ids=[seq], skip_special_tokens=True)["texts"][0]
    assert answer.strip().rstrip(".") == "Paris", answer
