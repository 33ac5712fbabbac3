/**
 * The analyze stage (DESIGN.md Module 5): reads the run's traces and records, writes
 *   runs/attention_metrics.csv   negative condition, decision-step attention routing (head/layer/global)
 *   runs/logit_lens.csv          both conditions, S(X) first-token mass per layer at the decision position
 *   runs/ffn_attn_decomp.csv     both conditions, p_in / p_attn / p_out per layer
 *   runs/patching_results.csv    high-pressure subset, ΔP per layer for resid and attn patches
 * Outcome = the prompt's greedy outcome under the negative prompt (success: X absent, failure: X
 * present), shared by both conditions' rows, so that baseline and negative curves of one outcome group
 * are the same prompts (figure 5's caption). Only prompts with a done marker in runs/progress.jsonl
 * are analysed.
 * A different profile, model, prompt format, dataset file or config hash than the run's (run.json,
 * ./identity.ts) is refused before anything is read.
 */
import { existsSync } from "node:fs";
import type { Config } from "../config.ts";
import { InputError } from "../errors.ts";
import { log } from "../log.ts";
import { ATTENTION_COLUMNS, attentionRows } from "../metrics/attention.ts";
import { DECOMP_COLUMNS, decompRows } from "../metrics/decompose.ts";
import { decisionInput, firstTokens, LOGIT_LENS_COLUMNS, logitLensRows } from "../metrics/logitLens.ts";
import { PATCH_COLUMNS, patchRows, selectPatchSubset } from "../metrics/patching.ts";
import { codePointToUtf16, offsetsByDecode, tokenSpans, type Range } from "../metrics/spans.ts";
import {
  DetectionRecord,
  PsemRow,
  type AttentionRow,
  type Condition,
  type DecompRow,
  type LogitLensRow,
  type Outcome,
  type PatchRow,
  type PromptRecord,
} from "../schemas.ts";
import { readCsv, writeCsv } from "../util/csv.ts";
import { readJsonl, writeJson } from "../util/jsonl.ts";
import { Progress } from "../util/progress.ts";
import { buildPrompts, type RunEnv } from "./env.ts";
import { ANALYZE_HINT, assertSameRun, datasetFacts, runIdentity } from "./identity.ts";
import { aggregatePsem } from "../metrics/psem.ts";
import { prefixFreeIndices, variantSequences } from "../metrics/variants.ts";
import { readProgress, runPaths, type RunPaths } from "./outputs.ts";
import { loadTrace, decisionRows, tracePath, type LoadedTrace } from "./traceFile.ts";
import { CONDITIONS } from "./runner.ts";

export const ANALYSES = ["attention", "lens", "decompose", "patch"] as const;
export type Analysis = (typeof ANALYSES)[number];

export interface AnalyzeOptions {
  prompts: readonly PromptRecord[];
  /** The file the prompts came from (its sha256 must be the run's dataset hash). */
  promptsFile?: string;
  only?: Analysis[];
  /** Cap on patched prompts (after the balanced, shuffled selection); default all. */
  patchLimit?: number;
  /** Prompts per lens/decompose request and per patch request. */
  batch?: number;
}

export interface AnalyzeSummary {
  prompts: number;
  rows: Partial<Record<Analysis, number>>;
  patch?: { threshold: number; highPressure: number; patched: number };
  seconds: number;
}

interface Unit {
  rec: PromptRecord;
  condition: Condition;
  outcome: Outcome;
  trace: LoadedTrace;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Done prompts in run order with their greedy outcome per condition. */
function loadDone(paths: RunPaths, prompts: readonly PromptRecord[]): { recs: PromptRecord[]; outcome: Map<string, Outcome> } {
  const byId = new Map(prompts.map((p) => [p.prompt_id, p]));
  const progress = readProgress(paths);
  if (progress.length === 0) throw new InputError(`${paths.progress}: no finished prompts; run \`sempress run\` first`);
  const recs: PromptRecord[] = [];
  for (const l of progress) {
    const r = byId.get(l.prompt_id);
    if (!r) throw InputError.at(paths.progress, null, "prompt_id", `${l.prompt_id} is not in the prompts file`);
    recs.push(r);
  }
  const outcome = new Map<string, Outcome>();
  for (const d of readJsonl(paths.detectionGreedy, DetectionRecord)) {
    outcome.set(`${d.prompt_id}|${d.condition}`, d.present ? "failure" : "success");
  }
  for (const r of recs) {
    for (const c of CONDITIONS) {
      if (!outcome.has(`${r.prompt_id}|${c}`)) throw InputError.at(paths.detectionGreedy, null, null, `no greedy detection for ${r.prompt_id} ${c}`);
    }
  }
  return { recs, outcome };
}

/**
 * Per-token UTF-16 offsets of the prompt: by prefix decoding when decode reproduces the text (byte-level
 * BPE tokenizers do), else from the sidecar's tokenize op (code points, converted), whose ids must be
 * the trace's prompt ids.
 */
async function promptOffsets(env: RunEnv, allIds: readonly number[], text: string): Promise<Range[]> {
  // Leading special tokens added in front of the text (BOS, see Tokenizer.encodePrompt) cover no characters.
  const plain = env.tokenizer.encode(text);
  const lead = allIds.length - plain.length;
  if (lead > 0 && allIds.slice(lead).join(",") === plain.join(",")) {
    const rest = await promptOffsets(env, plain, text);
    return [...Array.from({ length: lead }, (): Range => [0, 0]), ...rest];
  }
  const ids = allIds;
  const dec = (x: readonly number[]) => env.tokenizer.decode(x, { skipSpecialTokens: false });
  if (dec(ids) === text) return offsetsByDecode(dec, ids);
  const t = await env.sidecar.tokenize([text]);
  if (t.ids[0].join(",") !== ids.join(",")) throw new InputError("the sidecar tokenizes the prompt differently from the trace's prompt ids");
  return codePointToUtf16(text, t.offsets[0] as Range[]);
}

export async function analyzeStage(cfg: Config, env: RunEnv, opts: AnalyzeOptions): Promise<AnalyzeSummary> {
  const t0 = Date.now();
  const paths = runPaths(cfg);
  assertSameRun(paths.manifest, runIdentity(cfg, datasetFacts(opts.promptsFile, opts.prompts), env.hello.model_id), cfg, ANALYZE_HINT);
  const only = new Set<Analysis>(opts.only?.length ? opts.only : ANALYSES);
  const batch = opts.batch ?? 8;
  const { recs, outcome } = loadDone(paths, opts.prompts);
  const summary: AnalyzeSummary = { prompts: recs.length, rows: {}, seconds: 0 };
  const unitsOf = (rec: PromptRecord, conds: readonly Condition[]): Unit[] =>
    conds.map((condition) => {
      const f = tracePath(paths.runs, rec.prompt_id, condition);
      if (!existsSync(f)) throw InputError.at(f, null, null, "trace file missing (re-run `sempress run --resume`)");
      return { rec, condition, outcome: outcome.get(`${rec.prompt_id}|negative`)!, trace: loadTrace(f) };
    });
  const dec = (ids: readonly number[]) => env.tokenizer.decode(ids, { skipSpecialTokens: false });
  /** S(X) token sequences after exactly these context ids (the context's text is their decode). */
  const sx = (contextIds: readonly number[], target: string) => variantSequences(env.tokenizer, dec(contextIds), target, contextIds).sequences.map((v) => v.ids);

  if (only.has("attention")) {
    const rows: AttentionRow[] = [];
    const bar = new Progress("attention", recs.length);
    for (const rec of recs) {
      const [u] = unitsOf(rec, ["negative"]);
      const [built] = await buildPrompts(cfg, env, [{ rec, condition: "negative" }]);
      const offsets = await promptOffsets(env, u.trace.promptIds, built.text);
      const spans = tokenSpans(built.text, rec.target_word, rec.question_text, offsets);
      rows.push(
        ...attentionRows(
          { prompt_id: rec.prompt_id, condition: "negative", outcome: u.outcome },
          decisionRows(u.trace, u.trace.meta.decision_step),
          spans,
          cfg.analysis.epsilon,
        ),
      );
      bar.tick();
    }
    bar.stop();
    writeCsv(paths.attention, ATTENTION_COLUMNS, rows);
    summary.rows.attention = rows.length;
  }

  for (const kind of ["lens", "decompose"] as const) {
    if (!only.has(kind)) continue;
    const lensRows: LogitLensRow[] = [];
    const decRows: DecompRow[] = [];
    const bar = new Progress(kind, recs.length);
    for (const group of chunks(recs, batch)) {
      const units = group.flatMap((rec) => unitsOf(rec, CONDITIONS));
      const items = units.map((u) => {
        const ids = decisionInput(u.trace.promptIds, u.trace.meta.generated, u.trace.meta.decision_step);
        return { ids, position: -1, token_ids: firstTokens(sx(ids, u.rec.target_word)) };
      });
      const key = (u: Unit) => ({ prompt_id: u.rec.prompt_id, condition: u.condition, outcome: u.outcome });
      if (kind === "lens") {
        const probs = await env.sidecar.logitLens(items);
        units.forEach((u, i) => lensRows.push(...logitLensRows(key(u), probs[i])));
      } else {
        const probs = await env.sidecar.decompose(items);
        units.forEach((u, i) => decRows.push(...decompRows(key(u), probs[i])));
      }
      bar.tick(group.length);
    }
    bar.stop();
    if (kind === "lens") {
      writeCsv(paths.logitLens, LOGIT_LENS_COLUMNS, lensRows);
      summary.rows.lens = lensRows.length;
    } else {
      writeCsv(paths.decomp, DECOMP_COLUMNS, decRows);
      summary.rows.decompose = decRows.length;
    }
  }

  if (only.has("patch")) {
    const psem = new Map(readCsv(paths.psem, PsemRow).map((r) => [r.prompt_id, r]));
    const cands = recs.map((rec) => {
      const row = psem.get(rec.prompt_id);
      if (!row) throw InputError.at(paths.psem, null, "prompt_id", `no row for ${rec.prompt_id}`);
      return { prompt_id: rec.prompt_id, p0: row.p0, bin: row.bin, outcome: outcome.get(`${rec.prompt_id}|negative`)!, rec };
    });
    const subset = selectPatchSubset(cands, {
      quantile: cfg.analysis.patchQuantile,
      min: cfg.analysis.patchThresholdMin,
      max: cfg.analysis.patchThresholdMax,
      seed: cfg.seeds.python,
      minItems: cfg.analysis.patchMinPrompts,
    });
    const chosen = opts.patchLimit !== undefined ? subset.items.slice(0, opts.patchLimit) : subset.items;
    log().info({ threshold: subset.threshold, high_pressure: subset.highPressure, patched: chosen.length }, "patching subset");
    const rows: PatchRow[] = [];
    const bar = new Progress("patch", chosen.length);
    for (const group of chunks(chosen, Math.max(1, Math.floor(batch / 2)))) {
      const items = group.map((c) => {
        const [b, n] = unitsOf(c.rec, CONDITIONS);
        const all = sx(n.trace.promptIds, c.rec.target_word);
        const keep = prefixFreeIndices(all);
        return { source: b.trace.promptIds, target: n.trace.promptIds, continuations: all.filter((_, j) => keep.has(j)), first: firstTokens(all) };
      });
      const res = await env.sidecar.patch({ items: items.map(({ first: _f, ...it }) => it), sites: ["resid", "attn"] });
      group.forEach((c, i) => {
        const conts = items[i].continuations;
        // P_sem through psem's own aggregation (the continuations are already prefix-free).
        const psemOf = (lp: readonly (readonly number[])[]) =>
          aggregatePsem(conts.map((ids, j) => ({ ids, logprob: lp[j].reduce((a, b) => a + b, 0) }))).p_sem;
        rows.push(...patchRows({ prompt_id: c.prompt_id, bin: c.bin, outcome: c.outcome }, res[i], psemOf, items[i].first));
      });
      bar.tick(group.length);
    }
    bar.stop();
    writeCsv(paths.patching, PATCH_COLUMNS, rows);
    writeJson(paths.patchingSubset, {
      rule: { quantile: cfg.analysis.patchQuantile, clamp_min: cfg.analysis.patchThresholdMin, clamp_max: cfg.analysis.patchThresholdMax, top_up_to: cfg.analysis.patchMinPrompts, seed: cfg.seeds.python },
      quantile_value: Number.isFinite(subset.quantileValue) ? subset.quantileValue : null,
      threshold: subset.threshold,
      high_pressure: subset.highPressure,
      high_successes: subset.highSuccesses,
      high_failures: subset.highFailures,
      balanced: subset.balanced,
      topped_up: subset.toppedUp,
      patch_limit: opts.patchLimit ?? null,
      patched: chosen.map((c) => c.prompt_id),
    });
    summary.rows.patch = rows.length;
    summary.patch = { threshold: subset.threshold, highPressure: subset.highPressure, patched: chosen.length };
  }
  summary.seconds = (Date.now() - t0) / 1000;
  return summary;
}
