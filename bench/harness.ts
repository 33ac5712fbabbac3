/**
 * The bench registry's contract. A benchmark is a module `bench/<name>.bench.ts` whose default export
 * is `defineBench({...})`; `bench/run.ts` finds and runs every such file. Measurements go to stdout
 * as one JSON line each (machine-readable, append to a file to track over time); a table goes to stderr.
 */
export interface Measurement {
  /** Bench module name (filled in by the runner). */
  bench: string;
  /** What was measured, e.g. "echo_empty_rtt". */
  name: string;
  value: number;
  /** e.g. "us", "ms", "MiB/s", "x" (ratio). */
  unit: string;
  /** Repetitions behind the value. */
  n?: number;
  /** Free-form context: statistic, payload size, baseline name … */
  [extra: string]: unknown;
}

export interface BenchContext {
  /** Records one measurement (printed at once as a JSON line). */
  emit(m: Omit<Measurement, "bench">): void;
  /** Progress to stderr. */
  note(msg: string): void;
  /** Extra command-line arguments after the bench names (`-- --key value`), for module options. */
  argv: string[];
}

export interface Bench {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<void>;
}

export function defineBench(b: Bench): Bench {
  return b;
}

/** Sorted copy statistics over a list of samples. */
export function stats(samples: number[]): { median: number; p10: number; p90: number; min: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), min: s[0], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** Times `fn` `n` times after `warmup` untimed runs; returns per-run milliseconds. */
export async function timeIt(n: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Value of `--name V` in a bench's argv, else the default. */
export function arg(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
}
