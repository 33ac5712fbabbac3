/**
 * Greedy-pass traces on disk: runs/mechanistic_trace/{prompt_id}_{condition}.safetensors.
 *
 * Tensors (the sidecar's `trace` result, see protocol.ts TraceItem):
 *   hidden      rows: [steps, n_layers+1, hidden]        full: [n_layers+1, seq, hidden]
 *   attentions  rows: [steps, n_layers, n_heads, seq]     full: [n_layers, n_heads, seq, seq]
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

export const TRACE_FORMAT = "sempress-trace-1";

export interface TraceMeta {
  prompt_id: string;
  condition: Condition;
  model_id: string;
  prompt_format: string;
  mode: "rows" | "full";
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
export function writeTrace(file: string, item: { hidden: Uint8Array; attentions: Uint8Array }, promptIds: readonly number[], meta: TraceMeta): void {
  const hidden = decodeTensor(item.hidden);
  const attentions = decodeTensor(item.attentions);
  writeSafetensors(
    file,
    {
      hidden: floatTensor(hidden),
      attentions: floatTensor(attentions),
      prompt_ids: ids(promptIds),
      generated_ids: ids(meta.generated),
    },
    {
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
    },
  );
}

export interface LoadedTrace {
  meta: TraceMeta;
  promptIds: number[];
  hidden: { shape: number[]; data: Float32Array };
  attentions: { shape: number[]; data: Float32Array };
}

export function loadTrace(file: string): LoadedTrace {
  const f = readSafetensors(file);
  const m = f.metadata;
  if (m.format !== TRACE_FORMAT) throw InputError.at(file, null, "__metadata__.format", `expected ${TRACE_FORMAT}, got ${JSON.stringify(m.format)}`);
  for (const k of ["hidden", "attentions", "prompt_ids"]) if (!f.tensors[k]) throw InputError.at(file, null, k, "tensor missing");
  const meta: TraceMeta = {
    prompt_id: m.prompt_id,
    condition: m.condition as Condition,
    model_id: m.model_id,
    prompt_format: m.prompt_format,
    mode: m.mode as "rows" | "full",
    prompt_len: Number(m.prompt_len),
    generated: JSON.parse(m.generated),
    decision_step: Number(m.decision_step),
    target_word: m.target_word,
  };
  return {
    meta,
    promptIds: Array.from(f.tensors.prompt_ids.data as BigInt64Array, Number),
    hidden: { shape: f.tensors.hidden.shape, data: asFloat32(f.tensors.hidden) },
    attentions: { shape: f.tensors.attentions.shape, data: asFloat32(f.tensors.attentions) },
  };
}

/**
 * The attention rows of the query at generation step `step` (position prompt_len-1+step), per layer
 * and head, as views into the trace (rows or full mode).
 */
export function decisionRows(t: LoadedTrace, step: number): DecisionRows {
  const a = t.attentions;
  if (t.meta.mode === "rows") {
    const [steps, L, H, seq] = a.shape;
    if (step < 0 || step >= steps) throw new InputError(`trace ${t.meta.prompt_id}/${t.meta.condition}: decision step ${step} outside 0..${steps - 1}`);
    return {
      nLayers: L,
      nHeads: H,
      row: (l, h) => a.data.subarray(((step * L + l) * H + h) * seq, ((step * L + l) * H + h + 1) * seq),
    };
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
