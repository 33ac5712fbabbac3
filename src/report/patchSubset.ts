/**
 * The activation-patching subset, stated: which rule chose the patched prompts, the threshold T it
 * used, how many prompts passed it, whether the design's rule selected anything, and what a profile's
 * top-up added. The subset is recomputed from the run's P0 and greedy outcomes with the same pure
 * function the analyze stage uses (metrics/patching.ts), then checked against the prompts actually
 * in runs/patching_results.csv, so the words cannot drift from the rows.
 */
import type { Config } from "../config.ts";
import { DESIGN_SUBSET, selectPatchSubset } from "../metrics/patching.ts";
import type { Outcome, PatchRow } from "../schemas.ts";
import type { PromptView } from "./views.ts";

/** The settings that shape the subset: the config's analysis.* and python seed, and the profile name. */
export interface PatchRule {
  profile: string;
  quantile: number;
  min: number;
  max: number;
  minItems: number;
  seed: number;
}

export function patchRuleOf(cfg: Pick<Config, "profile" | "analysis" | "seeds">): PatchRule {
  const a = cfg.analysis;
  return { profile: cfg.profile, quantile: a.patchQuantile, min: a.patchThresholdMin, max: a.patchThresholdMax, minItems: a.patchMinPrompts, seed: cfg.seeds.python };
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "n/a");
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "n/a");
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Where a rule's settings differ from the design's, in words (empty when it is the design's rule). */
export function deviations(r: PatchRule): string[] {
  const out: string[] = [];
  if (r.quantile !== DESIGN_SUBSET.quantile) out.push(`quantile ${r.quantile} instead of ${DESIGN_SUBSET.quantile}`);
  if (r.min !== DESIGN_SUBSET.min) out.push(`lower clamp bound ${f2(r.min)} instead of ${f2(DESIGN_SUBSET.min)}`);
  if (r.max !== DESIGN_SUBSET.max) out.push(`upper clamp bound ${f2(r.max)} instead of ${f2(DESIGN_SUBSET.max)}`);
  if (r.minItems > 0) out.push(`a top-up to ${plural(r.minItems, "prompt")} when the balanced subset is smaller`);
  return out;
}

export function patchSubsetTable(views: readonly PromptView[], patching: readonly PatchRow[], rule: PatchRule) {
  const cands = views
    .filter((v) => v.outcome !== null && Number.isFinite(v.p0))
    .map((v) => ({ prompt_id: v.prompt_id, p0: v.p0, outcome: v.outcome as Outcome }));
  const s = selectPatchSubset(cands, rule);
  const added = s.items.slice(s.balanced);
  const count = (xs: readonly { outcome: Outcome }[], o: Outcome) => xs.filter((x) => x.outcome === o).length;
  const selectedIds = new Set(s.items.map((c) => c.prompt_id));
  const patchedIds = [...new Set(patching.map((r) => r.prompt_id))];
  const outside = patchedIds.filter((id) => !selectedIds.has(id)).length;
  const devs = deviations(rule);

  const words: string[] = [];
  words.push(
    `Design rule: patch the prompts with P0 ≥ T, where T = clamp(q${Math.round(DESIGN_SUBSET.quantile * 100)}(P0), ` +
      `${f2(DESIGN_SUBSET.min)}, ${f2(DESIGN_SUBSET.max)}); take all of them that the model answered without X (greedy successes) ` +
      `plus as many greedy failures (the balanced rule), shuffled with the seed.`,
  );
  if (devs.length) words.push(`This run's profile (${rule.profile}) changes it: ${devs.join("; ")}.`);
  words.push(
    `Here q${Math.round(rule.quantile * 100)}(P0) over ${plural(cands.length, "prompt")} is ${f3(s.quantileValue)}, so T = ${f3(s.threshold)}; ` +
      `${s.highPressure} of ${cands.length} prompts have P0 ≥ T (${plural(s.highSuccesses, "greedy success", "greedy successes")}, ${plural(s.highFailures, "greedy failure")}).`,
  );
  if (s.balanced === 0) {
    const why = s.highPressure === 0 ? "no prompt reaches T" : "none of the prompts above T is a greedy success, so there are no successes to balance the failures against";
    words.push(`The balanced rule selects nothing: ${why}.`);
  } else {
    words.push(`The balanced rule selects ${plural(s.balanced, "prompt")} (${s.balanced - Math.min(s.highSuccesses, s.highFailures)} successes and ${Math.min(s.highSuccesses, s.highFailures)} failures).`);
  }
  if (rule.minItems > 0) {
    words.push(
      s.toppedUp > 0
        ? `The ${rule.profile} profile then tops the subset up to ${rule.minItems} with the highest-P0 remaining prompts above T, whatever their outcome: ` +
            `${plural(s.toppedUp, "prompt")} added (${count(added, "success")} successes, ${count(added, "failure")} failures). ` +
            `The added prompts are not balanced by outcome, so their ΔP is not a success-versus-failure comparison.`
        : `The ${rule.profile} profile's top-up to ${rule.minItems} prompts was not needed.`,
    );
  } else if (s.balanced === 0) {
    words.push("No top-up is configured (analysis.patchMinPrompts = 0), so no prompt qualifies for patching.");
  }
  if (patchedIds.length === 0) words.push("No prompt was patched (runs/patching_results.csv is missing or empty).");
  else {
    let p = `runs/patching_results.csv holds ${plural(patchedIds.length, "patched prompt")}`;
    if (patchedIds.length < s.items.length) p += ` of the ${s.items.length} selected (the analysis capped the number patched, e.g. --patch-limit)`;
    p += ".";
    if (outside > 0) p += ` ${outside} of them are not in the subset these settings give for this run's P0 and outcomes: the analysis ran with other settings or inputs.`;
    words.push(p);
  }

  return {
    rule: "design: P0 ≥ T, T = clamp(q75(P0), 0.7, 0.95); all greedy successes above T plus as many failures, shuffled with the seed",
    profile: rule.profile,
    settings: { quantile: rule.quantile, clamp_min: rule.min, clamp_max: rule.max, top_up_to: rule.minItems, seed: rule.seed },
    design_rule: deviations(rule).length === 0,
    deviations: devs,
    quantile_value: Number.isFinite(s.quantileValue) ? s.quantileValue : null,
    threshold: s.threshold,
    n_candidates: cands.length,
    n_passed_threshold: s.highPressure,
    n_passed_success: s.highSuccesses,
    n_passed_failure: s.highFailures,
    n_selected_by_rule: s.balanced,
    rule_selected_nothing: s.balanced === 0,
    top_up: { to: rule.minItems, added: s.toppedUp, added_success: count(added, "success"), added_failure: count(added, "failure") },
    n_selected: s.items.length,
    n_patched: patchedIds.length,
    n_patched_outside_selection: outside,
    statement: words.join(" "),
  };
}

export type PatchSubsetTable = ReturnType<typeof patchSubsetTable>;
