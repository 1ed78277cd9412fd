// No import circles: no file imports one that imports it back, directly or around a loop,
// among the library, the page, the benchmarks and the tests (type-only imports included); and
// imports in src/ only go down the layers of ARCHITECTURE.md, the page's only through the
// public entries. Checked with dpdm over the TypeScript sources.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const tree = parseDependencyTree(['src/**/*.ts', 'web/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'], { context: ROOT, transform: false, skipDynamicImports: false });

test('no import circles in src/, web/, bench/ and test/', async () => {
  const files = await tree;
  assert.ok(Object.keys(files).length > 100, `dpdm read ${Object.keys(files).length} files`);
  const circles = parseCircular(files).map((c) => c.join(' -> '));
  assert.deepEqual(circles, [], `import circles:\n${circles.join('\n')}`);
});

/** The layers of src/, lowest first: a file imports only from its own layer or lower ones. */
const LAYERS = [
  ['shape', 'random', 'report'],
  ['backend/backend', 'data'],
  ['backend/cpu', 'backend/wasm', 'backend/webgpu'],
  ['engine'],
  ['tensor'],
  ['ops'],
  ['tensor-methods', 'optim'],
  ['init'],
  ['nn', 'sparse', 'io'],
  ['prune'],
  ['train'],
  ['sweep'],
  ['cli', 'index'],
  ['node'],
];

/** src/backend/wasm/memory.ts -> backend/wasm; src/ops/conv.ts -> ops; src/index.ts -> index. */
const unitOf = (file: string): string => (/^src\/(backend\/[a-z]+|[a-z-]+)/.exec(file)?.[1] ?? file).replace(/\.ts$/, '');

test('imports in src/ only go down the layers; web/ imports the library only through src/index.ts and src/node.ts', async () => {
  const files = await tree;
  const rank = new Map(LAYERS.flatMap((units, i) => units.map((unit) => [unit, i] as const)));
  const upward: string[] = [];
  const unknown = new Set<string>();
  for (const [file, deps] of Object.entries(files)) {
    for (const dep of deps ?? []) {
      if (!dep.id?.startsWith('src/')) continue;
      if (file.startsWith('web/')) {
        if (dep.id !== 'src/index.ts' && dep.id !== 'src/node.ts') upward.push(`${file} -> ${dep.id} (the page uses the public API)`);
        continue;
      }
      if (!file.startsWith('src/')) continue;
      const [from, to] = [rank.get(unitOf(file)), rank.get(unitOf(dep.id))];
      if (from === undefined) unknown.add(unitOf(file));
      if (to === undefined) unknown.add(unitOf(dep.id));
      if (from !== undefined && to !== undefined && to > from) upward.push(`${file} -> ${dep.id}`);
    }
  }
  assert.deepEqual([...unknown], [], 'parts of src/ missing from LAYERS');
  assert.deepEqual(upward, [], `imports against the layering:\n${upward.join('\n')}`);
});
