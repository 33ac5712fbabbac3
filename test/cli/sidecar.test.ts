/**
 * `sempress sidecar …` end to end: the real CLI in a child process against the real Python sidecar on
 * the tiny random-weight Qwen2 (real Qwen tokenizer). Each command prints exactly one JSON object.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { needVenv } from "../fixtures/requirements.ts";

const MODEL = "random:py-sidecar/configs/qwen2-tiny.json";
const SKIP = needVenv(["py-sidecar/configs/qwen2-tiny.json"]);

/** Runs `sempress sidecar <args> --model MODEL`; stdout parsed as the one JSON document it must be. */
function sidecar(...args: string[]): { code: number | null; json: Record<string, unknown> | null; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/sempress.mjs", "--log-level", "warn", "sidecar", ...args, "--model", MODEL], { encoding: "utf8", timeout: 240_000 });
  return { code: r.status, json: r.stdout.trim() ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

test("tokenize and decode round-trip a text through the model's tokenizer", { skip: SKIP }, () => {
  const t = sidecar("tokenize", "--text", "Hello world", "--text", "Paris");
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(t.json, { texts: ["Hello world", "Paris"], ids: [[9707, 1879], [59604]], offsets: [[[0, 5], [5, 11]], [[0, 5]]] });
  const d = sidecar("decode", "--ids", "9707,1879");
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(d.json, { ids: [9707, 1879], text: "Hello world" });
});

test("hello prints the model facts without the tokenizer.json text", { skip: SKIP }, () => {
  const h = sidecar("hello");
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.json!.n_layers, 3);
  assert.equal(typeof h.json!.has_chat_template, "boolean");
  for (const k of ["tokenizer_json", "tokenizer_config", "chat_template"]) assert.ok(!(k in h.json!), k);
});

test("generate answers greedily within --max-new-tokens and score's probabilities are exp of the summed log-probs", { skip: SKIP }, () => {
  const g = sidecar("generate", "--prompt", "The capital of France is", "--max-new-tokens", "3", "--format", "raw");
  assert.equal(g.code, 0, g.stderr);
  assert.equal(g.json!.formatted, "The capital of France is");
  assert.ok((g.json!.ids as number[]).length >= 1 && (g.json!.ids as number[]).length <= 3);
  const s = sidecar("score", "--prompt", "The capital of France is", "--continuation", " Paris", "--continuation", " Rome", "--format", "raw");
  assert.equal(s.code, 0, s.stderr);
  const conts = s.json!.continuations as { logprobs: number[]; logprob: number; prob: number }[];
  assert.equal(conts.length, 2);
  for (const c of conts) {
    assert.ok(Math.abs(c.logprob - c.logprobs.reduce((a, b) => a + b, 0)) < 1e-12);
    assert.ok(Math.abs(c.prob - Math.exp(c.logprob)) < 1e-12 && c.prob > 0 && c.prob < 1);
  }
});

test("a bad --format stops before the sidecar starts, with one readable line and nothing on stdout", () => {
  const r = sidecar("score", "--prompt", "x", "--continuation", "y", "--format", "markdown");
  assert.notEqual(r.code, 0);
  assert.equal(r.json, null);
  assert.match(r.stderr, /--format: expected raw or chat, got "markdown"/);
});
