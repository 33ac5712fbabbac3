/**
 * One tensor ↔ one Arrow IPC stream (see protocol.ts): a single column "data" holding the flat,
 * row-major values, and schema metadata {"shape": "[d0,d1,...]", "dtype": Dtype}. bfloat16 travels as
 * raw uint16 (the top half of a float32); float16 as IEEE half bits. Both are widened to float32 here.
 */
import {
  Field,
  Float16,
  Float32,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  Uint16,
  type DataType,
} from "apache-arrow";
import { SidecarError } from "../errors.ts";

export const DTYPES = ["float32", "float16", "bfloat16", "int32", "int64"] as const;
export type Dtype = (typeof DTYPES)[number];

/** Values of a decoded tensor: floats are always widened to float32. */
export type TensorData = Float32Array | Int32Array | BigInt64Array;

export interface Tensor<D extends TensorData = TensorData> {
  data: D;
  shape: number[];
  /** The dtype it travelled as (float16/bfloat16 data is already widened to float32). */
  dtype: Dtype;
}

export type FloatTensor = Tensor<Float32Array>;

/** Input accepted by `encodeTensor`: float16/bfloat16 take raw uint16 bits. */
export type EncodeInput =
  | { data: Float32Array; shape: readonly number[]; dtype?: "float32" }
  | { data: Uint16Array; shape: readonly number[]; dtype: "float16" | "bfloat16" }
  | { data: Int32Array; shape: readonly number[]; dtype?: "int32" }
  | { data: BigInt64Array; shape: readonly number[]; dtype?: "int64" };

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new SidecarError(`tensor shape ${JSON.stringify(shape)}: dimensions must be non-negative integers`, "tensor_invalid");
    n *= d;
  }
  return n;
}

function inferDtype(t: EncodeInput): Dtype {
  if (t.dtype) return t.dtype;
  if (t.data instanceof Float32Array) return "float32";
  if (t.data instanceof Int32Array) return "int32";
  if (t.data instanceof BigInt64Array) return "int64";
  throw new SidecarError("encodeTensor: a Uint16Array needs dtype float16 or bfloat16", "tensor_invalid");
}

function arrowType(dtype: Dtype): DataType {
  switch (dtype) {
    case "float32":
      return new Float32();
    case "float16":
      return new Float16();
    case "bfloat16":
      return new Uint16();
    case "int32":
      return new Int32();
    case "int64":
      return new Int64();
  }
}

/** Encodes one tensor as Arrow IPC stream bytes. The values are not copied before serialisation. */
export function encodeTensor(t: EncodeInput): Uint8Array {
  const dtype = inferDtype(t);
  const n = numel(t.shape);
  if (t.data.length !== n) {
    throw new SidecarError(`encodeTensor: shape ${JSON.stringify(t.shape)} needs ${n} values, got ${t.data.length}`, "tensor_invalid");
  }
  const type = arrowType(dtype);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const data = makeData({ type, length: n, nullCount: 0, data: t.data } as any);
  const schema = new Schema(
    [new Field("data", type, false)],
    new Map([
      ["shape", JSON.stringify([...t.shape])],
      ["dtype", dtype],
    ]),
  );
  const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [data] });
  return tableToIPC(new Table(schema, new RecordBatch(schema, struct)), "stream");
}

/** float16 bits → float32, by a 64 K lookup table built on first use. */
let HALF_TABLE: Float32Array | undefined;
function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  HALF_TABLE = t;
  return t;
}

/** Widens raw float16 bits to float32. */
export function halfToFloat32(bits: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** Widens raw bfloat16 bits to float32 (exact: bf16 is the top half of a float32). */
export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}

/** Rounds float32 values to bfloat16 bits (round to nearest even); used by tests and the mock. */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = (x >>> 16) | 0x40;
    else out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/** Concatenates the chunks of the "data" column into one typed array (zero-copy when one chunk). */
function flatValues<T extends ArrayLike<unknown> & { subarray?: unknown }>(
  chunks: { values: T; offset: number; length: number }[],
  make: (n: number) => T & { set(a: T, o: number): void },
): T {
  const views = chunks.map((c) => (c.values as unknown as { subarray(a: number, b: number): T }).subarray(c.offset, c.offset + c.length));
  if (views.length === 1) return views[0];
  const total = views.reduce((s, v) => s + v.length, 0);
  const out = make(total);
  let o = 0;
  for (const v of views) {
    out.set(v, o);
    o += v.length;
  }
  return out;
}

/** Decodes Arrow IPC stream bytes of one tensor. Throws SidecarError(tensor_invalid) on anything malformed. */
export function decodeTensor(bytes: Uint8Array): Tensor {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (e) {
    throw new SidecarError(`tensor bytes are not an Arrow IPC stream (${(e as Error).message})`, "tensor_invalid", undefined, { cause: e });
  }
  const meta = table.schema.metadata;
  const dtype = meta.get("dtype") as Dtype | undefined;
  const shapeText = meta.get("shape");
  if (!dtype || !(DTYPES as readonly string[]).includes(dtype)) {
    throw new SidecarError(`tensor metadata dtype ${JSON.stringify(dtype)} is not one of ${DTYPES.join(", ")}`, "tensor_invalid");
  }
  let shape: number[];
  try {
    shape = JSON.parse(shapeText ?? "");
  } catch {
    throw new SidecarError(`tensor metadata shape ${JSON.stringify(shapeText)} is not a JSON list`, "tensor_invalid");
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SidecarError(`tensor metadata shape ${JSON.stringify(shapeText)} is not a list of non-negative integers`, "tensor_invalid");
  }
  const col = table.getChild("data");
  if (!col) throw new SidecarError('tensor has no column "data"', "tensor_invalid");
  if (col.nullCount > 0) throw new SidecarError('tensor column "data" has nulls', "tensor_invalid");
  const n = numel(shape);
  if (col.length !== n) {
    throw new SidecarError(`tensor shape ${shapeText} needs ${n} values, column "data" has ${col.length}`, "tensor_invalid");
  }
  const chunks = col.data as unknown as { values: never; offset: number; length: number }[];
  let data: TensorData;
  switch (dtype) {
    case "float32":
      data = flatValues<Float32Array>(chunks, (k) => new Float32Array(k));
      break;
    case "float16":
      data = halfToFloat32(flatValues<Uint16Array>(chunks, (k) => new Uint16Array(k)));
      break;
    case "bfloat16":
      data = bf16ToFloat32(flatValues<Uint16Array>(chunks, (k) => new Uint16Array(k)));
      break;
    case "int32":
      data = flatValues<Int32Array>(chunks, (k) => new Int32Array(k));
      break;
    case "int64":
      data = flatValues<BigInt64Array>(chunks, (k) => new BigInt64Array(k));
      break;
  }
  const expectFloat = dtype === "float32" || dtype === "float16" || dtype === "bfloat16";
  if (expectFloat !== data instanceof Float32Array) {
    throw new SidecarError(`tensor dtype ${dtype} does not match its Arrow column type ${col.type}`, "tensor_invalid");
  }
  return { data, shape, dtype };
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Flat offset of a full index; throws on a wrong rank or an index out of range. */
export function offsetOf(shape: readonly number[], index: readonly number[]): number {
  if (index.length > shape.length) throw new RangeError(`index of rank ${index.length} into shape [${shape.join(",")}]`);
  const st = strides(shape);
  let o = 0;
  for (let i = 0; i < index.length; i++) {
    const k = index[i];
    if (!Number.isInteger(k) || k < 0 || k >= shape[i]) {
      throw new RangeError(`index ${k} out of range for dimension ${i} of shape [${shape.join(",")}]`);
    }
    o += k * st[i];
  }
  return o;
}

/** One element: `at(t, [a, b, c])`. */
export function at<D extends TensorData>(t: Tensor<D>, index: readonly number[]): D extends BigInt64Array ? bigint : number {
  if (index.length !== t.shape.length) throw new RangeError(`at(): need ${t.shape.length} indices, got ${index.length}`);
  return t.data[offsetOf(t.shape, index)] as never;
}

/**
 * The sub-tensor at a leading index prefix, as a view (no copy): `slice(t, [s, l])` of a [S, L, H]
 * tensor is the H-vector of step s, layer l.
 */
export function slice<D extends TensorData>(t: Tensor<D>, prefix: readonly number[]): Tensor<D> {
  const start = offsetOf(t.shape, prefix);
  const rest = t.shape.slice(prefix.length);
  const n = rest.reduce((a, b) => a * b, 1);
  return { data: t.data.subarray(start, start + n) as D, shape: rest, dtype: t.dtype };
}
