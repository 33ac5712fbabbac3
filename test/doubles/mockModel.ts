/**
 * A deterministic toy "language model" for tests, speaking the sidecar's op results without Python.
 *
 * - Tokenizer: a fixed vocab (special tokens, the 95 printable ASCII characters, then whole-word
 *   tokens such as " Paris"); tokenize = greedy longest match, decode = concatenation. Characters
 *   outside the vocab become `<unk>` (the only case where decode(tokenize(t)) ≠ t).
 * - Next-token distribution p(·|ctx) = a deterministic function of the context ids: by default the
 *   softmax of hash noise (scale `noise`), with `pin(ctx)` able to fix exact probabilities for chosen
 *   tokens (the rest is spread by the noise); or inject `logits(ctx)` entirely.
 * - Everything else is defined from p so results are mutually consistent:
 *   score = log p; generate = argmax / seeded sampling from p; logit lens at layer l =
 *   (1 − l/L)·uniform + (l/L)·p (so layer L is p itself); decompose layer l stages = the lens at
 *   l, l + attnShare, l + 1; patching layer l mixes the first continuation token's distribution:
 *   q = p_target + w·(p_source − p_target) with w = (l+1)/L for "resid" and attnShare/L for "attn",
 *   later continuation tokens are scored unpatched (source = target ⇒ ΔP = 0 exactly);
 *   trace hidden states are hash values, attention rows are softmaxes over the causal prefix (or
 *   `attention(ids, layer, head, query)` weights, normalised here).
 */
import { Prng } from "../../src/util/prng.ts";

export interface MockModelOptions {
  /** Extra whole-word tokens appended to the default vocab. */
  words?: string[];
  nLayers?: number;
  nHeads?: number;
  hiddenSize?: number;
  /** Scale of the hash noise logits (default 2). */
  noise?: number;
  /** Exact probabilities for some tokens given the context (token id → p, Σ ≤ 1). */
  pin?: (ctx: readonly number[]) => Record<number, number> | undefined;
  /** Replaces the whole next-token logit function. */
  logits?: (ctx: readonly number[]) => Float64Array;
  /** Unnormalised attention weights over key positions 0..query (defaults to hash noise). */
  attention?: (ids: readonly number[], layer: number, head: number, query: number) => number[];
  /** Share of a layer's update attributed to attention in decompose/patch (default 0.5). */
  attnShare?: number;
  maxBatchTokens?: number;
}

export const SPECIAL_TOKENS = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<unk>"] as const;
export const EOS_ID = 0;
const UNK_ID = 3;

export const DEFAULT_WORDS = [
  " the", " The", " a", " is", " of", " in", " to", " and", " not", " Do", " use", " word", " words",
  " Answer", "Answer", " answer", " Question", "Question", " one", " English", " with", " exactly",
  " capital", " France", " Paris", " paris", " PARIS", " London", " Berlin", " Rome", " city", " blank",
  " Fill", " idiom", " cat", " dog", " bag", " sky", " blue", " red", " water", " fire", " time", " space",
];

/** 32-bit FNV-1a over integers. */
export function hashInts(xs: readonly number[], seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const x of xs) {
    h ^= x & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= (x >>> 8) & 0xffffff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A float in [-1, 1) from a hash and two small indices. */
function unit(h: number, a: number, b = 0): number {
  let x = Math.imul(h ^ Math.imul(a + 1, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(b + 7, 0xc2b2ae35);
  x ^= x >>> 15;
  x = Math.imul(x, 0x2c1b3c6d);
  x ^= x >>> 12;
  return ((x >>> 0) / 4294967296) * 2 - 1;
}

function softmax(logits: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]);
  const out = new Float64Array(logits.length);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += out[i] = Math.exp(logits[i] - m);
  for (let i = 0; i < out.length; i++) out[i] /= s;
  return out;
}

export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

export class MockModel {
  readonly vocab: string[];
  readonly nLayers: number;
  readonly nHeads: number;
  readonly hiddenSize: number;
  readonly attnShare: number;
  readonly maxBatchTokens: number;
  private readonly index = new Map<string, number>();
  private readonly maxLen: number;
  private readonly cache = new Map<string, Float64Array>();

  constructor(readonly opts: MockModelOptions = {}) {
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
    const words = [...DEFAULT_WORDS, ...(opts.words ?? [])];
    this.vocab = [...SPECIAL_TOKENS, ...ascii, ...words.filter((w, i) => !ascii.includes(w) && words.indexOf(w) === i)];
    this.vocab.forEach((t, i) => {
      if (i >= SPECIAL_TOKENS.length) this.index.set(t, i);
    });
    this.maxLen = Math.max(...this.vocab.map((t) => t.length));
    this.nLayers = opts.nLayers ?? 4;
    this.nHeads = opts.nHeads ?? 4;
    this.hiddenSize = opts.hiddenSize ?? 8;
    this.attnShare = opts.attnShare ?? 0.5;
    this.maxBatchTokens = opts.maxBatchTokens ?? 4096;
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Id of a vocab string (throws when absent). */
  id(token: string): number {
    const i = this.index.get(token) ?? SPECIAL_TOKENS.indexOf(token as never);
    if (i === undefined || i < 0) throw new Error(`mock vocab has no token ${JSON.stringify(token)}`);
    return i;
  }

  isSpecial(id: number): boolean {
    return id < SPECIAL_TOKENS.length;
  }

  tokenize(text: string): { ids: number[]; offsets: [number, number][] } {
    const chars = [...text]; // code points, like Python str indices
    const ids: number[] = [];
    const offsets: [number, number][] = [];
    let i = 0;
    while (i < chars.length) {
      let len = Math.min(this.maxLen, chars.length - i);
      for (; len > 0; len--) {
        const id = this.index.get(chars.slice(i, i + len).join(""));
        if (id !== undefined) {
          ids.push(id);
          offsets.push([i, i + len]);
          break;
        }
      }
      if (len === 0) {
        ids.push(UNK_ID);
        offsets.push([i, i + 1]);
        len = 1;
      }
      i += len;
    }
    return { ids, offsets };
  }

  decode(ids: readonly number[], skipSpecial = true): string {
    return ids
      .filter((id) => !(skipSpecial && this.isSpecial(id)))
      .map((id) => this.vocab[id] ?? "")
      .join("");
  }

  /** p(· | ctx), float64, cached by context. */
  dist(ctx: readonly number[]): Float64Array {
    const key = ctx.join(",");
    const hit = this.cache.get(key);
    if (hit) return hit;
    const V = this.vocabSize;
    let p: Float64Array;
    if (this.opts.logits) {
      p = softmax(this.opts.logits(ctx));
    } else {
      const h = hashInts(ctx);
      const scale = this.opts.noise ?? 2;
      p = softmax(Array.from({ length: V }, (_, j) => unit(h, j) * scale));
      const pinned = this.opts.pin?.(ctx);
      if (pinned && Object.keys(pinned).length) {
        let fixed = 0;
        let rest = 0;
        for (const v of Object.values(pinned)) fixed += v;
        if (fixed > 1 + 1e-12) throw new Error(`mock pin: probabilities sum to ${fixed} > 1`);
        for (let j = 0; j < V; j++) if (!(j in pinned)) rest += p[j];
        for (let j = 0; j < V; j++) p[j] = j in pinned ? pinned[j] : rest > 0 ? (p[j] / rest) * (1 - fixed) : 0;
      }
    }
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(key, p);
    return p;
  }

  /** log p(cont[t] | prefix + cont[:t]) for each t. */
  scoreOne(prefix: readonly number[], cont: readonly number[]): number[] {
    return cont.map((tok, t) => Math.log(this.dist([...prefix, ...cont.slice(0, t)])[tok]));
  }

  /** Logit-lens distribution at "depth" d ∈ [0, L] (fractional for decompose stages). */
  lens(ctx: readonly number[], depth: number): Float64Array {
    const p = this.dist(ctx);
    const a = depth / this.nLayers;
    const u = 1 / p.length;
    return p.map((x) => (1 - a) * u + a * x);
  }

  /** Weight of a layer's patch on the final distribution. */
  patchWeight(site: "resid" | "attn", layer: number): number {
    return site === "resid" ? (layer + 1) / this.nLayers : this.attnShare / this.nLayers;
  }

  /** Greedy (rng null) or sampled continuation, stopping after EOS. */
  continue(prompt: readonly number[], maxNew: number, rng: Prng | null, temperature = 1, topP = 1): number[] {
    const out: number[] = [];
    for (let s = 0; s < maxNew; s++) {
      const p = this.dist([...prompt, ...out]);
      const tok = rng ? sample(p, rng, temperature, topP) : argmax(p);
      out.push(tok);
      if (tok === EOS_ID) break;
    }
    return out;
  }

  /** Hidden-state value of layer l (0 = embeddings) at position pos of ids, component k. */
  hidden(ids: readonly number[], pos: number, l: number, k: number): number {
    return unit(hashInts(ids.slice(0, pos + 1)), l, k);
  }

  /** Attention row of (layer, head) for query position q over keys 0..q, summing to 1. */
  attentionRow(ids: readonly number[], layer: number, head: number, q: number): Float64Array {
    if (this.opts.attention) {
      const w = this.opts.attention(ids, layer, head, q).slice(0, q + 1);
      const s = w.reduce((a, b) => a + b, 0);
      return Float64Array.from({ length: q + 1 }, (_, i) => (s > 0 ? (w[i] ?? 0) / s : 1 / (q + 1)));
    }
    const h = hashInts(ids.slice(0, q + 1), layer * 131 + head + 1);
    return softmax(Array.from({ length: q + 1 }, (_, i) => unit(h, i) * 2));
  }
}

/** Samples from p with temperature and nucleus (top-p) filtering. */
export function sample(p: Float64Array, rng: Prng, temperature: number, topP: number): number {
  let q = p.map((x) => Math.pow(x, 1 / temperature));
  const s = q.reduce((a, b) => a + b, 0);
  q = q.map((x) => x / s);
  const order = Array.from(q.keys()).sort((a, b) => q[b] - q[a] || a - b);
  const keep: number[] = [];
  let cum = 0;
  for (const j of order) {
    keep.push(j);
    cum += q[j];
    if (cum >= topP) break;
  }
  let r = rng.next() * cum;
  for (const j of keep) {
    r -= q[j];
    if (r < 0) return j;
  }
  return keep[keep.length - 1];
}
