/** Baseline files (py-sidecar/bench/gpu_bench.py --out) and setting CLI op rates against them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { againstBaseline, readBaseline } from "../../src/bench/baseline.ts";
import { InputError } from "../../src/errors.ts";

function withFile(content: string, fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "sempress-baseline-"));
  try {
    const f = join(dir, "gpu_bench.json");
    writeFileSync(f, content);
    fn(f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a gpu_bench file gives each op's in-process rate in the CLI's work items", () => {
  const doc = {
    facts: { model: "m", gpu: "H200" },
    results: [
      { stage: "psem_scoring", op: "score", unit: "sequences", batched_per_s: 1800, items_per_s: 150 },
      { stage: "sampling_16x10", op: "generate:sample", items_per_s: 720 },
      { stage: "traced_greedy", batched_per_s: 26 }, // an older file's stage without op: skipped
    ],
  };
  withFile(JSON.stringify(doc), (f) => {
    const b = readBaseline(f);
    assert.deepEqual(b.perS, { score: 150, "generate:sample": 720 });
    assert.equal(b.source, f);
    assert.deepEqual(b.facts, doc.facts);
    const ops = againstBaseline({ score: { items: 60, seconds: 1, per_s: 60 }, trace: { items: 4, seconds: 2, per_s: 2 } }, b);
    assert.equal(ops.score.baseline_per_s, 150);
    assert.equal(ops.score.of_baseline, 0.4);
    assert.deepEqual([ops.trace.baseline_per_s, ops.trace.of_baseline], [null, null]);
  });
});

test("a file without usable stages, or not JSON, or missing, is an input error naming it", () => {
  withFile(JSON.stringify({ results: [{ stage: "traced_greedy", batched_per_s: 26 }] }), (f) => {
    assert.throws(() => readBaseline(f), (e: unknown) => e instanceof InputError && e.message.startsWith(`${f}, field results:`));
  });
  withFile("{not json", (f) => {
    assert.throws(() => readBaseline(f), (e: unknown) => e instanceof InputError && e.message.includes(f) && /not valid JSON/.test(e.message));
  });
  assert.throws(() => readBaseline("/nonexistent/gpu_bench.json"), (e: unknown) => e instanceof InputError && /gpu_bench\.json: baseline file not found/.test(e.message));
});
