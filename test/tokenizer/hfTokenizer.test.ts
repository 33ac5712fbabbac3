import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { HfTokenizer, qwenTokenizer, qwenTokenizerDir } from "../../src/tokenizer/hfTokenizer.ts";
import { decodeByteLevel, BYTE_TO_CHAR, tokenBytes } from "../../src/tokenizer/byteLevel.ts";
import { generateIdSequences, generateStrings } from "./tokStrings.ts";
import { needVenv } from "../fixtures/requirements.ts";

const PY = ".venv/bin/python";
const N_STRINGS = 1000;
const N_ID_SEQS = 300;

test("byte-level alphabet maps all 256 bytes to distinct characters and back", () => {
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  for (let b = 0; b < 256; b++) assert.deepEqual([...tokenBytes(BYTE_TO_CHAR[b])], [b]);
  assert.equal(BYTE_TO_CHAR[32], "Ġ");
  assert.equal(BYTE_TO_CHAR[10], "Ċ");
});

test("a truncated multi-byte character decodes to exactly one U+FFFD", () => {
  const emoji = [...new TextEncoder().encode("🎉")].map((b) => BYTE_TO_CHAR[b]);
  assert.equal(decodeByteLevel(emoji.slice(0, 1)), "\uFFFD");
  assert.equal(decodeByteLevel(emoji.slice(0, 3)), "\uFFFD");
  assert.equal(decodeByteLevel(emoji), "🎉");
  assert.equal(decodeByteLevel([emoji[0], "a"]), "\uFFFDa");
});

test("qwen tokenizer round-trips mixed text without special tokens", () => {
  const tok = qwenTokenizer();
  const s = "héllo 世界 🎉 wörld";
  const ids = tok.encode(s);
  assert.deepEqual(ids, [71, 18503, 385, 220, 99489, 11162, 236, 231, 289, 9416, 507]);
  assert.equal(tok.decode(ids), s);
});

test("decode skips special tokens but keeps non-special added tokens, no clean-up", () => {
  const tok = qwenTokenizer();
  assert.equal(tok.decode([151644, 872, 198, 151645, 151667]), "user\n<think>");
  assert.equal(tok.decode([151644, 872], { skipSpecialTokens: false }), "<|im_start|>user");
  const ids = tok.encode("Hello , world !");
  assert.equal(tok.decode(ids), "Hello , world !");
  assert.equal(tok.decode(ids, { cleanUp: true }), "Hello, world!");
});

test("chat markup in text is encoded as special tokens", () => {
  const tok = qwenTokenizer();
  assert.deepEqual(tok.encode("<|im_start|>user\nHi<|im_end|>"), [151644, 872, 198, 13048, 151645]);
});

test("fromFile rejects a missing file and fromJson rejects non-tokenizer JSON", () => {
  assert.throws(() => HfTokenizer.fromFile("/nonexistent/tokenizer.json"), /not found/);
  assert.throws(() => HfTokenizer.fromJson("{}"), /no `model` field/);
  assert.throws(() => HfTokenizer.fromJson("{"), /not valid JSON/);
});

// ------------------------------------------------------------- cross-check against Python

interface PyRef {
  encode: number[][];
  decode_prefixes: string[][];
}
let ref: PyRef | null = null;
let strings: string[] = [];
let idSeqs: number[][] = [];
let tsIds: number[][] = [];

before(() => {
  const tok = qwenTokenizer();
  strings = generateStrings(N_STRINGS);
  tsIds = strings.map((s) => tok.encode(s));
  const special = tok.addedTokens.map((t) => t.id);
  idSeqs = generateIdSequences(N_ID_SEQS, 151643, special);
  if (needVenv()) return;
  const req = { tokenizer_dir: qwenTokenizerDir(), encode: strings, decode_prefixes: [...tsIds, ...idSeqs] };
  const r = spawnSync(PY, ["test/fixtures/tok_py_reference.py"], {
    input: JSON.stringify(req),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`python reference failed: ${r.stderr}`);
  ref = JSON.parse(r.stdout) as PyRef;
});

test(`TS encode equals Python encode on ${N_STRINGS} mixed strings`, (t) => {
  if (!ref) return t.skip(needVenv() || "no Python reference");
  let bad = 0;
  for (let i = 0; i < strings.length; i++) {
    if (JSON.stringify(tsIds[i]) !== JSON.stringify(ref.encode[i])) {
      bad++;
      if (bad <= 3) t.diagnostic(`mismatch ${JSON.stringify(strings[i])}: ts ${tsIds[i]} py ${ref.encode[i]}`);
    }
  }
  assert.equal(bad, 0);
});

test(`TS decode of every prefix equals Python on ${N_STRINGS} strings and ${N_ID_SEQS} random id sequences`, (t) => {
  if (!ref) return t.skip(needVenv() || "no Python reference");
  const tok = qwenTokenizer();
  const seqs = [...tsIds, ...idSeqs];
  let checked = 0;
  let withFffd = 0;
  for (let k = 0; k < seqs.length; k++) {
    const ids = seqs[k];
    for (let i = 0; i <= ids.length; i++) {
      const mine = tok.decode(ids.slice(0, i));
      assert.equal(mine, ref.decode_prefixes[k][i], `sequence ${k} prefix ${i}: ids ${ids.slice(0, i)}`);
      if (mine.includes("\uFFFD")) withFffd++;
      checked++;
    }
  }
  t.diagnostic(`${checked} prefixes checked, ${withFffd} contain U+FFFD`);
  assert.ok(withFffd > 100, "the inputs must exercise partial UTF-8");
});
