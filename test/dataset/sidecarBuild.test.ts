/**
 * The real P0 probe wired into the build: P_sem of each accepted candidate's baseline prompt on the
 * tiny random Qwen2 through the sidecar. A small build only — on this CPU the random model scores
 * about one prompt per second once loaded (~30 s start), far too slow for the 5,850 prompts of the
 * full-size test, which uses the synthetic probe. Skipped without the Python venv.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { loadConfig } from "../../src/config.ts";
import { buildDataset } from "../../src/dataset/build.ts";
import { sidecarProbe } from "../../src/dataset/sidecarProbe.ts";
import { psemBatch } from "../../src/metrics/psem.ts";
import { buildPrompt } from "../../src/prompts/promptBuilder.ts";
import { connectSidecar } from "../../src/rpc/client.ts";
import { HfTokenizer } from "../../src/tokenizer/hfTokenizer.ts";
import { checkOutputs } from "./invariants.ts";
import { removeRoot, tempRoot } from "./helpers.ts";
import { needVenv } from "../fixtures/requirements.ts";

const SKIP_PY = needVenv();
const MODEL = "random:py-sidecar/configs/qwen2-tiny.json";

test("a small offline build probes P0 with the real P_sem on the sidecar", { skip: SKIP_PY, timeout: 300_000 }, async () => {
  const root = tempRoot("sidecar");
  const cfg = loadConfig({
    env: {},
    flags: { dataRoot: root, model: { id: MODEL }, dataset: { poolSizes: { idioms: 8, facts: 8, commonsense: 10, creative: 6, ood: 6 }, perCategory: 2 } } as never,
  });
  const sc = await connectSidecar(cfg);
  try {
    const tok = HfTokenizer.fromHello(await sc.hello());
    const probe = sidecarProbe(sc, tok, "raw", null, MODEL);
    await buildDataset(cfg, { probe });
    const { prompts } = checkOutputs(root);
    // On random weights P0 is tiny: every prompt lands in bin 0, one per category (quota 1 of 2).
    // OOD has no demo replies for these pool sizes (its targets differ), so it stays empty.
    assert.deepEqual([...new Set(prompts.map((p) => p.category))], ["idioms", "facts", "commonsense", "creative"]);
    assert.ok(prompts.every((p) => p.bin === 0));
    // Each stored P0 is P_sem of the baseline prompt, recomputed directly.
    const direct = await psemBatch(sc, tok, prompts.map((p) => ({ prompt: buildPrompt(p.question_text, "baseline"), target: p.target_word })));
    prompts.forEach((p, i) => {
      // Float32 forward passes differ in the last bits with batch composition (padding).
      assert.ok(Math.abs(p.p0 - direct[i].p_sem) <= 1e-4 * direct[i].p_sem + 1e-12, `${p.p0} vs ${direct[i].p_sem}`);
      assert.ok(Math.abs(p.p0_plain - direct[i].p_sem_plain) <= 1e-4 * direct[i].p_sem_plain + 1e-12);
      assert.ok(p.p0 >= 0 && p.p0 <= 1 && p.p0 <= p.p0_plain + 1e-12);
    });
  } finally {
    await sc.close();
    removeRoot(root);
  }
});
