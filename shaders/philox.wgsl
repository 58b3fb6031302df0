// FunnelWeb — counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw
// 2011, "Parallel random numbers: as easy as 1, 2, 3"; constants from Random123).
// Bit-identical twin of src/sampler/rng.ts: the same (counter, key) gives the same u32s,
// so the same seed draws the same momenta on every backend and adapter.
//
// Requires: const SOFT_SHIFTS: bool, true on software adapters (SwiftShader). Subzero, its
// JIT, has no SSE shift by a per-lane amount and emulates every WGSL vector shift lane by
// lane (extract, shift, insert: ~16 instructions); with SOFT_SHIFTS the 16- and 23-bit
// fields below come from exact float32 arithmetic instead (5 native instructions each;
// Philox took a quarter of a sampling iteration at L = 17 on SwiftShader before). Both
// forms give the same bits (test/gpu_philox.test.ts runs both); real GPUs shift natively.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const TWO_PI: f32 = 6.283185307179586;

// x >> 16. Soft form: x & 0xFFFF0000 reinterpreted as i32 is h 2^16 (h the high half, taken
// as signed), exact in float32 (16 significant bits); scaled by 2^-16 and added to 1.5 2^23
// it lands in [2^23, 2^24), where the float32 spacing is 1, so its bits are 0x4B400000 + h
// (two's complement), whose low 16 bits are h. Fusing the multiply-add changes nothing (the
// scaling is exact).
fn hi16(x: u32) -> u32 {
  if (SOFT_SHIFTS) {
    return bitcast<u32>(f32(bitcast<i32>(x & 0xFFFF0000u)) * 1.52587890625e-5 + 12582912.0) & 0xFFFFu;
  }
  return x >> 16u;
}

// (high, low) 32-bit halves of the 64-bit product a * b, from 16-bit limbs (WGSL has no
// mulhi; Warren, Hacker's Delight, 2nd ed., 8-2 "mulhu"). Four high halves, as few as the
// limbs allow. With `a` a Philox constant, its limbs fold.
fn mulhilo(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xFFFFu;
  let a1 = a >> 16u;
  let b0 = b & 0xFFFFu;
  let b1 = hi16(b);
  let t = a1 * b0 + hi16(a0 * b0);
  let w1 = a0 * b1 + (t & 0xFFFFu);
  let hi = a1 * b1 + hi16(t) + hi16(w1);
  return vec2u(hi, a * b);
}

// The ten rounds stay a loop (no arrays inside, so nothing to gain from constant indices):
// unrolled, the NV + 1 inlined copies made the transition kernel so large that SwiftShader
// ran a warmup iteration ~15% slower (4,096 chains, L = 17: 5.8 vs 4.9 ms, three A/B pairs).
fn philox4x32(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var i = 0u; i < 10u; i++) {
    let r0 = mulhilo(PHILOX_M0, c.x);
    let r1 = mulhilo(PHILOX_M1, c.z);
    c = vec4u(r1.x ^ c.y ^ k.x, r1.y, r0.x ^ c.w ^ k.y, r0.y);
    k += vec2u(PHILOX_W0, PHILOX_W1);
  }
  return c;
}

// u32 -> (0, 1): with m = x >> 9 (the top 23 bits), m 2^-23 + 2^-24 = (2m + 1) 2^-24, exact
// in float32. Soft form: (x & 0xFFFFFE00) ^ 2^31 as i32 is (m - 2^22) 2^9, exact in float32
// (23 significant bits); times 2^-32 plus 0.5 + 2^-24 it is the same (2m + 1) 2^-24.
fn to_unit(x: vec4u) -> vec4f {
  if (SOFT_SHIFTS) {
    return vec4f(bitcast<vec4i>((x & vec4u(0xFFFFFE00u)) ^ vec4u(0x80000000u))) * 2.3283064365386963e-10 + 0.500000059604644775390625;
  }
  return vec4f(x >> vec4u(9u)) * 1.1920928955078125e-7 + 5.9604644775390625e-8;
}

// Four standard normals (Box–Muller on two pairs of uniforms) for block `block` of
// chain `chain` at iteration `it`.
fn normals4(key: vec2u, it: u32, chain: u32, block: u32) -> vec4f {
  let u = to_unit(philox4x32(vec4u(it, chain, block, 0u), key));
  let r = sqrt(-2.0 * log(u.xz));
  let a = TWO_PI * u.yw;
  return vec4f(r.x * cos(a.x), r.x * sin(a.x), r.y * cos(a.y), r.y * sin(a.y));
}

// The (mu, log tau) block: two normals from words 0 and 1, and the Metropolis uniform
// from word 2 (returned as z).
fn normals2_uniform(key: vec2u, it: u32, chain: u32, block: u32) -> vec3f {
  let u = to_unit(philox4x32(vec4u(it, chain, block, 0u), key));
  let r = sqrt(-2.0 * log(u.x));
  let a = TWO_PI * u.y;
  return vec3f(r * cos(a), r * sin(a), u.z);
}
