/**
 * Greedy-pass traces on disk: runs/mechanistic_trace/{prompt_id}_{condition}.safetensors.
 *
 * Tensors (the sidecar's `trace` result, see protocol.ts TraceItem):
 *   attentions  decision: [n_layers, n_heads, seq], the decision query's row (seq = prompt + greedy tokens
 *               before the decision step); full: [n_layers, n_heads, seq, seq] over prompt + greedy[:-1]
 *   hidden      full only: [n_layers+1, seq, hidden] (0 = embeddings)
 *   prompt_ids  I64 [prompt_len], generated_ids I64 [steps]
 * Float tensors are stored in the dtype they travelled in (bfloat16 stays BF16, exactly; else F32).
 * Metadata (strings): format, prompt_id, condition, model_id, prompt_format, mode, prompt_len,
 * generated (JSON ids), decision_step, target_word.
 */
import { join } from "node:path";
import { decodeTensor, float32ToBf16, type Tensor } from "../rpc/arrow.ts";
import type { Condition } from "../schemas.ts";
import { InputError } from "../errors.ts";
import { asFloat32, readSafetensors, writeSafetensors, type SafeTensor } from "../util/safetensors.ts";
import type { DecisionRows } from "../metrics/attention.ts";

export const TRACE_FORMAT = "sempress-trace-2";

export interface TraceMeta {
  prompt_id: string;
  condition: Condition;
  model_id: string;
  prompt_format: string;
  mode: "decision" | "full";
  prompt_len: number;
  generated: number[];
  decision_step: number;
  target_word: string;
}

export function traceFileName(promptId: string, condition: Condition): string {
  return `${promptId}_${condition}.safetensors`;
}

export function tracePath(runsDir: string, promptId: string, condition: Condition): string {
  return join(runsDir, "mechanistic_trace", traceFileName(promptId, condition));
}

function floatTensor(t: Tensor): SafeTensor {
  if (!(t.data instanceof Float32Array)) throw new InputError(`trace tensor has dtype ${t.dtype}, expected floats`);
  if (t.dtype === "bfloat16") return { dtype: "BF16", shape: t.shape, data: float32ToBf16(t.data) };
  return { dtype: "F32", shape: t.shape, data: t.data };
}

function ids(xs: readonly number[]): SafeTensor {
  return { dtype: "I64", shape: [xs.length], data: BigInt64Array.from(xs, (x) => BigInt(x)) };
}

/** Writes one trace atomically from the sidecar's raw tensor bytes. */
export function writeTrace(file: string, item: { attentions: Uint8Array; hidden?: Uint8Array | null }, promptIds: readonly number[], meta: TraceMeta): void {
  const tensors: Record<string, SafeTensor> = {
    attentions: floatTensor(decodeTensor(item.attentions)),
    prompt_ids: ids(promptIds),
    generated_ids: ids(meta.generated),
  };
  if (item.hidden) tensors.hidden = floatTensor(decodeTensor(item.hidden));
  writeSafetensors(file, tensors, {
    format: TRACE_FORMAT,
    prompt_id: meta.prompt_id,
    condition: meta.condition,
    model_id: meta.model_id,
    prompt_format: meta.prompt_format,
    mode: meta.mode,
    prompt_len: String(meta.prompt_len),
    generated: JSON.stringify(meta.generated),
    decision_step: String(meta.decision_step),
    target_word: meta.target_word,
  });
}

export interface LoadedTrace {
  meta: TraceMeta;
  promptIds: number[];
  /** full mode only. */
  hidden: { shape: number[]; data: Float32Array } | null;
  attentions: { shape: number[]; data: Float32Array };
}

export function loadTrace(file: string): LoadedTrace {
  const f = readSafetensors(file);
  const m = f.metadata;
  if (m.format !== TRACE_FORMAT) throw InputError.at(file, null, "__metadata__.format", `expected ${TRACE_FORMAT}, got ${JSON.stringify(m.format)}`);
  for (const k of ["attentions", "prompt_ids"]) if (!f.tensors[k]) throw InputError.at(file, null, k, "tensor missing");
  const meta: TraceMeta = {
    prompt_id: m.prompt_id,
    condition: m.condition as Condition,
    model_id: m.model_id,
    prompt_format: m.prompt_format,
    mode: m.mode as "decision" | "full",
    prompt_len: Number(m.prompt_len),
    generated: JSON.parse(m.generated),
    decision_step: Number(m.decision_step),
    target_word: m.target_word,
  };
  return {
    meta,
    promptIds: Array.from(f.tensors.prompt_ids.data as BigInt64Array, Number),
    hidden: f.tensors.hidden ? { shape: f.tensors.hidden.shape, data: asFloat32(f.tensors.hidden) } : null,
    attentions: { shape: f.tensors.attentions.shape, data: asFloat32(f.tensors.attentions) },
  };
}

/**
 * The attention rows of the query at the decision step, per layer and head, as views into the trace:
 * the stored row (decision mode) or row prompt_len-1+step of the full maps.
 */
export function decisionRows(t: LoadedTrace): DecisionRows {
  const a = t.attentions;
  const step = t.meta.decision_step;
  if (t.meta.mode === "decision") {
    const [L, H, seq] = a.shape;
    if (seq !== t.meta.prompt_len + step) throw new InputError(`trace ${t.meta.prompt_id}/${t.meta.condition}: row length ${seq} is not prompt_len + decision_step = ${t.meta.prompt_len + step}`);
    return { nLayers: L, nHeads: H, row: (l, h) => a.data.subarray((l * H + h) * seq, (l * H + h + 1) * seq) };
  }
  const [L, H, P, seq] = a.shape;
  const q = t.meta.prompt_len - 1 + step;
  if (q < 0 || q >= P) throw new InputError(`trace ${t.meta.prompt_id}/${t.meta.condition}: query position ${q} outside 0..${P - 1}`);
  return {
    nLayers: L,
    nHeads: H,
    row: (l, h) => a.data.subarray(((l * H + h) * P + q) * seq, ((l * H + h) * P + q + 1) * seq),
  };
}
