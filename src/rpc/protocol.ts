/**
 * The wire protocol between the TypeScript client and the Python sidecar, defined once.
 *
 * Transport: ZeroMQ DEALER (TS) ↔ ROUTER (Python) on loopback TCP or a private ipc:// path.
 * Each message is one msgpack map.
 *   request  {v: PROTOCOL_VERSION, id: string, op: Op, args: {...}}
 *   reply    {v, id, ok: true, result: {...}} | {v, id, ok: false, error: {code, type, message, traceback}}
 * Tensors are msgpack `bin` values holding one Arrow IPC *stream*: a single record batch with one
 * column "data" (flat, row-major) and schema metadata {"shape": "[d0,d1,...]", "dtype": "float32" |
 * "float16" | "bfloat16" | "int32" | "int64"}; bfloat16 travels as raw uint16 and is widened in TS.
 * Token ids, offsets and small per-token log-prob lists travel as plain msgpack arrays.
 *
 * These zod schemas are the one source of the contract: `make protocol` (scripts/gen_protocol.ts) renders
 * the op list, error codes, envelope and every op's args as JSON Schema into
 * py-sidecar/sempress_sidecar/protocol_schema.py, which the sidecar validates against. A test fails when
 * that file is stale (test/rpc/protocolSchema.test.ts), another when the sidecar's op registry differs
 * from OPS (py-sidecar/tests/test_protocol.py). Adding an op: its schemas, `const name = op(Args, Result)`
 * and its name in OP_SCHEMAS here, `make protocol`, the Python function in sempress_sidecar/ops.py, a test.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;

/** Raw Arrow IPC bytes of one tensor (a msgpack `bin`); decode with `decodeTensor` from ./arrow.ts. */
export const TensorBytes = z.instanceof(Uint8Array);

/** Stable error codes of a failed reply (RemoteErrorSchema.code). */
export const ERROR_CODES = ["bad_request", "unknown_op", "bad_args", "model_error", "out_of_memory", "internal"] as const;


export const RequestSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string(),
  op: z.string(),
  args: z.record(z.string(), z.unknown()),
});
export type Request = z.infer<typeof RequestSchema>;

export const RemoteErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  /** Python exception class name. */
  type: z.string(),
  message: z.string(),
  traceback: z.string().optional().nullable(),
});
export type RemoteError = z.infer<typeof RemoteErrorSchema>;

export const ReplySchema = z.union([
  z.object({ v: z.number(), id: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.object({ v: z.number(), id: z.string().nullable(), ok: z.literal(false), error: RemoteErrorSchema }),
]);
export type Reply = z.infer<typeof ReplySchema>;

const Int = z.number().int();
const Ids = z.array(Int);

/** One op of the whitelist: what it takes and what it returns. */
function op<A extends z.ZodTypeAny, R extends z.ZodTypeAny>(args: A, result: R): { args: A; result: R } {
  return { args, result };
}

// ---------------------------------------------------------------- per-op args and results

export const HelloArgs = z.object({});
export const HelloResult = z.object({
  protocol: Int,
  model_id: z.string(),
  /** How the model was loaded: hf | gguf | random | embedded */
  model_source: z.string(),
  architecture: z.string(),
  n_layers: Int,
  n_heads: Int,
  n_kv_heads: Int,
  hidden_size: Int,
  vocab_size: Int,
  dtype: z.string(),
  device: z.string(),
  torch_version: z.string(),
  transformers_version: z.string(),
  python_version: z.string(),
  /** The tokenizer's tokenizer.json, verbatim, so TS builds the identical tokenizer. */
  tokenizer_json: z.string(),
  /** tokenizer_config.json fields TS needs (decode options, special tokens). */
  tokenizer_config: z.record(z.string(), z.unknown()),
  chat_template: z.string().nullable(),
  bos_token_id: Int.nullable(),
  eos_token_ids: Ids,
  pad_token_id: Int.nullable(),
  /** Tokens per forward batch the sidecar is comfortable with; TS chunks requests below this. */
  max_batch_tokens: Int,
  pid: Int,
});
export type HelloResult = z.infer<typeof HelloResult>;
const hello = op(HelloArgs, HelloResult);

export const TokenizeArgs = z.object({ texts: z.array(z.string()), add_special_tokens: z.boolean().default(false) });
export const TokenizeResult = z.object({
  ids: z.array(Ids),
  /** Character offsets [start, end) per token, in Unicode code points of the input (Python str indices). */
  offsets: z.array(z.array(z.tuple([z.number().int(), z.number().int()]))),
});
const tokenize = op(TokenizeArgs, TokenizeResult);

export const DecodeArgs = z.object({ ids: z.array(Ids), skip_special_tokens: z.boolean().default(true) });
/** Decoded with clean_up_tokenization_spaces=False. */
export const DecodeResult = z.object({ texts: z.array(z.string()) });
const decode = op(DecodeArgs, DecodeResult);

/** Wraps each text as the single user turn, adds the generation prompt. */
export const ChatTemplateArgs = z.object({ texts: z.array(z.string()), system: z.string().nullable().default(null) });
export const ChatTemplateResult = z.object({ texts: z.array(z.string()) });
const chat_template = op(ChatTemplateArgs, ChatTemplateResult);

/**
 * Teacher-forced log-probs: for each item, every continuation is scored after the prefix. The prefix's
 * forward pass is shared by all its continuations.
 */
export const ScoreArgs = z.object({
  items: z.array(z.object({ prefix: Ids.min(1), continuations: z.array(Ids.min(1)) })),
});
/** logprobs[item][continuation][t] = log p(cont[t] | prefix, cont[:t]), natural log, float64 from float32 math. */
export const ScoreResult = z.object({ logprobs: z.array(z.array(z.array(z.number()))) });
const score = op(ScoreArgs, ScoreResult);

export const GenerateArgs = z.object({
  prompts: z.array(Ids.min(1)),
  max_new_tokens: z.number().int().positive(),
  do_sample: z.boolean(),
  temperature: z.number().positive().default(1.0),
  top_p: z.number().gt(0).lte(1).default(1.0),
  /** Sequences per prompt. */
  n: z.number().int().positive().default(1),
  /**
   * One seed per prompt. Sampling for prompt i depends only on seeds[i] (a per-row generator), so the
   * result does not depend on which other prompts share the batch.
   */
  seeds: z.array(z.number().int()).optional(),
  /**
   * > 0: also decode one greedy (argmax) row per prompt, up to this many tokens, in the same batch as the
   * n rows (sharing their prefill and decode steps); it draws no random numbers. Returned in `greedy`.
   */
  greedy_tokens: z.number().int().nonnegative().default(0),
});
/**
 * sequences[prompt][k] = new token ids, stopping after (and including) the first EOS; greedy[prompt] the
 * same for the greedy row (null unless greedy_tokens > 0).
 */
export const GenerateResult = z.object({ sequences: z.array(z.array(Ids)), greedy: z.array(Ids).nullable().default(null) });
const generate = op(GenerateArgs, GenerateResult);

/**
 * One teacher-forced eager pass over each sequence (batched, left padding), capturing only what analyses
 * declared. mode "decision": the attention row of the sequence's last position (run sends the prompt
 * plus the greedy tokens before the decision step, so that query is the decision step's).
 * mode "full" (`--trace full`): every position, and hidden states of every layer.
 */
export const TraceArgs = z.object({
  sequences: z.array(Ids.min(1)),
  mode: z.enum(["decision", "full"]).default("decision"),
});
export const TraceItem = z.object({
  /** decision: [n_layers, n_heads, seq], the last query's row; full: [n_layers, n_heads, seq, seq]. */
  attentions: TensorBytes,
  /** full only: [n_layers+1, seq, hidden], index 0 = embeddings; null in decision mode. */
  hidden: TensorBytes.nullable(),
});
export const TraceResult = z.object({ items: z.array(TraceItem) });
const trace = op(TraceArgs, TraceResult);

/** Positions are indices into ids; negative counts from the end (default -1: the last token). */
export const LensItem = z.object({ ids: Ids.min(1), position: z.number().int().default(-1), token_ids: Ids });
export const LogitLensArgs = z.object({ items: z.array(LensItem) });
/**
 * probs[item][l][k]: softmax(unembed(norm(h_l)))[token_ids[k]] at the position, for l = 0..n_layers
 * (h_0 = embeddings, h_l = output of layer l-1). The final norm is applied to every entry except the
 * last, which HF already returns normed: so probs[item][n_layers] is the model's own next-token distribution.
 */
export const LogitLensResult = z.object({ probs: z.array(z.array(z.array(z.number()))) });
const logit_lens = op(LogitLensArgs, LogitLensResult);

export const DecomposeArgs = z.object({ items: z.array(LensItem) });
/**
 * probs[item][l][stage][k] for layer l = 0..n_layers-1, stage 0 = h_in (resid_pre), 1 = h_in+attn_out,
 * 2 = h_in+attn_out+ffn_out (= resid_post), each through final norm + unembedding.
 */
export const DecomposeResult = z.object({ probs: z.array(z.array(z.array(z.array(z.number())))) });
const decompose = op(DecomposeArgs, DecomposeResult);

export const PatchSite = z.enum(["resid", "attn"]);
/**
 * Activation patching at the final prompt position: run `source` (baseline prompt), record at its last
 * position the residual stream after each layer ("resid") and each layer's attention output ("attn");
 * then run `target` (negative prompt) with that one vector written at the target's last position, one
 * layer at a time, and score `continuations` after the target. No KV cache is reused across patches.
 */
export const PatchArgs = z.object({
  items: z.array(
    z.object({
      source: Ids.min(1),
      target: Ids.min(1),
      continuations: z.array(Ids.min(1)),
      layers: z.array(z.number().int()).optional(),
    }),
  ),
  sites: z.array(PatchSite).default(["resid", "attn"]),
});
export const PatchItemResult = z.object({
  layers: z.array(z.number().int()),
  /** Unpatched target: logprobs[continuation][t], and the greedy next token. */
  clean: z.object({ logprobs: z.array(z.array(z.number())), argmax: z.number().int() }),
  /** site → per layer (in `layers` order): logprobs[continuation][t] and greedy next token. */
  patched: z.record(
    z.string(),
    z.object({ logprobs: z.array(z.array(z.array(z.number()))), argmax: z.array(z.number().int()) }),
  ),
});
export const PatchResult = z.object({ items: z.array(PatchItemResult) });
const patch = op(PatchArgs, PatchResult);

export const SetSeedArgs = z.object({ seed: z.number().int() });
export const EmptyResult = z.object({}).passthrough();
const set_seed = op(SetSeedArgs, EmptyResult);
const shutdown = op(z.object({}), EmptyResult);

/** Bridge benchmark: the tensor comes back unchanged. */
export const EchoArgs = z.object({ tensor: TensorBytes.optional() });
export const EchoResult = z.object({ tensor: TensorBytes.optional().nullable() });
const echo = op(EchoArgs, EchoResult);

// Each op is declared once, beside its schemas; the registry below lists them in wire order.
export const OP_SCHEMAS = {
  hello, tokenize, decode, chat_template, score, generate, trace, logit_lens, decompose, patch, set_seed, echo,
  shutdown,
} as const satisfies Record<string, { args: z.ZodTypeAny; result: z.ZodTypeAny }>;

/** The op whitelist: the keys of OP_SCHEMAS, in order (the sidecar's registry must list the same ops). */
export type Op = keyof typeof OP_SCHEMAS;
export const OPS = Object.keys(OP_SCHEMAS) as readonly Op[];

export type OpArgs<O extends Op> = z.input<(typeof OP_SCHEMAS)[O]["args"]>;
export type OpResult<O extends Op> = z.output<(typeof OP_SCHEMAS)[O]["result"]>;

/** Ops safe to retry once after the sidecar died mid-request (all but shutdown). */
export const IDEMPOTENT: ReadonlySet<Op> = new Set(OPS.filter((o) => o !== "shutdown"));

/**
 * What every piece of TS logic needs from a model. The real client (./client.ts) and the test double
 * (test/doubles/mockSidecar.ts) both implement it, so metrics and the runner are tested without Python.
 * `call` is generic: a new op needs no client code (the wrappers in ./ops.ts are conveniences).
 */
export interface Sidecar {
  call<O extends Op>(op: O, args: OpArgs<O>, opts?: { timeoutMs?: number }): Promise<OpResult<O>>;
  hello(): Promise<HelloResult>;
  close(): Promise<void>;
}
