import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { printPipelineSummary } from "../../src/cli/commands/pipeline.ts";
import type { PipelineSummary } from "../../src/run/pipeline.ts";

/** Captures what `fn` writes to stdout and stderr. */
function capture(fn: () => void): { out: string; err: string } {
  let out = "";
  let err = "";
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (c: string) => ((out += c), true);
  (process.stderr as any).write = (c: string) => ((err += c), true);
  try {
    fn();
  } finally {
    (process.stdout as any).write = o;
    (process.stderr as any).write = e;
  }
  return { out, err };
}

test("when the pipeline finishes then stdout holds exactly its JSON summary and the human line goes to stderr", () => {
  const s = { report: "/d/report/index.html", seconds: { dataset: 1.5, run: 2.5 }, report_ok: true } as unknown as PipelineSummary;
  const { out, err } = capture(() => printPipelineSummary(s));
  assert.deepEqual(JSON.parse(out), s, "stdout parses as one JSON document");
  assert.equal(out.trim().split("\n").length, 1);
  assert.match(err, /^sempress pipeline: stages took 4 s; report at \/d\/report\/index\.html\n$/);
});

test("CLI commands write stdout only through printJson (one JSON document per command)", () => {
  const dir = "src/cli";
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  const offenders: string[] = [];
  for (const f of files) {
    const lines = readFileSync(join(dir, f), "utf8").split("\n");
    lines.forEach((l, i) => {
      if (/process\.stdout\.write|console\.(log|info|table|dir)\(/.test(l) && !(f === "common.ts" && /JSON\.stringify/.test(l))) offenders.push(`${f}:${i + 1}`);
    });
  }
  assert.deepEqual(offenders, []);
});
