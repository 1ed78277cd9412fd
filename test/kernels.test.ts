// The unrolled register-blocked kernels are generated: the committed .wgsl files must be
// exactly what scripts/gen-kernels.mjs writes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';

test('shaders/matmul.wgsl and conv2d_*.wgsl match scripts/gen-kernels.mjs', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-kernels.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
