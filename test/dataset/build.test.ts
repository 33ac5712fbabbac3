/**
 * The whole build against the local Batch API peer: full design size (6,600 candidates → 5 × 500)
 * with the synthetic P0 probe (a hash; the tiny random model is far too slow for 5,850 prompts on
 * CPU, see sidecarBuild.test.ts for the real probe on a small build), the designed invariants, byte
 * reproducibility, the offline demo build, replay from an earlier build's audit logs, and a log path
 * that cannot be written.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { buildDataset } from "../../src/dataset/build.ts";
import { syntheticProbe } from "../../src/dataset/probe.ts";
import { ConfigError, InputError } from "../../src/errors.ts";
import { loadConfig } from "../../src/config.ts";
import { fakeModel } from "../peers/fakeModel.ts";
import { startOpenAIServer } from "../peers/openaiServer.ts";
import { checkOutputs } from "./invariants.ts";
import { FULL_SIZES, sameOutput, scratchRoots, SMALL_SIZES, testConfig, withKey } from "./helpers.ts";

const root = scratchRoots();

async function fullBuild(): Promise<{ root: string; submissions: number; uploads: number }> {
  const srv = await startOpenAIServer({ responder: fakeModel });
  try {
    const r = root("full");
    await withKey(() => buildDataset(testConfig(r, srv.baseURL, FULL_SIZES), { probe: syntheticProbe(1) }));
    return { root: r, submissions: srv.submissions.length, uploads: srv.uploads };
  } finally {
    await srv.close();
  }
}

test("full size: 6,600 candidates become 5 × 500 prompts that keep every invariant; two runs are byte-identical", async () => {
  const a = await fullBuild();
  const { prompts, report } = checkOutputs(a.root);
  assert.equal(prompts.length, 2500);
  const r = report as { bins: Record<string, number[]>; funnel: { ingest: { pool: Record<string, number> }; generate: { requests: number } } };
  assert.deepEqual(r.funnel.ingest.pool, FULL_SIZES.poolSizes);
  for (const c of ["idioms", "facts", "commonsense"]) assert.deepEqual(r.bins[c], [100, 100, 100, 100, 100], c);
  assert.equal(a.submissions, 2, "one generation batch and one validation batch");
  const b = await fullBuild();
  for (const f of ["data/validated/prompts.jsonl", "data/validated/report.json"]) {
    assert.ok(sameOutput(a.root, b.root, f), `${f} differs between runs`);
  }
});

test("the default profile builds offline from the labelled demo set", async () => {
  const r = root("demo");
  const cfg = loadConfig({ env: {}, flags: { dataRoot: r } as never });
  assert.equal(cfg.llm.provider, "replay");
  await buildDataset(cfg, { probe: syntheticProbe(42) });
  const { prompts } = checkOutputs(r);
  assert.ok(prompts.length >= 90, `only ${prompts.length} prompts`);
  const sources = new Set(prompts.map((p) => p.source));
  assert.deepEqual([...sources].sort(), ["idioms_csv", "replay_demo", "world_countries_cache"]);
  assert.ok(prompts.every((p) => p.validation.comments.startsWith("DEMO RULE")));
});

test("a later build can replay an earlier build's audit logs and gets the same prompts", async () => {
  const srv = await startOpenAIServer({ responder: fakeModel });
  const first = root("rec");
  try {
    await withKey(() => buildDataset(testConfig(first, srv.baseURL), { probe: syntheticProbe(3) }));
  } finally {
    await srv.close();
  }
  const second = root("replay");
  const cfg = loadConfig({ env: {}, flags: { dataRoot: second, dataset: SMALL_SIZES, llm: { provider: "replay", replayDir: join(first, "data/logs") } } as never });
  await buildDataset(cfg, { probe: syntheticProbe(3) });
  const a = readFileSync(join(first, "data/validated/prompts.jsonl"), "utf8");
  const b = readFileSync(join(second, "data/validated/prompts.jsonl"), "utf8").replaceAll('"source":"replay"', '"source":"llm"');
  assert.ok(a.length > 0);
  assert.equal(b, a);
});

/** A build over a data root holding `file` with `content` fails as `expected` before the Batch API peer sees any request. */
async function failsBeforeAnyRequest(label: string, file: string, content: string, expected: (e: unknown) => boolean): Promise<string> {
  const srv = await startOpenAIServer({ responder: fakeModel });
  try {
    const r = root(label);
    mkdirSync(dirname(join(r, file)), { recursive: true });
    writeFileSync(join(r, file), content);
    await assert.rejects(withKey(() => buildDataset(testConfig(r, srv.baseURL), { probe: syntheticProbe(1) })), expected);
    assert.deepEqual(srv.log, [], "the server saw nothing");
    return r;
  } finally {
    await srv.close();
  }
}

test("an unwritable log path stops the build before any request is sent", async () => {
  const blocker = "a file where the log directory should be";
  const r = await failsBeforeAnyRequest("nolog", "data/logs", blocker, (e) => e instanceof ConfigError && /data\/logs/.test(e.message));
  assert.equal(readFileSync(join(r, "data/logs"), "utf8"), blocker);
});

test("a malformed idioms.csv line in the data root stops the build with file and line, before any request", async () => {
  await failsBeforeAnyRequest(
    "badidioms",
    "data/raw/idioms.csv",
    '"{Break a leg}>>{Good luck!}"\n"{Hit the sack}\n',
    (e) => e instanceof InputError && e.message.includes("idioms.csv") && e.message.includes("line 2"),
  );
});
