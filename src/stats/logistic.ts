/**
 * Logistic regression of per-sample violation on P0, P(violation) = σ(a + b·P0), fitted by maximum
 * likelihood with Newton–Raphson (IRLS for the binomial family) on per-prompt counts: a prompt with
 * k violations in n samples contributes k successes and n−k failures at its P0, which is the same
 * likelihood as the n individual samples. Wald standard errors come from the inverse observed
 * information; the prompt-level bootstrap CI resamples prompts and refits.
 *
 * A singular design (every sample at one P0, e.g. a bootstrap resample that drew one prompt three
 * times) has no slope to estimate: the fit reports `singular`, not converged, with NaN coefficients,
 * and the bootstrap excludes such resamples from the CIs and counts them (`nSingular`).
 */
import { bootstrapVector, type BootstrapOptions, type Interval } from "./bootstrap.ts";

/** Two-sided 95% normal quantile. */
const Z95 = 1.959963984540054;

/** One prompt: k successes (violations) among n samples at predictor x (P0). */
export interface BinomialPoint {
  x: number;
  k: number;
  n: number;
}

export interface LogisticFit {
  intercept: number;
  slope: number;
  /** Wald standard errors (NaN when the information matrix is singular). */
  seIntercept: number;
  seSlope: number;
  logLik: number;
  iterations: number;
  /** False when the iteration limit was hit, the data are (quasi-)separated, or the design is singular. */
  converged: boolean;
  /** True when the predictor has (numerically) no spread over the samples: slope not identifiable. */
  singular: boolean;
  nUnits: number;
  nSamples: number;
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function logLik(points: readonly BinomialPoint[], a: number, b: number): number {
  let ll = 0;
  for (const p of points) {
    const eta = a + b * p.x;
    // k·log σ(η) + (n−k)·log(1−σ(η)) = k·η − n·log(1+e^η)
    ll += p.k * eta - p.n * softplus(eta);
  }
  return ll;
}

export interface FitOptions {
  maxIter?: number;
  tol?: number;
}

/** True when the sample-weighted variance of x is zero up to rounding (fewer than two distinct P0). */
function singularDesign(points: readonly BinomialPoint[], nSamples: number): boolean {
  if (nSamples === 0) return true;
  let sx = 0;
  for (const p of points) sx += p.n * p.x;
  const mean = sx / nSamples;
  let ss = 0;
  for (const p of points) ss += p.n * (p.x - mean) ** 2;
  return !(ss / nSamples > 1e-12 * Math.max(1, mean * mean));
}

/** Maximum-likelihood fit of σ(a + b·x) to binomial counts (Newton with step halving). */
export function fitLogistic(points: readonly BinomialPoint[], opts: FitOptions = {}): LogisticFit {
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-10;
  let nSamples = 0;
  let kSum = 0;
  for (const p of points) {
    if (!(p.n >= 0) || !(p.k >= 0) || p.k > p.n) throw new RangeError(`fitLogistic: bad counts k=${p.k} n=${p.n}`);
    nSamples += p.n;
    kSum += p.k;
  }
  const nan: LogisticFit = {
    intercept: NaN, slope: NaN, seIntercept: NaN, seSlope: NaN, logLik: NaN,
    iterations: 0, converged: false, singular: true, nUnits: points.length, nSamples,
  };
  if (nSamples === 0) return nan;
  // Start at the intercept-only solution.
  const p0 = Math.min(1 - 1e-6, Math.max(1e-6, kSum / nSamples));
  let a = Math.log(p0 / (1 - p0));
  let b = 0;
  let ll = logLik(points, a, b);
  if (singularDesign(points, nSamples)) return { ...nan, logLik: ll };
  let converged = false;
  let it = 0;
  let h00 = 0, h01 = 0, h11 = 0;
  for (; it < maxIter; it++) {
    let g0 = 0, g1 = 0;
    h00 = 0; h01 = 0; h11 = 0;
    for (const p of points) {
      const mu = sigmoid(a + b * p.x);
      const r = p.k - p.n * mu;
      const w = p.n * mu * (1 - mu);
      g0 += r;
      g1 += r * p.x;
      h00 += w;
      h01 += w * p.x;
      h11 += w * p.x * p.x;
    }
    const det = h00 * h11 - h01 * h01;
    if (!(det > 0) || !Number.isFinite(det)) break;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    let step = 1;
    let na = a + d0, nb = b + d1;
    let nll = logLik(points, na, nb);
    while (!(nll >= ll - 1e-12) && step > 1e-8) {
      step /= 2;
      na = a + step * d0;
      nb = b + step * d1;
      nll = logLik(points, na, nb);
    }
    a = na;
    b = nb;
    const change = Math.abs(step * d0) + Math.abs(step * d1);
    ll = nll;
    if (change < tol * (1 + Math.abs(a) + Math.abs(b))) {
      converged = true;
      it++;
      break;
    }
  }
  // Information at the final estimate.
  h00 = 0; h01 = 0; h11 = 0;
  for (const p of points) {
    const mu = sigmoid(a + b * p.x);
    const w = p.n * mu * (1 - mu);
    h00 += w;
    h01 += w * p.x;
    h11 += w * p.x * p.x;
  }
  const det = h00 * h11 - h01 * h01;
  const ok = det > 0 && Number.isFinite(det);
  // Separation drives |b| without bound while the likelihood creeps up: treat huge slopes as failure.
  if (Math.abs(a) > 50 || Math.abs(b) > 50) converged = false;
  return {
    intercept: a,
    slope: b,
    seIntercept: ok ? Math.sqrt(h11 / det) : NaN,
    seSlope: ok ? Math.sqrt(h00 / det) : NaN,
    logLik: ll,
    iterations: it,
    converged,
    singular: false,
    nUnits: points.length,
    nSamples,
  };
}

/** Predicted probability at x. */
export function predict(fit: Pick<LogisticFit, "intercept" | "slope">, x: number): number {
  return sigmoid(fit.intercept + fit.slope * x);
}

export interface LogisticWithCI {
  fit: LogisticFit;
  intercept: Interval & { se: number; waldLow: number; waldHigh: number };
  slope: Interval & { se: number; waldLow: number; waldHigh: number };
  /** Predicted probability at each requested x, with its bootstrap interval. */
  predictions: (Interval & { x: number })[];
  /** Bootstrap resamples drawn. */
  B: number;
  /** Resamples whose design was singular (one distinct P0): excluded from the CIs. */
  nSingular: number;
  /** Resamples with a non-singular design whose fit did not converge: excluded from the CIs. */
  nonConverged: number;
  /** nSingular + nonConverged: resamples left out of every CI (valid = B − nExcluded). */
  nExcluded: number;
}

/**
 * Fit plus prompt-level bootstrap CIs for intercept and slope (percentile) and Wald intervals
 * (estimate ± 1.96·SE). Resamples with a singular design or a fit that fails to converge are
 * dropped and counted (`nSingular`, `nonConverged`).
 */
export function fitLogisticWithCI(
  points: readonly BinomialPoint[],
  opts: BootstrapOptions,
  at: readonly number[] = [],
): LogisticWithCI {
  const fit = fitLogistic(points);
  let nonConverged = 0;
  let nSingular = 0;
  let calls = 0;
  const [ivA, ivB, ...ivP] = bootstrapVector(
    points,
    (sample) => {
      const f = calls++ === 0 ? fit : fitLogistic(sample);
      if (!f.converged) {
        if (calls > 1 && f.singular) nSingular++;
        else if (calls > 1) nonConverged++;
        return [NaN, NaN, ...at.map(() => NaN)];
      }
      return [f.intercept, f.slope, ...at.map((x) => predict(f, x))];
    },
    { ...opts, stream: opts.stream ?? "logistic" },
  );
  const wald = (estimate: number, se: number) => ({ estimate, se, waldLow: estimate - Z95 * se, waldHigh: estimate + Z95 * se });
  return {
    fit,
    intercept: { ...ivA, ...wald(fit.intercept, fit.seIntercept) },
    slope: { ...ivB, ...wald(fit.slope, fit.seSlope) },
    predictions: at.map((x, i) => ({ ...ivP[i], x, estimate: predict(fit, x) })),
    B: points.length > 0 ? opts.B : 0,
    nSingular,
    nonConverged,
    nExcluded: nSingular + nonConverged,
  };
}
