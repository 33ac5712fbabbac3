/**
 * The TS tokenizer built from a sidecar's hello equals that sidecar's own Python tokenizer (its
 * `tokenize` and `decode` ops), for the embedded default model (SmolLM2, a GGUF-converted
 * tokenizer.json) — a second tokenizer family besides Qwen. Every prefix of every id sequence is
 * decoded on both sides. Skipped without the venv or the embedded model.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { connectSidecar, type SidecarClient } from "../../src/rpc/client.ts";
import { HfTokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { BYTE_TO_CHAR } from "../../src/tokenizer/byteLevel.ts";
import { generateIdSequences, generateStrings } from "./tokStrings.ts";
import { needVenv, unavailable } from "../fixtures/requirements.ts";

const MODEL = process.env.SEMPRESS_TOK_XCHECK_MODEL ?? "default";
const SKIP_PY = needVenv();
const HAVE_PY = !SKIP_PY;
let sc: SidecarClient | null = null;
let tok: HfTokenizer;
let startError: Error | null = null;

before(async () => {
  if (!HAVE_PY) return;
  try {
    sc = await connectSidecar(loadConfig({ flags: { model: { id: MODEL } } as never, env: {} }));
    tok = HfTokenizer.fromHello(await sc.hello());
  } catch (e) {
    startError = e as Error;
  }
});

after(async () => {
  await sc?.close();
});

test(`TS encode equals the ${MODEL} sidecar's tokenize on 400 mixed strings`, { skip: SKIP_PY }, async (t) => {
  if (startError) return t.skip(unavailable(`sidecar for ${MODEL} unavailable: ${startError.message.split("\n")[0]}`));
  const strings = generateStrings(400, 4321);
  const py = await (sc as SidecarClient).tokenize(strings, false);
  strings.forEach((s, i) => assert.deepEqual(tok.encode(s), py.ids[i], JSON.stringify(s)));
});

test(`TS decode of every prefix equals the ${MODEL} sidecar's decode`, { skip: SKIP_PY }, async (t) => {
  if (startError) return t.skip(unavailable(`sidecar for ${MODEL} unavailable: ${startError.message.split("\n")[0]}`));
  const c = sc as SidecarClient;
  const hello = await c.hello();
  const strings = generateStrings(200, 999);
  const special = [hello.eos_token_ids[0], hello.bos_token_id, hello.pad_token_id].filter((x): x is number => typeof x === "number");
  // single-byte tokens of this vocabulary: <0xNN> (byte fallback) or the byte-level alphabet
  const byteIds = Array.from({ length: 256 }, (_, b) =>
    tok.tokenToId(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`) ?? tok.tokenToId(BYTE_TO_CHAR[b]),
  ).filter((x): x is number => x !== undefined);
  assert.equal(byteIds.length, 256, "the vocabulary has a token for every byte");
  // multi-byte characters spelt byte by byte, so prefixes end inside characters
  const spelt = strings.slice(0, 100).map((s) => [...new TextEncoder().encode(s)].map((b) => byteIds[b]));
  const seqs = [...strings.map((s) => tok.encode(s)), ...spelt, ...generateIdSequences(200, tok.vocabSize, special, 17, byteIds)];
  const prefixes = seqs.flatMap((ids) => ids.map((_, i) => ids.slice(0, i + 1)));
  const py = await c.decode(prefixes, true);
  let fffd = 0;
  prefixes.forEach((p, i) => {
    const mine = tok.decode(p);
    if (mine.includes("\uFFFD")) fffd++;
    assert.equal(mine, py[i], `ids ${p}`);
  });
  t.diagnostic(`${prefixes.length} prefixes, ${fffd} with U+FFFD`);
  assert.ok(fffd > 50, "partial characters are exercised");
});

test(`encodePrompt gives the ids the ${MODEL} tokenizer gives with its special tokens`, { skip: SKIP_PY }, async (t) => {
  if (startError) return t.skip(unavailable(`sidecar for ${MODEL} unavailable: ${startError.message.split("\n")[0]}`));
  const texts = ["Answer with exactly one English word.\nQuestion: Why?\nAnswer:", "héllo 世界"];
  const py = await (sc as SidecarClient).tokenize(texts, true);
  texts.forEach((s, i) => assert.deepEqual(tok.encodePrompt(s), py.ids[i]));
});
