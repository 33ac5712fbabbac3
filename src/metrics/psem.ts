/**
 * P_sem(X | prompt): the probability that the model's answer starts with the word X (DESIGN.md
 * "Metrics").
 *
 *   P(s) = exp(Σ_t log p(s_t | prompt, s_<t))      teacher-forced through the sidecar's `score` op
 *   p_sem       = Σ_{s ∈ prefix-free reduction of S(X)} P(s)   (disjoint events ⇒ ≤ 1, no clamp)
 *   p_sem_plain = Σ_{s ∈ S(X)} P(s)                            (the plan's plain sum, unclamped)
 *
 * One score item per prompt carries all its sequences as continuations, so the sidecar runs the
 * prompt's forward pass once and shares it; many prompts travel per request, chunked by the
 * sidecar's token budget. The prompt is the FINAL text (raw, or already chat-formatted); the
 * prefix scored is `tokenizer.encodePrompt(prompt)` (BOS in front when the model adds one), and
 * S(X) is split off encode(prompt) without special tokens. Generation must use the same
 * `encodePrompt` ids (each result carries them as prompt_ids) so P_sem and behaviour see one input.
 */
import { InputError, SidecarError } from "../errors.ts";
import { chunkBySize } from "../rpc/ops.ts";
import type { Sidecar } from "../rpc/protocol.ts";
import type { Tokenizer } from "../tokenizer/hfTokenizer.ts";
import { prefixFreeIndices, variantSequences, type VariantSequence } from "./variants.ts";

export interface PsemItem {
  /** Final prompt text (raw or chat-formatted). */
  prompt: string;
  target: string;
}

export interface PsemSequence {
  ids: number[];
  text: string;
  /** Σ log p over the sequence's tokens (natural log). */
  logprob: number;
  prob: number;
  in_prefix_free_set: boolean;
  /** Surface forms of X that tokenise to these ids. */
  forms: string[];
  split: VariantSequence["split"];
}

export interface PsemResult {
  p_sem: number;
  p_sem_plain: number;
  /** The prompt ids that were scored (the prefix). */
  prompt_ids: number[];
  sequences: PsemSequence[];
}

export interface PsemOptions {
  /**
   * Client cap on tokens per request. A CUDA sidecar gets one request unless this cap is below its
   * advertised budget: it sizes its groups by device memory itself, and every extra request repeats a
   * prefix pass. A CPU sidecar gets requests within min(cap, its budget), each one short (progress,
   * timeouts), with the same groups it would make itself.
   */
  maxBatchTokens?: number;
  /** Send every (prompt, sequence) pair as its own request: the unbatched reference for benchmarks. */
  onePerRequest?: boolean;
  timeoutMs?: number;
  /** Called after each request with the number of prompts finished so far. */
  onProgress?: (done: number, total: number) => void;
}

/** p_sem and p_sem_plain from per-sequence log-probs (pure; the formula lives here only). */
export function aggregatePsem(
  seqs: readonly { ids: readonly number[]; logprob: number }[],
): { p_sem: number; p_sem_plain: number; inSet: boolean[] } {
  const keep = prefixFreeIndices(seqs.map((s) => s.ids));
  let p_sem = 0;
  let p_sem_plain = 0;
  const inSet = seqs.map((_, i) => keep.has(i));
  seqs.forEach((s, i) => {
    const p = Math.exp(s.logprob);
    p_sem_plain += p;
    if (inSet[i]) p_sem += p;
  });
  return { p_sem, p_sem_plain, inSet };
}

interface Prepared {
  prefix: number[];
  seqs: VariantSequence[];
  /** Indices of the sequences sent for scoring: those no other sequence extends (trie leaves). */
  leaves: number[];
  /** For each sequence, the position in `leaves` of a leaf that starts with it (itself when a leaf). */
  leafOf: number[];
}

function isPrefix(p: readonly number[], s: readonly number[]): boolean {
  return p.length <= s.length && p.every((x, i) => s[i] === x);
}

/**
 * Teacher forcing is causal, so a sequence's per-token log-probs are the first tokens' log-probs of
 * any sequence extending it: only the leaves of S(X)'s trie need scoring (" Paris. " also gives
 * " Paris" and " Paris."), which halves the continuation rows for typical S(X).
 */
function leavesOf(seqs: readonly VariantSequence[]): { leaves: number[]; leafOf: number[] } {
  const leaves: number[] = [];
  seqs.forEach((s, j) => {
    if (!seqs.some((o, k) => k !== j && o.ids.length > s.ids.length && isPrefix(s.ids, o.ids))) leaves.push(j);
  });
  const leafOf = seqs.map((s) => leaves.findIndex((l) => isPrefix(s.ids, seqs[l].ids)));
  return { leaves, leafOf };
}

function prepare(tokenizer: Tokenizer, item: PsemItem): Prepared {
  if (item.prompt.length === 0) throw new InputError("P_sem needs a non-empty prompt");
  const plain = tokenizer.encode(item.prompt);
  const v = variantSequences(tokenizer, item.prompt, item.target, plain);
  const prefix = tokenizer.encodePrompt ? tokenizer.encodePrompt(item.prompt) : plain;
  const lead = prefix.length - plain.length;
  if (lead < 0 || prefix.slice(lead).join(",") !== plain.join(",")) {
    throw new InputError("encodePrompt may only add tokens in front of the prompt's own ids");
  }
  if (prefix.length === 0) throw new InputError(`prompt ${JSON.stringify(item.prompt.slice(0, 40))} encodes to no tokens`);
  return { prefix, seqs: v.sequences, ...leavesOf(v.sequences) };
}

/** P_sem for many (prompt, target) pairs; results in input order. */
export async function psemBatch(
  sidecar: Sidecar,
  tokenizer: Tokenizer,
  items: readonly PsemItem[],
  opts: PsemOptions = {},
): Promise<PsemResult[]> {
  const prepared = items.map((it) => prepare(tokenizer, it));
  const logprobs: number[][][] = prepared.map((p) => p.seqs.map(() => []));
  const hello = await sidecar.hello();
  const cap = opts.maxBatchTokens ?? Infinity;
  const byMemory = hello.device.startsWith("cuda");
  const budget = byMemory && cap >= hello.max_batch_tokens ? Infinity : Math.max(1, Math.min(hello.max_batch_tokens, cap));
  const callOpts = opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : undefined;

  // Work units: (item index, sequence indices to send). Batched: one unit per prompt with its trie
  // leaves; the unbatched reference sends every sequence alone. Items without sequences need no request.
  type Unit = { i: number; js: number[] };
  const units: Unit[] = [];
  prepared.forEach((p, i) => {
    if (p.seqs.length === 0) return;
    if (opts.onePerRequest) p.seqs.forEach((_, j) => units.push({ i, js: [j] }));
    else units.push({ i, js: p.leaves });
  });
  // Same cost model as the sidecar: each continuation attends to its prefix.
  const cost = (u: Unit) => {
    const lp = prepared[u.i].prefix.length;
    return lp + u.js.reduce((s, j) => s + lp + prepared[u.i].seqs[j].ids.length, 0);
  };
  const chunks = opts.onePerRequest ? units.map((u) => [u]) : chunkBySize(units, cost, budget);
  /** Per-token log-probs of the sequences that were sent, by item and sequence index. */
  const sent: Map<number, number[]>[] = prepared.map(() => new Map());
  const remaining = units.reduce((acc, u) => (acc[u.i]++, acc), prepared.map(() => 0));
  let done = prepared.filter((p) => p.seqs.length === 0).length;
  for (const chunk of chunks) {
    const req = chunk.map((u) => ({ prefix: prepared[u.i].prefix, continuations: u.js.map((j) => prepared[u.i].seqs[j].ids) }));
    const r = await sidecar.call("score", { items: req }, callOpts);
    if (r.logprobs.length !== chunk.length) throw new SidecarError(`score returned ${r.logprobs.length} items for ${chunk.length}`, "sidecar_bad_result");
    chunk.forEach((u, k) => {
      u.js.forEach((j, m) => {
        const lp = r.logprobs[k][m];
        if (!lp || lp.length !== prepared[u.i].seqs[j].ids.length) {
          throw new SidecarError(`score returned ${lp?.length} log-probs for a ${prepared[u.i].seqs[j].ids.length}-token continuation`, "sidecar_bad_result");
        }
        sent[u.i].set(j, lp);
      });
      if (--remaining[u.i] === 0) done++;
    });
    opts.onProgress?.(done, items.length);
  }
  prepared.forEach((p, i) => {
    p.seqs.forEach((s, j) => {
      const own = sent[i].get(j);
      logprobs[i][j] = own ?? (sent[i].get(p.leaves[p.leafOf[j]]) as number[]).slice(0, s.ids.length);
    });
  });

  return prepared.map((p, i) => {
    const seqLp = p.seqs.map((s, j) => ({ ids: s.ids, logprob: logprobs[i][j].reduce((a, b) => a + b, 0) }));
    const agg = aggregatePsem(seqLp);
    return {
      p_sem: agg.p_sem,
      p_sem_plain: agg.p_sem_plain,
      prompt_ids: p.prefix,
      sequences: p.seqs.map((s, j) => ({
        ids: s.ids,
        text: s.text,
        logprob: seqLp[j].logprob,
        prob: Math.exp(seqLp[j].logprob),
        in_prefix_free_set: agg.inSet[j],
        forms: s.forms,
        split: s.split,
      })),
    };
  });
}
