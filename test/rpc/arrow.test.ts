import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  at,
  bf16ToFloat32,
  decodeTensor,
  encodeTensor,
  float32ToBf16,
  halfToFloat32,
  offsetOf,
  slice,
} from "../../src/rpc/arrow.ts";
import { SidecarError } from "../../src/errors.ts";
import { decodeFloatTensor, toNested } from "./tensors.ts";
import { needVenv } from "../fixtures/requirements.ts";

test("float32 tensor round-trips with its shape and dtype", () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  const t = decodeTensor(encodeTensor({ data, shape: [2, 3, 4] }));
  assert.equal(t.dtype, "float32");
  assert.deepEqual(t.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(t.data as Float32Array), Array.from(data));
});

test("int32 and int64 tensors decode to Int32Array and BigInt64Array", () => {
  const i32 = decodeTensor(encodeTensor({ data: Int32Array.from([1, -2, 3, 2 ** 31 - 1]), shape: [4] }));
  assert.ok(i32.data instanceof Int32Array);
  assert.deepEqual(Array.from(i32.data), [1, -2, 3, 2 ** 31 - 1]);
  const i64 = decodeTensor(encodeTensor({ data: BigInt64Array.from([1n, -(2n ** 40n)]), shape: [1, 2] }));
  assert.ok(i64.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(i64.data), [1n, -(2n ** 40n)]);
  assert.deepEqual(i64.shape, [1, 2]);
});

test("bfloat16 travels as raw uint16 and is widened to float32", () => {
  const vals = Float32Array.from([1, -2.5, 0.15625, 3.140625, 65280, -0]);
  const bits = float32ToBf16(vals);
  const t = decodeTensor(encodeTensor({ data: bits, shape: [2, 3], dtype: "bfloat16" }));
  assert.equal(t.dtype, "bfloat16");
  assert.ok(t.data instanceof Float32Array);
  assert.deepEqual(Array.from(t.data), [1, -2.5, 0.15625, 3.140625, 65280, -0]);
});

test("bfloat16 rounding keeps 8 significant bits (round to nearest even)", () => {
  const x = Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, Math.PI]);
  const w = bf16ToFloat32(float32ToBf16(x));
  assert.equal(w[0], 1); // tie → even
  assert.equal(w[1], 1 + 2 ** -6); // tie → even (up)
  assert.ok(Math.abs(w[2] - Math.PI) < 2 ** -7 * 2);
});

test("float16 bits widen to the exact half-precision values", () => {
  // 0x3c00 = 1, 0xc000 = -2, 0x3555 ≈ 0.33325, 0x0001 = smallest subnormal, 0x7c00 = inf, 0x7e00 = NaN
  const bits = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x7e00]);
  const w = halfToFloat32(bits);
  assert.equal(w[0], 1);
  assert.equal(w[1], -2);
  assert.ok(Math.abs(w[2] - 0.33325195) < 1e-7);
  assert.equal(w[3], 2 ** -24);
  assert.equal(w[4], Infinity);
  assert.ok(Number.isNaN(w[5]));
  const t = decodeTensor(encodeTensor({ data: bits, shape: [6], dtype: "float16" }));
  assert.equal(t.dtype, "float16");
  assert.deepEqual(Array.from(t.data as Float32Array).slice(0, 4), Array.from(w).slice(0, 4));
});

test("scalars and empty tensors keep their shapes", () => {
  const s = decodeTensor(encodeTensor({ data: Float32Array.from([7]), shape: [] }));
  assert.deepEqual(s.shape, []);
  assert.equal(s.data[0], 7);
  const e = decodeTensor(encodeTensor({ data: new Float32Array(0), shape: [0, 5] }));
  assert.deepEqual(e.shape, [0, 5]);
  assert.equal(e.data.length, 0);
});

test("decoding works from an unaligned view (as msgpack bin values arrive)", () => {
  const bytes = encodeTensor({ data: Float32Array.from([1, 2, 3]), shape: [3] });
  const buf = new Uint8Array(bytes.length + 3);
  buf.set(bytes, 3);
  assert.deepEqual(Array.from(decodeTensor(buf.subarray(3)).data as Float32Array), [1, 2, 3]);
});

test("a shape that does not match the value count is refused on encode", () => {
  assert.throws(() => encodeTensor({ data: new Float32Array(5), shape: [2, 3] }), (e: unknown) => e instanceof SidecarError && /needs 6 values, got 5/.test(e.message));
});

test("garbage bytes give a SidecarError with code tensor_invalid", () => {
  assert.throws(() => decodeTensor(Uint8Array.from([1, 2, 3, 4, 5])), (e: unknown) => e instanceof SidecarError && e.code === "tensor_invalid");
});

test("decodeFloatTensor refuses integer tensors", () => {
  assert.throws(() => decodeFloatTensor(encodeTensor({ data: Int32Array.from([1]), shape: [1] })), /expected a float tensor, got int32/);
});

test("indexing helpers address row-major [a,b,c] tensors", () => {
  const t = decodeFloatTensor(encodeTensor({ data: Float32Array.from({ length: 24 }, (_, i) => i), shape: [2, 3, 4] }));
  assert.equal(at(t, [1, 2, 3]), 23);
  assert.equal(at(t, [1, 0, 2]), 14);
  assert.equal(offsetOf(t.shape, [1, 1]), 16);
  const row = slice(t, [1, 2]);
  assert.deepEqual(row.shape, [4]);
  assert.deepEqual(Array.from(row.data), [20, 21, 22, 23]);
  assert.deepEqual(toNested(slice(t, [0])), [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9, 10, 11],
  ]);
  assert.throws(() => at(t, [2, 0, 0]), RangeError);
  assert.throws(() => at(t, [0, 0]), RangeError);
});

const PY = ".venv/bin/python";
test("tensors written by pyarrow decode in TS, including bf16 and float16", { skip: needVenv() }, () => {
  const script = `
import sys, json, numpy as np, pyarrow as pa
def enc(arr, tag):
    t = pa.table({"data": pa.array(arr.reshape(-1))}).replace_schema_metadata({"shape": json.dumps(list(arr.shape)), "dtype": tag})
    s = pa.BufferOutputStream(); w = pa.ipc.new_stream(s, t.schema); w.write_table(t); w.close()
    return s.getvalue().to_pybytes()
f = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
h = f.astype(np.float16)
b = (f.view(np.uint32) >> 16).astype(np.uint16)
for blob in (enc(f, "float32"), enc(h, "float16"), enc(b, "bfloat16")):
    sys.stdout.write(blob.hex() + "\\n")
`;
  const r = spawnSync(PY, ["-c", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  for (const [i, dtype] of (["float32", "float16", "bfloat16"] as const).entries()) {
    const t = decodeTensor(Uint8Array.from(Buffer.from(lines[i], "hex")));
    assert.equal(t.dtype, dtype);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(Array.from(t.data as Float32Array), [0, 0.25, 0.5, 0.75, 1, 1.25]);
  }
});
