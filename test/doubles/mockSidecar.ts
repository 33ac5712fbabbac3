/**
 * Test double. `MockSidecar`: the sidecar's ops answered in-process by the toy model of ./mockModel.ts (see there
 * for how every op is derived from one next-token function). Args and results go through the same
 * zod schemas as the real client, so code tested against the mock speaks the real protocol.
 *
 * `startMockServer(endpoint)` serves the same model over ZeroMQ (ROUTER, msgpack, Arrow tensors),
 * one request at a time like the real sidecar, so client tests exercise the transport without Python.
 */
import { Router } from "zeromq";
import { SidecarError } from "../../src/errors.ts";
import { Prng } from "../../src/util/prng.ts";
import { encodeTensor, float32ToBf16 } from "../../src/rpc/arrow.ts";
import { EOS_ID, MockModel, argmax, type MockModelOptions } from "./mockModel.ts";
import { SidecarBase, type CallOpts } from "../../src/rpc/ops.ts";
import { PROTOCOL_VERSION, RequestSchema, type HelloResult, type Op, type OpArgs, type OpResult, type RemoteError } from "../../src/rpc/protocol.ts";
import { encodeErr, encodeOk, unpack, validateArgs, validateResult, zodLine } from "../../src/rpc/wire.ts";

export interface MockSidecarOptions extends MockModelOptions {
  /** Tensor dtype of trace outputs (bfloat16 exercises the widening path). */
  tensorDtype?: "float32" | "bfloat16";
  /** Make an op fail: return a remote error for (op, args), or undefined to answer normally. */
  fail?: (op: Op, args: Record<string, unknown>) => RemoteError | undefined;
  /** hello's device (default "cpu"). */
  device?: string;
}

type Args = Record<string, any>; // validated by zod before reaching the handlers

export class MockSidecar extends SidecarBase {
  readonly model: MockModel;
  /** Every call, in order (op and validated args), for assertions. */
  readonly calls: { op: Op; args: Record<string, unknown> }[] = [];
  private rng: Prng;
  private closed = false;

  constructor(readonly options: MockSidecarOptions = {}) {
    super();
    this.model = new MockModel(options);
    this.rng = new Prng(0, "mock-global");
  }

  /** The facts, without recording a call (chunking wrappers ask for the budget before each op). */
  async hello(): Promise<HelloResult> {
    if (this.closed) throw new SidecarError("mock sidecar is closed", "sidecar_closed");
    return this.helloFacts();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async call<O extends Op>(op: O, args: OpArgs<O>, _opts?: CallOpts): Promise<OpResult<O>> {
    if (this.closed) throw new SidecarError("mock sidecar is closed", "sidecar_closed");
    const parsed = validateArgs(op, args);
    this.calls.push({ op, args: parsed });
    const failure = this.options.fail?.(op, parsed);
    if (failure) throw new SidecarError(`sidecar ${op} failed: ${failure.type}: ${failure.message}`, `sidecar_${failure.code}`, { type: failure.type, message: failure.message });
    return validateResult(op, "mock", this.answer(op, parsed)) as OpResult<O>;
  }

  /** The raw result object for an op (before result validation); used by the mock server too. */
  answer(op: Op, a: Args): unknown {
    const m = this.model;
    switch (op) {
      case "hello":
        return this.helloFacts();
      case "tokenize": {
        const t = (a.texts as string[]).map((s) => m.tokenize(s));
        return { ids: t.map((x) => x.ids), offsets: t.map((x) => x.offsets) };
      }
      case "decode":
        return { texts: (a.ids as number[][]).map((ids) => m.decode(ids, a.skip_special_tokens)) };
      case "chat_template":
        return { texts: (a.texts as string[]).map((t) => `${a.system ? `<|user|>${a.system}\n` : ""}<|user|>${t}\n<|assistant|>`) };
      case "score":
        return { logprobs: a.items.map((it: Args) => it.continuations.map((c: number[]) => m.scoreOne(it.prefix, c))) };
      case "generate":
        return {
          sequences: a.prompts.map((p: number[], i: number) => this.generateOne(p, a, a.seeds?.[i])),
          greedy: a.greedy_tokens > 0 ? a.prompts.map((p: number[]) => this.model.continue(p, a.greedy_tokens, null, 1, 1)) : null,
        };
      case "trace":
        return { items: a.sequences.map((s: number[]) => this.traceOne(s, a.mode)) };
      case "logit_lens":
        return {
          probs: a.items.map((it: Args) => {
            const ctx = it.ids.slice(0, at(it.ids, it.position) + 1);
            return Array.from({ length: m.nLayers + 1 }, (_, l) => pick(m.lens(ctx, l), it.token_ids));
          }),
        };
      case "decompose":
        return {
          probs: a.items.map((it: Args) => {
            const ctx = it.ids.slice(0, at(it.ids, it.position) + 1);
            return Array.from({ length: m.nLayers }, (_, l) => [0, m.attnShare, 1].map((d) => pick(m.lens(ctx, l + d), it.token_ids)));
          }),
        };
      case "patch":
        return { items: a.items.map((it: Args) => this.patchOne(it, a.sites)) };
      case "set_seed":
        this.rng = new Prng(a.seed, "mock-global");
        return {};
      case "echo":
        return { tensor: a.tensor ?? null };
      case "shutdown":
        return {};
      default:
        // an op added to protocol.ts that the toy model does not answer: the real sidecar's error, no entry needed
        throw new SidecarError(`mock sidecar does not implement op "${String(op)}"`, "sidecar_unknown_op");
    }
  }

  helloFacts(): HelloResult {
    const m = this.model;
    return {
      protocol: PROTOCOL_VERSION,
      model_id: "mock",
      model_source: "mock",
      architecture: "MockForCausalLM",
      n_layers: m.nLayers,
      n_heads: m.nHeads,
      n_kv_heads: m.nHeads,
      hidden_size: m.hiddenSize,
      vocab_size: m.vocabSize,
      dtype: "float32",
      device: this.options.device ?? "cpu",
      torch_version: "mock",
      transformers_version: "mock",
      python_version: "mock",
      tokenizer_json: JSON.stringify({ mock: true, vocab: m.vocab }),
      tokenizer_config: { mock: true },
      chat_template: "mock",
      bos_token_id: null,
      eos_token_ids: [EOS_ID],
      pad_token_id: EOS_ID,
      max_batch_tokens: m.maxBatchTokens,
      pid: process.pid,
    };
  }

  private generateOne(prompt: number[], a: Args, seed: number | undefined): number[][] {
    const rng = a.do_sample ? (seed === undefined ? this.rng : new Prng(seed, "mock-sample")) : null;
    return Array.from({ length: a.n }, () => this.model.continue(prompt, a.max_new_tokens, rng, a.temperature, a.top_p));
  }

  private tensor(values: Float32Array, shape: number[]): Uint8Array {
    if (this.options.tensorDtype === "bfloat16") return encodeTensor({ data: float32ToBf16(values), shape, dtype: "bfloat16" });
    return encodeTensor({ data: values, shape });
  }

  /** decision: the last query's attention rows [L, heads, seq]; full: every row and hidden states. */
  private traceOne(ids: number[], mode: "decision" | "full") {
    const m = this.model;
    const seq = ids.length;
    const [L, Hd, H] = [m.nLayers, m.nHeads, m.hiddenSize];
    const positions = mode === "decision" ? [seq - 1] : ids.map((_, i) => i);
    const P = positions.length;
    const attn = new Float32Array(L * Hd * P * seq);
    positions.forEach((pos, r) => {
      for (let l = 0; l < L; l++) for (let h = 0; h < Hd; h++) attn.set(m.attentionRow(ids, l, h, pos), ((l * Hd + h) * P + r) * seq);
    });
    if (mode === "decision") return { attentions: this.tensor(attn, [L, Hd, seq]), hidden: null };
    const hidden = new Float32Array((L + 1) * seq * H);
    for (let l = 0; l <= L; l++) for (let p = 0; p < seq; p++) for (let k = 0; k < H; k++) hidden[(l * seq + p) * H + k] = m.hidden(ids, p, l, k);
    return { attentions: this.tensor(attn, [L, Hd, seq, seq]), hidden: this.tensor(hidden, [L + 1, seq, H]) };
  }

  private patchOne(it: Args, sites: ("resid" | "attn")[]) {
    const m = this.model;
    const layers: number[] = it.layers ?? Array.from({ length: m.nLayers }, (_, l) => l);
    const pT = m.dist(it.target);
    const pS = m.dist(it.source);
    const clean = { logprobs: it.continuations.map((c: number[]) => m.scoreOne(it.target, c)), argmax: argmax(pT) };
    const patched: Record<string, { logprobs: number[][][]; argmax: number[] }> = {};
    for (const site of sites) {
      const qs = layers.map((l) => {
        const w = m.patchWeight(site, l);
        return pT.map((x, j) => x + w * (pS[j] - x));
      });
      patched[site] = {
        logprobs: qs.map((q) =>
          it.continuations.map((c: number[]) => c.map((tok, t) => (t === 0 ? Math.log(q[tok]) : m.scoreOne([...it.target, ...c.slice(0, t)], [tok])[0]))),
        ),
        argmax: qs.map((q) => argmax(q)),
      };
    }
    return { layers, clean, patched };
  }
}

function at(ids: number[], position: number): number {
  const i = position < 0 ? ids.length + position : position;
  if (i < 0 || i >= ids.length) throw new SidecarError(`position ${position} out of range for ${ids.length} ids`, "sidecar_bad_args");
  return i;
}

function pick(p: Float64Array, tokens: number[]): number[] {
  return tokens.map((t) => p[t]);
}

// ---------------------------------------------------------------- ZeroMQ server

export interface MockServerOptions extends MockSidecarOptions {
  /** Delay before answering (ms), per request; lets tests provoke timeouts and stale replies. */
  delayMs?: (op: string, args: Record<string, unknown>) => number;
  /** Rewrites a result before it is sent (to send replies that break the protocol). */
  mutateResult?: (op: string, result: unknown) => unknown;
  /** Answer requests concurrently (replies may then come back out of order); default one at a time. */
  concurrent?: boolean;
}

export interface MockServer {
  endpoint: string;
  sidecar: MockSidecar;
  /** Requests received (including malformed ones). */
  received: number;
  close(): Promise<void>;
}

/** Binds a ROUTER at `endpoint` (e.g. `tcp://127.0.0.1:*` or `ipc://…`) answering with the mock model. */
export async function startMockServer(endpoint: string, opts: MockServerOptions = {}): Promise<MockServer> {
  const sock = new Router({ linger: 0 });
  await sock.bind(endpoint);
  const sidecar = new MockSidecar(opts);
  const server: MockServer = {
    endpoint: sock.lastEndpoint ?? endpoint,
    sidecar,
    received: 0,
    async close() {
      sock.close();
    },
  };
  const handle = async (payload: Buffer): Promise<Buffer> => {
    let raw: unknown;
    try {
      raw = unpack(payload);
    } catch (e) {
      return encodeErr(null, { code: "bad_request", type: "UnpackError", message: `not msgpack: ${(e as Error).message}` });
    }
    const req = RequestSchema.safeParse(raw);
    if (!req.success) {
      const id = typeof (raw as { id?: unknown })?.id === "string" ? (raw as { id: string }).id : null;
      return encodeErr(id, { code: "bad_request", type: "BadRequest", message: zodLine(req.error) });
    }
    const { id, op, args } = req.data;
    const delay = opts.delayMs?.(op, args) ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    try {
      const parsed = validateArgs(op as Op, args);
      sidecar.calls.push({ op: op as Op, args: parsed });
      const failure = opts.fail?.(op as Op, parsed);
      if (failure) return encodeErr(id, failure);
      let result = sidecar.answer(op as Op, parsed);
      if (opts.mutateResult) result = opts.mutateResult(op, result);
      return encodeOk(id, result);
    } catch (e) {
      const err = e as SidecarError;
      const code = err.code === "sidecar_unknown_op" ? "unknown_op" : err.code === "sidecar_args_invalid" ? "bad_args" : "internal";
      return encodeErr(id, { code, type: err.name ?? "Error", message: err.message, traceback: err.stack ?? null });
    }
  };
  void (async () => {
    try {
      let sending = Promise.resolve();
      const answer = async (frames: Buffer[]) => {
        const reply = await handle(frames[frames.length - 1]);
        sending = sending.then(() => sock.send([frames[0], reply])).catch(() => {});
        await sending;
      };
      for await (const frames of sock) {
        server.received++;
        if (opts.concurrent) void answer(frames);
        else await answer(frames);
      }
    } catch {
      /* socket closed */
    }
  })();
  return server;
}
