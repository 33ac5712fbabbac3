/**
 * Activation patching (pure part): which prompts to patch, and ΔP rows from the sidecar's `patch` op.
 *
 * Subset: high-pressure prompts, P0 ≥ T with T = clamp(q75(P0 over all prompts), 0.7, 0.95) (quantile
 * and bounds from config analysis.*; DESIGN_SUBSET holds the design's values). Among them, outcome =
 * greedy success/failure in the negative condition; keep ALL successes plus as many failures
 * (min(#successes, #failures), drawn at random), then shuffle the whole subset; both draws use one Prng
 * seeded with cfg.seeds.python and stream "patching", so the subset is a pure function of the inputs
 * and the seed. With no high-pressure success the rule selects nothing. Only a positive `minItems`
 * (the offline default profile) departs from it, by appending a top-up; the result counts both parts
 * so the report can say which rule produced what.
 *
 * Rows: P_sem = Σ over the prefix-free S(X) sequences of exp(Σ_t logprob) (psem's own helper), for the
 * unpatched negative run and each patched (site, layer); ΔP = P_patched − P_negative. next_token_flip =
 * 1 when patching changed whether the argmax next token is a first token of S(X) (in either direction).
 */
import { quantileSorted } from "../stats/bootstrap.ts";
import { Prng } from "../util/prng.ts";
import type { Outcome, PatchRow } from "../schemas.ts";
import type { OpResult } from "../rpc/protocol.ts";

export interface PatchCandidate {
  prompt_id: string;
  p0: number;
  outcome: Outcome;
}

/** The design's subset rule (DESIGN.md, Metrics): T = clamp(q75(P0), 0.7, 0.95), no top-up. */
export const DESIGN_SUBSET = { quantile: 0.75, min: 0.7, max: 0.95, minItems: 0 } as const;

export interface SubsetOptions {
  quantile: number;
  min: number;
  max: number;
  seed: number;
  /**
   * When the balanced subset holds fewer prompts than this, top it up with the remaining high-pressure
   * prompts by P0 (highest first, ties by id). 0 (the paper profile) keeps the design's rule exactly;
   * the offline demo profile uses it because a small base model has almost no greedy successes.
   */
  minItems?: number;
}

/** T = clamp(quantile_q(P0), min, max) over every prompt's P0 (non-finite P0 ignored). */
export function pressureThreshold(p0s: readonly number[], o: Pick<SubsetOptions, "quantile" | "min" | "max">): number {
  const sorted = Float64Array.from(p0s.filter(Number.isFinite)).sort();
  const q = quantileSorted(sorted, o.quantile);
  if (!Number.isFinite(q)) return o.max;
  return Math.min(o.max, Math.max(o.min, q));
}

export interface PatchSubset<T extends PatchCandidate> {
  /** q_quantile(P0) before clamping (NaN when no prompt has a finite P0). */
  quantileValue: number;
  /** T = clamp(quantileValue, min, max). */
  threshold: number;
  /** Prompts with P0 ≥ T, and how many of them are greedy successes / failures. */
  highPressure: number;
  highSuccesses: number;
  highFailures: number;
  /** Prompts the design's rule picks (all successes plus as many failures); 0 = it selects nothing. */
  balanced: number;
  /** Prompts added by the top-up (minItems), appended after the balanced, shuffled ones. */
  toppedUp: number;
  /** The balanced prompts (shuffled with the seed), then the top-up prompts (highest P0 first). */
  items: T[];
}

export function selectPatchSubset<T extends PatchCandidate>(all: readonly T[], o: SubsetOptions): PatchSubset<T> {
  const p0s = all.map((c) => c.p0);
  const threshold = pressureThreshold(p0s, o);
  const quantileValue = quantileSorted(Float64Array.from(p0s.filter(Number.isFinite)).sort(), o.quantile);
  const high = all.filter((c) => c.p0 >= threshold);
  // Stable input order (by prompt id) so the draw does not depend on how the caller ordered things.
  const byId = (a: T, b: T) => (a.prompt_id < b.prompt_id ? -1 : a.prompt_id > b.prompt_id ? 1 : 0);
  const succ = high.filter((c) => c.outcome === "success").sort(byId);
  const fail = high.filter((c) => c.outcome === "failure").sort(byId);
  const rng = new Prng(o.seed, "patching");
  const failPick = rng.shuffle(fail).slice(0, Math.min(succ.length, fail.length));
  const items = rng.shuffle([...succ, ...failPick]);
  const balanced = items.length;
  const want = o.minItems ?? 0;
  if (items.length < want) {
    const taken = new Set(items.map((c) => c.prompt_id));
    const rest = high.filter((c) => !taken.has(c.prompt_id)).sort((a, b) => b.p0 - a.p0 || byId(a, b));
    items.push(...rest.slice(0, want - items.length));
  }
  return {
    quantileValue,
    threshold,
    highPressure: high.length,
    highSuccesses: succ.length,
    highFailures: fail.length,
    balanced,
    toppedUp: items.length - balanced,
    items,
  };
}

type PatchItem = OpResult<"patch">["items"][number];

export interface PatchRowKey {
  prompt_id: string;
  bin: number;
  outcome: Outcome;
}

/**
 * Rows of one patched prompt. `psemOf(logprobs[continuation][t])` is P_sem over the continuations sent
 * (the prefix-free S(X)); `first` = S(X) first tokens for the next-token flip test.
 */
export function patchRows(
  key: PatchRowKey,
  item: PatchItem,
  psemOf: (logprobs: readonly (readonly number[])[]) => number,
  first: readonly number[],
): PatchRow[] {
  const isX = (tok: number) => first.includes(tok);
  const pNeg = psemOf(item.clean.logprobs);
  const cleanX = isX(item.clean.argmax);
  const rows: PatchRow[] = [];
  for (const site of ["resid", "attn"] as const) {
    const r = item.patched[site];
    if (!r) continue;
    item.layers.forEach((layer, i) => {
      const p = psemOf(r.logprobs[i]);
      rows.push({
        ...key,
        site,
        layer,
        p_negative: pNeg,
        p_patched: p,
        delta_p: p - pNeg,
        // Did the patched argmax next token change whether it starts X? Not a greedy-answer flip (no decoding).
        next_token_flip: isX(r.argmax[i]) !== cleanX ? 1 : 0,
      });
    });
  }
  return rows;
}

export const PATCH_COLUMNS = ["prompt_id", "bin", "outcome", "site", "layer", "p_negative", "p_patched", "delta_p", "next_token_flip"] as const;
