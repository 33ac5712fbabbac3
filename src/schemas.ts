/**
 * Record schemas of every file that crosses a stage boundary (see DESIGN.md "Outputs"). A stage
 * writes only what validates here and reads through these, so a file from an older or foreign run
 * fails loudly at the line and field that is wrong.
 */
import { z } from "zod";
import { CATEGORIES } from "./config.ts";

export const Condition = z.enum(["baseline", "negative"]);
export type Condition = z.infer<typeof Condition>;
export const Category = z.enum(CATEGORIES);
export const Outcome = z.enum(["success", "failure"]);
export type Outcome = z.infer<typeof Outcome>;

/** GPT-5.2 validation reply (design: Validation). */
export const ValidationReply = z.object({
  is_one_word_answer_enforced: z.boolean(),
  best_one_word_answer: z.string(),
  top3_one_word_answers: z.array(z.string()),
  is_X_best: z.boolean(),
  ambiguity_score: z.number().min(0).max(10),
  leaks_answer: z.boolean(),
  naturalness_score: z.number().min(0).max(10),
  comments: z.string(),
});
export type ValidationReply = z.infer<typeof ValidationReply>;

/** One line of data/validated/prompts.jsonl. */
export const PromptRecord = z.object({
  prompt_id: z.string(),
  category: Category,
  question_text: z.string(),
  target_word: z.string(),
  target_word_normalized: z.string(),
  template_id: z.string(),
  /** Where the candidate came from: idioms_csv | wikidata | llm | replay_demo | … */
  source: z.string(),
  subject: z.string().nullable().optional(),
  relation: z.string().nullable().optional(),
  validation: ValidationReply,
  v_score: z.number(),
  p0: z.number(),
  p0_plain: z.number(),
  s_score: z.number(),
  /** Pressure bin index 0..4 for [0,.2) [.2,.4) [.4,.6) [.6,.8) [.8,1]. */
  bin: z.number().int(),
  prompt_format: z.enum(["raw", "chat"]),
});
export type PromptRecord = z.infer<typeof PromptRecord>;

/** One sampled (or greedy) completion. */
export const CompletionRecord = z.object({
  prompt_id: z.string(),
  condition: Condition,
  /** null for the greedy completion. */
  sample_index: z.number().int().nullable(),
  seed: z.number().int().nullable(),
  token_ids: z.array(z.number().int()),
  text: z.string(),
});
export type CompletionRecord = z.infer<typeof CompletionRecord>;

export const MatchRecord = z.object({
  char_start: z.number().int(),
  char_end: z.number().int(),
  token_start: z.number().int().nullable(),
  token_end: z.number().int().nullable(),
});
export type MatchRecord = z.infer<typeof MatchRecord>;

/** One line of runs/detection_mapping*.jsonl. */
export const DetectionRecord = z.object({
  prompt_id: z.string(),
  condition: Condition,
  sample_index: z.number().int().nullable(),
  target_word: z.string(),
  present: z.boolean(),
  matches: z.array(MatchRecord),
  decision_step: z.number().int(),
  text: z.string(),
});
export type DetectionRecord = z.infer<typeof DetectionRecord>;

/** runs/psem.csv */
export const PsemRow = z.object({
  prompt_id: z.string(),
  category: Category,
  target_word: z.string(),
  bin: z.coerce.number().int(),
  p0: z.coerce.number(),
  p1: z.coerce.number(),
  delta: z.coerce.number(),
  rel_suppression: z.coerce.number(),
  log_ratio: z.coerce.number(),
  p0_plain: z.coerce.number(),
  p1_plain: z.coerce.number(),
});
export type PsemRow = z.infer<typeof PsemRow>;

/** runs/behavior.csv: one row per prompt × condition. */
export const BehaviorRow = z.object({
  prompt_id: z.string(),
  condition: Condition,
  n_samples: z.coerce.number().int(),
  violation_rate: z.coerce.number(),
  format_adherence_rate: z.coerce.number(),
  clean_success_rate: z.coerce.number(),
  /** 1 when the greedy completion contains X. */
  greedy_violation: z.coerce.number().int(),
});
export type BehaviorRow = z.infer<typeof BehaviorRow>;

/** runs/attention_metrics.csv: scope head (layer, head ≥ 0), layer (head = -1) or global (both -1). */
export const AttentionRow = z.object({
  prompt_id: z.string(),
  condition: Condition,
  outcome: Outcome,
  scope: z.enum(["head", "layer", "global"]),
  layer: z.coerce.number().int(),
  head: z.coerce.number().int(),
  iar: z.coerce.number(),
  nf: z.coerce.number(),
  tmf: z.coerce.number(),
  pi: z.coerce.number(),
});
export type AttentionRow = z.infer<typeof AttentionRow>;

/** runs/logit_lens.csv: layer ℓ = output of block ℓ (0..n_layers-1, as in every CSV); -1 = the embeddings, before block 0. */
export const LogitLensRow = z.object({
  prompt_id: z.string(),
  condition: Condition,
  outcome: Outcome,
  layer: z.coerce.number().int(),
  mass: z.coerce.number(),
});
export type LogitLensRow = z.infer<typeof LogitLensRow>;

/** runs/ffn_attn_decomp.csv */
export const DecompRow = z.object({
  prompt_id: z.string(),
  condition: Condition,
  outcome: Outcome,
  layer: z.coerce.number().int(),
  p_in: z.coerce.number(),
  p_attn: z.coerce.number(),
  p_out: z.coerce.number(),
  attn_contrib: z.coerce.number(),
  ffn_contrib: z.coerce.number(),
});
export type DecompRow = z.infer<typeof DecompRow>;

/** runs/patching_results.csv */
export const PatchRow = z.object({
  prompt_id: z.string(),
  bin: z.coerce.number().int(),
  outcome: Outcome,
  site: z.enum(["resid", "attn"]),
  layer: z.coerce.number().int(),
  p_negative: z.coerce.number(),
  p_patched: z.coerce.number(),
  delta_p: z.coerce.number(),
  /** 1 when the patched pass's argmax next token starts X and the unpatched one does not, or vice versa; not a greedy-answer flip. */
  next_token_flip: z.coerce.number().int(),
});
export type PatchRow = z.infer<typeof PatchRow>;

/** runs/bootstrap_results.csv */
export const BootstrapRow = z.object({
  metric: z.string(),
  group: z.string(),
  estimate: z.coerce.number(),
  ci_low: z.coerce.number(),
  ci_high: z.coerce.number(),
  n: z.coerce.number().int(),
});
export type BootstrapRow = z.infer<typeof BootstrapRow>;

/** run.json written next to every run's outputs. */
export const RunManifest = z.object({
  created_at: z.string(),
  command: z.string(),
  config: z.record(z.string(), z.unknown()),
  config_hash: z.string(),
  seeds: z.object({ python: z.number(), torch: z.number() }),
  model: z.record(z.string(), z.unknown()).nullable(),
  versions: z.record(z.string(), z.string()),
});
export type RunManifest = z.infer<typeof RunManifest>;
