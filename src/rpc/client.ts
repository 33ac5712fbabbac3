/**
 * The real sidecar client: spawns `python -m sempress_sidecar` on a private loopback endpoint and talks
 * to it through a ZeroMQ DEALER socket, one msgpack message per request, replies matched by id.
 *
 * Guarantees:
 * - args are validated (zod) before sending, results after receiving; a mismatch is a SidecarError
 *   naming the op and field;
 * - every request has a timeout; a reply that arrives after its request timed out is dropped;
 * - a sidecar that dies is restarted and each pending idempotent request is retried once; a request
 *   that fails twice rejects with `sidecar_died`;
 * - close() (and process exit, SIGINT, SIGTERM) stops the child.
 */
import { randomBytes } from "node:crypto";
import { Dealer } from "zeromq";
import type { Config } from "../config.ts";
import { SidecarError } from "../errors.ts";
import { log } from "../log.ts";
import { SidecarBase, type CallOpts } from "./ops.ts";
import { onProcessExit, privateEndpoint, spawnSidecar, type PrivateEndpoint, type SpawnedSidecar } from "./process.ts";
import { IDEMPOTENT, type HelloResult, type Op, type OpArgs, type OpResult } from "./protocol.ts";
import { decodeReply, encodeRequest, remoteError, validateArgs, validateResult } from "./wire.ts";

export interface SidecarClientOptions {
  /** Model spec passed as --model (HF id, path, `random:<config.json>`, `default`). */
  model: string;
  python: string;
  transport: "ipc" | "tcp";
  startTimeoutMs: number;
  requestTimeoutMs: number;
  /** Client cap on tokens per chunked request (the sidecar's advertised budget wins if smaller). */
  maxBatchTokens?: number;
  /** Connect to an already running server here instead of spawning one (tests, mock server). */
  endpoint?: string;
  extraArgs?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Restarts allowed in a row without a successful reply in between (default 2). */
  maxRestarts?: number;
  /** Time given to a `shutdown` request before the child is killed (default 2000 ms). */
  closeGraceMs?: number;
}

export function clientOptionsFromConfig(cfg: Config, model?: string): SidecarClientOptions {
  return {
    model: model ?? cfg.model.id,
    python: cfg.sidecar.python,
    transport: cfg.sidecar.transport,
    startTimeoutMs: cfg.sidecar.startTimeoutMs,
    requestTimeoutMs: cfg.sidecar.requestTimeoutMs,
    maxBatchTokens: cfg.sidecar.maxBatchTokens,
    extraArgs: cfg.model.trustRemoteCode ? ["--trust-remote-code"] : [],
  };
}

/** Starts a sidecar for the configured (or given) model and waits for its hello. */
export async function connectSidecar(cfg: Config, opts: { model?: string } = {}): Promise<SidecarClient> {
  const c = new SidecarClient(clientOptionsFromConfig(cfg, opts.model));
  await c.start();
  return c;
}

interface Pending {
  id: string;
  op: Op;
  payload: Buffer;
  timeoutMs: number;
  attempts: number;
  timer?: NodeJS.Timeout;
  gen: Generation;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** One incarnation of the sidecar: its process (if spawned), endpoint and socket. */
interface Generation {
  n: number;
  sock: Dealer;
  endpoint: PrivateEndpoint | null;
  proc: SpawnedSidecar | null;
  dead: boolean;
  sendChain: Promise<void>;
  unregister: () => void;
}

export class SidecarClient extends SidecarBase {
  readonly opts: SidecarClientOptions;
  private gen: Generation | null = null;
  private genCount = 0;
  private starting: Promise<HelloResult> | null = null;
  private helloResult: HelloResult | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(3).toString("hex");
  private seq = 0;
  private closed = false;
  private closing = false;
  private crashesInARow = 0;
  /** The last global seed set, re-applied to a restarted sidecar (its torch state is fresh). */
  private lastSeed: number | undefined;
  /** Replies dropped because their request had already timed out or finished (for tests and logs). */
  staleReplies = 0;

  constructor(opts: SidecarClientOptions) {
    super();
    this.opts = opts;
    if (opts.maxBatchTokens) this.clientBatchTokens = opts.maxBatchTokens;
  }

  /** The endpoint of the current incarnation (ipc:// or tcp://127.0.0.1:port). */
  get endpoint(): string | null {
    return this.gen ? (this.opts.endpoint ?? this.gen.endpoint?.endpoint ?? null) : null;
  }

  /** PID of the current sidecar process (null when connected to an external endpoint). */
  get pid(): number | null {
    return this.gen?.proc?.child.pid ?? null;
  }

  /** Starts (or restarts) the sidecar and waits for hello. Concurrent callers share one start. */
  async start(): Promise<HelloResult> {
    if (this.closed || this.closing) throw new SidecarError("sidecar client is closed", "sidecar_closed");
    if (this.gen && !this.gen.dead && this.helloResult) return this.helloResult;
    this.starting ??= this.spawnAndHello().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  async hello(): Promise<HelloResult> {
    return this.start();
  }

  async call<O extends Op>(op: O, args: OpArgs<O>, opts: CallOpts = {}): Promise<OpResult<O>> {
    const parsed = validateArgs(op, args);
    await this.start();
    const result = (await this.send(op, parsed, opts.timeoutMs ?? this.opts.requestTimeoutMs)) as OpResult<O>;
    if (op === "set_seed") this.lastSeed = parsed.seed as number;
    return result;
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    const gen = this.gen;
    if (gen && !gen.dead && this.helloResult) {
      try {
        await this.send("shutdown", {}, this.opts.closeGraceMs ?? 2000);
      } catch {
        /* it may already be gone */
      }
    }
    this.closed = true;
    this.failAll((p) => new SidecarError(`sidecar client closed while ${p.op} (request ${p.id}) was pending`, "sidecar_closed"));
    if (gen) await this.retire(gen, this.opts.closeGraceMs ?? 2000);
    this.gen = null;
  }

  // ---------------------------------------------------------------- lifecycle

  private async spawnAndHello(): Promise<HelloResult> {
    if (this.gen) await this.retire(this.gen, 0);
    const n = ++this.genCount;
    const endpoint = this.opts.endpoint ? null : await privateEndpoint(this.opts.transport, `sidecar-${n}`);
    const target = this.opts.endpoint ?? endpoint!.endpoint;
    const proc = endpoint
      ? spawnSidecar({
          python: this.opts.python,
          model: this.opts.model,
          endpoint: target,
          extraArgs: this.opts.extraArgs,
          cwd: this.opts.cwd,
          env: this.opts.env,
        })
      : null;
    const sock = new Dealer({ linger: 0 });
    sock.connect(target);
    const gen: Generation = {
      n,
      sock,
      endpoint,
      proc,
      dead: false,
      sendChain: Promise.resolve(),
      unregister: endpoint ? onProcessExit(() => endpoint.dispose()) : () => {},
    };
    this.gen = gen;
    void this.receiveLoop(gen);
    if (proc) {
      log().info({ model: this.opts.model, endpoint: target, pid: proc.child.pid, generation: n }, "sidecar starting");
      void proc.exited.then((st) => this.onExit(gen, st));
    }
    const t0 = Date.now();
    let hello: HelloResult;
    try {
      hello = (await this.send("hello", {}, this.opts.startTimeoutMs, gen)) as HelloResult;
    } catch (e) {
      await this.retire(gen, 0);
      if (this.gen === gen) this.gen = null;
      const err = e as SidecarError;
      if (err.code === "sidecar_timeout") {
        throw new SidecarError(
          `sidecar for ${this.opts.model} did not answer hello within ${this.opts.startTimeoutMs} ms${tailText(proc)}`,
          "sidecar_start_timeout",
          undefined,
          { cause: e },
        );
      }
      if (err.code === "sidecar_died") {
        const st = proc ? await proc.exited : null;
        throw new SidecarError(
          `sidecar for ${this.opts.model} exited during start (${exitText(st)})${tailText(proc)}`,
          "sidecar_start_failed",
          undefined,
          { cause: e },
        );
      }
      throw e;
    }
    if (this.lastSeed !== undefined) await this.send("set_seed", { seed: this.lastSeed }, this.opts.requestTimeoutMs, gen);
    this.helloResult = hello;
    log().info({ model: hello.model_id, device: hello.device, dtype: hello.dtype, pid: hello.pid, ms: Date.now() - t0 }, "sidecar ready");
    return hello;
  }

  /** Stops one incarnation: closes its socket, waits up to graceMs for the child, then kills it. */
  private async retire(gen: Generation, graceMs: number): Promise<void> {
    gen.dead = true;
    gen.sock.close();
    if (gen.proc && gen.proc.child.exitCode === null && gen.proc.child.signalCode === null) {
      const done = await Promise.race([gen.proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        gen.proc.child.kill("SIGKILL");
        await gen.proc.exited;
      }
    }
    gen.endpoint?.dispose();
    gen.unregister();
  }

  private onExit(gen: Generation, st: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (gen.dead || this.closed || this.closing) return;
    gen.dead = true;
    const affected = [...this.pending.values()].filter((p) => p.gen === gen);
    log().warn({ generation: gen.n, ...st, pending: affected.length, tail: gen.proc?.tail.slice(-5) }, "sidecar exited unexpectedly");
    if (this.helloResult === null || affected.some((p) => p.op === "hello")) {
      // Died during start: spawnAndHello reports it.
      for (const p of affected) this.settle(p, new SidecarError("sidecar exited", "sidecar_died"));
      return;
    }
    this.helloResult = null;
    this.crashesInARow++;
    const why = `sidecar exited (${exitText(st)})${tailText(gen.proc)}`;
    const retry: Pending[] = [];
    for (const p of affected) {
      if (IDEMPOTENT.has(p.op) && p.attempts < 2 && this.crashesInARow <= (this.opts.maxRestarts ?? 2)) retry.push(p);
      else this.settle(p, new SidecarError(`${p.op} (request ${p.id}) failed: ${why}; it was already retried once`, "sidecar_died"));
    }
    if (retry.length === 0) return;
    for (const p of retry) clearTimeout(p.timer);
    void this.start().then(
      () => {
        for (const p of retry) {
          if (!this.pending.has(p.id)) continue;
          p.attempts++;
          log().warn({ id: p.id, op: p.op }, "retrying request on restarted sidecar");
          this.transmit(p, this.gen!);
        }
      },
      (e: Error) => {
        for (const p of retry) this.settle(p, new SidecarError(`${p.op} (request ${p.id}) failed: ${why}; restart failed: ${e.message}`, "sidecar_died", undefined, { cause: e }));
      },
    );
  }

  // ---------------------------------------------------------------- requests

  private send(op: Op, args: Record<string, unknown>, timeoutMs: number, gen = this.gen): Promise<unknown> {
    if (!gen || gen.dead) return Promise.reject(new SidecarError(`sidecar is not running (op ${op})`, "sidecar_died"));
    const id = `${this.prefix}-${++this.seq}`;
    return new Promise((resolve, reject) => {
      const p: Pending = { id, op, payload: encodeRequest(id, op, args), timeoutMs, attempts: 1, gen, resolve, reject };
      this.pending.set(id, p);
      this.transmit(p, gen);
    });
  }

  private transmit(p: Pending, gen: Generation): void {
    p.gen = gen;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.settle(p, new SidecarError(`sidecar ${p.op} (request ${p.id}) timed out after ${p.timeoutMs} ms`, "sidecar_timeout"));
    }, p.timeoutMs);
    gen.sendChain = gen.sendChain
      .then(() => gen.sock.send(p.payload))
      .catch((e: Error) => {
        if (!gen.dead) this.settle(p, new SidecarError(`sending ${p.op} (request ${p.id}) failed: ${e.message}`, "sidecar_send_failed", undefined, { cause: e }));
      });
  }

  private settle(p: Pending, err: Error | null, value?: unknown): void {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(value);
  }

  private failAll(make: (p: Pending) => Error): void {
    for (const p of [...this.pending.values()]) this.settle(p, make(p));
  }

  private async receiveLoop(gen: Generation): Promise<void> {
    try {
      for await (const frames of gen.sock) {
        // A ROUTER peer may or may not add an empty delimiter frame; the payload is the last frame.
        this.onFrame(frames[frames.length - 1]);
      }
    } catch (e) {
      if (!gen.dead) log().warn({ err: (e as Error).message, generation: gen.n }, "sidecar socket receive failed");
    }
  }

  private onFrame(frame: Buffer | undefined): void {
    if (!frame) return;
    const d = decodeReply(frame);
    if ("problem" in d) {
      log().warn({ problem: d.problem, bytes: frame.length }, "dropping malformed sidecar reply");
      return;
    }
    const r = d.reply;
    const p = r.id === null ? undefined : this.pending.get(r.id);
    if (!p) {
      this.staleReplies++;
      if (r.ok) log().debug({ id: r.id }, "dropping stale sidecar reply (request already finished or timed out)");
      else log().warn({ id: r.id, error: r.error }, "sidecar error reply for no pending request");
      return;
    }
    if (!r.ok) {
      this.settle(p, remoteError(p.op, p.id, r.error));
      return;
    }
    try {
      const value = validateResult(p.op, p.id, r.result);
      this.crashesInARow = 0;
      this.settle(p, null, value);
    } catch (e) {
      this.settle(p, e as Error);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function exitText(st: { code: number | null; signal: NodeJS.Signals | null } | null): string {
  if (!st) return "unknown status";
  return st.signal ? `signal ${st.signal}` : `exit code ${st.code}`;
}

function tailText(proc: SpawnedSidecar | null): string {
  if (!proc || proc.tail.length === 0) return "";
  return `; last stderr lines:\n  ${proc.tail.slice(-8).join("\n  ")}`;
}
