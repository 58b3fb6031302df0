// FunnelWeb — counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw
// 2011, "Parallel random numbers: as easy as 1, 2, 3"; constants from Random123).
// Bit-identical twin of src/sampler/rng.ts: the same (counter, key) gives the same u32s,
// so the same seed draws the same momenta on every backend and adapter.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const TWO_PI: f32 = 6.283185307179586;

// (high, low) 32-bit halves of the 64-bit product a * b, from 16-bit limbs (WGSL has no
// mulhi; Warren, Hacker's Delight, 2nd ed., 8-2 "mulhu"). Four shifts, as few as the limbs
// allow: SwiftShader has no vector shift by a vector amount and emulates each WGSL shift
// lane by lane. With `a` a Philox constant, its limbs fold.
fn mulhilo(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xFFFFu;
  let a1 = a >> 16u;
  let b0 = b & 0xFFFFu;
  let b1 = b >> 16u;
  let t = a1 * b0 + ((a0 * b0) >> 16u);
  let w1 = a0 * b1 + (t & 0xFFFFu);
  let hi = a1 * b1 + (t >> 16u) + (w1 >> 16u);
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

// u32 -> (0, 1): (x >> 9) 2^-23 + 2^-24 = (2m + 1) 2^-24, exact in float32.
fn to_unit(x: vec4u) -> vec4f {
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
