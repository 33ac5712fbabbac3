/**
 * `sempress bench` end to end on the tiny random Qwen2 (real tokenizer), in a child process: the real run
 * and analyze stages on two synthetic prompts, then py-sidecar/bench/gpu_bench.py for the same model
 * (`--in-process`, a small scale), and one JSON document on stdout whose every op carries its in-process
 * rate. Keeps its data root in a temp dir it removes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { needVenv } from "../fixtures/requirements.ts";

const MODEL = "random:py-sidecar/configs/qwen2-tiny.json";
const SKIP = needVenv(["py-sidecar/configs/qwen2-tiny.json", "py-sidecar/bench/gpu_bench.py"]);

interface Op {
  calls: number;
  items: number;
  seconds: number;
  per_s: number;
  baseline_per_s: number | null;
  of_baseline: number | null;
}
interface Stage {
  prompts: number;
  wall_s: number;
  prompts_per_s: number;
  gpu_busy_pct: number | null;
  sidecar_service_s: number;
  ts_only_s: number;
  ops: Record<string, Op>;
  summary: { patch?: { patched: number } };
}

const hasNvidiaSmi = (process.env.PATH ?? "").split(delimiter).some((d) => existsSync(join(d, "nvidia-smi")));

test("bench runs every stage on synthetic prompts and sets each op's rate against its in-process rate", { skip: SKIP, timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "sempress-bench-test-"));
  try {
    const args = ["bin/sempress.mjs", "--log-level", "warn", "bench", "--model", MODEL, "--prompts", "2", "--patch", "1", "--in-process", "0.01", "--keep", root];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 110_000, env: { ...process.env, SEMPRESS_NO_BAR: "1" } });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const doc = JSON.parse(r.stdout) as { model: string; data_root: string; stages: Record<string, Stage>; baseline: { source: string } | null };
    assert.equal(doc.model, MODEL);
    assert.equal(doc.data_root, root);
    assert.match(doc.baseline?.source ?? "", /gpu_bench\.py --model random:py-sidecar\/configs\/qwen2-tiny\.json --no-naive --scale 0\.01/);
    const { run, analyze, patch } = doc.stages;
    // two prompts × two conditions: 4 × 16 samples (the greedy rows travel in the same call), 4 traces,
    // 4 score items
    assert.deepEqual(
      Object.fromEntries(Object.entries(run.ops).map(([k, v]) => [k, v.items])),
      { score: 4, "generate:sample": 64, trace: 4 },
    );
    assert.deepEqual(Object.keys(analyze.ops).sort(), ["decompose", "logit_lens"]);
    assert.equal(patch.summary.patch?.patched, 1); // threshold 0: random weights' P0 does not empty the subset
    assert.equal(patch.ops.patch.items, 3 * 2); // one prompt × 3 layers × 2 sites
    for (const st of [run, analyze, patch]) {
      assert.ok(st.wall_s > 0 && st.prompts_per_s > 0);
      assert.ok(st.sidecar_service_s > 0 && st.sidecar_service_s <= st.wall_s + 0.05, `${st.sidecar_service_s} vs ${st.wall_s}`);
      assert.ok(st.ts_only_s >= 0);
      if (!hasNvidiaSmi) assert.equal(st.gpu_busy_pct, null);
      for (const [name, op] of Object.entries(st.ops)) {
        assert.ok(op.baseline_per_s !== null && op.baseline_per_s > 0, `${name} has no in-process rate`);
        assert.ok(Math.abs(op.of_baseline! - op.per_s / op.baseline_per_s) < 1e-9, name);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
