// Reading back the JSON that ticketgrad writes (headers, metadata, reports, definitions): a
// damaged or hand-edited file is an Error that names the file and the field, never a TypeError
// further on. Browser-safe: no Node imports.

/** A test of one JSON value, and what it wants, for the error message. */
export interface Check {
  expected: string;
  ok(value: unknown): boolean;
}

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export const aString: Check = { expected: 'a string', ok: (v) => typeof v === 'string' };
export const aBoolean: Check = { expected: 'true or false', ok: (v) => typeof v === 'boolean' };
/** JSON turns 1e400 into Infinity: a number must be finite. */
export const aNumber: Check = { expected: 'a finite number', ok: (v) => typeof v === 'number' && Number.isFinite(v) };
export const aCount: Check = { expected: 'an integer >= 0', ok: (v) => Number.isSafeInteger(v) && (v as number) >= 0 };
export const aPositiveCount: Check = { expected: 'an integer >= 1', ok: (v) => Number.isSafeInteger(v) && (v as number) >= 1 };
export const anObject: Check = { expected: 'an object', ok: isObject };

export const numberIn = (min: number, max: number): Check => ({ expected: `a number in [${min}, ${max}]`, ok: (v) => typeof v === 'number' && v >= min && v <= max });

export const oneOf = (values: readonly unknown[]): Check => ({ expected: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, ok: (v) => values.includes(v) });

export const listOf = (item: Check, length?: number): Check => ({
  expected: `a list of ${length === undefined ? '' : `${length} `}(${item.expected})`,
  ok: (v) => Array.isArray(v) && (length === undefined || v.length === length) && v.every((x) => item.ok(x)),
});

export const optional = (check: Check): Check => ({ expected: `${check.expected}, or absent`, ok: (v) => v === undefined || check.ok(v) });

/** A value for an error message: short, and `missing` for undefined. */
const shown = (value: unknown): string => (value === undefined ? 'missing' : (JSON.stringify(value) ?? String(value)).slice(0, 60));

/** The value of a JSON text; `what` (the file) starts the error. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: not valid JSON (${(e as Error).message})`);
  }
}

/** `value` when it passes `check`; otherwise an Error saying what it is and what was expected. */
export function checked<T>(value: unknown, check: Check, what: string): T {
  if (!check.ok(value)) throw new Error(`${what} is ${shown(value)}, expected ${check.expected}`);
  return value as T;
}

export function readObject(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value)) throw new Error(`${what}: expected a JSON object, got ${shown(value)}`);
  return value;
}

export function readList(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a JSON list, got ${shown(value)}`);
  return value;
}

/**
 * A new object of the fields `checks` names, each passing its check (optional ones left out
 * when absent); other keys are dropped, so a stray "__proto__" never travels on.
 */
export function readFields<T>(value: unknown, checks: { [K in keyof T]-?: Check }, what: string): T {
  const object = readObject(value, what);
  const out: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(checks) as [string, Check][]) {
    const field = checked(Object.hasOwn(object, key) ? object[key] : undefined, check, `${what}: "${key}"`);
    if (field !== undefined) out[key] = field;
  }
  return out as T;
}
