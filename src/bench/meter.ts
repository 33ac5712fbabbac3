/**
 * What the end-to-end bench measures around the real stages, without touching them:
 *  - per op: calls, work items (sequences, samples, layer-patches…) and service seconds (generate keyed
 *    apart as generate:greedy and generate:sample; a run's sampling call also carries its greedy rows,
 *    counted as samples only). A sidecar
 *    serves its requests one at a time in arrival order, so a request's service time is its reply time
 *    minus the later of its send time and the previous reply of the same sidecar (queueing excluded);
 *  - sidecar service seconds: the sum of those, per stage (with several sidecars, sidecar-seconds);
 *  - GPU busy: `nvidia-smi` utilisation samples every 100 ms, averaged over a stage's window.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { SidecarBase } from "../rpc/ops.ts";
import type { Op, OpArgs } from "../rpc/protocol.ts";

export interface OpStats {
  calls: number;
  items: number;
  seconds: number;
}

/** Work items of one request, in the unit its rate is quoted in. */
export function itemsOf(op: Op, args: Record<string, unknown>, nLayers: number): number {
  const len = (k: string) => (Array.isArray(args[k]) ? (args[k] as unknown[]).length : 0);
  switch (op) {
    case "generate":
      return len("prompts") * (typeof args.n === "number" ? args.n : 1);
    case "score":
    case "logit_lens":
    case "decompose":
      return len("items");
    case "trace":
      return len("sequences");
    case "patch": {
      const sites = Array.isArray(args.sites) ? args.sites.length : 2;
      const items = (args.items ?? []) as { layers?: number[] }[];
      return items.reduce((s, it) => s + (it.layers?.length ?? nLayers) * sites, 0);
    }
    default:
      return 0;
  }
}

/** The key an op's stats go under: generate's greedy and sampling calls apart (their rates differ by 16×). */
export function opKey(op: Op, args: Record<string, unknown>): string {
  return op === "generate" ? (args.do_sample ? "generate:sample" : "generate:greedy") : op;
}

export class OpMeter {
  ops: Record<string, OpStats> = {};
  private busyMs = 0;

  constructor(private readonly nLayers: number) {}

  /** Wraps `sidecar.call` of one sidecar (an instance property shadows the prototype's method). */
  attach(sidecar: SidecarBase): void {
    const inner = sidecar.call.bind(sidecar);
    let lastReply = 0;
    const meter = this;
    sidecar.call = async function <O extends Op>(op: O, args: OpArgs<O>, opts?: { timeoutMs?: number }) {
      const sent = performance.now();
      const res = await inner(op, args, opts);
      const now = performance.now();
      const start = Math.max(sent, lastReply);
      lastReply = now;
      const a = args as Record<string, unknown>;
      meter.record(opKey(op, a), itemsOf(op, a, meter.nLayers), start, now);
      return res;
    } as SidecarBase["call"];
  }

  private record(op: string, items: number, start: number, end: number): void {
    const s = (this.ops[op] ??= { calls: 0, items: 0, seconds: 0 });
    s.calls++;
    s.items += items;
    s.seconds += (end - start) / 1000;
    this.busyMs += end - start;
  }

  /** Stats since the last call, then reset. */
  take(): { ops: Record<string, OpStats & { per_s: number }>; sidecar_service_s: number } {
    const ops: Record<string, OpStats & { per_s: number }> = {};
    for (const [op, s] of Object.entries(this.ops)) ops[op] = { ...s, per_s: s.seconds > 0 ? s.items / s.seconds : 0 };
    const out = { ops, sidecar_service_s: this.busyMs / 1000 };
    this.ops = {};
    this.busyMs = 0;
    return out;
  }
}

/** GPU utilisation sampler, per GPU index (null when there is no nvidia-smi). */
export class GpuSampler {
  private proc: ChildProcess | null = null;
  private samples: { t: number; gpu: number; util: number }[] = [];

  start(): boolean {
    try {
      this.proc = spawn("nvidia-smi", ["--query-gpu=index,utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100"], { stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      return false;
    }
    this.proc.on("error", () => (this.proc = null));
    let buf = "";
    this.proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      const t = performance.now();
      for (const l of lines) {
        const [gpu, util] = l.split(",").map((x) => Number(x.trim()));
        if (Number.isInteger(gpu) && Number.isFinite(util)) this.samples.push({ t, gpu, util });
      }
    });
    return true;
  }

  /**
   * Mean utilisation (%) over [t0, t1] of the GPUs in `gpus` (all sampled GPUs when empty), or null
   * without samples: an idle GPU the run does not use must not halve the figure.
   */
  mean(t0: number, t1: number, gpus: readonly number[] = []): number | null {
    const xs = this.samples.filter((s) => s.t >= t0 && s.t <= t1 && (gpus.length === 0 || gpus.includes(s.gpu))).map((s) => s.util);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  }

  stop(): void {
    this.proc?.kill();
  }
}

/** GPU indices named by the sidecars' --devices entries (cuda:1, cuda:0+cuda:1); empty = every GPU. */
export function gpusOf(devices: readonly (string | null)[]): number[] {
  if (devices.some((d) => d === null)) return [];
  return [...new Set(devices.flatMap((d) => [...d!.matchAll(/cuda:(\d+)/g)].map((m) => Number(m[1]))))].sort();
}
