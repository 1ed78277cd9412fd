// Matrix products: [m,k] x [k,n], batched [B,m,k] x [B,k,n], or [B,m,k] x [k,n] (shared right side).

import { shapeStr } from '../shape.js';
import { Tensor } from '../tensor.js';
import { reshape, transpose } from './shape.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  const bad = (): Error => new Error(`matmul: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} are not compatible (want [m,k]x[k,n], [B,m,k]x[B,k,n] or [B,m,k]x[k,n])`);
  if (a.backend !== b.backend) throw new Error(`matmul: operands live on different backends (${a.backend.name} and ${b.backend.name})`);
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3 || (a.rank === 2 && b.rank === 3)) throw bad();
  const batch = a.rank === 3 ? a.shape[0] : 1;
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2 || (b.rank === 3 && b.shape[0] !== batch)) throw bad();
  const storage = a.backend.matmul(a.storage, b.storage, { batch, m, k, n, strideA: m * k, strideB: b.rank === 3 ? k * n : 0 });
  const shape = a.rank === 3 ? [batch, m, n] : [m, n];
  return Tensor.fromOp(storage, shape, [a, b], 'matmul', (g) => {
    const swapLast = (t: Tensor): Tensor => transpose(t, t.rank === 3 ? [0, 2, 1] : [1, 0]);
    const ga = a.requiresGrad ? matmul(g, swapLast(b)) : null;
    // With a shared right-hand side its gradient sums over the batch: fold the batch into rows.
    const gb = !b.requiresGrad ? null : b.rank === a.rank ? matmul(swapLast(a), g) : matmul(transpose(reshape(a, [batch * m, k])), reshape(g, [batch * m, n]));
    return [ga, gb];
  });
}
