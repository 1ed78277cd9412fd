// No import circles: no file imports one that imports it back, directly or around a loop,
// among the library, the page, the benchmarks and the tests (type-only imports included).
// Checked with dpdm over the TypeScript sources.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('no import circles in src/, web/, bench/ and test/', async () => {
  const tree = await parseDependencyTree(['src/**/*.ts', 'web/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'], { context: ROOT, transform: false, skipDynamicImports: false });
  assert.ok(Object.keys(tree).length > 100, `dpdm read ${Object.keys(tree).length} files`);
  const circles = parseCircular(tree).map((c) => c.join(' -> '));
  assert.deepEqual(circles, [], `import circles:\n${circles.join('\n')}`);
});
