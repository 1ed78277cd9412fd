// Threshold top-k: the exact radix select among the candidates, in one workgroup of WG (there
// are few candidates, and one dispatch with a few barriers costs less than a dispatch per digit).
// Digits: the key bits below the common prefix of LO and HI (11 bits first, as the bracket
// spans about 2^16..2^20 keys, then 8), then, while ties remain, 8-bit digits of the global
// position (lower positions rank first). For each digit, all invocations count the candidates
// sharing the digits fixed so far (every chunk's region: `regions` holds their starts) and sum
// the histogram in 256 groups; invocation 0 walks the groups, then the bins of one group, to
// the bin holding the REST-th candidate, and fixes it in T_KEY / T_POS; DECIDED as soon as a
// whole bin is kept (or on the last position digit). Each digit has its own histogram
// (DIGIT_HIST), so none is cleared. Then it sets the first segment's mask of the kept
// candidates (a dispatch fewer for layer scope). Dispatch: [1, 1, 1].
#include "topk_common"

// The uniform block p (struct Params, generated from the layout in src/backend/webgpu/kernels.ts):
//   first_chunks: The first segment's chunks (it starts at position 0).

@group(0) @binding(0) var<storage, read> cand_key: array<u32>;
@group(0) @binding(1) var<storage, read> cand_pos: array<u32>;
@group(0) @binding(2) var<storage, read> regions: array<u32>;
@group(0) @binding(3) var<storage, read_write> work: array<atomic<u32>>;
/** The first segment's mask: its kept candidates are set here (topk_split.wgsl `scatter` does the others). */
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> p: Params;

/** Invocations: 4 on CPU-emulated GPUs (one SIMD group, so barriers cost no fiber switches), else 256. */
const WG = {{WG}}u;
const FIRST_BITS = 11u;
const BITS = 8u;

/** The next digit to count: (1, by_position, step) or (0, ...) when decided. */
var<workgroup> next: vec4<u32>;
/** T_KEY, T_POS as fixed so far (written by invocation 0, read after the barrier). */
var<workgroup> fixed: vec2<u32>;
/** The histogram of the digit just counted, summed in groups of `group` bins. */
var<workgroup> partial: array<u32, 256>;

/** Bits [x, y) of digit `step` of the key (by_position = 0) or of the position; x == y past the end. */
fn digit_range(by_position: u32, step: u32) -> vec2<u32> {
  var top = p.pos_bits - min(p.pos_bits, step * BITS);
  var width = BITS;
  if (by_position == 0u) {
    let bits = atomicLoad(&work[KEY_BITS]);
    top = bits - min(bits, select(FIRST_BITS + (step - 1u) * BITS, 0u, step == 0u));
    width = select(BITS, FIRST_BITS, step == 0u);
  }
  return vec2(top - min(top, width), top);
}

/** Where the histogram of a digit starts: the key's first (2048 bins), 3 more key digits, 4 position digits. */
fn digit_hist(by_position: u32, step: u32) -> u32 {
  if (by_position == 0u) { return select(DIGIT_HIST + 2048u + (step - 1u) * 256u, DIGIT_HIST, step == 0u); }
  return DIGIT_HIST + 2048u + 3u * 256u + step * 256u;
}

/** a and b agree on bits >= `bit` (a shift by 32 would wrap in WGSL). */
fn same_above(a: u32, b: u32, bit: u32) -> bool {
  return bit >= 32u || (a >> bit) == (b >> bit);
}

/** Invocation 0: fixes the digit just counted and returns the next one to count. */
fn pick(by_position: u32, step: u32) -> vec4<u32> {
  let r = digit_range(by_position, step);
  let h = digit_hist(by_position, step);
  let bins = 1u << (r.y - r.x);
  let group = max(1u, bins / 256u);
  let groups = bins / group;
  let up = by_position != 0u;
  // Keys: from the top bin down; positions: from the bottom up.
  var rest = atomicLoad(&work[REST]);
  var g = select(groups - 1u, 0u, up);
  while (partial[g] < rest && select(g > 0u, g + 1u < groups, up)) {
    rest -= partial[g];
    g = select(g - 1u, g + 1u, up);
  }
  var b = select(g * group + group - 1u, g * group, up);
  while (atomicLoad(&work[h + b]) < rest && select(b > g * group, b + 1u < g * group + group, up)) {
    rest -= atomicLoad(&work[h + b]);
    b = select(b - 1u, b + 1u, up);
  }
  let whole = rest == atomicLoad(&work[h + b]);
  atomicStore(&work[REST], rest);
  if (!up) {
    atomicOr(&work[T_KEY], b << r.x);
    // The whole bin is kept: every key >= T_KEY, whatever its position.
    if (whole) { atomicStore(&work[T_POS], 0xffffffffu); }
  } else {
    atomicOr(&work[T_POS], (b << r.x) | select(0u, (1u << r.x) - 1u, whole));
  }
  fixed = vec2(atomicLoad(&work[T_KEY]), atomicLoad(&work[T_POS]));
  if (whole || (up && r.x == 0u)) {
    atomicStore(&work[DECIDED], 1u);
    return vec4(0u);
  }
  if (!up && r.x == 0u) { return vec4(1u, 1u, 0u, 0u); }
  return vec4(1u, by_position, step + 1u, 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var digit = vec4(1u, 0u, 0u, 0u); // (1, by_position, step): the key's first digit
  var t = vec2(atomicLoad(&work[T_KEY]), atomicLoad(&work[T_POS]));
  loop {
    let by_position = digit.y != 0u;
    let r = digit_range(digit.y, digit.z);
    let mask = (1u << (r.y - r.x)) - 1u;
    let h = digit_hist(digit.y, digit.z);
    for (var c = 0u; c < p.chunks; c++) {
      let base = regions[c];
      let count = atomicLoad(&work[COUNTS + c]);
      for (var j = lid; j < count; j += WG) {
        let key = cand_key[base + j];
        var v = key;
        var counted = same_above(key, t.x, r.y);
        // SwiftShader runs both sides of an `if`: one atomic, after the choice.
        if (by_position) {
          v = cand_pos[base + j];
          counted = key == t.x && same_above(v, t.y, r.y);
        }
        if (counted) { atomicAdd(&work[h + ((v >> r.x) & mask)], 1u); }
      }
    }
    storageBarrier();
    let bins = mask + 1u;
    let group = max(1u, bins / 256u);
    for (var g = lid; g < 256u; g += WG) {
      var sum = 0u;
      for (var b = g * group; b < min(g * group + group, bins); b++) { sum += atomicLoad(&work[h + b]); }
      partial[g] = sum;
    }
    workgroupBarrier();
    if (lid == 0u) { next = pick(digit.y, digit.z); }
    digit = workgroupUniformLoad(&next);
    if (digit.x == 0u) { break; }
    t = fixed;
  }
  t = fixed;
  for (var c = 0u; c < p.first_chunks; c++) {
    let base = regions[c];
    let count = atomicLoad(&work[COUNTS + c]);
    for (var j = lid; j < count; j += WG) {
      let key = cand_key[base + j];
      let pos = cand_pos[base + j];
      if (key > t.x || (key == t.x && pos <= t.y)) { out[pos / 4u][pos % 4u] = 1.0; }
    }
  }
}
