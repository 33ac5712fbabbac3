/**
 * Deterministic synthetic run tree for the report tests: a small, schema-valid data root (prompts,
 * P_sem, behaviour, greedy completions and detections, attention, logit lens, decomposition,
 * patching, run.json) whose numbers follow the shapes the study expects (violation rising with P0,
 * failures attending to the target mention, late-layer patching raising P(X)), so the figures have
 * something to show and the tables have effects to find.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CATEGORIES } from "../../src/config.ts";
import {
  AttentionRow,
  BehaviorRow,
  DecompRow,
  LogitLensRow,
  PatchRow,
  PsemRow,
  type CompletionRecord,
  type DetectionRecord,
  type PromptRecord,
  type RunManifest,
} from "../../src/schemas.ts";
import { writeCsv } from "../../src/util/csv.ts";
import { writeJson, writeJsonl } from "../../src/util/jsonl.ts";
import { Prng } from "../../src/util/prng.ts";
import { binOf } from "../../src/stats/bins.ts";

export interface FixtureOptions {
  /** Prompts in total (spread over the five categories and five bins). */
  prompts?: number;
  samples?: number;
  layers?: number;
  seed?: number;
  /** Leave out the analyze outputs (attention, logit lens, decomposition, patching). */
  withoutAnalysis?: boolean;
  /** Prompts per P0 bin (overrides `prompts`); default: round-robin over the five bins. */
  binCounts?: number[];
  /**
   * Demo provenance as the dataset build records it: every third prompt generated from the bundled
   * demo replies (source replay_demo), every validation by the DEMO RULE, provider replay.
   */
  demo?: boolean;
  /** Write data/validated/report.json (default true). */
  datasetReport?: boolean;
  /** run.json without the run section, the model facts and the config's model (older or partial runs). */
  bareManifest?: boolean;
  /** Extra top-level run.json fields (e.g. profile, dataset {path, demo}, llm_provider). */
  runFields?: Record<string, unknown>;
}

const EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1];
const WORDS = [
  "apple", "river", "stone", "paris", "bread", "cloud", "silver", "tiger", "window", "garden",
  "winter", "copper", "honey", "castle", "violin", "desert", "anchor", "pepper", "candle", "forest",
];
const OTHER = ["fruit", "water", "rock", "city", "food", "sky", "metal", "cat", "glass", "park"];

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const cols = (schema: { shape: Record<string, unknown> }) => Object.keys(schema.shape);

/** Writes the tree under `root` (created when missing) and returns `root`. */
export function writeFixtureRun(root: string, opts: FixtureOptions = {}): string {
  const nPrompts = opts.binCounts ? opts.binCounts.reduce((a, b) => a + b, 0) : (opts.prompts ?? 50);
  const binPlan = opts.binCounts?.flatMap((n, b) => Array.from({ length: n }, () => b));
  const nSamples = opts.samples ?? 16;
  const nLayers = opts.layers ?? 8;
  const r = new Prng(opts.seed ?? 1234, "fixture");
  for (const d of ["data/validated", "runs/failure_samples", "runs/errors", "assets"]) mkdirSync(join(root, d), { recursive: true });

  const prompts: PromptRecord[] = [];
  const psem: PsemRow[] = [];
  const behavior: BehaviorRow[] = [];
  const greedy: CompletionRecord[] = [];
  const detections: DetectionRecord[] = [];
  const samples: CompletionRecord[] = [];
  const sampleDetections: DetectionRecord[] = [];
  const attention: AttentionRow[] = [];
  const lens: LogitLensRow[] = [];
  const decomp: DecompRow[] = [];
  const patch: PatchRow[] = [];

  for (let i = 0; i < nPrompts; i++) {
    const category = CATEGORIES[i % CATEGORIES.length];
    const bin = binPlan ? binPlan[i] : Math.floor(i / CATEGORIES.length) % 5;
    const p0 = Math.min(1, EDGES[bin] + 0.2 * r.next());
    const word = WORDS[i % WORDS.length];
    const target = i % 7 === 0 ? word[0].toUpperCase() + word.slice(1) : word;
    const prompt_id = `${category}_${word}_${(0x10000000 + i * 7919).toString(16).slice(0, 8)}`;
    const question = `Fill the blank (one word): A synthetic ${category} question number ${i} about ____.`;
    const p1 = p0 * (0.15 + 0.5 * r.next());
    const vRate = sigmoid(-2.4 + 2.27 * p0);
    let k = 0;
    for (let s = 0; s < nSamples; s++) if (r.next() < vRate) k++;
    const fmt = Math.min(1, 0.7 + 0.3 * r.next());
    const clean = Math.max(0, Math.min(fmt, 1 - k / nSamples) - 0.05 * r.next());
    const greedyViol = r.next() < vRate + 0.1 ? 1 : 0;
    const baseRate = Math.min(1, p0 + 0.1 * r.next());

    prompts.push({
      prompt_id, category, question_text: question, target_word: target,
      target_word_normalized: word, template_id: `${category.slice(0, 1).toUpperCase()}1`, source: opts.demo && i % 3 === 0 ? "replay_demo" : "synthetic",
      subject: null, relation: null,
      validation: {
        is_one_word_answer_enforced: true, best_one_word_answer: target, top3_one_word_answers: [target, "x", "y"],
        is_X_best: true, ambiguity_score: 1, leaks_answer: false, naturalness_score: 8,
        comments: opts.demo ? "DEMO RULE demo_rule_v1: hash-derived scores, not a judgement" : "",
      },
      v_score: 100, p0, p0_plain: Math.min(1, p0 * 1.05), s_score: 100 + 100 * p0, bin: binOf(p0, EDGES), prompt_format: "raw",
    });
    psem.push({
      prompt_id, category, target_word: target, bin: binOf(p0, EDGES), p0, p1, delta: p0 - p1,
      rel_suppression: (p0 - p1) / Math.max(p0, 1e-9), log_ratio: Math.log(p0) - Math.log(p1),
      p0_plain: Math.min(1, p0 * 1.05), p1_plain: Math.min(1, p1 * 1.05),
    });
    behavior.push({
      prompt_id, condition: "baseline", n_samples: nSamples, violation_rate: Math.round(baseRate * nSamples) / nSamples,
      format_adherence_rate: fmt, clean_success_rate: Math.max(0, fmt - baseRate), greedy_violation: p0 > 0.3 ? 1 : 0,
    });
    behavior.push({
      prompt_id, condition: "negative", n_samples: nSamples, violation_rate: k / nSamples,
      format_adherence_rate: fmt, clean_success_rate: clean, greedy_violation: greedyViol,
    });

    for (const condition of ["baseline", "negative"] as const) {
      const kc = condition === "negative" ? k : Math.round(baseRate * nSamples);
      for (let s = 0; s < nSamples; s++) {
        const says = s < kc;
        const text = says ? ` ${target}` : ` ${OTHER[(i + s) % OTHER.length]}`;
        samples.push({ prompt_id, condition, sample_index: s, seed: 42 + s, token_ids: [says ? 1000 + i : 2000 + s], text });
        sampleDetections.push({
          prompt_id, condition, sample_index: s, target_word: target, present: says,
          matches: says ? [{ char_start: 1, char_end: 1 + target.length, token_start: 0, token_end: 1 }] : [],
          decision_step: 0, text,
        });
      }
    }

    const outcome = greedyViol ? "failure" : "success";
    for (const condition of ["baseline", "negative"] as const) {
      const says = condition === "baseline" ? p0 > 0.3 : greedyViol === 1;
      const text = says ? ` ${target}.` : ` ${OTHER[i % OTHER.length]}.`;
      const ids = says ? [1000 + i, 13] : [2000 + i, 13];
      greedy.push({ prompt_id, condition, sample_index: null, seed: null, token_ids: ids, text });
      detections.push({
        prompt_id, condition, sample_index: null, target_word: target, present: says,
        matches: says ? [{ char_start: 1, char_end: 1 + target.length, token_start: 0, token_end: 1 }] : [],
        decision_step: 0, text,
      });
      if (opts.withoutAnalysis) continue;
      const fail = outcome === "failure";
      const iar = condition === "negative" ? 0.3 + 0.1 * r.next() - (fail ? 0.05 : 0) : 0;
      const nf = condition === "negative" ? 0.25 + 0.1 * r.next() - (fail ? 0.08 : 0) : 0;
      const tmf = condition === "negative" ? 0.2 + 0.1 * r.next() + (fail ? 0.12 : 0) + 0.05 * p0 : 0;
      attention.push({ prompt_id, condition, outcome, scope: "global", layer: -1, head: -1, iar, nf, tmf, pi: tmf - nf });
      for (let l = 0; l < nLayers; l++) {
        const j = 0.9 + 0.2 * r.next();
        attention.push({ prompt_id, condition, outcome, scope: "layer", layer: l, head: -1, iar: iar * j, nf: nf * j, tmf: tmf * j, pi: (tmf - nf) * j });
        attention.push({ prompt_id, condition, outcome, scope: "head", layer: l, head: 0, iar: iar * j, nf, tmf, pi: tmf - nf });
      }
      const final = condition === "baseline" ? p0 : fail ? Math.max(p1, 0.4) : p1 * 0.5;
      for (let l = -1; l < nLayers; l++) {
        const frac = (l + 1) / nLayers;
        const mass = Math.max(0, Math.min(1, final * frac ** 2 + 0.01 * r.next()));
        lens.push({ prompt_id, condition, outcome, layer: l, mass });
      }
      let p = 0.001;
      for (let l = 0; l < nLayers; l++) {
        const target = final * ((l + 1) / nLayers) ** 2;
        const step = target - p;
        const attnShare = condition === "negative" && l > nLayers / 2 ? (fail ? 0.7 : -0.3) : 0.4;
        const pAttn = Math.max(0, p + attnShare * step + 0.005 * (r.next() - 0.5));
        const pOut = Math.max(0, target);
        decomp.push({ prompt_id, condition, outcome, layer: l, p_in: p, p_attn: pAttn, p_out: pOut, attn_contrib: pAttn - p, ffn_contrib: pOut - pAttn });
        p = pOut;
      }
    }
    if (!opts.withoutAnalysis && p0 >= 0.4) {
      for (const site of ["resid", "attn"] as const) {
        for (let l = 0; l < nLayers; l++) {
          const late = l >= (2 * nLayers) / 3;
          const scale = site === "resid" ? 0.3 : 0.1;
          const d = (late ? scale : -scale * 0.5) * p0 + 0.02 * (r.next() - 0.5);
          const pp = Math.max(0, Math.min(1, p1 + d));
          patch.push({
            prompt_id, bin: binOf(p0, EDGES), outcome, site, layer: l, p_negative: p1, p_patched: pp,
            delta_p: pp - p1, next_token_flip: late && site === "resid" && r.next() < 0.3 ? 1 : 0,
          });
        }
      }
    }
  }

  writeJsonl(join(root, "data/validated/prompts.jsonl"), prompts);
  writeCsv(join(root, "runs/psem.csv"), cols(PsemRow), psem);
  writeCsv(join(root, "runs/behavior.csv"), cols(BehaviorRow), behavior);
  writeJsonl(join(root, "runs/completions_greedy.jsonl"), greedy);
  writeJsonl(join(root, "runs/detection_mapping_greedy.jsonl"), detections);
  writeJsonl(join(root, "runs/failure_samples/completions.jsonl"), samples);
  writeJsonl(join(root, "runs/detection_mapping.jsonl"), sampleDetections);
  if (!opts.withoutAnalysis) {
    writeCsv(join(root, "runs/attention_metrics.csv"), cols(AttentionRow), attention);
    writeCsv(join(root, "runs/logit_lens.csv"), cols(LogitLensRow), lens);
    writeCsv(join(root, "runs/ffn_attn_decomp.csv"), cols(DecompRow), decomp);
    writeCsv(join(root, "runs/patching_results.csv"), cols(PatchRow), patch);
  }
  if (opts.datasetReport ?? true) {
    writeJson(join(root, "data/validated/report.json"), {
      prompts: nPrompts, bin_edges: EDGES, funnel: {}, probe: "synthetic", provider: opts.demo ? "replay" : "openai",
    });
  }
  const manifest: RunManifest & { run?: Record<string, unknown> } = {
    created_at: "2026-01-15T12:00:00.000Z",
    command: "sempress run (synthetic fixture)",
    config: {
      profile: "default", generation: { samplesPerPrompt: nSamples },
      ...(opts.bareManifest ? {} : { model: { id: "synthetic/tiny-model", promptFormat: "raw", systemMessage: null } }),
    },
    config_hash: "0123456789abcdef",
    seeds: { python: 42, torch: 42 },
    model: { model_id: "synthetic/tiny-model", model_source: "random", architecture: "Qwen2ForCausalLM", n_layers: nLayers, n_heads: 4, n_kv_heads: 2, hidden_size: 64, vocab_size: 151936, dtype: "float32", device: "cpu", tokenizer_json: "{}" },
    versions: { torch: "2.13.0", transformers: "4.99.0", sempress: "0.1.0" },
    run: { prompts_file: join(root, "data/validated/prompts.jsonl"), n_prompts: nPrompts, chunk_size: 8, resume: false },
  };
  if (opts.bareManifest) {
    delete manifest.run;
    manifest.model = null;
  }
  writeJson(join(root, "runs/run.json"), { ...manifest, ...opts.runFields });
  return root;
}

/** A fresh temporary data root holding the fixture. */
export function makeFixtureRoot(opts: FixtureOptions = {}): string {
  return writeFixtureRun(mkdtempSync(join(tmpdir(), "sempress-report-")), opts);
}
