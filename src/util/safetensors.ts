/**
 * A small reader/writer of the safetensors format (what traces are stored in; no pickle):
 *   8 bytes   little-endian u64 N = length of the JSON header
 *   N bytes   UTF-8 JSON: {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *             "__metadata__": {"<key>": "<string>"}}, padded with spaces to a multiple of 8
 *   rest      the tensors' raw little-endian bytes; data_offsets are relative to the start of this block
 * Tensors are laid out back to back (the format allows no gaps) ordered by element size, largest first,
 * then name, so every tensor starts aligned to its element size; a file is a pure function of its
 * contents (resumed and uninterrupted runs write identical bytes).
 */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.ts";
import { writeFileAtomic } from "./jsonl.ts";

export type SafeDtype = "F32" | "F16" | "BF16" | "I32" | "I64" | "U8" | "U16";

export type SafeData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** F16/BF16 hold raw uint16 bits. */
  data: SafeData;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, U8: 1, U16: 2 };

function ctorFor(dtype: SafeDtype): (buf: ArrayBuffer, off: number, n: number) => SafeData {
  switch (dtype) {
    case "F32":
      return (b, o, n) => new Float32Array(b, o, n);
    case "I32":
      return (b, o, n) => new Int32Array(b, o, n);
    case "I64":
      return (b, o, n) => new BigInt64Array(b, o, n);
    case "U8":
      return (b, o, n) => new Uint8Array(b, o, n);
    case "F16":
    case "BF16":
    case "U16":
      return (b, o, n) => new Uint16Array(b, o, n);
  }
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

/** Serialises tensors and a string→string metadata map to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort((a, b) => BYTES[tensors[b].dtype] - BYTES[tensors[a].dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    const meta: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      if (typeof metadata[k] !== "string") throw new TypeError(`safetensors metadata ${k}: values must be strings`);
      meta[k] = metadata[k];
    }
    header.__metadata__ = meta;
  }
  let offset = 0;
  const placed: { t: SafeTensor; begin: number; bytes: number }[] = [];
  for (const name of names) {
    if (name === "__metadata__") throw new TypeError("safetensors: tensor name __metadata__ is reserved");
    const t = tensors[name];
    const bytes = numel(t.shape) * BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new TypeError(`safetensors tensor ${name}: shape [${t.shape.join(",")}] ${t.dtype} needs ${bytes} bytes, got ${t.data.byteLength}`);
    }
    const begin = offset;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [begin, begin + bytes] };
    placed.push({ t, begin, bytes });
    offset = begin + bytes;
  }
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  const hlen = pad8(raw.length);
  json = json + " ".repeat(hlen - raw.length);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hlen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hlen), true);
  out.set(headerBytes, 8);
  const base = 8 + hlen;
  for (const p of placed) {
    out.set(new Uint8Array(p.t.data.buffer, p.t.data.byteOffset, p.bytes), base + p.begin);
  }
  return out;
}

export interface SafetensorsFile {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes; `where` names the source in errors. */
export function decodeSafetensors(bytes: Uint8Array, where = "<bytes>"): SafetensorsFile {
  const bad = (why: string) => InputError.at(where, null, null, `not a valid safetensors file (${why})`);
  if (bytes.length < 8) throw bad("shorter than 8 bytes");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > bytes.length - 8) throw bad(`header length ${hlen} exceeds file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    throw bad(`header is not JSON: ${(e as Error).message}`);
  }
  const base = 8 + hlen;
  const tensors: Record<string, SafeTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (v ?? {}) as Record<string, string>;
      continue;
    }
    const info = v as { dtype: SafeDtype; shape: number[]; data_offsets: [number, number] };
    if (!(info.dtype in BYTES)) throw bad(`tensor ${name}: unsupported dtype ${info.dtype}`);
    const [b, e] = info.data_offsets;
    const n = numel(info.shape);
    if (e - b !== n * BYTES[info.dtype] || base + e > bytes.length) throw bad(`tensor ${name}: data_offsets [${b},${e}] do not fit`);
    // Copy into an aligned buffer so typed-array views are legal whatever the offset.
    const copy = new Uint8Array(bytes.subarray(base + b, base + e)); // Buffer.slice would be a view
    tensors[name] = { dtype: info.dtype, shape: info.shape, data: ctorFor(info.dtype)(copy.buffer, 0, n) };
  }
  return { tensors, metadata };
}

export function writeSafetensors(file: string, tensors: Record<string, SafeTensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export function readSafetensors(file: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw InputError.at(file, null, null, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(bytes, file);
}

/** Float values of a F32/F16/BF16 tensor as float32 (widening half types). */
export function asFloat32(t: SafeTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.dtype === "BF16") {
    const bits = t.data as Uint16Array;
    const out = new Float32Array(bits.length);
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
    return out;
  }
  if (t.dtype === "F16") {
    const bits = t.data as Uint16Array;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) {
      const h = bits[i];
      const s = h & 0x8000 ? -1 : 1;
      const ex = (h >> 10) & 0x1f;
      const fr = h & 0x3ff;
      out[i] = ex === 0 ? s * fr * 2 ** -24 : ex === 31 ? (fr ? NaN : s * Infinity) : s * (1 + fr / 1024) * 2 ** (ex - 15);
    }
    return out;
  }
  throw new TypeError(`expected a float tensor, got ${t.dtype}`);
}
