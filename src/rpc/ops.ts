/**
 * Typed convenience wrappers over `Sidecar.call`, shared by the real client and the mock: one method
 * per op, and chunking of big requests by the sidecar's token budget for score, generate and
 * logit_lens (results are concatenated back in input order, so callers never see the chunks).
 */
import { SidecarError } from "../errors.ts";
import type { HelloResult, Op, OpArgs, OpResult, Sidecar } from "./protocol.ts";

export interface CallOpts {
  timeoutMs?: number;
}

/**
 * Splits items into consecutive chunks whose summed size stays within `budget` (an item bigger than the
 * budget travels alone). Pure; exported for tests.
 */
export function chunkBySize<T>(items: readonly T[], size: (item: T) => number, budget: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let sum = 0;
  for (const it of items) {
    const s = Math.max(1, size(it));
    if (cur.length > 0 && sum + s > budget) {
      out.push(cur);
      cur = [];
      sum = 0;
    }
    cur.push(it);
    sum += s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

type ScoreItem = OpArgs<"score">["items"][number];
type LensItem = OpArgs<"logit_lens">["items"][number];
type GenerateOpts = Omit<OpArgs<"generate">, "prompts" | "seeds">;

export abstract class SidecarBase implements Sidecar {
  abstract call<O extends Op>(op: O, args: OpArgs<O>, opts?: CallOpts): Promise<OpResult<O>>;
  abstract hello(): Promise<HelloResult>;
  abstract close(): Promise<void>;

  /** Client-side cap on tokens per request (config sidecar.maxBatchTokens); Infinity = the sidecar's own. */
  protected clientBatchTokens = Infinity;

  /** Tokens per request: the smaller of the sidecar's advertised budget and the client's cap. */
  async batchBudget(): Promise<number> {
    const h = await this.hello();
    return Math.max(1, Math.min(h.max_batch_tokens, this.clientBatchTokens));
  }

  async tokenize(texts: string[], addSpecialTokens = false, opts?: CallOpts): Promise<OpResult<"tokenize">> {
    return this.call("tokenize", { texts, add_special_tokens: addSpecialTokens }, opts);
  }

  async decode(ids: number[][], skipSpecialTokens = true, opts?: CallOpts): Promise<string[]> {
    return (await this.call("decode", { ids, skip_special_tokens: skipSpecialTokens }, opts)).texts;
  }

  async chatTemplate(texts: string[], system: string | null = null, opts?: CallOpts): Promise<string[]> {
    return (await this.call("chat_template", { texts, system }, opts)).texts;
  }

  /** logprobs[item][continuation][t]; chunked so each request's prefix+continuation tokens fit the budget. */
  async score(items: ScoreItem[], opts?: CallOpts): Promise<number[][][]> {
    const budget = await this.batchBudget();
    const size = (it: ScoreItem) => it.prefix.length + it.continuations.reduce((s, c) => s + c.length, 0);
    const out: number[][][] = [];
    for (const chunk of chunkBySize(items, size, budget)) {
      const r = await this.call("score", { items: chunk }, opts);
      out.push(...r.logprobs);
    }
    return out;
  }

  /**
   * sequences[prompt][k]. One request: the sidecar groups prompts itself (by device memory on CUDA,
   * else by its token budget), so a chunk's 2·chunk × n sample rows decode together. Only a client cap
   * below the sidecar's budget (config sidecar.maxBatchTokens) splits by (prompt + new tokens) × n.
   * `seeds` (one per prompt) travel with their prompts, so results do not depend on the split.
   */
  async generate(prompts: number[][], o: GenerateOpts & { seeds?: number[] }, opts?: CallOpts): Promise<number[][][]> {
    return (await this.generateRows(prompts, o, opts)).sequences;
  }

  /** As `generate`, plus greedy[prompt] when `o.greedy_tokens` > 0 (one greedy row per prompt, same batch). */
  async generateRows(
    prompts: number[][],
    o: GenerateOpts & { seeds?: number[] },
    opts?: CallOpts,
  ): Promise<{ sequences: number[][][]; greedy: number[][] | null }> {
    const h = await this.hello();
    const budget = this.clientBatchTokens < h.max_batch_tokens ? this.clientBatchTokens : Infinity;
    const greedyTokens = o.greedy_tokens ?? 0;
    const rows = (o.n ?? 1) + (greedyTokens > 0 ? 1 : 0);
    const steps = Math.max(o.max_new_tokens, greedyTokens);
    const idx = prompts.map((_, i) => i);
    const sequences: number[][][] = [];
    const greedy: number[][] | null = greedyTokens > 0 ? [] : null;
    for (const chunk of chunkBySize(idx, (i) => (prompts[i].length + steps) * rows, budget)) {
      const args: OpArgs<"generate"> = { ...o, prompts: chunk.map((i) => prompts[i]) };
      if (o.seeds) args.seeds = chunk.map((i) => o.seeds![i]);
      const r = await this.call("generate", args, opts);
      sequences.push(...r.sequences);
      if (greedy) {
        if (!r.greedy || r.greedy.length !== chunk.length) {
          throw new SidecarError(`generate returned ${r.greedy?.length ?? "no"} greedy rows for ${chunk.length} prompts`, "sidecar_bad_result");
        }
        greedy.push(...r.greedy);
      }
    }
    return { sequences, greedy };
  }

  /** Attention (and, in full mode, hidden states) of each sequence; see protocol.ts TraceArgs. */
  async trace(sequences: number[][], mode: "decision" | "full" = "decision", opts?: CallOpts): Promise<OpResult<"trace">["items"]> {
    return (await this.call("trace", { sequences, mode }, opts)).items;
  }

  /** probs[item][layer][k], layer 0..n_layers; chunked by ids length. */
  async logitLens(items: LensItem[], opts?: CallOpts): Promise<number[][][]> {
    const budget = await this.batchBudget();
    const out: number[][][] = [];
    for (const chunk of chunkBySize(items, (it) => it.ids.length, budget)) {
      out.push(...(await this.call("logit_lens", { items: chunk }, opts)).probs);
    }
    return out;
  }

  async decompose(items: LensItem[], opts?: CallOpts): Promise<number[][][][]> {
    return (await this.call("decompose", { items }, opts)).probs;
  }

  async patch(args: OpArgs<"patch">, opts?: CallOpts): Promise<OpResult<"patch">["items"]> {
    return (await this.call("patch", args, opts)).items;
  }

  async setSeed(seed: number, opts?: CallOpts): Promise<void> {
    await this.call("set_seed", { seed }, opts);
  }

  /** Sends a tensor (Arrow IPC bytes) and returns what came back; no tensor → empty round trip. */
  async echo(tensor?: Uint8Array, opts?: CallOpts): Promise<Uint8Array | null> {
    const r = await this.call("echo", tensor ? { tensor: tensor as Uint8Array<ArrayBuffer> } : {}, opts);
    return r.tensor ?? null;
  }
}
