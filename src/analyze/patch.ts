/**
 * Activation patching (runs/patching_results.csv) on the high-pressure subset (../metrics/patching.ts
 * selectPatchSubset), and the subset's rule and members (runs/patching_subset.json): baseline prompt
 * ids as source, negative prompt ids as target, S(X) after the negative prompt as continuations.
 */
import { log } from "../log.ts";
import { aggregatePsem } from "../metrics/psem.ts";
import { PATCH_COLUMNS, patchRows, selectPatchSubset } from "../metrics/patching.ts";
import { prefixFreeIndices } from "../metrics/variants.ts";
import type { PatchRow } from "../schemas.ts";
import { writeJson } from "../util/jsonl.ts";
import { Progress } from "../util/progress.ts";
import { poolOf } from "../run/pool.ts";
import { shardGroups } from "../run/shard.ts";
import { chunks, type Analysis, type UnitPair } from "./analysis.ts";

function patchItem({ baseline, negative }: UnitPair) {
  const all = negative.sx_prompt.sequences;
  const keep = prefixFreeIndices(all);
  return { source: baseline.prompt_ids, target: negative.prompt_ids, continuations: all.filter((_, j) => keep.has(j)) };
}

export const patchAnalysis: Analysis<PatchRow> = {
  name: "patch",
  needs: [],
  columns: PATCH_COLUMNS,
  file: (p) => p.patching,
  async run({ cfg, env, paths, units, batch, patchLimit, shard }) {
    const a = cfg.analysis;
    const cands = units.map((pair) => ({ prompt_id: pair.negative.prompt_id, p0: pair.negative.p0, bin: pair.negative.bin, outcome: pair.negative.outcome, pair }));
    const subset = selectPatchSubset(cands, {
      quantile: a.patchQuantile,
      min: a.patchThresholdMin,
      max: a.patchThresholdMax,
      seed: cfg.seeds.python,
      minItems: a.patchMinPrompts,
    });
    const chosen = patchLimit !== undefined ? subset.items.slice(0, patchLimit) : subset.items;
    log().info({ threshold: subset.threshold, high_pressure: subset.highPressure, patched: chosen.length }, "patching subset");
    const rows: PatchRow[] = [];
    // The subset is chosen over every prompt; a shard patches its share of the batches (../run/shard.ts).
    const groups = shardGroups(chunks(chosen, Math.max(1, Math.floor(batch / 2))), shard);
    const bar = new Progress("patch", groups.reduce((n, g) => n + g.length, 0));
    const replies = poolOf(env.sidecar, env.hello).ordered(groups, async (sidecar, group) => {
      const items = group.map((c) => patchItem(c.pair));
      return { group, items, res: await sidecar.patch({ items, sites: ["resid", "attn"] }) };
    });
    for await (const { group, items, res } of replies) {
      group.forEach((c, i) => {
        const conts = items[i].continuations;
        // P_sem through psem's own aggregation (the continuations are already prefix-free).
        const psemOf = (lp: readonly (readonly number[])[]) =>
          aggregatePsem(conts.map((ids, j) => ({ ids, logprob: lp[j].reduce((s, x) => s + x, 0) }))).p_sem;
        rows.push(...patchRows({ prompt_id: c.prompt_id, bin: c.bin, outcome: c.outcome }, res[i], psemOf, c.pair.negative.sx_prompt.first));
      });
      bar.tick(group.length);
    }
    bar.stop();
    writeJson(paths.patchingSubset, {
      rule: { quantile: a.patchQuantile, clamp_min: a.patchThresholdMin, clamp_max: a.patchThresholdMax, top_up_to: a.patchMinPrompts, seed: cfg.seeds.python },
      quantile_value: Number.isFinite(subset.quantileValue) ? subset.quantileValue : null,
      threshold: subset.threshold,
      high_pressure: subset.highPressure,
      high_successes: subset.highSuccesses,
      high_failures: subset.highFailures,
      balanced: subset.balanced,
      topped_up: subset.toppedUp,
      patch_limit: patchLimit ?? null,
      patched: chosen.map((c) => c.prompt_id),
    });
    return { rows, summary: { threshold: subset.threshold, highPressure: subset.highPressure, patched: chosen.length } };
  },
};
