// The web page (`npm run web`) clicked through in Chromium: a short ticket and dense baseline on
// MNIST, on the wasm and the WebGPU backend, then what the page shows is checked (numbers appear
// and improve, the mask image and the layer table are filled, no console errors) and a
// screenshot is saved to test/artifacts/.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openPage, pageWebGpu, skipOrFail } from './browser.js';

const ARTIFACTS = fileURLToPath(new URL('../../test/artifacts/', import.meta.url));
const SCREENSHOT = join(ARTIFACTS, 'web-page.png');
/** Chance level on MNIST's ten classes. */
const CHANCE = 0.1;

for (const backend of ['wasm', 'webgpu'] as const)
  test(`web page: trains a lenet300 ticket and its dense baseline on 500 digits for 2 epochs, shows improving numbers [${backend}]`, { timeout: 120_000 }, async (t) => {
    const opened = await openPage('/web/');
    if (typeof opened === 'string') return skipOrFail(t, opened);
    try {
      const { page } = opened;
      const missing = await pageWebGpu(page);
      if (missing) return skipOrFail(t, `Chromium: ${missing}`);
      // Enabled once the page has found its backends.
      await page.waitForSelector('#train:enabled');
      const notice = (await page.textContent('#gpu-notice')) ?? '';
      assert.match(notice, /^WebGPU adapter: /, 'the page should have found WebGPU');
      // The page is served cross-origin isolated: the wasm backend gets a thread per core.
      assert.match(notice, /Wasm backend: WebAssembly SIMD128 .*, [2-9]\d* threads\./, notice);
      // SwiftShader is a software renderer: WebAssembly is the default, WebGPU a choice.
      assert.equal(await page.inputValue('#backend'), 'wasm');
      await page.selectOption('#backend', backend);
      await page.selectOption('#model', 'lenet300');
      await page.fill('#sparsity', '0.5');
      await page.fill('#alpha', '1');
      await page.selectOption('#mask', 'threshold');
      await page.fill('#epochs', '2');
      await page.fill('#train-size', '500');
      await page.check('#with-dense');
      const started = Date.now();
      await page.click('#train');
      await page.waitForSelector('#status:is([data-state=done], [data-state=error])', { timeout: 100_000 });
      t.diagnostic(`trained in the page in ${((Date.now() - started) / 1000).toFixed(1)} s: ${await page.textContent('#status')}`);
      assert.equal(await page.getAttribute('#status', 'data-state'), 'done', (await page.textContent('#status')) ?? '');

      const epochs = await page.$$eval('#epoch-table tbody tr', (rows) =>
        rows.map((row) => ({
          run: row.getAttribute('data-run'),
          trainLoss: Number(row.getAttribute('data-train-loss')),
          testAccuracy: Number(row.getAttribute('data-test-accuracy')),
        })),
      );
      assert.deepEqual(
        epochs.map((e) => e.run),
        ['ticket', 'ticket', 'dense', 'dense'],
        'one row per epoch of each run',
      );
      for (const run of ['ticket', 'dense']) {
        const [first, second] = epochs.filter((e) => e.run === run);
        t.diagnostic(
          `${run}: train loss ${first.trainLoss.toFixed(3)} -> ${second.trainLoss.toFixed(3)}, test accuracy ${(100 * first.testAccuracy).toFixed(1)}% -> ${(100 * second.testAccuracy).toFixed(1)}%`,
        );
        assert.ok(second.trainLoss < first.trainLoss, `${run}: the training loss should go down (${first.trainLoss} -> ${second.trainLoss})`);
        assert.ok(second.testAccuracy > 2 * CHANCE, `${run}: test accuracy ${second.testAccuracy} should be well above chance`);
      }
      const shownAccuracy = (selector: string): Promise<number> => page.textContent(selector).then((text) => Number.parseFloat(text ?? '') / 100);
      assert.ok((await shownAccuracy('#ticket-accuracy')) > 2 * CHANCE, 'the ticket accuracy is shown');
      assert.ok((await shownAccuracy('#dense-accuracy')) > 2 * CHANCE, 'the dense accuracy is shown');

      // Charts: one loss polyline per run; layer table: lenet300's three linear layers at 50%.
      assert.equal(await page.locator('#loss-chart svg polyline').count(), 2);
      const layers = await page.$$eval('#layer-table tbody tr', (rows) => rows.map((row) => Array.from((row as HTMLTableRowElement).cells, (cell) => cell.textContent)));
      assert.equal(layers.length, 3);
      for (const [, , kept, zeroKernels] of layers) {
        assert.equal(kept, '50.0%');
        assert.equal(zeroKernels, 'n/a (linear)');
      }
      // The mask image of the first layer: 784 inputs x 300 outputs, about half of it kept.
      const keptFraction = await page.$eval('#mask-canvas', (canvas) => {
        const c = canvas as HTMLCanvasElement;
        const pixels = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
        let dark = 0;
        for (let p = 0; p < pixels.length; p += 4) if (pixels[p] < 128) dark++;
        return { width: c.width, height: c.height, fraction: dark / (c.width * c.height) };
      });
      assert.deepEqual([keptFraction.width, keptFraction.height], [784, 300]);
      assert.ok(Math.abs(keptFraction.fraction - 0.5) < 0.01, `mask image: ${keptFraction.fraction} of the pixels dark`);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT.replace('.png', `-${backend}.png`), fullPage: true });
      t.diagnostic(`screenshot: ${SCREENSHOT.replace('.png', `-${backend}.png`)}`);
      assert.deepEqual(opened.errors, [], 'the page logged errors');
    } finally {
      await opened.close();
    }
  });

test('web page without WebGPU: says so clearly and trains on the WebAssembly backend instead', { timeout: 60_000 }, async (t) => {
  const opened = await openPage('/web/', { withoutWebGpu: true });
  if (typeof opened === 'string') return skipOrFail(t, opened);
  try {
    const { page } = opened;
    await page.waitForSelector('#train:enabled');
    assert.match((await page.textContent('#gpu-notice.missing')) ?? '', /This browser has no WebGPU \(navigator\.gpu is missing\); training runs on WebAssembly/);
    assert.equal(await page.inputValue('#backend'), 'wasm');
    assert.ok(await page.locator('#backend option[value=webgpu]').isDisabled(), 'WebGPU cannot be chosen');
    await page.fill('#epochs', '1');
    await page.fill('#train-size', '100');
    await page.uncheck('#with-dense');
    await page.click('#train');
    await page.waitForSelector('#status:is([data-state=done], [data-state=error])', { timeout: 50_000 });
    assert.equal(await page.getAttribute('#status', 'data-state'), 'done', (await page.textContent('#status')) ?? '');
    const accuracy = Number.parseFloat((await page.textContent('#ticket-accuracy')) ?? '');
    assert.ok(accuracy >= 0 && accuracy <= 100, `ticket accuracy shown: ${accuracy}`);
    assert.deepEqual(opened.errors, [], 'the page logged errors');
  } finally {
    await opened.close();
  }
});
