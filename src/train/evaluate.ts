// Test accuracy of a model, counted on the device with one readback at the end. Browser-safe
// (the CLI, the compact-ticket commands and the web page share it).

import { keep, noGrad, scope } from '../engine.js';
import { tensor, zeros } from '../tensor.js';
import { add } from '../ops/elementwise.js';
import { correctCount } from '../ops/loss.js';
import { type Dataset, batches } from '../data/dataset.js';
import type { Module } from '../nn/module.js';

/** Fraction of `ds` classified correctly, in evaluation mode without a graph. */
export async function evaluate(model: Module, ds: Dataset, batchSize: number): Promise<number> {
  model.eval();
  const correct = keep(zeros([]));
  noGrad(() => {
    for (const b of batches(ds, batchSize)) {
      scope(() => {
        const logits = model.forward(tensor(b.images, [b.size, ...ds.shape]));
        correct.assign(add(correct, correctCount(logits, tensor(b.labels))));
      });
    }
  });
  model.train();
  const value = await correct.item();
  correct.dispose();
  return value / ds.count;
}
