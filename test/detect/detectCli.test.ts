import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { register, parseIds } from "../../src/cli/commands/detect.ts";
import { qwenTokenizerDir } from "../../src/tokenizer/hfTokenizer.ts";

const TOKJSON = join(qwenTokenizerDir(), "tokenizer.json");

/** Runs `sempress detect ...args` in-process and returns the parsed stdout JSON. */
async function run(...args: string[]): Promise<any> {
  const program = new Command("sempress").option("--data-root <dir>").exitOverride();
  register(program);
  let out = "";
  const orig = process.stdout.write.bind(process.stdout);
  (process.stdout as any).write = (chunk: string) => ((out += chunk), true);
  try {
    await program.parseAsync(["node", "sempress", "--data-root", mkdtempSync(join(tmpdir(), "det-")), "detect", ...args]);
  } finally {
    (process.stdout as any).write = orig;
  }
  return JSON.parse(out);
}

test("detect --text without a tokenizer prints char spans and null token fields", async () => {
  const r = await run("--target", "space", "--text", "A SPACE! x");
  assert.deepEqual(r, {
    present: true,
    matches: [{ char_start: 2, char_end: 7, token_start: null, token_end: null }],
    decision_step: null,
    text: "A SPACE! x",
  });
});

test("detect --target istanbul --text İstanbul finds the word at the original offsets", async () => {
  const r = await run("--target", "istanbul", "--text", "İİ İSTANBUL");
  assert.equal(r.present, true);
  assert.deepEqual(r.matches, [{ char_start: 3, char_end: 11, token_start: null, token_end: null }]);
  const t = await run("--target", "istanbul", "--text", "Go to İstanbul.", "--tokenizer", TOKJSON);
  assert.equal(t.matches.length, 1);
  assert.equal(t.matches[0].char_start, 6);
  assert.equal(t.decision_step, t.matches[0].token_start);
});

test("detect --text with --tokenizer encodes the text and reports token indices", async () => {
  const r = await run("--target", "space", "--text", "I like space-time 🎉", "--tokenizer", TOKJSON);
  assert.deepEqual(r.matches, [{ char_start: 7, char_end: 12, token_start: 2, token_end: 2 }]);
  assert.equal(r.decision_step, 2);
});

test("detect --ids decodes with the tokenizer; absent X gives decision step 0", async () => {
  const r = await run("--target", "london", "--ids", "12095,13", "--tokenizer", TOKJSON);
  assert.deepEqual(r, { present: false, matches: [], decision_step: 0, text: " Paris." });
});

test("detect rejects --ids without a tokenizer and both --text and --ids", async () => {
  await assert.rejects(run("--target", "x", "--ids", "1,2"), /needs --tokenizer or --model/);
  await assert.rejects(run("--target", "x", "--ids", "1", "--text", "a"), /exactly one of --text and --ids/);
});

test("parseIds accepts spaces and rejects junk", () => {
  assert.deepEqual(parseIds("1, 2,3"), [1, 2, 3]);
  assert.throws(() => parseIds("1,a"), /non-negative integers/);
  assert.throws(() => parseIds(""), /non-negative integers/);
});
