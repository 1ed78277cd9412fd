// The building blocks of multi-prize tickets (biprop) and edge-popup, docs/algorithms.md 1 and 2.1:
//
//   S     = powerProp(s, alpha)              scores with power-propagation (alpha = 1: plain)
//   M     = topkMask(|S|, density)           exact 0/1 mask, computed without a gradient
//   Mst   = scoreMask(S, M)                  M, with a straight-through gradient to S
//   W_eff = binarize(W, Mst).weight          alpha_W * sign(W) * M        (mpt)
//   W_eff = mul(W, Mst)                      W * M                        (edge-popup)
//
// so that dL/dS = dL/dW_eff * W * sign(S) for both methods (biprop's corrected rule: the
// gradient through the mask carries sign(W) * |W|), and dL/ds = dL/dS * alpha|s|^(alpha-1).

import { sameShape, shapeStr, valueStr } from '../shape.js';
import { Tensor } from '../tensor.js';
import { abs, div, maximum, mul, sign, sum, unaryOp } from './elementwise.js';
import { reshape } from './shape.js';

/** `a` and `b` (named as in `op`'s message) have one shape and one backend. */
function matching(op: string, aName: string, a: Tensor, bName: string, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) throw new Error(`${op}: ${aName} ${shapeStr(a.shape)} and ${bName} ${shapeStr(b.shape)} differ`);
  if (a.backend !== b.backend) throw new Error(`${op}: ${aName} lives on ${a.backend.name}, ${bName} on ${b.backend.name}`);
}

function checkAlpha(op: string, alpha: number): void {
  if (typeof alpha !== 'number' || !(alpha >= 1) || alpha === Infinity) throw new Error(`${op}: alpha must be a finite number >= 1, got ${valueStr(alpha)}`);
}

/** Power-propagation S = s|s|^(alpha-1), gradient alpha|s|^(alpha-1) (Eq. 1), alpha >= 1. */
export function powerProp(s: Tensor, alpha: number): Tensor {
  checkAlpha('powerProp', alpha);
  if (alpha === 1) return reshape(s, s.shape);
  return unaryOp(s, 'powerProp', alpha, (g) =>
    mul(
      g,
      unaryOp(s, 'powerPropGrad', alpha, () => null),
    ),
  );
}

/** The initial s for power-propagation: sign(u)|u|^(1/alpha), so that S starts as u. */
export function powerPropInit(u: Tensor, alpha: number): Tensor {
  checkAlpha('powerPropInit', alpha);
  return unaryOp(u, 'powerProp', 1 / alpha, () => null);
}

/** The 0/1 `mask` in the graph of `scores`: backward is straight through |.|, g * sign(S). */
export function scoreMask(scores: Tensor, mask: Tensor): Tensor {
  matching('scoreMask', 'scores', scores, 'mask', mask);
  return Tensor.fromOp(mask.storage, mask.shape, [scores], 'scoreMask', (g) => [mul(g, sign(scores))]);
}

/**
 * The 0/1 `mask` in the graph of `scores` with the plain straight-through gradient g
 * (Gem-Miner: a score at 0 still gets a gradient, unlike scoreMask's g * sign(S)).
 */
export function straightThrough(scores: Tensor, mask: Tensor): Tensor {
  matching('straightThrough', 'scores', scores, 'mask', mask);
  return Tensor.fromOp(mask.storage, mask.shape, [scores], 'straightThrough', (g) => [g]);
}

/**
 * Binarized weights of a multi-prize ticket: alpha * sign(w) * mask with
 * alpha = ||mask * w||_1 / ||mask||_1 (a scalar per layer, held constant in the backward).
 * Gradients: to `mask`, g * w (= g * sign(w) * |w|, biprop); to `w`, g * mask (straight through
 * sign, used when fine-tuning weights with the mask fixed).
 */
export function binarize(w: Tensor, mask: Tensor): { weight: Tensor; alpha: Tensor } {
  matching('binarize', 'weight', w, 'mask', mask);
  const alpha = div(sum(mul(abs(w.detach()), mask.detach())), maximum(sum(mask.detach()), 1));
  const value = mul(mul(sign(w.detach()), mask.detach()), alpha);
  const weight = Tensor.fromOp(value.storage, w.shape, [w, mask], 'binarize', (g) => [mul(g, mask), mul(g, w)]);
  return { weight, alpha };
}
