/** Shared fixtures for run/analyze tests: a mock sidecar whose toy model "knows" capitals, and prompts. */
import { acceptingValidation } from "../../src/bench/synthetic.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { MockSidecar } from "../doubles/mockSidecar.ts";
import type { PromptRecord } from "../../src/schemas.ts";
import type { Tokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import type { RunEnv } from "../../src/run/env.ts";

export const CITIES: [country: string, city: string][] = [
  ["France", "Paris"],
  ["England", "London"],
  ["Germany", "Berlin"],
  ["Italy", "Rome"],
  ["Spain", "Madrid"],
  ["Japan", "Tokyo"],
  ["Peru", "Lima"],
];

export function prompts(n = CITIES.length): PromptRecord[] {
  return CITIES.slice(0, n).map(([country, city], i) => ({
    prompt_id: `facts_${city.toLowerCase()}_${String(i).padStart(8, "0")}`,
    category: "facts",
    question_text: `Fill the blank with one word: The capital of ${country} is ____.`,
    target_word: city,
    target_word_normalized: city.toLowerCase(),
    template_id: "F1",
    source: "test",
    subject: country,
    relation: "capital",
    validation: acceptingValidation(city),
    v_score: 100,
    p0: 0.9,
    p0_plain: 0.9,
    s_score: 190,
    bin: 4,
    prompt_format: "raw",
  }));
}

/**
 * After "Answer:" the model puts high probability on " City" under the baseline prompt; under the
 * negative prompt (which contains " not") odd-indexed countries still prefer the city (greedy
 * failure), even-indexed ones prefer " water" (greedy success).
 */
export function mockEnv(): RunEnv & { sidecar: MockSidecar } {
  const words = CITIES.flatMap(([c, city]) => [` ${c}`, ` ${city}`]);
  let sidecar: MockSidecar;
  const pin = (ctx: readonly number[]) => {
    const m = sidecar?.model;
    if (!m || ctx.length < 2) return undefined;
    // After a one-word answer the model ends the line, so the word stays whole.
    if (words.some((w) => ctx[ctx.length - 1] === m.id(w)) || ctx[ctx.length - 1] === m.id(" water")) return { [m.id(".")]: 0.9 };
    if (ctx[ctx.length - 1] !== m.id(":") || ctx[ctx.length - 2] !== m.id("Answer")) return undefined;
    const idx = CITIES.findIndex(([c]) => ctx.includes(m.id(` ${c}`)));
    if (idx < 0) return undefined;
    const city = m.id(` ${CITIES[idx][1]}`);
    if (!ctx.includes(m.id(" not"))) return { [city]: 0.85 };
    return idx % 2 === 1 ? { [city]: 0.6 } : { [city]: 0.3, [m.id(" water")]: 0.6 };
  };
  sidecar = new MockSidecar({ words, pin, nLayers: 3, nHeads: 2, hiddenSize: 4 });
  const m = sidecar.model;
  const tokenizer: Tokenizer = {
    encode: (t) => m.tokenize(t).ids,
    decode: (ids, o) => m.decode(ids, o?.skipSpecialTokens ?? true),
  };
  return { sidecar, hello: sidecar.helloFacts(), tokenizer };
}

export function testConfig(dataRoot: string): Config {
  return loadConfig({
    profile: "default",
    env: {},
    flags: {
      dataRoot,
      generation: { greedyMaxNewTokens: 4, samplesPerPrompt: 3, sampleMaxNewTokens: 4 },
    } as never,
  });
}
