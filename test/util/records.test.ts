import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { Ledger } from "../../src/dataset/batch/ledger.ts";
import { InputError } from "../../src/errors.ts";
import { readCsv } from "../../src/util/csv.ts";
import { readJsonFile, readJsonl } from "../../src/util/jsonl.ts";

const dir = mkdtempSync(join(tmpdir(), "records-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const Row = z.object({ id: z.string(), n: z.coerce.number().int() });
const fails = (fn: () => unknown, message: string) => assert.throws(fn, (e: unknown) => e instanceof InputError && e.message === message);

test("a bad JSONL line names the file, its line and the field", () => {
  const p = file("a.jsonl", '{"id":"a","n":1}\n{"id":"b","n":"x"}\n{"id":"c","n":3}\n');
  fails(() => readJsonl(p, Row), `${p}, line 2, field n: Invalid input: expected number, received NaN`);
  assert.deepEqual(readJsonl(file("ok.jsonl", '{"id":"a","n":1}\n'), Row), [{ id: "a", n: 1 }]);
});

test("a bad CSV row names the file, its line and the column", () => {
  const p = file("a.csv", "id,n\na,1\nb,2.5\n");
  fails(() => readCsv(p, Row), `${p}, line 3, field n: Invalid input: expected int, received number`);
  assert.deepEqual(readCsv(file("ok.csv", "id,n\na,1\n"), Row), [{ id: "a", n: 1 }]);
});

test("a JSON file is read whole: missing, not JSON, or a bad field each name the file", () => {
  fails(() => readJsonFile(join(dir, "none.json"), Row), `${join(dir, "none.json")}: file not found`);
  const torn = file("torn.json", '{"id":');
  assert.throws(() => readJsonFile(torn, Row), (e: unknown) => e instanceof InputError && e.message.startsWith(`${torn}: not valid JSON (`));
  const bad = file("bad.json", '{"id":7,"n":1}');
  fails(() => readJsonFile(bad, Row), `${bad}, field id: Invalid input: expected string, received number`);
  assert.deepEqual(readJsonFile(file("ok.json", '{"id":"a","n":"2"}'), Row), { id: "a", n: 2 });
});

test("a batch ledger with a foreign entry fails at its file and field", () => {
  const p = file("batches.json", JSON.stringify({ batches: { k: { part_key: "k" } } }));
  assert.throws(() => new Ledger(p), (e: unknown) => e instanceof InputError && e.message.startsWith(`${p}, field batches.k.provider: `));
  assert.deepEqual(new Ledger(join(dir, "absent.json")).all(), []);
});
