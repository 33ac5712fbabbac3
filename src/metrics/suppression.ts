/**
 * Suppression of X by the prohibition (DESIGN.md "Metrics"), from P0 = P_sem under the baseline
 * prompt and P1 = P_sem under the negative prompt:
 *
 *   Δ = P0 − P1                      absolute suppression (negative when the prohibition raises P)
 *   R = Δ / max(P0, ε)               relative suppression (1 = fully suppressed)
 *   L = log max(P0, ε) − log max(P1, ε)   log ratio, natural log
 *
 * Zero guard: both probabilities are clamped below at ε (default 1e-9, config analysis.epsilon)
 * before the logarithm, so L is always finite, |L| ≤ log(1/ε) ≈ 20.7; R's denominator uses the
 * same clamp. Probabilities must lie in [0, 1] (tiny float overshoot up to 1e-6 is tolerated).
 */
import { InputError } from "../errors.ts";

export const SUPPRESSION_EPSILON = 1e-9;

export interface Suppression {
  delta: number;
  rel_suppression: number;
  log_ratio: number;
}

function checkProb(name: string, p: number): void {
  if (!Number.isFinite(p) || p < 0 || p > 1 + 1e-6) throw new InputError(`${name} must be a probability in [0, 1], got ${p}`);
}

export function suppression(p0: number, p1: number, eps = SUPPRESSION_EPSILON): Suppression {
  checkProb("P0", p0);
  checkProb("P1", p1);
  const delta = p0 - p1;
  return {
    delta,
    rel_suppression: delta / Math.max(p0, eps),
    log_ratio: Math.log(Math.max(p0, eps)) - Math.log(Math.max(p1, eps)),
  };
}
