/**
 * Property test of the detector on the real Qwen tokenizer: seeded mixed-script texts with X inserted,
 * tokenised canonically or "shredded" (random tokens replaced by their single-byte tokens, as a
 * random model may emit), so that characters of X and its neighbours are split over tokens.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { qwenTokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { BYTE_TO_CHAR, tokenBytes } from "../../src/tokenizer/byteLevel.ts";
import { detectInIds } from "../../src/detect/detector.ts";
import { containsCaseInsensitive } from "../../src/detect/wordMatch.ts";
import { Prng } from "../../src/util/prng.ts";
import { generateStrings } from "../tokenizer/tokStrings.ts";

const tok = qwenTokenizer();
const TARGETS = ["space", "café", "Paris", "naïve", "Ångström"];
const SEPS = [" ", ". ", "-", "\n", "🎉", "世", '"', "", "é"];

function shred(ids: number[], rng: Prng): number[] {
  return ids.flatMap((id) => {
    const t = tok.idToToken(id);
    if (t === undefined || rng.next() > 0.35) return [id];
    return [...tokenBytes(t)].map((b) => tok.tokenToId(BYTE_TO_CHAR[b]) as number);
  });
}

test("on 600 shredded and canonical texts every match maps to a minimal token run that decodes to X", () => {
  const rng = new Prng(5, "detector-fuzz");
  const bodies = generateStrings(600, 77);
  let matches = 0;
  let multiToken = 0;
  let present = 0;
  for (let k = 0; k < bodies.length; k++) {
    const x = TARGETS[rng.int(TARGETS.length)];
    const form = [x, x.toUpperCase(), x.toLowerCase()][rng.int(3)];
    const body = [...bodies[k]];
    const cut = rng.int(body.length + 1);
    const text = body.slice(0, cut).join("") + SEPS[rng.int(SEPS.length)] + form + SEPS[rng.int(SEPS.length)] + body.slice(cut).join("");
    let ids = tok.encode(text);
    if (k % 2) ids = shred(ids, rng);
    assert.equal(tok.decode(ids), text.normalize("NFC"), "the tokenizer normalises to NFC");
    const d = detectInIds(x, ids, tok);
    if (d.present) present++;
    const cps = [...d.text];
    for (const m of d.matches) {
      matches++;
      assert.equal(cps.slice(m.char_start, m.char_end).join("").toLowerCase(), x.toLowerCase());
      const a = m.token_start as number;
      const b = m.token_end as number;
      assert.ok(containsCaseInsensitive(tok.decode(ids.slice(a, b + 1)), x), `run decodes to X: ${JSON.stringify(d.text)}`);
      if (b > a) {
        multiToken++;
        assert.equal(containsCaseInsensitive(tok.decode(ids.slice(a + 1, b + 1)), x), false, "first token is needed");
        assert.equal(containsCaseInsensitive(tok.decode(ids.slice(a, b)), x), false, "last token is needed");
      }
    }
    assert.equal(d.decision_step, d.matches.length ? d.matches[0].token_start : 0);
  }
  assert.ok(present > 300, `X found in ${present} texts`);
  assert.ok(multiToken > 100, `${multiToken} of ${matches} matches span several tokens`);
});
