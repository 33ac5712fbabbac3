/**
 * Several sidecars as one (one per device, ../rpc/devices.ts): the pool is itself a sidecar (SidecarBase),
 * so every stage talks to it as to one, and `ordered` hands whole jobs (the run's prompt chunks, analyze's
 * batches) to whichever sidecar has the fewest, yielding their results strictly in job order (a reorder
 * buffer, bounded to `depth` jobs per sidecar past the oldest unfinished one).
 *
 * A job's requests go to the sidecar it was handed to. When that sidecar is gone for good (its client
 * restarts a dead sidecar and retries once, ../rpc/client.ts; `sidecar_died` and failed starts mean that
 * did not help), the pool drops it (closing it) and re-sends the failed request, and every later request of
 * its jobs, to the least busy live one. A job thus finishes once and is written once, by the caller, in
 * order. A request's result depends only on the request (the same batches, seeds per prompt), never on
 * the sidecar that served it, so outputs are byte-identical whatever the number of sidecars.
 */
import { SidecarError } from "../errors.ts";
import { log } from "../log.ts";
import { SidecarBase, type CallOpts } from "../rpc/ops.ts";
import type { HelloResult, Op, OpArgs, OpResult } from "../rpc/protocol.ts";

/** Codes that mean a sidecar is gone for good (see the module doc); anything else is the request's own error. */
const LOST = new Set(["sidecar_died", "sidecar_start_failed", "sidecar_start_timeout"]);

export interface PoolWorker {
  readonly index: number;
  readonly sidecar: SidecarBase;
  /** The `--device` it was started with (null: it sees every device). */
  readonly device: string | null;
  alive: boolean;
  /** Requests in flight on it. */
  inflight: number;
  /** Jobs of `ordered` handed to it and not finished. */
  jobs: number;
}

export class SidecarPool extends SidecarBase {
  readonly workers: PoolWorker[];
  private readonly facts: HelloResult;
  private budget: Promise<number> | null = null;

  /** `hello`: the first sidecar's (connect.ts checks that every sidecar serves the same model). */
  constructor(sidecars: readonly { sidecar: SidecarBase; device?: string | null }[], hello: HelloResult) {
    super();
    if (sidecars.length === 0) throw new SidecarError("a sidecar pool needs at least one sidecar", "sidecar_pool_empty");
    this.workers = sidecars.map((s, index) => ({ index, sidecar: s.sidecar, device: s.device ?? null, alive: true, inflight: 0, jobs: 0 }));
    this.facts = hello;
  }

  get alive(): PoolWorker[] {
    return this.workers.filter((w) => w.alive);
  }

  async hello(): Promise<HelloResult> {
    return this.facts;
  }

  /** The sidecars' own budget (their client cap included), so requests are cut as one sidecar cuts them. */
  override batchBudget(): Promise<number> {
    this.budget ??= this.workers[0].sidecar.batchBudget();
    return this.budget;
  }

  call<O extends Op>(op: O, args: OpArgs<O>, opts?: CallOpts): Promise<OpResult<O>> {
    return this.route(op, args, opts, null);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.sidecar.close()));
  }

  /** A sidecar whose requests go to `w` while it lives, then to the least busy live one. */
  bound(w: PoolWorker): SidecarBase {
    return new BoundSidecar(this, w);
  }

  /** Sends one request to `prefer` (or the least busy live sidecar); on a lost sidecar, to another. */
  async route<O extends Op>(op: O, args: OpArgs<O>, opts: CallOpts | undefined, prefer: PoolWorker | null): Promise<OpResult<O>> {
    for (;;) {
      const w = prefer?.alive ? prefer : this.leastBusy((x) => x.inflight);
      w.inflight++;
      try {
        return await w.sidecar.call(op, args, opts);
      } catch (e) {
        const lost = !w.alive || (e instanceof SidecarError && LOST.has(e.code));
        if (!lost || op === "shutdown") throw e;
        if (w.alive && !this.drop(w, e as Error)) throw e;
      } finally {
        w.inflight--;
      }
    }
  }

  /**
   * Runs `task` on every job, at most `depth` jobs per live sidecar past the oldest unyielded one, and
   * yields the results in job order. The first failure stops new jobs after it; the results before it
   * are still yielded, then it is thrown. Leaving the loop early abandons the jobs in flight.
   */
  async *ordered<J, R>(jobs: readonly J[], task: (sidecar: SidecarBase, job: J, index: number) => Promise<R>, depth = 2): AsyncGenerator<R> {
    const done = new Map<number, { ok: true; value: R } | { ok: false; error: unknown }>();
    let next = 0;
    let sent = 0;
    let stop = jobs.length;
    let open = true;
    let wake = () => {};
    const pump = () => {
      while (open && sent < stop && sent - next < Math.max(1, this.alive.length) * depth) {
        const w = this.leastBusy((x) => x.jobs);
        const j = sent++;
        w.jobs++;
        task(this.bound(w), jobs[j], j)
          .then(
            (value) => done.set(j, { ok: true, value }),
            (error: unknown) => {
              done.set(j, { ok: false, error });
              stop = Math.min(stop, j + 1);
            },
          )
          .finally(() => {
            w.jobs--;
            wake();
          });
      }
    };
    try {
      pump();
      while (next < jobs.length) {
        const d = done.get(next);
        if (!d) {
          await new Promise<void>((r) => (wake = r));
          pump();
          continue;
        }
        done.delete(next++);
        if (!d.ok) throw d.error;
        pump();
        yield d.value;
      }
    } finally {
      open = false;
    }
  }

  private leastBusy(load: (w: PoolWorker) => number): PoolWorker {
    const live = this.alive;
    return live.reduce((best, w) => (load(w) < load(best) ? w : best), live[0] ?? this.workers[0]);
  }

  /** Takes a lost sidecar out (false when it is the last one: then its error stands, as with one sidecar). */
  private drop(w: PoolWorker, why: Error): boolean {
    if (this.alive.length <= 1) return false;
    w.alive = false;
    log().warn({ sidecar: w.index, device: w.device, err: why.message, left: this.alive.length }, "sidecar lost for good: its requests go to the others");
    void w.sidecar.close().catch(() => undefined);
    return true;
  }
}

class BoundSidecar extends SidecarBase {
  constructor(
    private readonly pool: SidecarPool,
    private readonly worker: PoolWorker,
  ) {
    super();
  }

  call<O extends Op>(op: O, args: OpArgs<O>, opts?: CallOpts): Promise<OpResult<O>> {
    return this.pool.route(op, args, opts, this.worker);
  }

  hello(): Promise<HelloResult> {
    return this.pool.hello();
  }

  override batchBudget(): Promise<number> {
    return this.pool.batchBudget();
  }

  /** The pool owns its sidecars. */
  async close(): Promise<void> {}
}

/** The pool behind a stage's sidecar: itself when it is one, else a pool of that one sidecar. */
export function poolOf(sidecar: SidecarBase, hello: HelloResult): SidecarPool {
  return sidecar instanceof SidecarPool ? sidecar : new SidecarPool([{ sidecar }], hello);
}
