// One fixed-seed scenario that test/browser.test.ts runs in Node and in Chromium, on the WebGPU
// backend (Dawn / navigator.gpu) and on the wasm backend (threads in both), to compare the
// outputs: conv2d, matmul, reductions, top-k masks (both methods), binarization, and a few MPT
// training steps. Browser-safe: the page imports it from dist/test/ (through test/parity.html)
// and it imports nothing but the library.

import * as tg from '../src/index.js';

export type ParityGroup = 'conv2d' | 'matmul' | 'reductions' | 'top-k masks' | 'binarization' | 'MPT training steps';

export interface ParityOutput {
  group: ParityGroup;
  name: string;
  /** Masks must match bit for bit; floats within a tolerance (and ideally bit for bit). */
  kind: 'float' | 'mask';
  values: number[];
}

export interface ParityResult {
  adapter: string;
  outputs: ParityOutput[];
}

/** Scores with many exact ties (13 distinct values), to check ties go to the lower index. */
function tiedScores(n: number): tg.Tensor {
  return tg.tensor(
    Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 13) - 6),
    [n],
  );
}

export async function runParityScenario(wanted: 'webgpu' | 'wasm'): Promise<ParityResult> {
  const { backend, adapter } = await tg.init({ backend: wanted });
  if (backend !== wanted) throw new Error(`parity scenario: expected the ${wanted} backend, got ${backend}`);
  const outputs: ParityOutput[] = [];
  const record = async (group: ParityGroup, name: string, kind: ParityOutput['kind'], t: tg.Tensor): Promise<void> => {
    outputs.push({ group, name, kind, values: Array.from(await t.data()) });
  };
  const present = (t: tg.Tensor | null, what: string): tg.Tensor => {
    if (!t) throw new Error(`parity scenario: no ${what}`);
    return t;
  };

  // conv2d: forward (stride 1 with padding, stride 2) and both gradients.
  const x = tg.randn([2, 3, 10, 10], { seed: 11, requiresGrad: true });
  const w = tg.randn([5, 3, 3, 3], { seed: 12, std: 0.3, requiresGrad: true });
  const conv = tg.conv2d(x, w, { padding: 1 });
  conv.backward(tg.randn(conv.shape, { seed: 13 }));
  await record('conv2d', 'forward, padding 1', 'float', conv);
  await record('conv2d', 'input gradient', 'float', present(x.grad, 'gradient'));
  await record('conv2d', 'weight gradient', 'float', present(w.grad, 'gradient'));
  await record('conv2d', 'forward, stride 2', 'float', tg.conv2d(x.detach(), w.detach(), { stride: 2 }));

  // matmul: 2-D with both gradients, and batched.
  const a = tg.randn([33, 47], { seed: 21, requiresGrad: true });
  const b = tg.randn([47, 29], { seed: 22, requiresGrad: true });
  const product = tg.matmul(a, b);
  product.backward(tg.randn(product.shape, { seed: 23 }));
  await record('matmul', '[33,47]x[47,29]', 'float', product);
  await record('matmul', 'left gradient', 'float', present(a.grad, 'gradient'));
  await record('matmul', 'right gradient', 'float', present(b.grad, 'gradient'));
  await record('matmul', 'batched [3,9,17]x[3,17,6]', 'float', tg.matmul(tg.randn([3, 9, 17], { seed: 24 }), tg.randn([3, 17, 6], { seed: 25 })));

  // Reductions.
  const r = tg.randn([4, 6, 35], { seed: 31 });
  await record('reductions', 'sum (all)', 'float', tg.sum(r));
  await record('reductions', 'sum over [0, 2]', 'float', tg.sum(r, [0, 2]));
  await record('reductions', 'mean over the last axis', 'float', tg.mean(r, -1));
  await record('reductions', 'max over axis 1', 'float', tg.max(r, 1, true));

  // Top-k masks, both methods: layer scope, ties, and global scope over two tensors.
  const scores = tg.randn([3000], { seed: 41 });
  const ties = tiedScores(2000);
  const globalScores = [tg.randn([700], { seed: 42 }), tg.randn([40, 30], { seed: 43, std: 2 })];
  for (const method of ['threshold', 'bitonic'] as const) {
    await record('top-k masks', `${method}, density 0.3`, 'mask', tg.topkMask(scores, 0.3, { method }));
    await record('top-k masks', `${method}, ties, density 0.25`, 'mask', tg.topkMask(ties, 0.25, { method }));
    for (const [i, m] of tg.topkMask(globalScores, 0.2, { method }).entries()) await record('top-k masks', `${method}, global scope, tensor ${i}`, 'mask', m);
  }

  // Binarization through the full chain W_eff = binarize(W, scoreMask(powerProp(s, 2), topk(s))).
  const weight = tg.randn([64, 32], { seed: 51, requiresGrad: true });
  const s = tg.rand([64, 32], { seed: 52, low: -0.2, high: 0.2, requiresGrad: true });
  const binary = tg.binarize(weight, tg.scoreMask(tg.powerProp(s, 2), tg.topkMask(s, 0.4)));
  binary.weight.backward(tg.randn([64, 32], { seed: 53 }));
  await record('binarization', 'alpha', 'float', binary.alpha);
  await record('binarization', 'weight', 'float', binary.weight);
  await record('binarization', 'weight gradient', 'float', present(weight.grad, 'gradient'));
  await record('binarization', 'score gradient', 'float', present(s.grad, 'gradient'));

  // A few MPT steps of a tiny Conv-2 (4 channels, FC 16) with power-propagation on a small batch.
  const model = tg.nn.createModel('conv2', { mode: 'mpt', input: [1, 12, 12], classes: 10, width: 1 / 16, scoreAlpha: 2, seed: 5 });
  const optimizer = new tg.SGD(model.parameters(), { lr: 0.5, momentum: 0.9, weightDecay: 1e-4 });
  const images = tg.randn([8, 1, 12, 12], { seed: 61 });
  const labels = Array.from({ length: 8 }, (_, i) => (i * 3) % 10);
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    tg.computeMasks(model, { density: 0.5, scope: 'layer', method: 'threshold' });
    const loss = tg.scope(() => {
      const loss = tg.crossEntropy(model.forward(images), labels);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return loss;
    });
    losses.push(await loss.item());
    loss.dispose();
  }
  outputs.push({ group: 'MPT training steps', name: 'losses of 4 steps', kind: 'float', values: losses });
  tg.computeMasks(model, { density: 0.5, scope: 'layer', method: 'threshold' });
  for (const [name, layer] of tg.nn.prunableLayers(model)) {
    await record('MPT training steps', `${name} mask`, 'mask', present(layer.mask, 'mask'));
    await record('MPT training steps', `${name} scores`, 'float', present(layer.scores, 'scores'));
  }
  tg.computeMasks(model, { density: 0.5, scope: 'global', method: 'bitonic' });
  for (const [name, layer] of tg.nn.prunableLayers(model)) await record('MPT training steps', `${name} mask (global, sort)`, 'mask', present(layer.mask, 'mask'));

  optimizer.dispose();
  model.dispose();
  for (const t of [x, w, a, b, r, scores, ties, ...globalScores, weight, s, images]) t.dispose();
  return { adapter, outputs };
}
