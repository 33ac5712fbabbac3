/**
 * A full-size `--llm chat` build: the default profile's pool sizes (120 idioms, 300 facts, 60 each of
 * common sense, creative, OOD), its concurrency default, the synthetic P0 probe, against the local
 * chat server with the usual fault spread. It must finish and keep every dataset invariant; the wall
 * time and request count are reported as test diagnostics (docs/BENCHMARKS.md quotes them).
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { loadConfig } from "../../src/config.ts";
import { buildDataset } from "../../src/dataset/build.ts";
import { syntheticProbe } from "../../src/dataset/probe.ts";
import { startChatServer } from "../peers/chatServer.ts";
import { checkOutputs } from "./invariants.ts";
import { removeRoot, tempRoot } from "./helpers.ts";
import { answerCounts, chatConfigObject, FAST, spreadFaults } from "./llm/chatHelpers.ts";

process.env.SEMPRESS_NO_BAR = "1";

test("when the default profile's full pools go through a faulty chat endpoint then the build finishes and keeps every invariant", async (t) => {
  const srv = await startChatServer({ fault: spreadFaults });
  const r = tempRoot("chat-full");
  try {
    const defaults = loadConfig({ env: {}, profile: "default" });
    // Default sizes and concurrency; only the waits are shortened, so injected faults cost milliseconds.
    const cfg = loadConfig({ env: {}, flags: chatConfigObject(r, srv.baseURL, { sizes: null, chat: { concurrency: defaults.llm.chat.concurrency } }) as never });
    assert.deepEqual(cfg.dataset.poolSizes, defaults.dataset.poolSizes);
    const t0 = Date.now();
    await buildDataset(cfg, { probe: syntheticProbe(42) });
    const seconds = (Date.now() - t0) / 1000;
    const { prompts, report } = checkOutputs(r);
    const funnel = (report as { funnel: { ingest: { pool: Record<string, number> } } }).funnel;
    assert.deepEqual(funnel.ingest.pool, defaults.dataset.poolSizes);
    assert.ok(prompts.length >= 90, `only ${prompts.length} prompts`);
    const answers = answerCounts(r);
    assert.ok([...answers.values()].every((n) => n === 1));
    const outcomes: Record<string, number> = {};
    for (const q of srv.requests) outcomes[q.outcome] = (outcomes[q.outcome] ?? 0) + 1;
    t.diagnostic(
      `full default-profile chat build: ${seconds.toFixed(1)} s wall, ${srv.requests.length} HTTP requests ${JSON.stringify(outcomes)}, ` +
        `${answers.size} answers recorded, concurrency ${cfg.llm.chat.concurrency}, timeout ${FAST.timeoutMs} ms, ${prompts.length} prompts`,
    );
  } finally {
    await srv.close();
    removeRoot(r);
  }
});
