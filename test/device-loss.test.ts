// A lost device is reported on the next call instead of being hung on, and init() replaces it.
// The device is destroyed on purpose, in a child process so that whatever a deliberately broken
// device does at teardown cannot take this test runner with it: only the child's output counts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gpuTest } from './devices.js';

const script = `
import * as tg from ${JSON.stringify(resolve('dist/src/index.js'))};
await tg.init({ backend: 'webgpu' });
const x = tg.ones([4]);
await tg.sync();
tg.getBackend('webgpu').device.destroy();
try {
  await tg.add(x, 1).data();
  console.log('RESULT no error');
} catch (e) {
  console.log('RESULT ' + e.message);
}
await tg.init({ backend: 'webgpu' });
console.log('AFTER ' + Array.from(await tg.add(tg.ones([2]), 1).data()).join(','));
tg.shutdown();
`;

gpuTest(
  'a lost device is reported on the next call, and init() replaces it',
  () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ticketgrad-loss-')), 'loss.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `the child printed no result (status ${r.status}, stderr: ${r.stderr.slice(-500)})`);
    assert.match(line, /WebGPU device lost \(.+\); re-run tg.init\(\)/);
    assert.ok(r.stdout.includes('AFTER 2,2'), `a new device after init(): ${r.stdout}`);
  },
  { label: '[webgpu]', timeout: 90_000 },
);
