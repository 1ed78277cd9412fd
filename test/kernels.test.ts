// The WebGPU kernels' declarations (src/backend/webgpu/kernels.ts): the uniform block generated
// from one layout for both the WGSL and the host, every kernel's source, and dispatch geometry
// that covers every output. (That each kernel computes the right values is ops.test.ts's job.)

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CONV_BACKWARD_INPUT_TILE, CONV_BACKWARD_WEIGHT_TILE, CONV_FORWARD_TILE, GEOMETRY, KERNELS, MATMUL_TILE, MAX_WORKGROUPS_PER_DIM } from '../src/backend/webgpu/kernels.js';
import { packUniforms, wgslParams } from '../src/backend/webgpu/uniforms.js';
import { shaderSource } from '../src/backend/webgpu/shaders.js';
import type { ConvParams } from '../src/backend/backend.js';

const SHADERS = fileURLToPath(new URL('../../shaders/', import.meta.url));

test('uniform layouts: WGSL alignment with explicit padding, and the host bytes at the same offsets', () => {
  const layout = { size: 'u32', scalar: 'f32', shape: 'dims', last: 'u32' } as const;
  assert.equal(
    wgslParams(layout),
    'struct Params {\n  size: u32,\n  scalar: f32,\n  _p0: u32,\n  _p1: u32,\n  shape: Dims,\n  last: u32,\n  _p2: u32,\n  _p3: u32,\n  _p4: u32,\n}\n',
  );
  const bytes = packUniforms(layout, { size: 7, scalar: 0.5, shape: [2, 3, 4], last: 9 });
  assert.equal(bytes.byteLength, 64);
  const u = new Uint32Array(bytes.buffer);
  assert.equal(u[0], 7);
  assert.equal(new Float32Array(bytes.buffer)[1], 0.5);
  // Dims innermost first, unused ones 0.
  assert.deepEqual([...u.subarray(4, 12)], [4, 3, 2, 0, 0, 0, 0, 0]);
  assert.equal(u[12], 9);
  assert.equal(wgslParams({ a: 'u32' }), 'struct Params {\n  a: u32,\n  _p0: u32,\n  _p1: u32,\n  _p2: u32,\n}\n', 'a block is at least 16 bytes');
});

test('uniform values: a missing or unknown field, or too many dims, is an error', () => {
  const layout = { size: 'u32', shape: 'dims' } as const;
  assert.throws(() => packUniforms(layout, { size: 1 } as never), /field 'shape' has no value/);
  assert.throws(() => packUniforms(layout, { size: 1, shape: [1], rank: 1 } as never), /fields rank are not in the layout/);
  assert.throws(() => packUniforms(layout, { size: 1, shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }), /rank 9 exceeds/);
});

test('every shaders/*.wgsl is a declared kernel or an include, and none declares its own struct Params', () => {
  const files = readdirSync(SHADERS)
    .filter((f) => f.endsWith('.wgsl'))
    .map((f) => f.slice(0, -5));
  const includes = ['common', 'topk_common'];
  for (const name of files) {
    if (includes.includes(name)) continue;
    assert.ok(name in KERNELS, `shaders/${name}.wgsl is not declared in kernels.ts`);
    assert.ok(!('generate' in KERNELS[name as keyof typeof KERNELS]), `${name} is generated and also a file`);
    assert.doesNotMatch(readFileSync(`${SHADERS}${name}.wgsl`, 'utf8'), /^struct Params/m, `${name}: the struct comes from the layout`);
  }
  for (const [name, kernel] of Object.entries(KERNELS)) {
    if (!('generate' in kernel)) assert.ok(files.includes(name), `${name} has no shaders/${name}.wgsl`);
  }
});

test("every kernel's source: the generated struct Params once, WORKGROUP_SIZE, no placeholder left", () => {
  const values: Record<string, Record<string, string>> = {
    unary: { OP: 'v' },
    binary: { OP: 'u + v', RANK: '2', A_AT: 'at.x', B_AT: 'at.y' },
    copy_strided: { RANK: '2' },
    reduce: { COMBINE: 'acc + v', INIT: '0.0', KEPT_RANK: '1', RED_RANK: '1' },
    pool2d_forward: { MAX: 'true', WINDOW: '' },
    pool2d_backward: { MAX: 'true' },
    topk_sample: { WG: '256' },
    topk_split: { WG: '256' },
    topk_select: { WG: '256' },
  };
  for (const name of Object.keys(KERNELS) as (keyof typeof KERNELS)[]) {
    const code = shaderSource(name, values[name]);
    assert.equal(code.match(/struct Params \{/g)?.length, 1, name);
    assert.ok(code.includes(`const WORKGROUP_SIZE: u32 = ${KERNELS[name].workgroupSize}u;`), name);
    assert.doesNotMatch(code, /\{\{/, name);
    assert.match(code, /var<uniform> p: Params;/, name);
  }
  assert.throws(() => shaderSource('unary'), /needs a value for \{\{OP\}\}/);
});

const convParams = fc
  .record({
    batch: fc.integer({ min: 1, max: 300 }),
    inC: fc.integer({ min: 1, max: 2000 }),
    outC: fc.integer({ min: 1, max: 2000 }),
    side: fc.integer({ min: 1, max: 64 }),
    k: fc.integer({ min: 1, max: 5 }),
  })
  .map(({ batch, inC, outC, side, k }): ConvParams => ({ batch, inC, inH: side, inW: side, outC, kH: k, kW: k, outH: side, outW: side, strideH: 1, strideW: 1, padH: 0, padW: 0 }));

test('dispatch geometry: the workgroups of the register-blocked kernels cover every output, within the per-dimension limit', () => {
  const within = (g: number[]): boolean => g.every((d) => d >= 1 && d <= MAX_WORKGROUPS_PER_DIM);
  fc.assert(
    fc.property(convParams, (p) => {
      const pixels = (t: typeof CONV_FORWARD_TILE, [x, y, z]: number[]): [number, number] => [x * z * t.workgroup[0] * t.cols, y * t.rows];
      const fwd = GEOMETRY.conv2d_forward(p);
      const [fwdPixels, fwdChannels] = pixels(CONV_FORWARD_TILE, fwd);
      const bin = pixels(CONV_BACKWARD_INPUT_TILE, GEOMETRY.conv2d_backward_input(p));
      const bw = GEOMETRY.conv2d_backward_weight(p);
      const t = CONV_BACKWARD_WEIGHT_TILE;
      return (
        within(fwd) &&
        fwdPixels >= p.batch * p.outH * p.outW &&
        fwdChannels >= p.outC &&
        bin[0] >= p.batch * p.inH * p.inW &&
        bin[1] >= p.inC &&
        within(bw) &&
        bw[0] * bw[2] * t.workgroup[0] >= Math.ceil(p.inC / t.cols) * p.kH * p.kW &&
        bw[1] * t.rows >= p.outC
      );
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 8 }), (m, n, batch) => {
      const [x, y, z] = GEOMETRY.matmul({ batch, m, n, k: 1, strideA: 0, strideB: 0 });
      return x * MATMUL_TILE.workgroup[0] * MATMUL_TILE.cols >= n && y * MATMUL_TILE.workgroup[1] * MATMUL_TILE.rows >= m && z === batch;
    }),
  );
});
