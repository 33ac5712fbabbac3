/**
 * What the end-to-end bench measures around the stages (src/bench/meter.ts): op service time attributed
 * first-in first-out (a sidecar serves one request at a time), generate's greedy and sampling calls kept
 * apart, and GPU busy % from nvidia-smi's sample stream (a local stand-in script on PATH).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { GpuSampler, gpusOf, itemsOf, OpMeter } from "../../src/bench/meter.ts";
import { SidecarBase } from "../../src/rpc/ops.ts";
import type { HelloResult, Op, OpArgs, OpResult } from "../../src/rpc/protocol.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Serves one request at a time, in arrival order, each taking `ms`: a sidecar's queue, without a model. */
class SerialSidecar extends SidecarBase {
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly ms: number) {
    super();
  }
  call<O extends Op>(_op: O, _args: OpArgs<O>): Promise<OpResult<O>> {
    const done = this.tail.then(() => sleep(this.ms));
    this.tail = done;
    return done.then(() => ({}) as OpResult<O>);
  }
  hello(): Promise<HelloResult> {
    throw new Error("not needed");
  }
  async close(): Promise<void> {}
}

test("requests in flight together are charged their own service time, not their queueing", async () => {
  const sc = new SerialSidecar(60);
  const meter = new OpMeter(3);
  meter.attach(sc);
  const t0 = performance.now();
  await Promise.all([
    sc.call("generate", { prompts: [[1], [2]], max_new_tokens: 2, do_sample: false } as never),
    sc.call("generate", { prompts: [[1], [2]], max_new_tokens: 2, do_sample: true, n: 4 } as never),
    sc.call("score", { items: [{ prefix: [1], continuations: [[2]] }] } as never),
  ]);
  const wall = (performance.now() - t0) / 1000;
  const m = meter.take();
  assert.deepEqual(Object.keys(m.ops).sort(), ["generate:greedy", "generate:sample", "score"]);
  assert.deepEqual([m.ops["generate:greedy"].items, m.ops["generate:sample"].items, m.ops.score.items], [2, 8, 1]);
  for (const s of Object.values(m.ops)) assert.ok(s.seconds > 0.05 && s.seconds < 0.1, `${s.seconds}`); // each ≈ 60 ms, not 60/120/180
  assert.ok(m.sidecar_service_s <= wall + 1e-3 && m.sidecar_service_s > 0.17, `${m.sidecar_service_s} vs ${wall}`);
  assert.deepEqual(meter.take(), { ops: {}, sidecar_service_s: 0 }); // take() resets
});

test("work items per op are what the in-process bench counts", () => {
  assert.equal(itemsOf("patch", { items: [{ layers: [0, 2] }, {}], sites: ["resid"] }, 28), 2 + 28);
  assert.equal(itemsOf("trace", { sequences: [[1], [2], [3]] }, 28), 3);
  assert.equal(itemsOf("logit_lens", { items: [{}, {}] }, 28), 2);
});

test("GPU busy is the mean of nvidia-smi's samples inside a stage's window", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sempress-smi-"));
  const path = process.env.PATH;
  try {
    // GPU 0 at 40 %, then 60 %, every 100 ms, and an idle GPU 1, as `nvidia-smi --query-gpu=index,utilization.gpu -lms 100` prints
    const smi = join(dir, "nvidia-smi");
    writeFileSync(smi, "#!/bin/sh\nwhile true; do echo '0, 40'; echo '1, 0'; sleep 0.1; echo '0, 60'; echo '1, 0'; sleep 0.1; done\n");
    chmodSync(smi, 0o755);
    process.env.PATH = `${dir}${delimiter}${path}`;
    const gpu = new GpuSampler();
    assert.equal(gpu.start(), true);
    const a = performance.now();
    await sleep(1000);
    const b = performance.now();
    gpu.stop();
    const mean = gpu.mean(a, b, [0]);
    assert.ok(mean !== null && mean > 45 && mean < 55, `${mean}`);
    const both = gpu.mean(a, b);
    assert.ok(both !== null && both > 20 && both < 30, `all GPUs: ${both}`);
    assert.equal(gpu.mean(b + 10_000, b + 20_000), null);
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the GPUs a stage is measured on are the sidecars' --devices entries, or every GPU", () => {
  assert.deepEqual(gpusOf(["cuda:1", "cuda:0", "cuda:1"]), [0, 1]);
  assert.deepEqual(gpusOf(["cuda:0+cuda:1"]), [0, 1]);
  assert.deepEqual(gpusOf(["cuda:0", null]), []);
});
