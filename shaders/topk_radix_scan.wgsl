// The small steps of the exact top-k threshold selection (topk_radix.wgsl). The state:
//   state[0] = the key bits fixed so far (in place), state[1] = the position bits fixed so far,
//   state[2] = the rank still to find among the elements sharing the fixed bits,
//   state[3] = 1 once decided; then mask = key > state[0] || (key == state[0] && pos <= state[1]).
// Nothing is read back: every later kernel reads the state on the GPU.
// Entry points (same bindings; `_ =` marks a binding an entry point does not need as used):
// - `init` (1 workgroup of 256): clears `wide` (65536 bins + 256 sums), `hist` (256 bins and
//   the candidate count), state = (0, 0, k, 0).
// - `sums` (1 workgroup of 256): wide[65536 + j] = the sum of bins 256 j .. 256 j + 255.
// - `pick_wide` (1 invocation): walks the sums, then the bins, from the top to the bin of the
//   remaining rank; fixes the top 16 key bits.
// - `scan` (1 invocation): the same on the 256-bin `hist` of a candidate pass (keys from the
//   top bin down, positions from the bottom up), then clears it for the next pass.
// "Decided" as soon as the whole bin is kept.

struct Params {
  k: u32,
  by_position: u32,
  shift: u32,
  digit: u32,
  /** 1 on the last pass (positions are unique there: always decided). */
  last: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read_write> wide: array<atomic<u32>>;
@group(0) @binding(1) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> state: array<u32, 4>;
@group(0) @binding(3) var<uniform> p: Params;

const SUMS = 65536u;

@compute @workgroup_size(256)
fn init(@builtin(local_invocation_index) lid: u32) {
  for (var b = 0u; b < 256u; b++) { atomicStore(&wide[lid * 256u + b], 0u); }
  atomicStore(&wide[SUMS + lid], 0u);
  atomicStore(&hist[lid], 0u);
  if (lid == 0u) {
    atomicStore(&hist[256], 0u);
    state[0] = 0u;
    state[1] = 0u;
    state[2] = p.k;
    state[3] = 0u;
  }
}

@compute @workgroup_size(256)
fn sums(@builtin(local_invocation_index) lid: u32) {
  _ = &hist;
  _ = state[0];
  _ = p.k;
  var s = 0u;
  for (var b = 0u; b < 256u; b++) { s += atomicLoad(&wide[lid * 256u + b]); }
  atomicStore(&wide[SUMS + lid], s);
}

@compute @workgroup_size(1)
fn pick_wide() {
  _ = &hist;
  _ = p.k;
  var rest = state[2];
  var c = 255u;
  while (c > 0u && atomicLoad(&wide[SUMS + c]) < rest) { rest -= atomicLoad(&wide[SUMS + c]); c--; }
  var b = c * 256u + 255u;
  while (b > c * 256u && atomicLoad(&wide[b]) < rest) { rest -= atomicLoad(&wide[b]); b--; }
  state[0] = b << 15u;
  state[2] = rest;
  // The whole bin is kept: every key >= the fixed prefix, whatever its position.
  if (rest == atomicLoad(&wide[b])) { state[1] = 0xffffffffu; state[3] = 1u; }
}

@compute @workgroup_size(1)
fn scan() {
  _ = &wide;
  if (state[3] != 0u) { return; }
  var rest = state[2];
  var b: u32;
  if (p.by_position == 0u) {
    b = p.digit;
    while (b > 0u && atomicLoad(&hist[b]) < rest) { rest -= atomicLoad(&hist[b]); b--; }
  } else {
    b = 0u;
    while (b < p.digit && atomicLoad(&hist[b]) < rest) { rest -= atomicLoad(&hist[b]); b++; }
  }
  let count = atomicLoad(&hist[b]);
  for (var i = 0u; i <= p.digit; i++) { atomicStore(&hist[i], 0u); }
  state[2] = rest;
  if (p.by_position == 0u) {
    state[0] |= b << p.shift;
    if (rest == count) { state[1] = 0xffffffffu; state[3] = 1u; }
  } else {
    state[1] |= b << p.shift;
    if (rest == count) { state[1] |= (1u << p.shift) - 1u; state[3] = 1u; }
  }
  if (p.last != 0u) { state[3] = 1u; }
}
