import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { initLogger } from "../../src/log.ts";
import { spawnSidecar } from "../../src/rpc/process.ts";

const SAY = resolve("test/fixtures/say-sidecar.sh");
chmodSync(SAY, 0o755); // in case a checkout lost the executable bit

test("when the sidecar prints a key then the relayed log line and the error tail are scrubbed", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "sempress-relay-")), "run.log");
  initLogger({ level: "info", file });
  const key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";
  const hf = "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH";
  const say = `2025-01-01T00:00:00 WARNING [r1] sempress.load: retry with ${key} and ${hf}`;
  try {
    const sc = spawnSidecar({ python: SAY, model: "m", endpoint: "tcp://127.0.0.1:1", env: { PATH: process.env.PATH, SEMPRESS_SAY: say } });
    await sc.exited;
    await new Promise((r) => setTimeout(r, 50)); // let readline deliver the last line
    const text = readFileSync(file, "utf8");
    assert.match(text, /sempress\.load: retry with sk-\*\*\* and hf_\*\*\*/);
    assert.ok(!text.includes(key) && !text.includes(hf), text);
    assert.ok(sc.tail.every((l) => !l.includes(key) && !l.includes(hf)), sc.tail.join("\n"));
    assert.equal(JSON.parse(text.trim().split("\n").pop()!).level, "warn");
  } finally {
    initLogger({ level: "warn" });
  }
});

test("string fields of a logged object are scrubbed, not only string arguments", () => {
  const file = join(mkdtempSync(join(tmpdir(), "sempress-relay-")), "run.log");
  const log = initLogger({ level: "info", file });
  try {
    log.info({ detail: "token sk-proj-abcdefghijklmnopqrstuvwxyz0123 here", n: 3 }, "msg");
    const rec = JSON.parse(readFileSync(file, "utf8").trim());
    assert.equal(rec.detail, "token sk-*** here");
    assert.equal(rec.n, 3);
  } finally {
    initLogger({ level: "warn" });
  }
});
