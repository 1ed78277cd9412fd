// A counter-based random number generator: element i of a draw with seed s is a pure function
// hash(s, i) built from 32-bit integer operations only, so every backend, platform and browser
// produces the same numbers, and any slice can be generated independently.

/** A 32-bit integer mix (Chris Wellons' "triple32" finaliser): full avalanche, bijective. */
function mix32(x: number): number {
  x ^= x >>> 17;
  x = Math.imul(x, 0xed5ad4bb);
  x ^= x >>> 11;
  x = Math.imul(x, 0xac4c1b51);
  x ^= x >>> 15;
  x = Math.imul(x, 0x31848bab);
  x ^= x >>> 14;
  return x >>> 0;
}

/** The `counter`-th 32-bit word of stream `seed`. */
export function randomWord(seed: number, counter: number): number {
  const key = mix32((seed >>> 0) ^ 0x9e3779b9);
  const hi = Math.floor(counter / 0x100000000);
  return mix32((mix32((counter >>> 0) ^ key) + Math.imul(hi, 0x85ebca6b) + key) >>> 0);
}

/** A float in (0, 1): 24 random bits, never exactly 0 so that log() is safe. */
function unitOpen(seed: number, counter: number): number {
  return ((randomWord(seed, counter) >>> 8) + 0.5) / 16777216;
}

/** Uniform samples in [low, high). */
export function uniformArray(size: number, seed: number, low = 0, high = 1): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = low + (high - low) * unitOpen(seed, i);
  return out;
}

/** Standard normal samples by Box-Muller, element i from counters 2i and 2i+1. */
export function normalArray(size: number, seed: number, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u1 = unitOpen(seed, 2 * i);
    const u2 = unitOpen(seed, 2 * i + 1);
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

/** A seeded permutation of 0..n-1 (Fisher-Yates driven by the counter RNG). */
export function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(unitOpen(seed, n - 1 - i) * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
