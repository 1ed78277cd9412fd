// A small WebAssembly module builder: the binary format (LEB128, sections, opcodes) and a typed
// emitter for function bodies, so that kernels are written in TypeScript with no external
// toolchain.
//
// Bodies are written as nested calls in stack order: JavaScript evaluates a call's arguments
// left to right before the call, so `f.i32.add(f.get(x), f.i32.const(4))` emits
// `local.get x; i32.const 4; i32.add`. Every emitting method returns the `Emitted` token so that
// it can stand as an argument; the token carries no value.
//
// Only what the kernels use is here: one imported (shared) memory, functions with i32/f32/v128
// params, exports. The binary format: https://webassembly.github.io/spec/core/binary/

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** What an emitting call returns: a placeholder that lets calls nest in stack order. */
// biome-ignore lint/suspicious/noConfusingVoidType: the emitters return nothing; the type only makes calls nest in stack order.
export type Emitted = { readonly __emitted: true } | void;

/** A local variable (or parameter) of a function. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** A branch target: the block or loop it was made by. */
export interface Label {
  readonly depth: number;
}

function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  out.push(...bytes);
}

/** A section: its id, then its contents prefixed by their length. */
function section(out: number[], id: number, contents: number[]): void {
  out.push(id);
  uleb(out, contents.length);
  for (const b of contents) out.push(b);
}

/** Memory access: natural alignment (log2 bytes) and a constant offset. */
interface MemArg {
  align: number;
  offset: number;
}

const SIMD = 0xfd;

/** The body of one function under construction. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  private depth = 0;
  readonly params: Local[];

  constructor(paramTypes: readonly ValType[]) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** Declares a new local (zero-initialised). */
  local(type: ValType): Local {
    const l = { index: this.params.length + this.localTypes.length, type };
    this.localTypes.push(type);
    return l;
  }

  /** The locals section of the body: runs of equal types. */
  localDecls(): number[] {
    const runs: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const out: number[] = [];
    uleb(out, runs.length);
    for (const [count, t] of runs) {
      uleb(out, count);
      out.push(VALTYPE[t]);
    }
    return out;
  }

  /** Appends raw bytes (an opcode and its immediates). */
  private op(...bytes: number[]): Emitted {
    for (const b of bytes) this.code.push(b);
  }

  private simd(opcode: number, ...immediates: number[]): Emitted {
    this.code.push(SIMD);
    uleb(this.code, opcode);
    for (const b of immediates) this.code.push(b);
  }

  private memarg(m: MemArg): number[] {
    const out: number[] = [];
    uleb(out, m.align);
    uleb(out, m.offset);
    return out;
  }

  // ---- locals ----

  get(l: Local): Emitted {
    this.code.push(0x20);
    uleb(this.code, l.index);
  }
  /** Pops the value computed by the argument into `l`. */
  set(l: Local, _value?: Emitted): Emitted {
    this.code.push(0x21);
    uleb(this.code, l.index);
  }

  // ---- control ----

  private enter(opcode: number, body: (label: Label) => void): Emitted {
    this.code.push(opcode, 0x40); // empty block type
    this.depth++;
    body({ depth: this.depth });
    this.depth--;
    this.code.push(0x0b);
  }
  /** A block: `brIf(label, cond)` inside jumps past its end. */
  block(body: (label: Label) => void): Emitted {
    return this.enter(0x02, body);
  }
  /** A loop: `brIf(label, cond)` inside jumps back to its start. */
  loop(body: (label: Label) => void): Emitted {
    return this.enter(0x03, body);
  }
  /** if (cond) then else otherwise. */
  if(_cond: Emitted, then: () => void, otherwise?: () => void): Emitted {
    this.code.push(0x04, 0x40);
    this.depth++;
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.depth--;
    this.code.push(0x0b);
  }
  brIf(label: Label, _cond?: Emitted): Emitted {
    this.code.push(0x0d);
    uleb(this.code, this.depth - label.depth);
  }
  /** Calls function `index` (from ModuleBuilder.func) with the arguments emitted before. */
  call(index: number, ..._args: Emitted[]): Emitted {
    this.code.push(0x10);
    uleb(this.code, index);
  }
  /** memory.copy(dst, src, bytes) (bulk memory). */
  memoryCopy(_dst: Emitted, _src: Emitted, _bytes: Emitted): Emitted {
    this.code.push(0xfc, 0x0a, 0x00, 0x00);
  }
  /** memory.fill(dst, byte, bytes) (bulk memory). */
  memoryFill(_dst: Emitted, _byte: Emitted, _bytes: Emitted): Emitted {
    this.code.push(0xfc, 0x0b, 0x00);
  }
  /** select(a, b, cond): a if cond != 0, else b. */
  select(_a: Emitted, _b: Emitted, _cond: Emitted): Emitted {
    this.code.push(0x1b);
  }

  /**
   * for (i = start; i < end; i += step) body, as a loop entered only when start < end
   * (signed comparison). `start`, `end` and `step` are emitted once per use: pass locals or
   * constants (`end` is re-read at every iteration).
   */
  for(i: Local, start: () => Emitted, end: () => Emitted, step: number, body: () => void): Emitted {
    this.set(i, start());
    this.if(this.i32.lt_s(this.get(i), end()), () => {
      this.loop((again) => {
        body();
        this.set(i, this.i32.add(this.get(i), this.i32.const(step)));
        this.brIf(again, this.i32.lt_s(this.get(i), end()));
      });
    });
  }

  // ---- numeric instructions, grouped by type as in the text format ----

  readonly i32 = {
    const: (v: number): Emitted => {
      this.code.push(0x41);
      sleb(this.code, v);
    },
    load: (_addr: Emitted, offset = 0): Emitted => this.op(0x28, ...this.memarg({ align: 2, offset })),
    store: (_addr: Emitted, _value: Emitted, offset = 0): Emitted => this.op(0x36, ...this.memarg({ align: 2, offset })),
    eqz: (_a: Emitted): Emitted => this.op(0x45),
    eq: (_a: Emitted, _b: Emitted): Emitted => this.op(0x46),
    ne: (_a: Emitted, _b: Emitted): Emitted => this.op(0x47),
    lt_s: (_a: Emitted, _b: Emitted): Emitted => this.op(0x48),
    lt_u: (_a: Emitted, _b: Emitted): Emitted => this.op(0x49),
    gt_s: (_a: Emitted, _b: Emitted): Emitted => this.op(0x4a),
    gt_u: (_a: Emitted, _b: Emitted): Emitted => this.op(0x4b),
    ge_s: (_a: Emitted, _b: Emitted): Emitted => this.op(0x4e),
    ge_u: (_a: Emitted, _b: Emitted): Emitted => this.op(0x4f),
    add: (_a: Emitted, _b: Emitted): Emitted => this.op(0x6a),
    sub: (_a: Emitted, _b: Emitted): Emitted => this.op(0x6b),
    mul: (_a: Emitted, _b: Emitted): Emitted => this.op(0x6c),
    and: (_a: Emitted, _b: Emitted): Emitted => this.op(0x71),
    or: (_a: Emitted, _b: Emitted): Emitted => this.op(0x72),
    shl: (_a: Emitted, _b: Emitted): Emitted => this.op(0x74),
    shr_u: (_a: Emitted, _b: Emitted): Emitted => this.op(0x76),
    trunc_sat_f32_s: (_a: Emitted): Emitted => this.op(0xfc, 0x00),
  };

  readonly f32 = {
    const: (v: number): Emitted => {
      this.code.push(0x43);
      const b = new Uint8Array(new Float32Array([v]).buffer);
      for (const x of b) this.code.push(x);
    },
    load: (_addr: Emitted, offset = 0): Emitted => this.op(0x2a, ...this.memarg({ align: 2, offset })),
    store: (_addr: Emitted, _value: Emitted, offset = 0): Emitted => this.op(0x38, ...this.memarg({ align: 2, offset })),
    eq: (_a: Emitted, _b: Emitted): Emitted => this.op(0x5b),
    ne: (_a: Emitted, _b: Emitted): Emitted => this.op(0x5c),
    gt: (_a: Emitted, _b: Emitted): Emitted => this.op(0x5e),
    add: (_a: Emitted, _b: Emitted): Emitted => this.op(0x92),
    div: (_a: Emitted, _b: Emitted): Emitted => this.op(0x95),
    max: (_a: Emitted, _b: Emitted): Emitted => this.op(0x97),
    convert_i32_s: (_a: Emitted): Emitted => this.op(0xb2),
    demote_f64: (_a: Emitted): Emitted => this.op(0xb6),
  };

  readonly f64 = {
    add: (_a: Emitted, _b: Emitted): Emitted => this.op(0xa0),
    promote_f32: (_a: Emitted): Emitted => this.op(0xbb),
  };

  /** v128 memory and bitwise instructions. */
  readonly v128 = {
    load: (_addr: Emitted, offset = 0): Emitted => this.simd(0x00, ...this.memarg({ align: 4, offset })),
    load32_splat: (_addr: Emitted, offset = 0): Emitted => this.simd(0x09, ...this.memarg({ align: 2, offset })),
    store: (_addr: Emitted, _value: Emitted, offset = 0): Emitted => this.simd(0x0b, ...this.memarg({ align: 4, offset })),
    /** Four u32 lanes. */
    const: (lanes: readonly [number, number, number, number]): Emitted => {
      const b = new Uint8Array(new Uint32Array(lanes).buffer);
      return this.simd(0x0c, ...b);
    },
    not: (_a: Emitted): Emitted => this.simd(0x4d),
    and: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x4e),
    andnot: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x4f),
    or: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x50),
    xor: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x51),
    /** bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere. */
    bitselect: (_a: Emitted, _b: Emitted, _mask: Emitted): Emitted => this.simd(0x52),
    any_true: (_a: Emitted): Emitted => this.simd(0x53),
    /** Bytes of a (lanes 0-15) and b (16-31) picked by `lanes`. */
    shuffle: (_a: Emitted, _b: Emitted, lanes: readonly number[]): Emitted => {
      if (lanes.length !== 16) throw new Error('internal: i8x16.shuffle takes 16 lanes');
      return this.simd(0x0d, ...lanes);
    },
  };

  readonly f32x4 = {
    splat: (_a: Emitted): Emitted => this.simd(0x13),
    extract_lane: (_a: Emitted, lane: number): Emitted => this.simd(0x1f, lane),
    replace_lane: (_a: Emitted, _value: Emitted, lane: number): Emitted => this.simd(0x20, lane),
    eq: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x41),
    lt: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x43),
    gt: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x44),
    ge: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x46),
    floor: (_a: Emitted): Emitted => this.simd(0x68),
    nearest: (_a: Emitted): Emitted => this.simd(0x6a),
    abs: (_a: Emitted): Emitted => this.simd(0xe0),
    neg: (_a: Emitted): Emitted => this.simd(0xe1),
    sqrt: (_a: Emitted): Emitted => this.simd(0xe3),
    add: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xe4),
    sub: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xe5),
    mul: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xe6),
    div: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xe7),
    min: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xe8),
    max: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xe9),
    convert_i32x4_s: (_a: Emitted): Emitted => this.simd(0xfa),
    /** Two f64 lanes to f32 lanes 0-1; lanes 2-3 are 0. */
    demote_f64x2_zero: (_a: Emitted): Emitted => this.simd(0x5e),
    /** a * b + c, fused or not as the hardware prefers (relaxed SIMD). */
    relaxed_madd: (_a: Emitted, _b: Emitted, _c: Emitted): Emitted => this.simd(0x105),
  };

  readonly f64x2 = {
    extract_lane: (_a: Emitted, lane: number): Emitted => this.simd(0x21, lane),
    replace_lane: (_a: Emitted, _value: Emitted, lane: number): Emitted => this.simd(0x22, lane),
    add: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xf0),
    /** The low two f32 lanes as f64. */
    promote_low_f32x4: (_a: Emitted): Emitted => this.simd(0x5f),
  };

  readonly i32x4 = {
    splat: (_a: Emitted): Emitted => this.simd(0x11),
    extract_lane: (_a: Emitted, lane: number): Emitted => this.simd(0x1b, lane),
    eq: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x37),
    gt_s: (_a: Emitted, _b: Emitted): Emitted => this.simd(0x3b),
    shl: (_a: Emitted, _count: Emitted): Emitted => this.simd(0xab),
    shr_s: (_a: Emitted, _count: Emitted): Emitted => this.simd(0xac),
    shr_u: (_a: Emitted, _count: Emitted): Emitted => this.simd(0xad),
    add: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xae),
    sub: (_a: Emitted, _b: Emitted): Emitted => this.simd(0xb1),
    trunc_sat_f32x4_s: (_a: Emitted): Emitted => this.simd(0xf8),
  };
}

interface FunctionDef {
  name: string;
  exported: boolean;
  params: ValType[];
  results: ValType[];
  body: FunctionBuilder;
}

export interface MemoryImport {
  /** Initial and maximum size in 64 KiB pages. */
  initial: number;
  maximum: number;
  shared: boolean;
}

/** A module of exported functions over one imported memory `env.memory`. */
export class ModuleBuilder {
  private readonly functions: FunctionDef[] = [];

  constructor(private readonly memory: MemoryImport) {}

  /**
   * Adds a function (exported under `name` unless `exported` is false); `build` writes its body
   * given the parameters as locals. Returns its index for `call`.
   */
  func(name: string, params: ValType[], results: ValType[], build: (f: FunctionBuilder, ...params: Local[]) => void, exported = true): number {
    if (this.functions.some((f) => f.name === name)) throw new Error(`internal: wasm function '${name}' defined twice`);
    const body = new FunctionBuilder(params);
    build(body, ...body.params);
    return this.functions.push({ name, exported, params, results, body }) - 1;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    // Types: one per distinct signature.
    const signatures: string[] = [];
    const typeOf = this.functions.map((f) => {
      const key = `${f.params.join(',')}->${f.results.join(',')}`;
      let i = signatures.indexOf(key);
      if (i < 0) i = signatures.push(key) - 1;
      return i;
    });
    const types: number[] = [];
    uleb(types, signatures.length);
    for (const key of signatures) {
      const [p, r] = key.split('->').map((s) => (s ? (s.split(',') as ValType[]) : []));
      types.push(0x60);
      uleb(types, p.length);
      for (const t of p) types.push(VALTYPE[t]);
      uleb(types, r.length);
      for (const t of r) types.push(VALTYPE[t]);
    }
    section(out, 1, types);

    const imports: number[] = [];
    uleb(imports, 1);
    name(imports, 'env');
    name(imports, 'memory');
    imports.push(0x02, this.memory.shared ? 0x03 : 0x01);
    uleb(imports, this.memory.initial);
    uleb(imports, this.memory.maximum);
    section(out, 2, imports);

    const funcs: number[] = [];
    uleb(funcs, this.functions.length);
    for (const t of typeOf) uleb(funcs, t);
    section(out, 3, funcs);

    const exports: number[] = [];
    uleb(exports, this.functions.filter((f) => f.exported).length);
    this.functions.forEach((f, i) => {
      if (!f.exported) return;
      name(exports, f.name);
      exports.push(0x00);
      uleb(exports, i);
    });
    section(out, 7, exports);

    const code: number[] = [];
    uleb(code, this.functions.length);
    for (const f of this.functions) {
      const body = [...f.body.localDecls(), ...f.body.code, 0x0b];
      uleb(code, body.length);
      for (const b of body) code.push(b);
    }
    section(out, 10, code);
    return new Uint8Array(out);
  }
}
