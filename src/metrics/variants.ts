/**
 * S(X): the token sequences that spell the target word X as the start of an answer (DESIGN.md
 * "Metrics").
 *
 * Surface forms: cases {X, lower, Title, UPPER} × {"v", " v", "v.", " v."}, plus the same with one
 * trailing space ("v ", " v ", "v. ", " v. "); duplicates dropped.
 *
 * Tokenisation is the one the model sees after the prompt: encode(prompt + form) without special
 * tokens, split at the boundary, i.e. continuation = joint[len(encode(prompt)):]. We check that
 * the prompt's own tokens are unchanged by appending the form (joint starts with encode(prompt)).
 * When they are not — the form merges with the prompt's last characters, e.g. raw "Answer:" + "Paris"
 * pre-tokenises as "Answer", ":Paris" — the prompt the model is given is fixed, so the form is
 * tokenised on its own instead (`split: "separate"`): that is the canonical way to emit it after
 * those fixed prompt tokens. Every sequence records which split produced it.
 *
 * A sequence is kept when its decode normalises (normalizeForMatch) to X; sequences are deduplicated
 * by ids (a form and its Title case often coincide), remembering every form that produced them.
 */
import { InputError } from "../errors.ts";
import type { Tokenizer } from "../tokenizer/hfTokenizer.ts";
import { normalizeForMatch } from "../util/normalize.ts";

export interface VariantSequence {
  /** Continuation token ids after the prompt. */
  ids: number[];
  /** decode(ids). */
  text: string;
  /** Surface forms that tokenise to these ids. */
  forms: string[];
  split: "joint" | "separate";
}

export interface VariantSet {
  /** encode(prompt) without special tokens. */
  promptIds: number[];
  /** Deduplicated sequences whose decode normalises to X, in form order. */
  sequences: VariantSequence[];
  /** Forms dropped because their decode does not normalise to X (with that decode). */
  rejected: { form: string; text: string }[];
}

function titleCase(x: string): string {
  const cps = [...x];
  return cps.length ? cps[0].toUpperCase() + cps.slice(1).join("").toLowerCase() : x;
}

/** The surface forms of X, deduplicated, in a fixed order. */
export function surfaceForms(target: string): string[] {
  const cases = [target, target.toLowerCase(), titleCase(target), target.toUpperCase()];
  const out: string[] = [];
  for (const trail of ["", " "]) {
    for (const c of cases) {
      for (const f of [c, ` ${c}`, `${c}.`, ` ${c}.`]) {
        const s = f + trail;
        if (!out.includes(s)) out.push(s);
      }
    }
  }
  return out;
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

/**
 * Token ids of `text` as a continuation of `prompt` (whose ids are `promptIds`): the tail of
 * encode(prompt + text) when that keeps the prompt's ids intact ("joint"), else encode(text)
 * ("separate"). This is how the generated ids of a canonical answer are recovered from its text.
 */
export function continuationIds(
  tokenizer: Tokenizer,
  prompt: string,
  promptIds: readonly number[],
  text: string,
  joined: (text: string) => number[] = (t) => tokenizer.encode(prompt + t),
): { ids: number[]; split: VariantSequence["split"] } {
  const joint = joined(text);
  if (startsWith(joint, promptIds) && joint.length > promptIds.length) {
    return { ids: joint.slice(promptIds.length), split: "joint" };
  }
  return { ids: tokenizer.encode(text), split: "separate" };
}

/**
 * encode(prompt + text) for many `text`s, re-encoding only the prompt's tail. Byte-level BPE merges stay
 * inside pre-tokens, and the pre-tokenizer (no look-behind) ends a match at a newline that is followed
 * by a non-space character: whitespace runs stop there and no pattern starts with a newline. So the
 * matches up to the last such newline do not depend on what follows, and encode(head + tail + text) =
 * encode(head) ++ encode(tail + text) with head ending at it. (A newline followed by spaces is not a safe
 * cut: "\n  " + "\n" is one pre-token.) Used only when encode(head) ++ encode(tail) reproduces
 * `promptIds` (else every call is a full encode); a test checks the equality on real prompts, S(X) forms
 * and generated tails with Qwen's tokenizer.
 */
export function promptJoiner(tokenizer: Tokenizer, prompt: string, promptIds: readonly number[]): (text: string) => number[] {
  const full = (text: string) => tokenizer.encode(prompt + text);
  let cut = 0;
  for (let i = prompt.length - 2; i >= 0; i--) {
    if (prompt[i] === "\n" && !/\s/u.test(prompt[i + 1])) {
      cut = i + 1;
      break;
    }
  }
  if (cut === 0) return full;
  const head = tokenizer.encode(prompt.slice(0, cut));
  const tail = prompt.slice(cut);
  const ids = [...head, ...tokenizer.encode(tail)];
  if (ids.length !== promptIds.length || ids.some((x, i) => x !== promptIds[i])) return full;
  return (text) => [...head, ...tokenizer.encode(tail + text)];
}

/** S(X) after `prompt`, tokenised with `tokenizer` (see the module comment for the rules). */
export function variantSequences(tokenizer: Tokenizer, prompt: string, target: string, promptIds?: readonly number[]): VariantSet {
  const want = normalizeForMatch(target);
  if (want === "") throw new InputError(`target word ${JSON.stringify(target)} is empty after normalisation`);
  const pIds = promptIds ? [...promptIds] : tokenizer.encode(prompt);
  const joined = promptJoiner(tokenizer, prompt, pIds);
  const byKey = new Map<string, VariantSequence>();
  const rejected: { form: string; text: string }[] = [];
  for (const form of surfaceForms(target)) {
    const { ids, split } = continuationIds(tokenizer, prompt, pIds, form, joined);
    if (ids.length === 0) continue;
    const text = tokenizer.decode(ids);
    if (normalizeForMatch(text) !== want) {
      rejected.push({ form, text });
      continue;
    }
    const key = ids.join(",");
    const seen = byKey.get(key);
    if (seen) seen.forms.push(form);
    else byKey.set(key, { ids, text, forms: [form], split });
  }
  return { promptIds: pIds, sequences: [...byKey.values()], rejected };
}

/**
 * Indices of the prefix-free reduction: drop every sequence that strictly extends another sequence
 * of the set (its event "the answer starts with these tokens" is contained in the shorter one's).
 * What remains are pairwise disjoint events, so their probabilities sum to at most 1.
 */
export function prefixFreeIndices(seqs: readonly (readonly number[])[]): Set<number> {
  const keep = new Set<number>();
  seqs.forEach((s, i) => {
    const extendsOther = seqs.some((o, j) => j !== i && o.length < s.length && startsWith(s, o));
    if (!extendsOther) keep.add(i);
  });
  return keep;
}
