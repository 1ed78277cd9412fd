// Global engine state: the backends that are ready, which one new tensors go to, whether
// gradients are being recorded, and the stack of scopes that own intermediate tensors.

import type { Backend } from './backend/backend.js';
import { CpuBackend } from './backend/cpu.js';

export type BackendName = Backend['name'];

const backends = new Map<BackendName, Backend>([['cpu', new CpuBackend()]]);
let current: Backend = backends.get('cpu')!;

export function registerBackend(b: Backend): void {
  backends.get(b.name)?.destroy();
  backends.set(b.name, b);
}

/** Makes an initialised backend the default for new tensors. */
export function setBackend(name: BackendName): void {
  current = getBackend(name);
}

export function getBackend(name?: BackendName): Backend {
  if (name === undefined) return current;
  const b = backends.get(name);
  if (b) return b;
  if (name !== 'cpu' && name !== 'webgpu' && name !== 'wasm') throw new Error(`unknown backend '${String(name)}' (use 'cpu', 'wasm' or 'webgpu')`);
  throw new Error(`backend '${name}' is not initialised: call tg.init({ backend: '${name}' }) first`);
}

/** Destroys every GPU device and wasm thread so the process can exit; the CPU backend stays the default. */
export function shutdown(): void {
  for (const [name, b] of backends) {
    if (name === 'cpu') continue;
    b.destroy();
    backends.delete(name);
  }
  current = backends.get('cpu')!;
}

// ---- gradient recording ----

let noGradDepth = 0;

export function isGradEnabled(): boolean {
  return noGradDepth === 0;
}

/** Runs `fn` without recording operations for autograd. */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  try {
    return fn();
  } finally {
    noGradDepth--;
  }
}

// ---- scopes ----

export interface Disposable {
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];

export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

export function untrack(t: Disposable): void {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) return;
}

/** The tensors inside a returned value (a tensor, or arrays / plain objects of them). */
function collect(value: unknown, into: Set<unknown>): void {
  if (value === null || typeof value !== 'object') return;
  if (into.has(value)) return;
  into.add(value);
  if (Array.isArray(value)) value.forEach((v) => collect(v, into));
  else if (Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach((v) => collect(v, into));
}

/**
 * Runs `fn` and disposes every tensor created inside it, except those it returns (directly,
 * or inside arrays and plain objects) and those passed to `keep`. Returned tensors move to
 * the enclosing scope. Use one scope per training step to keep GPU memory flat.
 */
export function scope<T>(fn: () => T): T {
  const own = new Set<Disposable>();
  scopes.push(own);
  let result: T | undefined;
  let synchronous = false;
  try {
    result = fn();
    synchronous = !(result instanceof Promise);
  } finally {
    // Also when fn throws (or returned a promise): what it made is freed either way.
    scopes.pop();
    const returned = new Set<unknown>();
    if (synchronous) collect(result, returned);
    for (const t of own) {
      if (returned.has(t)) track(t);
      else t.dispose();
    }
  }
  if (!synchronous) {
    // The caller gets the error; the abandoned promise's own rejection must not also end the process.
    (result as Promise<unknown>).catch(() => {});
    throw new Error('tg.scope(fn): fn must be synchronous (await outside the scope)');
  }
  return result as T;
}

/** Exempts a tensor from disposal by the scopes it was created in. */
export function keep<T extends Disposable>(t: T): T {
  untrack(t);
  return t;
}
