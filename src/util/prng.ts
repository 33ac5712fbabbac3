/**
 * Seeded PRNG for every random choice on the TypeScript side (mulberry32 over a 32-bit seed mixed
 * with an optional stream label, so independent uses of one seed do not share a sequence).
 */
export class Prng {
  private state: number;
  constructor(seed: number, stream = "") {
    let h = (seed >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < stream.length; i++) {
      h = Math.imul(h ^ stream.charCodeAt(i), 0x85ebca6b);
      h ^= h >>> 13;
    }
    this.state = h >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Fisher–Yates shuffle, returns a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/** A 31-bit seed derived from a base seed and a label (e.g. a prompt id), stable across runs. */
export function deriveSeed(base: number, label: string): number {
  return new Prng(base, label).int(2 ** 31 - 1);
}
