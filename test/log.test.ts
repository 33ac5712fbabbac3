import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initLogger, scrubSecrets } from "../src/log.ts";

test("log records are timestamped JSON and never hold an API key", () => {
  const file = join(mkdtempSync(join(tmpdir(), "sempress-log-")), "run.log");
  const log = initLogger({ level: "info", file });
  const key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";
  log.info({ apiKey: key, config: { openai: { apiKey: key } }, headers: { authorization: `Bearer ${key}` } }, `calling with ${key}`);
  const line = readFileSync(file, "utf8").trim().split("\n").pop()!;
  const rec = JSON.parse(line);
  assert.match(rec.time, /^\d{4}-\d\d-\d\dT/);
  assert.ok(!line.includes(key), line);
  assert.equal(rec.apiKey, "***");
  assert.equal(scrubSecrets(`x ${key} y`), "x sk-*** y");
  initLogger({ level: "warn" });
});
