// Threshold top-k, step 1: the bracket [LO, HI] from a stratified random sample of the keys.
// - `sample` (one dispatch per further segment, one invocation per sampled vec4 unit): unit j
//   of this segment is the vec4 at a hashed offset inside the j-th of `count` equal strata of
//   the segment's whole vec4s (topk.ts: thresholdSamplePositions gives the same positions);
//   its 4 keys go to samples[first + j]. 4 consecutive keys cost about one cache miss, like 1.
//   Dispatch: ceil(count / 256).
// - `bracket` (one workgroup of WG, so the histogram atomics stay on one core; `x` is the first
//   segment): samples the first segment as `sample` does (a dispatch fewer for layer scope);
//   all count the sampled keys' bits 30..20 (SAMPLE_HIST); invocation 0 walks them from the top (via
//   sums of 8 bins) to the bins holding sample ranks r_hi and r_lo (0: that end is
//   unbounded); all count bits 19..12 of the sampled keys in those two bins (FINE_HIST);
//   invocation 0 walks those to set HI to the top of r_hi's level-2 bin and LO to the bottom
//   of r_lo's (rounding outwards only widens the bracket, by 2^12 ulps: nothing next to the
//   sampling error), and the key bits the candidates share (KEY_BITS, T_KEY).
//   Dispatch: [1, 1, 1].
#include "topk_common"

/** Invocations of `bracket`: 4 on CPU-emulated GPUs (one SIMD group, so barriers cost no fiber switches), else 256. */
const WG = {{WG}}u;

// The uniform block p (struct Params, generated from the layout in src/backend/webgpu/kernels.ts):
//   len: The segment's whole vec4s.
//   first: The index of the segment's first sampled unit.
//   count: Units sampled from the segment (<= len, <= 16384, so j * (len % count) fits).
//   units: `bracket`: all the sampled units, m / 4, and the ranks of the bracket ends.

@group(0) @binding(0) var<storage, read> x: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> samples: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> work: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> p: Params;

// lowbias32 (C. Wellons): decorrelates the offsets from any period in the data.
fn hash(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

/** Start of stratum j of `count` over `len` elements: floor(j * len / count) without overflow. */
fn stratum(j: u32) -> u32 {
  return j * (p.len / p.count) + (j * (p.len % p.count)) / p.count;
}

/** Stores the j-th sampled unit of the segment. */
fn take(j: u32) {
  let start = stratum(j);
  samples[p.first + j] = x[start + hash(p.first + j) % (stratum(j + 1u) - start)] & vec4(0x7fffffffu);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sample(@builtin(global_invocation_id) gid: vec3<u32>) {
  _ = &work;
  if (gid.x < p.count) { take(gid.x); }
}

/** Level-1 bins of the bracket ends (NONE: unbounded) and the ranks left inside them. */
var<workgroup> ends: vec4<u32>;
/** Sums of 8 level-1 bins each: invocation 0 walks these, then 8 bins. */
var<workgroup> partial: array<u32, 256>;

/** The bin of group g (8 level-1 bins) that holds rank `rank` from the top, `seen` being above the group; and the rank left in it. */
fn in_group(g: u32, seen: u32, rank: u32) -> vec2<u32> {
  var above = seen;
  var b = 8u * g + 7u;
  while (b > 8u * g && above + atomicLoad(&work[SAMPLE_HIST + b]) < rank) {
    above += atomicLoad(&work[SAMPLE_HIST + b]);
    b--;
  }
  return vec2(b, rank - above);
}

/** The level-2 bin (of the 256 at `base`) holding rank `rank` from the top. */
fn fine_bin(base: u32, rank: u32) -> u32 {
  var rest = rank;
  var b = 255u;
  while (b > 0u && atomicLoad(&work[base + b]) < rest) {
    rest -= atomicLoad(&work[base + b]);
    b--;
  }
  return b;
}

@compute @workgroup_size(WG)
fn bracket(@builtin(local_invocation_index) lid: u32) {
  let r_hi = p.r_hi;
  let r_lo = p.r_lo;
  for (var j = lid; j < p.count; j += WG) { take(j); }
  storageBarrier();
  for (var j = lid; j < p.units; j += WG) {
    let b = samples[j] >> vec4(20u);
    atomicAdd(&work[SAMPLE_HIST + b.x], 1u);
    atomicAdd(&work[SAMPLE_HIST + b.y], 1u);
    atomicAdd(&work[SAMPLE_HIST + b.z], 1u);
    atomicAdd(&work[SAMPLE_HIST + b.w], 1u);
  }
  storageBarrier();
  for (var g = lid; g < 256u; g += WG) {
    var sum = 0u;
    for (var b = 0u; b < 8u; b++) { sum += atomicLoad(&work[SAMPLE_HIST + 8u * g + b]); }
    partial[g] = sum;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var e = vec4<u32>(NONE, NONE, 0u, 0u);
    var seen = 0u;
    for (var i = 0u; i < 256u; i++) {
      let g = 255u - i;
      let c = partial[g];
      if (e.x == NONE && r_hi != 0u && seen + c >= r_hi) { let f = in_group(g, seen, r_hi); e.x = f.x; e.z = f.y; }
      if (e.y == NONE && r_lo != 0u && seen + c >= r_lo) { let f = in_group(g, seen, r_lo); e.y = f.x; e.w = f.y; }
      if ((e.x != NONE || r_hi == 0u) && (e.y != NONE || r_lo == 0u)) { break; }
      seen += c;
    }
    ends = e;
  }
  let e = workgroupUniformLoad(&ends);
  for (var j = lid; j < p.units; j += WG) {
    let keys = samples[j];
    for (var i = 0u; i < 4u; i++) {
      let key = keys[i];
      let bin = (key >> 12u) & 255u;
      // One atomic, after the choice (SwiftShader runs both sides of an `if`).
      var at = NONE;
      if ((key >> 20u) == e.x) { at = FINE_HIST + bin; } else if ((key >> 20u) == e.y) { at = FINE_HIST + 256u + bin; }
      if (at != NONE) { atomicAdd(&work[at], 1u); }
    }
  }
  storageBarrier();
  if (lid == 0u) {
    var hi = 0x7fffffffu;
    var lo = 0u;
    if (e.x != NONE) { hi = (e.x << 20u) | (fine_bin(FINE_HIST, e.z) << 12u) | 0xfffu; }
    if (e.y != NONE) { lo = (e.y << 20u) | (fine_bin(select(FINE_HIST + 256u, FINE_HIST, e.y == e.x), e.w) << 12u); }
    atomicStore(&work[HI], hi);
    atomicStore(&work[LO], lo);
    // Every candidate shares the key bits above the highest bit where LO and HI differ.
    let bits = 32u - countLeadingZeros(lo ^ hi);
    atomicStore(&work[KEY_BITS], bits);
    atomicStore(&work[T_KEY], lo & ~((1u << bits) - 1u));
  }
}
