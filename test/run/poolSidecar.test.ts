/**
 * Several real Python sidecars on the tiny random Qwen2 model (`--devices cpu --sidecars 2`): the run and
 * analyze files are byte-identical to one sidecar's, and a run whose second sidecar is killed with
 * SIGKILL mid-run finishes with each unit written once and the same bytes, whether its client restarts
 * it (the default) or it is lost for good and the pool moves its requests to the first sidecar.
 * Skipped when the venv is missing.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../src/config.ts";
import { analyzeStage } from "../../src/analyze/index.ts";
import { SidecarClient } from "../../src/rpc/client.ts";
import { connectRunEnv } from "../../src/run/connect.ts";
import { runPaths } from "../../src/run/outputs.ts";
import { runStage } from "../../src/run/runner.ts";
import { UnitRecord } from "../../src/run/units.ts";
import { readJsonl } from "../../src/util/jsonl.ts";
import { needVenv } from "../fixtures/requirements.ts";
import { alive } from "../fixtures/pids.ts";
import { prompts } from "./fixtures.ts";
import { runDirFiles } from "./runDirFiles.ts";

process.env.SEMPRESS_NO_BAR = "1";
const SKIP = needVenv(["py-sidecar/configs/qwen2-tiny.json"]);
const PROMPTS = prompts(4);
const CHUNK = 1;

function tinyConfig(sidecar: { devices: string | null; sidecars: number }): Config {
  return loadConfig({
    profile: "default",
    env: {},
    flags: {
      dataRoot: mkdtempSync(join(tmpdir(), "pool-real-")),
      model: { id: "random:py-sidecar/configs/qwen2-tiny.json" },
      sidecar,
      generation: { greedyMaxNewTokens: 3, samplesPerPrompt: 2, sampleMaxNewTokens: 3 },
      analysis: { patchThresholdMin: 0, patchThresholdMax: 0 },
    } as never,
  });
}

/** Every file run (and analyze) wrote in this config's runs/. */
const files = (cfg: Config, analysis: boolean) => runDirFiles(runPaths(cfg).runs, { analysis });

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function runAndAnalyze(cfg: Config, opts: { maxRestarts?: number; killSecond?: boolean } = {}) {
  const env = await connectRunEnv(cfg, { maxRestarts: opts.maxRestarts });
  closers.push(() => env.close());
  const second = env.pool.workers[1]?.sidecar as SidecarClient | undefined;
  let killed: number | null = null;
  // Kill the second sidecar as its second request goes out: mid-run (its first request was answered) and
  // with a request pending, whatever the timing (a poll can miss a tiny model's short requests, and the
  // first prompt to be written may come after the second sidecar's last job).
  let calls = 0;
  if (second && opts.killSecond) {
    const call = second.call.bind(second);
    second.call = ((op, args, o) => {
      const reply = call(op, args, o);
      if (++calls === 2) {
        killed = second.pid;
        process.kill(killed!, "SIGKILL");
      }
      return reply;
    }) as typeof second.call;
  }
  const s = await runStage(cfg, env, { prompts: PROMPTS, resume: false, chunkSize: CHUNK });
  assert.equal(s.ran, PROMPTS.length);
  if (!opts.killSecond) await analyzeStage(cfg, env, { prompts: PROMPTS, batch: 2 });
  await env.close();
  return { env, killed };
}

let reference: Record<string, string>;

test("when run and analyze use two CPU sidecars then every file equals the one-sidecar files byte for byte", { skip: SKIP }, async () => {
  const one = tinyConfig({ devices: null, sidecars: 1 });
  await runAndAnalyze(one);
  reference = files(one, false);
  const two = tinyConfig({ devices: "cpu", sidecars: 2 });
  const { env } = await runAndAnalyze(two);
  assert.equal(env.pool.workers.length, 2);
  assert.ok(env.pool.workers.every((w) => w.device === "cpu"));
  assert.deepEqual(files(two, true), files(one, true));
});

for (const [label, maxRestarts, restarts] of [
  ["its client restarts it", undefined, true],
  ["it is lost for good", 0, false],
] as const) {
  test(`when one of two sidecars is killed mid-run and ${label} then the run finishes with each unit once and the same bytes`, { skip: SKIP }, async () => {
    assert.ok(reference, "runs after the first test");
    const cfg = tinyConfig({ devices: "cpu", sidecars: 2 });
    const { env, killed } = await runAndAnalyze(cfg, { maxRestarts, killSecond: true });
    assert.ok(killed !== null, "the second sidecar was killed mid-run with a request pending");
    assert.equal(alive(killed!), false);
    assert.equal(env.pool.workers[1].alive, restarts, restarts ? "restarted in place" : "dropped from the pool");
    const units = readJsonl(runPaths(cfg).units, UnitRecord).map((u) => `${u.prompt_id}|${u.condition}`);
    assert.equal(units.length, PROMPTS.length * 2);
    assert.equal(new Set(units).size, units.length);
    assert.deepEqual(files(cfg, false), reference);
  });
}
