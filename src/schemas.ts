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

/** The question and its target: what a dataset candidate and a final prompt both carry. */
export const QuestionFields = {
  category: Category,
  question_text: z.string(),
  target_word: z.string(),
  target_word_normalized: z.string(),
  template_id: z.string(),
  /** idioms_csv | wikidata | wikidata_cache | world_countries_cache (shipped cache, not Wikidata) | llm | replay | replay_demo */
  source: z.string(),
};

/** One line of data/validated/prompts.jsonl. */
export const PromptRecord = z.object({
  prompt_id: z.string(),
  ...QuestionFields,
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

/** Real-valued CSV columns, in the given order (cells arrive as strings; readCsv maps inf/-inf/nan). */
function reals<const K extends string>(...columns: K[]): Record<K, z.ZodCoercedNumber> {
  return Object.fromEntries(columns.map((c) => [c, z.coerce.number()])) as Record<K, z.ZodCoercedNumber>;
}
/** An integer CSV column: an index, a count or a 0/1 flag. */
const int = () => z.coerce.number().int();
/** The key of an analysis row: the prompt, its condition, and the prompt's greedy outcome. */
const AnalysisKey = { prompt_id: z.string(), condition: Condition, outcome: Outcome };

/** runs/psem.csv */
export const PsemRow = z.object({
  prompt_id: z.string(),
  category: Category,
  target_word: z.string(),
  bin: int(),
  ...reals("p0", "p1", "delta", "rel_suppression", "log_ratio", "p0_plain", "p1_plain"),
});
export type PsemRow = z.infer<typeof PsemRow>;

/** runs/behavior.csv: one row per prompt × condition. */
export const BehaviorRow = z.object({
  prompt_id: z.string(),
  condition: Condition,
  n_samples: int(),
  ...reals("violation_rate", "format_adherence_rate", "clean_success_rate"),
  /** 1 when the greedy completion contains X. */
  greedy_violation: int(),
});
export type BehaviorRow = z.infer<typeof BehaviorRow>;

/** runs/attention_metrics.csv: scope head (layer, head ≥ 0), layer (head = -1) or global (both -1). */
export const AttentionRow = z.object({
  ...AnalysisKey,
  scope: z.enum(["head", "layer", "global"]),
  layer: int(),
  head: int(),
  ...reals("iar", "nf", "tmf", "pi"),
});
export type AttentionRow = z.infer<typeof AttentionRow>;

/** runs/logit_lens.csv: layer ℓ = output of block ℓ (0..n_layers-1, as in every CSV); -1 = the embeddings, before block 0. */
export const LogitLensRow = z.object({ ...AnalysisKey, layer: int(), mass: z.coerce.number() });
export type LogitLensRow = z.infer<typeof LogitLensRow>;

/** runs/ffn_attn_decomp.csv */
export const DecompRow = z.object({ ...AnalysisKey, layer: int(), ...reals("p_in", "p_attn", "p_out", "attn_contrib", "ffn_contrib") });
export type DecompRow = z.infer<typeof DecompRow>;

/** runs/patching_results.csv */
export const PatchRow = z.object({
  prompt_id: z.string(),
  bin: int(),
  outcome: Outcome,
  site: z.enum(["resid", "attn"]),
  layer: int(),
  ...reals("p_negative", "p_patched", "delta_p"),
  /** 1 when the patched pass's argmax next token starts X and the unpatched one does not, or vice versa; not a greedy-answer flip. */
  next_token_flip: int(),
});
export type PatchRow = z.infer<typeof PatchRow>;

/** runs/bootstrap_results.csv */
export const BootstrapRow = z.object({ metric: z.string(), group: z.string(), ...reals("estimate", "ci_low", "ci_high"), n: int() });
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
