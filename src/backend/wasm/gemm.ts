// The matrix-product core of the wasm backend (matmul, and every conv direction: their B rows
// read straight from a padded image through a table of row offsets, or packed), in the BLIS
// layout:
//
//   C[m, n] (+)= A[m, k] B[k, n]
//
// - A is packed into row panels of MR rows: panel p holds A[p*MR + r][kk] at kk*MR + r
//   (zero rows past m), so a step of the micro-kernel reads MR consecutive floats.
// - B is packed into column panels of NR = 4*NV columns: panel q holds B[kk][q*NR + j] at
//   kk*NR + j (zero columns past n), one aligned v128 per 4 columns.
// - The micro-kernel keeps an MR x NR block of C in MR*NV v128 registers and, per kk, loads
//   NV vectors of B, splats each of the MR values of A and multiplies-adds: the B panel of
//   kc * NR floats stays in L1 while the A panels stream past it.
//
// Each block of C is computed with the same sequence of operations whoever computes it, so
// results do not depend on how blocks are shared between threads.
//
// The block shape is set by registers: x64 has 16 SIMD registers and V8 keeps one, and V8's
// optimising compiler hoists every load of a loop iteration ahead of its multiply-adds, so the
// MR*NV accumulators, the NV vectors of B and the MR splats of A must all fit in 15. 4 x 8
// (8 + 2 + 4 = 14) with one kk step per iteration measured 47-49 GFLOP/s on a 51 GFLOP/s
// peak (one thread, relaxed madd); 4 x 12 with two steps per iteration spilled accumulators to
// the stack (33-37), 4 x 12 with one step 26, 6 x 8 25.

import type { Emitted, FunctionBuilder, Local, ModuleBuilder, ValType } from './builder.js';

/** The micro-kernel used everywhere: blocks of 4 rows x 8 columns (see above). */
export const GEMM = { mr: 4, nv: 2 } as const;

export interface GemmShape {
  /** Rows per A panel. */
  mr: number;
  /** v128 vectors per row of a B panel (NR = 4 * nv columns). */
  nv: number;
  /** f32x4.relaxed_madd, or mul + add. */
  fma: boolean;
  /**
   * Where B's rows are: 'packed' panels (see above), or 'rows': row kk starts at
   * pb + 4 rowTable[kk] (an element offset) and its columns are consecutive floats (an image
   * row as im2col would copy it), so nothing is packed.
   */
  b: 'packed' | 'rows';
}

/** acc + a * b, fused when the runtime has relaxed madd. */
export function madd(f: FunctionBuilder, fma: boolean, a: () => Emitted, b: () => Emitted, acc: () => Emitted): Emitted {
  if (fma) return f.f32x4.relaxed_madd(a(), b(), acc());
  return f.f32x4.add(acc(), f.f32x4.mul(a(), b()));
}

/**
 * gemm_packed(pa, pb, c, ldc, mc, nc, kc, accumulate, tile) and
 * gemm_rows(pa, pb, rowTable, c, ldc, mc, nc, kc, accumulate, tile): C[mc, nc] (+)= packed A
 * (mc rows) x B (nc columns), kc deep; C has a row stride of ldc floats. `tile` is MR*NR
 * floats of scratch for edge blocks. With B as rows, columns up to NR past nc are read (and
 * dropped): their memory must exist.
 */
export function emitGemmKernel(mod: ModuleBuilder, shape: GemmShape): void {
  const { mr, nv, fma, b: bSource } = shape;
  const nr = 4 * nv;
  const rows = bSource === 'rows';
  const params: ValType[] = rows ? Array(10).fill('i32') : Array(9).fill('i32');
  mod.func(rows ? 'gemm_rows' : 'gemm_packed', params, [], (f, ...p) => {
    const [pa, pb, rowTable, c, ldc, mc, nc, kc, accumulate, tile] = rows ? p : [p[0], p[1], p[1], ...p.slice(2)];
    const acc: Local[] = Array.from({ length: mr * nv }, () => f.local('v128'));
    const bv: Local[] = Array.from({ length: nv }, () => f.local('v128'));
    const a = f.local('v128');
    const jp = f.local('i32'); // first column of the B panel
    const ip = f.local('i32'); // first row of the A panel
    const pbPanel = f.local('i32');
    const paPanel = f.local('i32');
    const pai = f.local('i32');
    const bi = f.local('i32'); // packed: the B panel's step; rows: the row table's entry
    const bEnd = f.local('i32');
    const bRow = f.local('i32');
    const cBlock = f.local('i32'); // address of C[ip][jp]
    const left = f.local('i32');
    const width = f.local('i32');
    const r = f.local('i32');
    const j = f.local('i32');
    const src = f.local('i32');
    const dst = f.local('i32');
    const ldcBytes = f.local('i32');
    const panelABytes = f.local('i32');
    const bStepBytes = rows ? 4 : nr * 4;

    f.set(ldcBytes, f.i32.shl(f.get(ldc), f.i32.const(2)));
    f.set(panelABytes, f.i32.mul(f.get(kc), f.i32.const(mr * 4)));

    /** One kk step: NV vectors of B, then per row of A a splat and NV multiply-adds. */
    const step = (): void => {
      if (rows) {
        f.set(bRow, f.i32.add(f.get(pbPanel), f.i32.shl(f.i32.load(f.get(bi)), f.i32.const(2))));
        for (let v = 0; v < nv; v++) f.set(bv[v], f.v128.load(f.get(bRow), v * 16));
      } else {
        for (let v = 0; v < nv; v++) f.set(bv[v], f.v128.load(f.get(bi), v * 16));
      }
      for (let row = 0; row < mr; row++) {
        f.set(a, f.v128.load32_splat(f.get(pai), row * 4));
        for (let v = 0; v < nv; v++) {
          const k = row * nv + v;
          f.set(
            acc[k],
            madd(
              f,
              fma,
              () => f.get(a),
              () => f.get(bv[v]),
              () => f.get(acc[k]),
            ),
          );
        }
      }
    };
    const bStart = (): Emitted => (rows ? f.get(rowTable) : f.get(pbPanel));

    f.set(pbPanel, f.get(pb));
    f.for(
      jp,
      () => f.i32.const(0),
      () => f.get(nc),
      nr,
      () => {
        f.set(paPanel, f.get(pa));
        f.for(
          ip,
          () => f.i32.const(0),
          () => f.get(mc),
          mr,
          () => {
            for (const x of acc) f.set(x, f.v128.const([0, 0, 0, 0]));
            f.set(pai, f.get(paPanel));
            f.set(bi, bStart());
            f.set(bEnd, f.i32.add(bStart(), f.i32.mul(f.get(kc), f.i32.const(bStepBytes))));
            f.if(f.i32.lt_u(f.get(bi), f.get(bEnd)), () => {
              f.loop((again) => {
                step();
                f.set(pai, f.i32.add(f.get(pai), f.i32.const(mr * 4)));
                f.set(bi, f.i32.add(f.get(bi), f.i32.const(bStepBytes)));
                f.brIf(again, f.i32.lt_u(f.get(bi), f.get(bEnd)));
              });
            });

            // Write the block: straight into C when whole, else through the tile.
            f.set(cBlock, f.i32.add(f.get(c), f.i32.shl(f.i32.add(f.i32.mul(f.get(ip), f.get(ldc)), f.get(jp)), f.i32.const(2))));
            f.set(left, f.i32.sub(f.get(mc), f.get(ip)));
            f.set(width, f.i32.sub(f.get(nc), f.get(jp)));
            const whole = f.i32.and(f.i32.ge_s(f.get(left), f.i32.const(mr)), f.i32.ge_s(f.get(width), f.i32.const(nr)));
            f.if(
              whole,
              () => {
                const store = (add: boolean): void => {
                  f.set(dst, f.get(cBlock));
                  for (let row = 0; row < mr; row++) {
                    for (let v = 0; v < nv; v++) {
                      const k = row * nv + v;
                      if (add) f.v128.store(f.get(dst), f.f32x4.add(f.v128.load(f.get(dst), v * 16), f.get(acc[k])), v * 16);
                      else f.v128.store(f.get(dst), f.get(acc[k]), v * 16);
                    }
                    if (row < mr - 1) f.set(dst, f.i32.add(f.get(dst), f.get(ldcBytes)));
                  }
                };
                f.if(
                  f.get(accumulate),
                  () => store(true),
                  () => store(false),
                );
              },
              () => {
                for (let row = 0; row < mr; row++) for (let v = 0; v < nv; v++) f.v128.store(f.get(tile), f.get(acc[row * nv + v]), (row * nr + v * 4) * 4);
                f.if(f.i32.gt_s(f.get(left), f.i32.const(mr)), () => f.set(left, f.i32.const(mr)));
                f.if(f.i32.gt_s(f.get(width), f.i32.const(nr)), () => f.set(width, f.i32.const(nr)));
                f.for(
                  r,
                  () => f.i32.const(0),
                  () => f.get(left),
                  1,
                  () => {
                    f.set(src, f.i32.add(f.get(tile), f.i32.mul(f.get(r), f.i32.const(nr * 4))));
                    f.set(dst, f.i32.add(f.get(cBlock), f.i32.mul(f.get(r), f.get(ldcBytes))));
                    f.for(
                      j,
                      () => f.i32.const(0),
                      () => f.get(width),
                      1,
                      () => {
                        const at = (): Emitted => f.i32.add(f.get(dst), f.i32.shl(f.get(j), f.i32.const(2)));
                        const value = (): Emitted => f.f32.load(f.i32.add(f.get(src), f.i32.shl(f.get(j), f.i32.const(2))));
                        f.if(
                          f.get(accumulate),
                          () => f.f32.store(at(), f.f32.add(f.f32.load(at()), value())),
                          () => f.f32.store(at(), value()),
                        );
                      },
                    );
                  },
                );
              },
            );
            f.set(paPanel, f.i32.add(f.get(paPanel), f.get(panelABytes)));
          },
        );
        f.set(pbPanel, f.i32.add(f.get(pbPanel), rows ? f.i32.const(nr * 4) : f.i32.mul(f.get(kc), f.i32.const(nr * 4))));
      },
    );
  });
}

/**
 * pack_a(src, rowTable, colTable, rows, kc, dst): A[r, kk] = src[rowTable[r] + colTable[kk]]
 * (element offsets), rows x kc, into panels of MR rows (zero rows past `rows`). Any layout:
 * transposed, or the flipped weights of a convolution's input gradient.
 */
export function emitPackA(mod: ModuleBuilder, mr: number): void {
  mod.func('pack_a', Array(6).fill('i32'), [], (f, src, rowTable, colTable, rows, kc, dst) => {
    const p = f.local('i32');
    const kk = f.local('i32');
    const r = f.local('i32');
    const rowAddr = f.local('i32');
    const out = f.local('i32');
    f.set(out, f.get(dst));
    f.for(
      p,
      () => f.i32.const(0),
      () => f.get(rows),
      mr,
      () => {
        for (let row = 0; row < mr; row++) {
          f.set(r, f.i32.add(f.get(p), f.i32.const(row)));
          const dstAt = (): Emitted => f.i32.add(f.get(out), f.i32.mul(f.get(kk), f.i32.const(mr * 4)));
          f.if(
            f.i32.lt_s(f.get(r), f.get(rows)),
            () => {
              f.set(rowAddr, f.i32.add(f.get(src), f.i32.shl(f.i32.load(f.i32.add(f.get(rowTable), f.i32.shl(f.get(r), f.i32.const(2)))), f.i32.const(2))));
              f.for(
                kk,
                () => f.i32.const(0),
                () => f.get(kc),
                1,
                () => {
                  const col = (): Emitted => f.i32.load(f.i32.add(f.get(colTable), f.i32.shl(f.get(kk), f.i32.const(2))));
                  f.f32.store(dstAt(), f.f32.load(f.i32.add(f.get(rowAddr), f.i32.shl(col(), f.i32.const(2)))), row * 4);
                },
              );
            },
            () => {
              f.for(
                kk,
                () => f.i32.const(0),
                () => f.get(kc),
                1,
                () => f.f32.store(dstAt(), f.f32.const(0), row * 4),
              );
            },
          );
        }
        f.set(out, f.i32.add(f.get(out), f.i32.mul(f.get(kc), f.i32.const(mr * 4))));
      },
    );
  });
}

/** 4x4 transpose of rows r0..r3 into columns c0..c3 (c_i = [r0_i, r1_i, r2_i, r3_i]). */
function transpose4(f: FunctionBuilder, r: Local[], t: Local[], c: Local[]): void {
  const lo = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const hi = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
  const lo64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const hi64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  f.set(t[0], f.v128.shuffle(f.get(r[0]), f.get(r[1]), lo));
  f.set(t[1], f.v128.shuffle(f.get(r[0]), f.get(r[1]), hi));
  f.set(t[2], f.v128.shuffle(f.get(r[2]), f.get(r[3]), lo));
  f.set(t[3], f.v128.shuffle(f.get(r[2]), f.get(r[3]), hi));
  f.set(c[0], f.v128.shuffle(f.get(t[0]), f.get(t[2]), lo64));
  f.set(c[1], f.v128.shuffle(f.get(t[0]), f.get(t[2]), hi64));
  f.set(c[2], f.v128.shuffle(f.get(t[1]), f.get(t[3]), lo64));
  f.set(c[3], f.v128.shuffle(f.get(t[1]), f.get(t[3]), hi64));
}

/**
 * pack_a_rows(src, rowTable, rows, kc, dst): A[r, kk] = src[rowTable[r] + kk], rows x kc, into
 * panels of 4 rows: the rows are contiguous, so whole panels go 4x4 blocks at a time through a
 * register transpose. Needs MR = 4.
 */
export function emitPackARows(mod: ModuleBuilder): void {
  if (GEMM.mr !== 4) throw new Error('internal: pack_a_rows transposes 4x4 blocks (GEMM.mr must be 4)');
  mod.func('pack_a_rows', Array(5).fill('i32'), [], (f, src, rowTable, rows, kc, dst) => {
    const p = f.local('i32');
    const kk = f.local('i32');
    const full = f.local('i32');
    const out = f.local('i32');
    const ptr: Local[] = Array.from({ length: 4 }, () => f.local('i32'));
    const r = Array.from({ length: 4 }, () => f.local('v128'));
    const t = Array.from({ length: 4 }, () => f.local('v128'));
    const c = Array.from({ length: 4 }, () => f.local('v128'));
    const row = f.local('i32');
    f.set(out, f.get(dst));
    f.set(full, f.i32.and(f.get(kc), f.i32.const(-4)));
    f.for(
      p,
      () => f.i32.const(0),
      () => f.get(rows),
      4,
      () => {
        // Row addresses; a row past the end reads row 0 (its values are replaced by zeros).
        for (let i = 0; i < 4; i++) {
          f.set(row, f.i32.add(f.get(p), f.i32.const(i)));
          f.set(row, f.select(f.get(row), f.i32.const(0), f.i32.lt_s(f.get(row), f.get(rows))));
          f.set(ptr[i], f.i32.add(f.get(src), f.i32.shl(f.i32.load(f.i32.add(f.get(rowTable), f.i32.shl(f.get(row), f.i32.const(2)))), f.i32.const(2))));
        }
        f.for(
          kk,
          () => f.i32.const(0),
          () => f.get(full),
          4,
          () => {
            for (let i = 0; i < 4; i++) f.set(r[i], f.v128.load(f.i32.add(f.get(ptr[i]), f.i32.shl(f.get(kk), f.i32.const(2)))));
            transpose4(f, r, t, c);
            for (let i = 0; i < 4; i++) f.v128.store(f.get(out), f.get(c[i]), i * 16);
            f.set(out, f.i32.add(f.get(out), f.i32.const(64)));
          },
        );
        f.for(
          kk,
          () => f.get(full),
          () => f.get(kc),
          1,
          () => {
            for (let i = 0; i < 4; i++) f.f32.store(f.get(out), f.f32.load(f.i32.add(f.get(ptr[i]), f.i32.shl(f.get(kk), f.i32.const(2)))), i * 4);
            f.set(out, f.i32.add(f.get(out), f.i32.const(16)));
          },
        );
        // Zero the rows past the end of a partial panel.
        for (let i = 1; i < 4; i++) {
          f.if(f.i32.ge_s(f.i32.add(f.get(p), f.i32.const(i)), f.get(rows)), () => {
            f.set(row, f.i32.sub(f.get(out), f.i32.mul(f.get(kc), f.i32.const(16))));
            f.for(
              kk,
              () => f.i32.const(0),
              () => f.get(kc),
              1,
              () => {
                f.f32.store(f.get(row), f.f32.const(0), i * 4);
                f.set(row, f.i32.add(f.get(row), f.i32.const(16)));
              },
            );
          });
        }
      },
    );
  });
}

/**
 * zero_columns(pa, panels, kc, first, width, valid): in packed A (`panels` panels of 4 rows x
 * kc), zeroes column kk wherever (first + kk) mod width >= valid: the virtual columns of a
 * convolution's weight gradient. Needs MR = 4 (a column of a panel is one v128).
 */
export function emitZeroColumns(mod: ModuleBuilder): void {
  mod.func('zero_columns', Array(6).fill('i32'), [], (f, pa, panels, kc, first, width, valid) => {
    const p = f.local('i32');
    const kk = f.local('i32');
    const col = f.local('i32');
    const at = f.local('i32');
    f.for(
      p,
      () => f.i32.const(0),
      () => f.get(panels),
      1,
      () => {
        f.set(col, f.get(first));
        f.set(at, f.i32.add(f.get(pa), f.i32.mul(f.get(p), f.i32.mul(f.get(kc), f.i32.const(16)))));
        f.for(
          kk,
          () => f.i32.const(0),
          () => f.get(kc),
          1,
          () => {
            f.if(f.i32.ge_s(f.get(col), f.get(valid)), () => f.v128.store(f.get(at), f.v128.const([0, 0, 0, 0])));
            f.set(at, f.i32.add(f.get(at), f.i32.const(16)));
            f.set(col, f.i32.add(f.get(col), f.i32.const(1)));
            f.if(f.i32.eq(f.get(col), f.get(width)), () => f.set(col, f.i32.const(0)));
          },
        );
      },
    );
  });
}

/**
 * pack_b(src, rs, cs, kc, cols, dst): element (kk, j) of B at src + 4*(kk*rs + j*cs), kc x cols,
 * into panels of NR columns (zero past `cols`). Contiguous rows (cs = 1) copy whole vectors.
 */
export function emitPackB(mod: ModuleBuilder, nv: number): void {
  const nr = 4 * nv;
  mod.func('pack_b', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f, src, rs, cs, kc, cols, dst) => {
    const q = f.local('i32');
    const kk = f.local('i32');
    const j = f.local('i32');
    const out = f.local('i32');
    const at = f.local('i32');
    const rsBytes = f.local('i32');
    const width = f.local('i32');
    f.set(rsBytes, f.i32.shl(f.get(rs), f.i32.const(2)));
    f.set(out, f.get(dst));
    f.for(
      q,
      () => f.i32.const(0),
      () => f.get(cols),
      nr,
      () => {
        f.set(width, f.i32.sub(f.get(cols), f.get(q)));
        f.if(
          f.i32.and(f.i32.eq(f.get(cs), f.i32.const(1)), f.i32.ge_s(f.get(width), f.i32.const(nr))),
          () => {
            f.set(at, f.i32.add(f.get(src), f.i32.shl(f.get(q), f.i32.const(2))));
            f.for(
              kk,
              () => f.i32.const(0),
              () => f.get(kc),
              1,
              () => {
                for (let v = 0; v < nv; v++) f.v128.store(f.get(out), f.v128.load(f.get(at), v * 16), v * 16);
                f.set(at, f.i32.add(f.get(at), f.get(rsBytes)));
                f.set(out, f.i32.add(f.get(out), f.i32.const(nr * 4)));
              },
            );
          },
          () => {
            f.for(
              kk,
              () => f.i32.const(0),
              () => f.get(kc),
              1,
              () => {
                f.for(
                  j,
                  () => f.i32.const(0),
                  () => f.i32.const(nr),
                  1,
                  () => {
                    f.if(
                      f.i32.lt_s(f.get(j), f.get(width)),
                      () => {
                        const addr = (): void =>
                          void f.i32.add(f.get(src), f.i32.shl(f.i32.add(f.i32.mul(f.get(kk), f.get(rs)), f.i32.mul(f.i32.add(f.get(q), f.get(j)), f.get(cs))), f.i32.const(2)));
                        f.f32.store(f.get(out), f.f32.load(addr()));
                      },
                      () => f.f32.store(f.get(out), f.f32.const(0)),
                    );
                    f.set(out, f.i32.add(f.get(out), f.i32.const(4)));
                  },
                );
              },
            );
          },
        );
      },
    );
  });
}
