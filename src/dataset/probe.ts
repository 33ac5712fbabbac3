/**
 * The P_sem probe: P0 (and the plain sum) of each accepted candidate under the baseline prompt. The
 * build only sees the one-method interface, so tests inject a deterministic probe and the CLI wires
 * the real one (src/metrics/psem.ts against the sidecar, see sidecarProbe.ts).
 */
import { createHash } from "node:crypto";

export interface ProbeItem {
  candidate_id: string;
  question_text: string;
  target_word: string;
}

export interface ProbeResult {
  p0: number;
  p0_plain: number;
}

/** One result per item, same order. */
export type P0Probe = ((items: readonly ProbeItem[]) => Promise<ProbeResult[]>) & { readonly probeName?: string };

/**
 * FOR TESTS ONLY — not a model: a pseudo-P0 in [0,1] from a hash of (seed, candidate_id), uniform over
 * the bins. It lets the build's selection and resume logic run at full size without a sidecar.
 */
export function syntheticProbe(seed = 0): P0Probe {
  const f = async (items: readonly ProbeItem[]) =>
    items.map((it) => {
      const h = createHash("sha256").update(`${seed}:${it.candidate_id}`).digest();
      const p0 = h.readUInt32BE(0) / 0xffffffff;
      return { p0, p0_plain: Math.min(1, p0 * (1 + (h[4] % 16) / 100)) };
    });
  return Object.assign(f, { probeName: `synthetic(seed=${seed})` });
}
