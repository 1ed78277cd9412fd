// Shape arithmetic shared by the tensor front end and every backend.

export type Shape = readonly number[];

/** Largest rank the GPU kernels index (their uniform blocks hold this many dims). */
export const MAX_RANK = 6;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** A value as an error message shows it: strings quoted, so that '0.5' is not taken for 0.5. */
export function valueStr(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkShape(shape: Shape, what = 'shape'): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (shape.length > MAX_RANK) throw new Error(`${what} ${shapeStr(shape)} has rank ${shape.length}; at most ${MAX_RANK} is supported`);
}

/** NumPy broadcasting of two shapes; the error names both shapes and the op. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that read `shape` as if it had `outShape` (right-aligned), with 0 on broadcast dims.
 * This is how every backend indexes a broadcast operand without materialising it.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : own[j];
  });
}

/** Normalises a possibly negative axis list; undefined means all axes. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) throw new Error(`${op}: axis ${a} is out of range for rank ${rank}`);
    return n;
  });
  if (new Set(out).size !== out.length) throw new Error(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return out.sort((x, y) => x - y);
}

/**
 * Merges adjacent dims that are contiguous with each other in every stride set and drops dims
 * of size 1, so that kernels index as few dims as possible (a contiguous tensor becomes one).
 */
export function coalesce(shape: readonly number[], strideSets: (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideSets.map(() => []);
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = outShape.length - 1;
    if (last >= 0 && strideSets.every((s, k) => outStrides[k][last] === s[i] * d)) {
      outShape[last] *= d;
      strideSets.forEach((s, k) => (outStrides[k][last] = s[i]));
    } else {
      outShape.push(d);
      strideSets.forEach((s, k) => outStrides[k].push(s[i]));
    }
  });
  return { shape: outShape, strides: outStrides };
}

/** The kept and the reduced dims of a contiguous `shape` reduced over `axes`, each coalesced. */
export function reductionDims(shape: Shape, axes: readonly number[]): { kept: { shape: number[]; strides: number[] }; red: { shape: number[]; strides: number[] } } {
  const strides = stridesOf(shape);
  const keptAxes = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const kept = coalesce(
    keptAxes.map((i) => shape[i]),
    [keptAxes.map((i) => strides[i])],
  );
  const red = coalesce(
    axes.map((i) => shape[i]),
    [axes.map((i) => strides[i])],
  );
  return { kept: { shape: kept.shape, strides: kept.strides[0] }, red: { shape: red.shape, strides: red.strides[0] } };
}
