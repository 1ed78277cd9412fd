// Every file reader against damaged files: random truncations, changed bytes and random or
// mutated JSON (wrong types, negative, huge and infinite numbers, missing and extra keys,
// unknown dtypes) give either a self-consistent load or an Error that names the file: never a
// TypeError, RangeError or SyntaxError from inside a reader, never a hang. The valid files come
// from the project's own writers: one tiny real sweep cell (a training run) and small data sets.

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { parseTrainArgs } from '../src/cli/args.js';
import { analyzeCommand } from '../src/cli/tickets.js';
import { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, loadCifar10 } from '../src/data/cifar10.js';
import { loadMnist } from '../src/data/mnist.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { frameTgt, readTgt, writeTgt } from '../src/io/tgt.js';
import { analyzeTicket } from '../src/sparse/analyze.js';
import { checkpointKernelCounts, checkpointTicket } from '../src/sparse/checkpoint.js';
import { checkDefinition, expandGrid, parseGridAxis, type SweepDefinition } from '../src/sweep/grid.js';
import { DEFINITION_FILE, type ParseTrainArgs, cellDir, planCells, readDefinition, runSweep } from '../src/sweep/run.js';
import { UNSHARDED } from '../src/sweep/shard.js';
import { CELL_RECORD_FILE, readCellState } from '../src/sweep/state.js';
import { CHECKPOINT_FILE, type TrainOptions, denseRunAccuracy, readRunCheckpoint, train } from '../src/train/train.js';
import { runs, sizeOf } from './helpers.js';

// ---- the check every reader must pass ----

const INTERNAL_ERRORS = [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];
/** The longest one read may take: the valid files are small, so more means a runaway loop or allocation. */
const SLOW_MS = 2000;

/** `read()` returns a value that passes `check`, or throws an Error (or the project's own subclass) whose message names `file`. */
function loadsOrNamesFile<T>(file: string, read: () => T, check: (value: T) => void): void {
  const started = performance.now();
  let value: T;
  try {
    value = read();
  } catch (error) {
    assert.ok(error instanceof Error && !INTERNAL_ERRORS.some((E) => error instanceof E), `an internal error: ${(error as Error)?.stack ?? error}`);
    assert.ok(error.message.includes(file), `the error does not name ${file}: ${error.message}`);
    return;
  } finally {
    const ms = performance.now() - started;
    assert.ok(ms < SLOW_MS, `one read took ${ms.toFixed(0)} ms`);
  }
  check(value);
}

/** A property's runs; a failure reports the reader's error, not just the input. */
const fuzzRuns = (n: number) => ({ ...runs(n), includeErrorInReport: true });

// ---- damage ----

/** A prefix shorter than the file (0 bytes included). */
const truncations = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> => fc.nat({ max: bytes.length - 1 }).map((n) => bytes.slice(0, n));

/** 1 to 3 bytes xor-ed with a nonzero value, half the time within the first `head` bytes (where a binary file's header is). */
function flips(bytes: Uint8Array, head = bytes.length): fc.Arbitrary<Uint8Array> {
  const at = fc.oneof(fc.nat({ max: Math.min(head, bytes.length) - 1 }), fc.nat({ max: bytes.length - 1 }));
  return fc.array(fc.tuple(at, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }).map((changes) => {
    const out = bytes.slice();
    for (const [i, x] of changes) out[i] ^= x;
    return out;
  });
}

/** Stands for 1e400 (JSON.parse makes it Infinity), which JSON.stringify cannot write. */
const INFINITE = '<1e400>';
const encodeJson = (value: unknown): string => (JSON.stringify(value) ?? 'null').replaceAll(`"${INFINITE}"`, '1e400');
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const ODD_VALUES: unknown[] = [null, true, 0, -1, 0.5, 1.5, 2 ** 31, 2 ** 53, 1e308, -1e308, INFINITE, '', 'x', 'F16', '__proto__', [], {}, [-1, 4], [0, 1e308], [1, 2, 3]];
const valueArb: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom(...ODD_VALUES), fc.jsonValue({ maxDepth: 2 }));
const EXTRA_KEYS = ['__proto__', 'constructor', 'toString', 'extra', '', 'model/extra'];

type Path = (string | number)[];
type Mutation = { kind: 'set'; path: Path; value: unknown } | { kind: 'delete'; path: Path } | { kind: 'add'; path: Path; key: string; value: unknown };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The path of every value inside a JSON document ([] is the root). */
function pathsOf(doc: unknown, prefix: Path = []): Path[] {
  const children = Array.isArray(doc) ? doc.map((v, i) => [i, v] as const) : isObject(doc) ? Object.entries(doc) : [];
  return [prefix, ...children.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

/** Applies a mutation in place; returns the new root (a `set` of the root replaces it). Paths an earlier mutation removed are skipped. */
function mutate(root: unknown, m: Mutation): unknown {
  // A copy: the values are shared constants (ODD_VALUES), which a later mutation must neither change nor nest in themselves.
  if (m.path.length === 0 && m.kind === 'set') return structuredClone(m.value);
  let parent: unknown = root;
  // Own keys only: a removed "__proto__" key must not lead into Object.prototype.
  for (const key of m.path.slice(0, m.kind === 'add' ? undefined : -1))
    parent = typeof parent === 'object' && parent !== null && Object.hasOwn(parent, key) ? (parent as Record<string, unknown>)[key] : undefined;
  if (!isObject(parent) && !Array.isArray(parent)) return root;
  const key = m.kind === 'add' ? m.key : m.path[m.path.length - 1];
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else Object.defineProperty(parent, key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
  return root;
}

/** `doc` with 1 to 3 random changes (a value replaced, removed, or a key added), or now and then any JSON value at all. */
function mutations(doc: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(doc);
  const objects = paths.filter((p) => isObject(p.reduce((v: unknown, k) => (v as Record<string, unknown>)[k], doc)));
  const step: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...paths), value: valueArb }),
    fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
    fc.record({ kind: fc.constant('add' as const), path: fc.constantFrom(...objects), key: fc.constantFrom(...EXTRA_KEYS), value: valueArb }),
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(step, { minLength: 1, maxLength: 3 }).map((steps) => steps.reduce(mutate, structuredClone(doc))) },
    { weight: 2, arbitrary: valueArb },
  );
}

/** Truncations, changed bytes and (for a JSON file) mutations of its document. */
function textDamage(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    truncations(bytes),
    flips(bytes),
    mutations(JSON.parse(new TextDecoder().decode(bytes))).map((doc) => utf8(encodeJson(doc))),
  );
}

// ---- the binary formats, taken apart and put together again around a changed header ----

function splitSafetensors(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))), data: bytes.subarray(8 + length) };
}

function joinSafetensors(header: unknown, data: Uint8Array): Uint8Array {
  const json = utf8(encodeJson(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A JSON metadata value as its document; other strings as they are. */
function decodeMetadataValue(value: unknown): unknown {
  try {
    return typeof value === 'string' ? JSON.parse(value) : value;
  } catch {
    return value;
  }
}

/** A safetensors file's damage: truncations, changed bytes, a mutated header, and mutated JSON inside its metadata strings. */
function safetensorsDamage(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const { header, data } = splitSafetensors(bytes);
  const metadata = Object.fromEntries(Object.entries(header.__metadata__ as Record<string, string>).map(([k, v]) => [k, decodeMetadataValue(v)]));
  const withMetadata = (m: unknown): Uint8Array => {
    const strings = isObject(m) ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === 'string' ? v : encodeJson(v)])) : m;
    return joinSafetensors({ ...header, __metadata__: strings }, data);
  };
  return fc.oneof(
    truncations(bytes),
    flips(bytes, bytes.length - data.length),
    mutations(header).map((h) => joinSafetensors(h, data)),
    mutations(metadata).map(withMetadata),
  );
}

const TGT_PREAMBLE = 20;

/** A .tgt file's damage: truncations, changed bytes, and a mutated header with a checksum that matches it. */
function tgtDamage(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(TGT_PREAMBLE, TGT_PREAMBLE + headerLength)));
  const payload = bytes.subarray(TGT_PREAMBLE + headerLength);
  return fc.oneof(
    truncations(bytes),
    flips(bytes, TGT_PREAMBLE + headerLength),
    mutations(header).map((h) => frameTgt(utf8(encodeJson(h)), payload)),
  );
}

// ---- the valid files: a one-cell sweep whose cell is a real (tiny) training run ----

const root = mkdtempSync(join(tmpdir(), 'ticketgrad-fuzz-'));
const sweepDir = join(root, 'sweep');
const CELL = 'seed=1';
const runDir = cellDir(sweepDir, CELL);
let cellOptions: TrainOptions;

const parse: ParseTrainArgs = (args) => parseTrainArgs(args) as TrainOptions;

before(async () => {
  const definition: SweepDefinition = {
    axes: [parseGridAxis(CELL)],
    fixed: ['--data', 'synthetic', '--train-size', '64', '--width', '0.05', '--epochs', '1', '--batch', '64', '--backend', 'cpu', '--quiet'],
  };
  const cells = planCells(definition, sweepDir, parse);
  cellOptions = cells[0].options;
  await runSweep({ out: sweepDir, definition, cells, shard: UNSHARDED, runCell: (o) => train(o), log: () => {} });
});

after(() => rmSync(root, { recursive: true, force: true }));

const scratch = (name: string): string => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const read = (dir: string, file: string): Uint8Array => new Uint8Array(readFileSync(join(dir, file)));

// ---- the readers ----

/** Every damaged version of a file read by `read`: a load that passes `check`, or an error naming `file`. */
function fuzzReader<T>(file: string, damage: fc.Arbitrary<Uint8Array>, read: (bytes: Uint8Array) => T, check: (value: T) => void, numRuns: number): void {
  fc.assert(
    fc.property(damage, (bytes) => loadsOrNamesFile(file, () => read(bytes), check)),
    fuzzRuns(numRuns),
  );
}

/** A reader of the file at `path`: the damaged bytes are written there first. */
const fromDisk =
  <T>(path: string, read: () => T) =>
  (bytes: Uint8Array): T => {
    writeFileSync(path, bytes);
    return read();
  };

test('the undamaged files load', () => {
  const model = join(runDir, 'model.safetensors');
  const ticket = checkpointTicket(readSafetensors(read(runDir, 'model.safetensors'), model), model);
  assert.deepEqual(readTgt(writeTgt(ticket)), ticket);
  assert.equal(checkpointKernelCounts(readSafetensors(read(runDir, 'model.safetensors'), model), model).length, 3);
  assert.equal(readRunCheckpoint(runDir).checkpoint.epoch, 1);
  assert.ok(denseRunAccuracy(runDir) > 0);
  assert.deepEqual(readDefinition(sweepDir).axes, [{ name: 'seed', values: ['1'] }]);
  assert.equal(readCellState(runDir, cellOptions).status, 'finished');
});

test('safetensors: every damaged file loads self-consistently or is an error naming it', () => {
  const file = 'fuzz.safetensors';
  fuzzReader(
    file,
    safetensorsDamage(read(runDir, 'model.safetensors')),
    (bytes) => readSafetensors(bytes, file),
    ({ tensors, metadata }) => {
      for (const { shape, data } of Object.values(tensors)) assert.equal(data.length, sizeOf(shape));
      for (const value of Object.values(metadata)) assert.equal(typeof value, 'string');
    },
    300,
  );
});

test('model.safetensors as analyze and export read it: kernel counts, and a ticket that survives a .tgt round trip, or an error naming the file', () => {
  const file = join(runDir, 'model.safetensors');
  const damage = safetensorsDamage(read(runDir, 'model.safetensors'));
  fuzzReader(
    file,
    damage,
    (bytes) => checkpointKernelCounts(readSafetensors(bytes, file), file),
    (counts) => {
      for (const c of counts) assert.ok(c.keptKernels <= c.outChannels * c.inChannels && c.keptWeights >= c.keptKernels, JSON.stringify(c));
      analyzeTicket(counts);
    },
    200,
  );
  fuzzReader(
    file,
    damage,
    (bytes) => checkpointTicket(readSafetensors(bytes, file), file),
    (ticket) => assert.deepEqual(readTgt(writeTgt(ticket)), ticket),
    200,
  );
});

test('.tgt: every damaged file loads self-consistently or is an error naming it', () => {
  const valid = writeTgt(checkpointTicket(readSafetensors(read(runDir, 'model.safetensors')), 'model.safetensors'));
  const file = 'fuzz.tgt';
  fuzzReader(
    file,
    tgtDamage(valid),
    (bytes) => readTgt(bytes, file),
    (ticket) => assert.deepEqual(readTgt(writeTgt(ticket)), ticket),
    300,
  );
});

test('checkpoint.safetensors (train --resume): every damaged file resumes from a consistent state or is an error naming it', () => {
  const dir = scratch('resume');
  const file = join(dir, CHECKPOINT_FILE);
  fuzzReader(
    file,
    safetensorsDamage(read(runDir, CHECKPOINT_FILE)),
    fromDisk(file, () => readRunCheckpoint(dir)),
    ({ options, checkpoint }) => {
      assert.equal(options.out, dir);
      assert.ok(['train', 'finetune'].includes(checkpoint.phase));
      assert.ok(Number.isSafeInteger(checkpoint.epoch) && checkpoint.epoch >= 0);
      for (const n of [checkpoint.optimizer.steps].flat()) assert.ok(Number.isSafeInteger(n) && n >= 0);
      for (const values of Object.values(checkpoint.optimizer.slots)) for (const v of values) assert.ok(v === null || v instanceof Float32Array);
      assert.ok(Array.isArray(checkpoint.metrics) && checkpoint.metrics.every((m) => isObject(m) && typeof m.testAccuracy === 'number'));
      for (const { shape, data } of Object.values(checkpoint.tensors)) assert.equal(data.length, sizeOf(shape));
    },
    300,
  );
});

test('report.json (--dense-run, analyze): every damaged file gives a test accuracy, or an error naming it', (t) => {
  t.mock.method(console, 'log', () => {});
  const dir = scratch('report');
  for (const f of ['model.safetensors', 'report.json']) copyFileSync(join(runDir, f), join(dir, f));
  const file = join(dir, 'report.json');
  const damage = textDamage(read(runDir, 'report.json'));
  fuzzReader(
    file,
    damage,
    fromDisk(file, () => denseRunAccuracy(dir)),
    (accuracy) => assert.ok(accuracy >= 0 && accuracy <= 1, String(accuracy)),
    200,
  );
  fuzzReader(
    file,
    damage,
    fromDisk(file, () => analyzeCommand([dir])),
    (code) => assert.equal(code, 0),
    100,
  );
});

test('sweep.json: every damaged file is a definition the grid can expand, or an error naming it', () => {
  const dir = scratch('definition');
  const file = join(dir, DEFINITION_FILE);
  fuzzReader(
    file,
    textDamage(read(sweepDir, DEFINITION_FILE)),
    fromDisk(file, () => readDefinition(dir)),
    (definition) => {
      checkDefinition(definition);
      for (const axis of definition.axes) assert.ok(/^[a-z][a-z0-9-]*$/.test(axis.name) && axis.values.every((v) => typeof v === 'string'), JSON.stringify(axis));
      assert.ok(definition.fixed.every((a) => typeof a === 'string'));
      expandGrid(definition.axes);
    },
    300,
  );
});

test('sweep-cell.json and the cell report.json: a damaged file leaves the cell to run again, never an internal error', () => {
  const dir = scratch(join('cells', CELL));
  for (const name of [CELL_RECORD_FILE, 'report.json']) {
    for (const f of [CELL_RECORD_FILE, 'report.json']) copyFileSync(join(runDir, f), join(dir, f));
    fuzzReader(
      dir,
      textDamage(read(runDir, name)),
      fromDisk(join(dir, name), () => readCellState(dir, cellOptions)),
      (state) => {
        if (state.status === 'pending') return;
        assert.ok(isObject(state.record) && state.record.status === state.status);
        if (state.status === 'finished') assert.ok(isObject(state.report));
        else assert.ok(state.record.error === undefined || typeof state.record.error === 'string');
        assert.ok(state.record.seconds === undefined || typeof state.record.seconds === 'number');
      },
      150,
    );
  }
});

test('CIFAR-10 batch files: every damaged file loads as 32x32 images with labels 0..9, or is an error naming it', () => {
  const dir = scratch('cifar10');
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const records = 2;
  const valid = files.map((_, f) => Uint8Array.from({ length: records * 3073 }, (_, i) => (i % 3073 === 0 ? (f + i) % 10 : (i * 7 + f) % 256)));
  files.forEach((name, f) => writeFileSync(join(dir, name), valid[f]));
  assert.equal(loadCifar10(dir).test.count, records);
  const damage = fc.integer({ min: 0, max: files.length - 1 }).chain((f) => fc.tuple(fc.constant(f), fc.oneof(truncations(valid[f]), flips(valid[f], 1))));
  fc.assert(
    fc.property(damage, ([f, bytes]) => {
      writeFileSync(join(dir, files[f]), bytes);
      loadsOrNamesFile(
        join(dir, files[f]),
        () => loadCifar10(dir),
        ({ train, test }) => {
          for (const ds of [train, test]) {
            assert.equal(ds.images.length, ds.count * 3 * 32 * 32);
            assert.ok(ds.labels.every((l) => l < 10));
          }
        },
      );
      writeFileSync(join(dir, files[f]), valid[f]);
    }),
    fuzzRuns(150),
  );
});

test('MNIST class files: every damaged file loads as digits with finite pixels, or is an error naming it', () => {
  const dir = scratch('mnist');
  const valid = Array.from({ length: 10 }, (_, c) => utf8(JSON.stringify({ data: Array.from({ length: 2 * 784 }, (_, i) => Math.round(((c * 31 + i) % 256) / 0.255) / 1000) })));
  valid.forEach((bytes, c) => writeFileSync(join(dir, `${c}.json`), bytes));
  assert.equal(loadMnist({ dir }).test.count, 4);
  const damage = fc.integer({ min: 0, max: 9 }).chain((c) => fc.tuple(fc.constant(c), textDamage(valid[c])));
  fc.assert(
    fc.property(damage, ([c, bytes]) => {
      const file = join(dir, `${c}.json`);
      writeFileSync(file, bytes);
      loadsOrNamesFile(
        file,
        () => loadMnist({ dir }),
        ({ train, test }) => {
          for (const ds of [train, test]) {
            assert.equal(ds.images.length, ds.count * 784);
            assert.ok(ds.images.every(Number.isFinite) && ds.labels.every((l) => l < 10));
          }
        },
      );
      writeFileSync(file, valid[c]);
    }),
    fuzzRuns(150),
  );
});
