// A sweep's grid: axes (a `train` flag and the values it takes) expanded into cells, the
// cartesian product. Each cell has a stable name built from its axis values, sorted by axis
// name, so that the name (and the cell's directory) does not depend on the order of --grid flags
// or of the values within one.

export interface GridAxis {
  /** A `train` flag without its dashes, e.g. `sparsity` or `train-size`. */
  name: string;
  values: string[];
}

/** The whole definition of a sweep, as stored in OUT/sweep.json. */
export interface SweepDefinition {
  axes: GridAxis[];
  /** `train` arguments given to every cell, e.g. ['--model', 'lenet300', '--epochs', '3']. */
  fixed: string[];
}

export interface GridCell {
  name: string;
  /** Axis name to value. */
  values: Record<string, string>;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Decimal numbers in their shortest form ('0.10' and '1e-1' are both '0.1'); other values as they are. */
export function canonicalValue(value: string): string {
  return DECIMAL.test(value) ? String(Number(value)) : value;
}

export function isNumericValue(value: string): boolean {
  return DECIMAL.test(value);
}

const AXIS_NAME = /^[a-z][a-z0-9-]*$/;

/** `NAME=V1,V2,...` (the value of one --grid flag). */
export function parseGridAxis(spec: string): GridAxis {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, Math.max(0, eq));
  if (!AXIS_NAME.test(name)) throw new Error(`--grid: expected NAME=V1,V2,... with NAME a train flag (e.g. sparsity=0.1,0.5), got '${spec}'`);
  const axis = {
    name,
    values: spec
      .slice(eq + 1)
      .split(',')
      .map((v) => canonicalValue(v.trim())),
  };
  checkAxis(axis);
  return axis;
}

/** An axis, parsed or read back from sweep.json: a flag's name other than --out, each value given once and not empty. */
function checkAxis({ name, values }: GridAxis): void {
  if (!AXIS_NAME.test(name)) throw new Error(`--grid ${name}: not the name of a train flag`);
  if (name === 'out') throw new Error("--grid out: the sweep chooses each cell's directory (OUT/cells/NAME)");
  if (values.some((v) => v === '')) throw new Error(`--grid ${name}: empty value in ${values.join(',')}`);
  const duplicate = values.find((v, i) => values.indexOf(v) !== i);
  if (duplicate !== undefined) throw new Error(`--grid ${name}: value ${duplicate} is given twice`);
}

/** Flag names (without dashes) in a `train` argument list. */
function flagNames(args: string[]): string[] {
  return args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]);
}

/** Checks every axis, and that axis names are distinct and are not also fixed flags. */
export function checkDefinition({ axes, fixed }: SweepDefinition): void {
  if (axes.length === 0) throw new Error('a sweep needs at least one --grid NAME=V1,V2,...');
  const fixedFlags = new Set(flagNames(fixed));
  for (const [i, axis] of axes.entries()) {
    checkAxis(axis);
    if (axes.findIndex((a) => a.name === axis.name) !== i) throw new Error(`--grid ${axis.name} is given twice`);
    if (fixedFlags.has(axis.name)) throw new Error(`--${axis.name} is both a fixed flag and a --grid axis`);
  }
}

/** Characters kept as they are in a cell name; the rest are percent-encoded. */
const PLAIN = /[A-Za-z0-9._+-]/;

function encodeValue(value: string): string {
  return Array.from(new TextEncoder().encode(value), (byte) => {
    const c = String.fromCharCode(byte);
    return byte < 128 && PLAIN.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/**
 * `alpha=2_sparsity=0.5`: axis names sorted, values percent-encoded outside [A-Za-z0-9._+-] (so
 * unambiguous: names have no '_', values no '='). No commas: they would need quoting in CSV.
 */
export function cellName(values: Record<string, string>): string {
  return Object.keys(values)
    .sort()
    .map((name) => `${name}=${encodeValue(values[name])}`)
    .join('_');
}

/** Every combination of axis values, the first axis outermost. */
export function expandGrid(axes: GridAxis[]): GridCell[] {
  let combos: Record<string, string>[] = [{}];
  for (const axis of axes) combos = combos.flatMap((values) => axis.values.map((v) => ({ ...values, [axis.name]: v })));
  return combos.map((values) => ({ name: cellName(values), values }));
}

/** The `train` arguments of a cell: the fixed ones, then its axis values (as --name=value, safe for values starting with '-'). */
export function cellArgs({ axes, fixed }: SweepDefinition, cell: GridCell): string[] {
  return [...fixed, ...axes.map((a) => `--${a.name}=${cell.values[a.name]}`)];
}
