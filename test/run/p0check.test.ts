import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { p0Check } from "../../src/run/p0check.ts";
import { runPaths } from "../../src/run/outputs.ts";
import { runStage } from "../../src/run/runner.ts";
import { PsemRow } from "../../src/schemas.ts";
import { readCsv } from "../../src/util/csv.ts";
import { mockEnv, prompts, testConfig } from "./fixtures.ts";

process.env.SEMPRESS_NO_BAR = "1";
const EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1];

test("when P0 crosses a bin edge then the change is reported with both bins; within a bin it is not", () => {
  const ps = [
    { prompt_id: "a", p0: 0.19 },
    { prompt_id: "b", p0: 0.45 },
    { prompt_id: "c", p0: 0.8 },
    { prompt_id: "d", p0: 0.5 },
  ];
  const run = new Map([
    ["a", 0.2],
    ["b", 0.55],
    ["c", 1],
  ]);
  const c = p0Check(ps, run, EDGES);
  assert.equal(c.compared, 3, "d has no run P0");
  assert.ok(Math.abs(c.max_abs_diff! - 0.2) < 1e-12);
  assert.equal(c.max_abs_diff_prompt, "c");
  assert.deepEqual(c.bin_changes, [{ prompt_id: "a", dataset_p0: 0.19, run_p0: 0.2, from_bin: "[0, 0.2)", to_bin: "[0.2, 0.4)" }]);
  assert.deepEqual(p0Check(ps, new Map(), EDGES), { compared: 0, max_abs_diff: null, max_abs_diff_prompt: null, bin_changes: [] });
});

test("when the run's P0 moves a prompt out of its selection bin then run.json and the summary report it", async () => {
  const cfg = testConfig(mkdtempSync(join(tmpdir(), "p0check-")));
  const ps = prompts(3);
  // The mock model gives every capital P0 ≈ 0.85+ (bin [0.8, 1]); pretend selection saw 0.3 for one.
  ps[1] = { ...ps[1], p0: 0.3, bin: 1 };
  const s = await runStage(cfg, mockEnv(), { prompts: ps, resume: false, chunkSize: 3 });
  const runP0 = readCsv(runPaths(cfg).psem, PsemRow).find((r) => r.prompt_id === ps[1].prompt_id)!.p0;
  assert.equal(s.p0_check.compared, 3);
  assert.deepEqual(s.p0_check.bin_changes, [{ prompt_id: ps[1].prompt_id, dataset_p0: 0.3, run_p0: runP0, from_bin: "[0.2, 0.4)", to_bin: "[0.8, 1]" }]);
  assert.ok(Math.abs(s.p0_check.max_abs_diff! - (runP0 - 0.3)) < 1e-12);
  const m = JSON.parse(readFileSync(runPaths(cfg).manifest, "utf8"));
  assert.deepEqual(m.p0_check, s.p0_check);
});

test("when P0 agrees with selection then no bin change is reported", async () => {
  const cfg = testConfig(mkdtempSync(join(tmpdir(), "p0check-")));
  const s = await runStage(cfg, mockEnv(), { prompts: prompts(3), resume: false, chunkSize: 3 });
  assert.equal(s.p0_check.compared, 3);
  assert.deepEqual(s.p0_check.bin_changes, []);
});
