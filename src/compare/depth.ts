/**
 * Relative depth, the common x axis of models with different numbers of blocks. Every CSV numbers
 * layer ℓ = the output of block ℓ (0..L−1) and the logit lens adds ℓ = −1 for the embeddings, so the
 * depth of layer ℓ is the share of blocks applied: (ℓ + 1) / L. The embeddings sit at 0 and the last
 * block's output at 1 in every model, whatever its size.
 */

export const DEPTH_NOTE =
  "relative depth = (layer + 1) / n_layers, the share of blocks applied: 0 = the embeddings (logit-lens layer -1), 1 = the last block's output; layer l = output of block l as in every CSV";

export function relativeDepth(layer: number, nLayers: number): number {
  if (!(nLayers > 0)) throw new RangeError(`relativeDepth: n_layers must be positive, got ${nLayers}`);
  return (layer + 1) / nLayers;
}

/** The layer (fractional) at a relative depth: the inverse of relativeDepth. */
export function layerAtDepth(depth: number, nLayers: number): number {
  return depth * nLayers - 1;
}
