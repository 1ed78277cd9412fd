// Optimizers with PyTorch's update rules. Each step runs as tensor kernels on the parameters'
// backend (no readback) and replaces parameter values in place with `assign`.

import { keep, noGrad, scope } from '../engine.js';
import { shapeStr } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, div, mul, sqrt } from '../ops/elementwise.js';

abstract class Optimizer {
  readonly params: Tensor[];
  private rate = 0;
  protected readonly weightDecay: number;
  /** Per-parameter multipliers of lr (1 by default). */
  protected readonly lrScale: readonly number[];
  /** Updates applied to each parameter: Adam's bias correction counts them per parameter, as PyTorch. */
  protected readonly steps: number[];

  constructor(params: Tensor[], lr: number, weightDecay: number, lrScale?: readonly number[]) {
    if (lrScale && (lrScale.length !== params.length || lrScale.some((x) => !(x >= 0)))) {
      throw new Error(`optimizer: lrScale needs one number >= 0 per parameter (${params.length}), got ${JSON.stringify(lrScale)}`);
    }
    this.lrScale = lrScale ?? params.map(() => 1);
    if (!(weightDecay >= 0 && weightDecay < Infinity)) throw new Error(`optimizer: weightDecay must be a finite number >= 0, got ${weightDecay}`);
    const bad = params.findIndex((p) => !(p instanceof Tensor) || !p.requiresGrad);
    if (bad >= 0) throw new Error(`optimizer: parameter ${bad} is not a tensor with requiresGrad: true`);
    const twin = params.findIndex((p, i) => params.indexOf(p) !== i);
    if (twin >= 0) throw new Error(`optimizer: parameter ${twin} is the same tensor as parameter ${params.indexOf(params[twin])} (it would be updated twice per step)`);
    this.params = params;
    this.steps = params.map(() => 0);
    this.lr = lr;
    this.weightDecay = weightDecay;
  }

  /** The learning rate; schedules set it every step. */
  get lr(): number {
    return this.rate;
  }
  set lr(value: number) {
    if (!(value >= 0) || value === Infinity) throw new Error(`optimizer: lr must be a finite number >= 0, got ${value}`);
    this.rate = value;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    noGrad(() =>
      scope(() => {
        this.params.forEach((p, i) => {
          if (p.disposed) throw new Error(`optimizer.step(): parameter ${i} (shape ${shapeStr(p.shape)}) was disposed`);
          if (!p.grad) return;
          this.steps[i]++;
          const g = this.weightDecay ? add(p.grad, mul(p, this.weightDecay)) : p.grad;
          p.assign(this.update(p, g, i));
        });
      }),
    );
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** The new value of parameter `i` given its (decayed) gradient. */
  protected abstract update(p: Tensor, g: Tensor, i: number): Tensor;

  /** Persistent per-parameter state, replaced in place so scopes never free it. */
  protected setState(slot: (Tensor | null)[], i: number, value: Tensor): Tensor {
    const prev = slot[i];
    if (prev) prev.assign(value);
    // A copy, not a view: `value` may be the gradient itself, which later steps overwrite in place.
    else slot[i] = keep(mul(value, 1));
    return slot[i]!;
  }

  /** The per-parameter state tensors by slot name (SGD: momentum buffers; Adam: m and v). */
  protected abstract slots(): Record<string, (Tensor | null)[]>;

  /** The optimizer's state on the host (for a checkpoint): its step count and every slot's values. */
  async state(): Promise<OptimizerState> {
    const slots: OptimizerState['slots'] = {};
    for (const [name, slot] of Object.entries(this.slots())) slots[name] = await Promise.all(slot.map((t) => (t ? t.data() : null)));
    return { steps: [...this.steps], slots };
  }

  /** Takes up a state that state() returned, for the same parameters: training continues exactly where it was. */
  loadState(state: OptimizerState): void {
    const steps = typeof state.steps === 'number' ? this.params.map(() => state.steps as number) : state.steps;
    if (steps.length !== this.params.length || !steps.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new Error(`optimizer: the state's steps ${JSON.stringify(state.steps)} are not one count per parameter (${this.params.length})`);
    }
    const own = this.slots();
    for (const [name, values] of Object.entries(state.slots)) {
      const slot = own[name];
      if (!slot || values.length !== slot.length) throw new Error(`optimizer: the state's slot '${name}' does not fit these ${this.params.length} parameters`);
      values.forEach((v, i) => {
        if (v && v.length !== this.params[i].size) throw new Error(`optimizer: the state's ${name}[${i}] has ${v.length} values for a parameter of ${this.params[i].size}`);
        slot[i]?.dispose();
        const p = this.params[i];
        slot[i] = v ? keep(new Tensor(p.backend.upload(v), p.shape, p.backend)) : null;
      });
    }
    steps.forEach((n, i) => {
      this.steps[i] = n;
    });
  }

  dispose(): void {}
}

/** What an optimizer carries from step to step, on the host. */
export interface OptimizerState {
  /** Updates applied to each parameter; a single number (a checkpoint of an older ticketgrad) counts for all. */
  steps: number | number[];
  slots: Record<string, (Float32Array | null)[]>;
}

export interface SGDOptions {
  lr: number;
  /** Per-parameter multipliers of lr. */
  lrScale?: readonly number[];
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;
  private readonly buffers: (Tensor | null)[];

  constructor(params: Tensor[], options: SGDOptions) {
    if (typeof options !== 'object' || options === null) throw new Error('SGD: options { lr, ... } are required');
    super(params, options.lr, options.weightDecay ?? 0, options.lrScale);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new Error(`SGD: momentum must be >= 0, got ${options.momentum}`);
    if (!(this.dampening >= 0 && this.dampening <= 1)) throw new Error(`SGD: dampening must be in [0, 1], got ${options.dampening}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
    this.buffers = params.map(() => null);
  }

  protected update(p: Tensor, g: Tensor, i: number): Tensor {
    let direction = g;
    if (this.momentum) {
      const prev = this.buffers[i];
      const buf = this.setState(this.buffers, i, prev ? add(mul(prev, this.momentum), mul(g, 1 - this.dampening)) : g);
      direction = this.nesterov ? add(g, mul(buf, this.momentum)) : buf;
    }
    return add(p, mul(direction, -this.lr * this.lrScale[i]));
  }

  protected slots(): Record<string, (Tensor | null)[]> {
    return { momentum: this.buffers };
  }

  override dispose(): void {
    this.buffers.forEach((b) => b?.dispose());
  }
}

export interface AdamOptions {
  lr?: number;
  /** Per-parameter multipliers of lr. */
  lrScale?: readonly number[];
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  private readonly betas: [number, number];
  private readonly eps: number;
  private readonly m: (Tensor | null)[];
  private readonly v: (Tensor | null)[];

  constructor(params: Tensor[], options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3, options.weightDecay ?? 0, options.lrScale);
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    if (!Array.isArray(this.betas) || this.betas.length !== 2 || !this.betas.every((b) => b >= 0 && b < 1)) {
      throw new Error(`Adam: betas must be two numbers in [0, 1), got ${JSON.stringify(options.betas)}`);
    }
    if (!(this.eps > 0 && this.eps < Infinity)) throw new Error(`Adam: eps must be > 0, got ${options.eps}`);
    this.m = params.map(() => null);
    this.v = params.map(() => null);
  }

  protected update(p: Tensor, g: Tensor, i: number): Tensor {
    const [b1, b2] = this.betas;
    const mPrev = this.m[i],
      vPrev = this.v[i];
    const m = this.setState(this.m, i, mPrev ? add(mul(mPrev, b1), mul(g, 1 - b1)) : mul(g, 1 - b1));
    const g2 = mul(g, g);
    const v = this.setState(this.v, i, vPrev ? add(mul(vPrev, b2), mul(g2, 1 - b2)) : mul(g2, 1 - b2));
    const mHat = mul(m, 1 / (1 - b1 ** this.steps[i]));
    const vHat = mul(v, 1 / (1 - b2 ** this.steps[i]));
    return add(p, mul(div(mHat, add(sqrt(vHat), this.eps)), -this.lr * this.lrScale[i]));
  }

  protected slots(): Record<string, (Tensor | null)[]> {
    return { m: this.m, v: this.v };
  }

  override dispose(): void {
    [...this.m, ...this.v].forEach((t) => t?.dispose());
  }
}
