/**
 * Every interval the report computes goes through one book: it runs the bootstrap with a stream
 * label derived from (metric, group), so each CI is reproducible on its own, and it keeps the row
 * for runs/bootstrap_results.csv.
 */
import { bootstrap, bootstrapMean, type Interval } from "../stats/bootstrap.ts";
import type { BootstrapRow } from "../schemas.ts";

/** The JSON shape of an interval in tables.json. */
export interface Estimate {
  estimate: number | null;
  ci_low: number | null;
  ci_high: number | null;
  n: number;
}

/** JSON has no NaN: unknown numbers become null. */
export function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export class CIBook {
  readonly rows: BootstrapRow[] = [];
  constructor(
    readonly B: number,
    readonly seed: number,
  ) {}

  private record(metric: string, group: string, iv: Interval): Estimate {
    this.rows.push({ metric, group, estimate: iv.estimate, ci_low: iv.low, ci_high: iv.high, n: iv.n });
    return { estimate: num(iv.estimate), ci_low: num(iv.low), ci_high: num(iv.high), n: iv.n };
  }

  /** Weighted mean over prompts (one value per prompt) with a prompt-level bootstrap CI. */
  mean(metric: string, group: string, values: readonly number[], weights?: readonly number[]): Estimate {
    const keep = values.map((v, i) => Number.isFinite(v) && (!weights || weights[i] > 0));
    const v = values.filter((_, i) => keep[i]);
    const w = weights?.filter((_, i) => keep[i]);
    const iv = bootstrapMean(v, { B: this.B, seed: this.seed, stream: `${metric}|${group}` }, w);
    return this.record(metric, group, iv);
  }

  /** Any statistic of a resampled set of prompts. */
  stat<T>(metric: string, group: string, units: readonly T[], fn: (s: readonly T[]) => number): Estimate {
    const iv = bootstrap(units, fn, { B: this.B, seed: this.seed, stream: `${metric}|${group}` });
    return this.record(metric, group, iv);
  }

  /** Records an interval computed elsewhere (e.g. the logistic coefficients). */
  add(metric: string, group: string, iv: Interval): Estimate {
    return this.record(metric, group, iv);
  }
}
