/**
 * The sidecar pool (src/run/pool.ts) on in-process sidecars: job order, bounded look-ahead, failover
 * when a sidecar is lost for good, errors in order; and the run stage over a pool of two mock sidecars
 * (byte-identical files, one of them dying mid-run). The real-sidecar versions are in poolSidecar.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SidecarError } from "../../src/errors.ts";
import { SidecarBase, type CallOpts } from "../../src/rpc/ops.ts";
import type { HelloResult, Op, OpArgs, OpResult } from "../../src/rpc/protocol.ts";
import { runPaths } from "../../src/run/outputs.ts";
import { SidecarPool } from "../../src/run/pool.ts";
import { runStage } from "../../src/run/runner.ts";
import { UnitRecord } from "../../src/run/units.ts";
import { readJsonl } from "../../src/util/jsonl.ts";
import { mockEnv, prompts, testConfig } from "./fixtures.ts";
import { runDirFiles } from "./runDirFiles.ts";

process.env.SEMPRESS_NO_BAR = "1";
const HELLO: HelloResult = mockEnv().hello;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sidecar that answers `echo` after `delay(args)` ms, or dies for good once `dieAfter` calls were made. */
class FakeSidecar extends SidecarBase {
  calls = 0;
  /** Job numbers of the requests it answered. */
  served: number[] = [];
  inflight = 0;
  maxInflight = 0;
  closed = false;
  constructor(
    readonly name: string,
    private readonly opts: { delay?: (n: number) => number; dieAfter?: number; fail?: (n: number) => Error | null } = {},
  ) {
    super();
  }
  async hello(): Promise<HelloResult> {
    return HELLO;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  async call<O extends Op>(op: O, args: OpArgs<O>, _opts?: CallOpts): Promise<OpResult<O>> {
    this.calls++;
    const n = (args as { tensor?: Uint8Array }).tensor?.[0] ?? 0;
    if (this.opts.dieAfter !== undefined && this.calls > this.opts.dieAfter) throw new SidecarError(`${this.name} exited (signal SIGKILL)`, "sidecar_died");
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      await sleep(this.opts.delay?.(n) ?? 1);
    } finally {
      this.inflight--;
    }
    const err = this.opts.fail?.(n);
    if (err) throw err;
    this.served.push(n);
    return { tensor: Uint8Array.of(n) } as unknown as OpResult<O>;
  }
}

/** A job: `steps` echo requests of its own number, answered by whichever sidecar. */
async function job(sc: SidecarBase, n: number, steps = 1): Promise<{ n: number }> {
  for (let s = 0; s < steps; s++) assert.equal((await sc.echo(Uint8Array.of(n)))?.[0], n);
  return { n };
}

async function collect<T>(it: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("when later jobs finish first then results still come in job order, at most depth jobs per sidecar at a time", async () => {
  const a = new FakeSidecar("a", { delay: (n) => (n % 3 === 0 ? 30 : 2) });
  const b = new FakeSidecar("b", { delay: (n) => (n % 3 === 0 ? 30 : 2) });
  const pool = new SidecarPool([{ sidecar: a }, { sidecar: b }], HELLO);
  const jobs = Array.from({ length: 12 }, (_, i) => i);
  const out = await collect(pool.ordered(jobs, (sc, n) => job(sc, n), 2));
  assert.deepEqual(out.map((r) => r.n), jobs);
  assert.ok(a.calls > 0 && b.calls > 0, `both sidecars worked: a ${a.calls}, b ${b.calls}`);
  assert.ok(a.maxInflight <= 2 && b.maxInflight <= 2, `in flight: a ${a.maxInflight}, b ${b.maxInflight}`);
});

test("when a sidecar dies for good mid-job then that job's requests go to the other one and every job finishes once", async () => {
  const a = new FakeSidecar("a");
  const b = new FakeSidecar("b", { dieAfter: 2 });
  const pool = new SidecarPool([{ sidecar: a }, { sidecar: b }], HELLO);
  const out = await collect(pool.ordered(Array.from({ length: 8 }, (_, i) => i), (sc, n) => job(sc, n, 3), 2));
  assert.deepEqual(out.map((r) => r.n), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(b.served.length, 2);
  assert.equal(a.served.length + b.served.length, 8 * 3, "every request answered once");
  assert.ok(b.served.some((n) => a.served.includes(n)), "a job moved from b to a part way");
  assert.equal(pool.workers[1].alive, false);
  assert.ok(b.closed, "the lost sidecar was closed");
  assert.equal(b.calls, 3, "after its loss nothing more was sent to b");
});

test("when the only sidecar dies then its own error stands", async () => {
  const pool = new SidecarPool([{ sidecar: new FakeSidecar("a", { dieAfter: 1 }) }], HELLO);
  await assert.rejects(collect(pool.ordered([0, 1, 2], (sc, n) => job(sc, n))), (e: Error) => e instanceof SidecarError && e.code === "sidecar_died" && /a exited/.test(e.message));
  assert.equal(pool.workers[0].alive, true, "a lone sidecar is never dropped (its client may restart it)");
});

test("when a job fails with its own error then the jobs before it are yielded first and none after it starts later", async () => {
  const started: number[] = [];
  const fail = (n: number) => (n === 5 ? new SidecarError("bad args", "sidecar_bad_args") : null);
  const pool = new SidecarPool([{ sidecar: new FakeSidecar("a", { fail }) }, { sidecar: new FakeSidecar("b", { fail }) }], HELLO);
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of pool.ordered(Array.from({ length: 20 }, (_, i) => i), (sc, n) => (started.push(n), job(sc, n)), 1)) got.push(r.n);
    })(),
    /bad args/,
  );
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.ok(Math.max(...started) < 5 + 2, `started up to ${Math.max(...started)}`);
  assert.equal(pool.workers.filter((w) => w.alive).length, 2, "a request's own error drops no sidecar");
});

/** A mock sidecar that dies for good after `after` calls (its client gave up restarting it). */
class DyingMock extends SidecarBase {
  private n = 0;
  constructor(
    private readonly inner: SidecarBase,
    private readonly after: number,
  ) {
    super();
  }
  hello() {
    return this.inner.hello();
  }
  async close() {}
  call<O extends Op>(op: O, args: OpArgs<O>, opts?: CallOpts): Promise<OpResult<O>> {
    if (++this.n > this.after) return Promise.reject(new SidecarError("sidecar exited (signal SIGKILL)", "sidecar_died"));
    return this.inner.call(op, args, opts);
  }
}

test("when the run goes through two mock sidecars, one of them dying mid-run, then its files equal the one-sidecar run's", async () => {
  const ps = prompts();
  const one = mkdtempSync(join(tmpdir(), "pool-1-"));
  await runStage(testConfig(one), mockEnv(), { prompts: ps, resume: false, chunkSize: 2 });
  const two = mkdtempSync(join(tmpdir(), "pool-2-"));
  const [e1, e2] = [mockEnv(), mockEnv()];
  const pool = new SidecarPool([{ sidecar: e1.sidecar }, { sidecar: e2.sidecar }], e1.hello);
  await runStage(testConfig(two), { ...e1, sidecar: pool }, { prompts: ps, resume: false, chunkSize: 2 });
  assert.ok(e1.sidecar.calls.length > 0 && e2.sidecar.calls.length > 0, "both sidecars served requests");
  assert.deepEqual(runDirFiles(runPaths({ dataRoot: two }).runs), runDirFiles(runPaths({ dataRoot: one }).runs));
  const dying = mkdtempSync(join(tmpdir(), "pool-dying-"));
  const [f1, f2] = [mockEnv(), mockEnv()];
  const flaky = new SidecarPool([{ sidecar: f1.sidecar }, { sidecar: new DyingMock(f2.sidecar, 5) }], f1.hello);
  const s = await runStage(testConfig(dying), { ...f1, sidecar: flaky }, { prompts: ps, resume: false, chunkSize: 2 });
  assert.equal(s.ran, ps.length);
  assert.equal(flaky.workers[1].alive, false);
  assert.deepEqual(runDirFiles(runPaths({ dataRoot: dying }).runs), runDirFiles(runPaths({ dataRoot: one }).runs));
  const units = readJsonl(runPaths({ dataRoot: dying }).units, UnitRecord).map((u) => `${u.prompt_id}|${u.condition}`);
  assert.equal(units.length, ps.length * 2);
  assert.equal(new Set(units).size, units.length, "each unit exactly once");
});
