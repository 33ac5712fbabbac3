/**
 * Test helpers over src/rpc/arrow.ts: decode a tensor that must hold floats, and turn a small tensor
 * into nested arrays for deepEqual. Production reads tensors through decodeTensor/slice/at.
 */
import { decodeTensor, strides, type FloatTensor, type Tensor } from "../../src/rpc/arrow.ts";
import { SidecarError } from "../../src/errors.ts";

/** Decodes a tensor that must hold floats (float32/float16/bfloat16). */
export function decodeFloatTensor(bytes: Uint8Array): FloatTensor {
  const t = decodeTensor(bytes);
  if (!(t.data instanceof Float32Array)) throw new SidecarError(`expected a float tensor, got ${t.dtype}`, "tensor_invalid");
  return t as FloatTensor;
}

/** Nested plain arrays of a float/int32 tensor. */
export function toNested(t: Tensor<Float32Array | Int32Array>): unknown {
  const rec = (dim: number, off: number): unknown => {
    if (dim === t.shape.length) return t.data[off];
    const st = strides(t.shape)[dim];
    return Array.from({ length: t.shape[dim] }, (_, i) => rec(dim + 1, off + i * st));
  };
  return rec(0, 0);
}
