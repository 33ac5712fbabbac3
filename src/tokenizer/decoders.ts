/**
 * The decoder chain of a tokenizer.json, implemented as the Rust `tokenizers` crate does it (which
 * is what transformers calls), for the decoder types real causal LMs use: ByteLevel (GPT-2, Qwen,
 * SmolLM), and the SentencePiece family Replace / ByteFallback / Fuse / Strip / Metaspace (Llama,
 * Gemma, Mistral), nested in Sequence. `buildDecoder` returns null for anything else, and the caller
 * falls back to @lenml/tokenizers.
 *
 * Why not @lenml for these: its ByteFallback decodes an invalid run of <0xNN> byte tokens with
 * WHATWG replacement (one U+FFFD per maximal subpart), while Rust emits one U+FFFD per byte token
 * whenever the run is not valid UTF-8 as a whole — prefix decodes of split characters differ.
 */
import { decodeByteLevel } from "./byteLevel.ts";

/** tokens → tokens, as Rust's `decode_chain`; the final text is the concatenation. */
export type DecodeChain = (tokens: string[]) => string[];

interface DecoderSpec {
  type?: string;
  decoders?: DecoderSpec[];
  pattern?: { String?: string; Regex?: string };
  content?: string;
  start?: number;
  stop?: number;
  replacement?: string;
  prepend_scheme?: string;
  add_prefix_space?: boolean;
}

const strict = new TextDecoder("utf-8", { fatal: true });

function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out.push(strict.decode(Uint8Array.from(bytes)));
    } catch {
      for (let i = 0; i < bytes.length; i++) out.push("\uFFFD");
    }
    bytes = [];
  };
  for (const t of tokens) {
    const m = t.length === 6 && t.startsWith("<0x") && t.endsWith(">") ? parseInt(t.slice(3, 5), 16) : NaN;
    if (!Number.isNaN(m)) bytes.push(m);
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}

function strip(content: string, start: number, stop: number): DecodeChain {
  return (tokens) =>
    tokens.map((t) => {
      const chars = [...t];
      let a = 0;
      for (let i = 0; i < Math.min(start, chars.length); i++) {
        if (chars[i] === content) a = i + 1;
        else break;
      }
      let b = chars.length;
      for (let i = 0; i < stop && chars.length - i - 1 >= 0; i++) {
        const k = chars.length - i - 1;
        if (chars[k] === content) b = k;
        else break;
      }
      return chars.slice(a, Math.max(a, b)).join("");
    });
}

function metaspace(spec: DecoderSpec): DecodeChain {
  const rep = spec.replacement ?? "▁";
  const prepend = spec.prepend_scheme !== undefined ? spec.prepend_scheme !== "never" : spec.add_prefix_space !== false;
  return (tokens) =>
    tokens.map((t, i) => {
      let s = t.replaceAll(rep, " ");
      if (i === 0 && prepend && s.startsWith(" ")) s = s.slice(1);
      return s;
    });
}

/** The chain for a decoder spec, or null when a part is not supported here. */
export function buildDecoder(spec: unknown): DecodeChain | null {
  if (!spec || typeof spec !== "object") return null;
  const d = spec as DecoderSpec;
  switch (d.type) {
    case "ByteLevel":
      return (tokens) => [decodeByteLevel(tokens)];
    case "Fuse":
      return (tokens) => [tokens.join("")];
    case "ByteFallback":
      return byteFallback;
    case "Replace": {
      if (d.pattern?.String === undefined) return null; // regex patterns: leave to @lenml
      const from = d.pattern.String;
      const to = d.content ?? "";
      return (tokens) => tokens.map((t) => t.replaceAll(from, to));
    }
    case "Strip":
      return strip(d.content ?? " ", d.start ?? 0, d.stop ?? 0);
    case "Metaspace":
      return metaspace(d);
    case "Sequence": {
      const parts = (d.decoders ?? []).map(buildDecoder);
      if (parts.length === 0 || parts.some((p) => p === null)) return null;
      return (tokens) => (parts as DecodeChain[]).reduce((acc, f) => f(acc), tokens);
    }
    default:
      return null;
  }
}
