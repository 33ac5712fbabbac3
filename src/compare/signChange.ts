/**
 * Where patching ΔP changes sign along the layers (pure). The series is a model's mean ΔP per layer
 * (report tables' patching.by_layer); a change is a pair of consecutive layers whose estimates have
 * opposite signs (layers with ΔP exactly 0 or unknown are skipped). The crossing is placed by linear
 * interpolation between the two layers and also given as relative depth (depth.ts).
 */
import { relativeDepth } from "./depth.ts";

export interface LayerEstimate {
  layer: number;
  estimate: number | null;
  ci_low: number | null;
  ci_high: number | null;
}

export interface SignChange {
  /** The last layer with the old sign and the first with the new one. */
  from_layer: number;
  to_layer: number;
  direction: "negative_to_positive" | "positive_to_negative";
  /** Interpolated zero crossing, in layers and in relative depth. */
  layer_crossing: number;
  depth_crossing: number;
  /** Both layers' 95% CIs exclude 0: the change is not within the bootstrap noise. */
  both_cis_exclude_zero: boolean;
}

const excludesZero = (e: LayerEstimate) => e.ci_low !== null && e.ci_high !== null && (e.ci_low > 0 || e.ci_high < 0);

/** Every sign change of the series, in layer order. */
export function signChanges(series: readonly LayerEstimate[], nLayers: number): SignChange[] {
  const pts = series
    .filter((e): e is LayerEstimate & { estimate: number } => e.estimate !== null && Number.isFinite(e.estimate) && e.estimate !== 0)
    .sort((a, b) => a.layer - b.layer);
  const out: SignChange[] = [];
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    if (Math.sign(a.estimate) === Math.sign(b.estimate)) continue;
    const cross = a.layer + (a.estimate / (a.estimate - b.estimate)) * (b.layer - a.layer);
    out.push({
      from_layer: a.layer,
      to_layer: b.layer,
      direction: a.estimate < 0 ? "negative_to_positive" : "positive_to_negative",
      layer_crossing: cross,
      depth_crossing: relativeDepth(cross, nLayers),
      both_cis_exclude_zero: excludesZero(a) && excludesZero(b),
    });
  }
  return out;
}
