// Benchmark reference (not part of FunnelWeb): the plainest vec4 HMC kernel, a standard
// normal in 10 dimensions (three vec4 blocks, two padding lanes), one invocation per chain:
// momentum from a cheap integer hash + Box-Muller, L leapfrog steps with gradient -x, the
// energy at the end, Metropolis. It bounds what any HMC kernel can reach on an adapter:
// FunnelWeb's transition does the same plus the model's gradient, Philox4x32-10, the
// per-step divergence check and the records.

struct Params {
  num_steps: u32,
  step_size: f32,
  iteration: u32,
  num_chains: u32,
}

@group(0) @binding(0) var<storage, read_write> state: array<vec4f>;
@group(0) @binding(1) var<uniform> params: Params;

fn hash(x: u32) -> u32 {
  var v = x * 747796405u + 2891336453u;
  v = ((v >> ((v >> 28u) + 4u)) ^ v) * 277803737u;
  return (v >> 22u) ^ v;
}

fn normals4(seed: u32) -> vec4f {
  let a = vec4u(hash(seed), hash(seed ^ 0x1234567u), hash(seed ^ 0x7654321u), hash(seed ^ 0x2468ACEu));
  let u = (vec4f(a >> vec4u(9u)) + 0.5) * 1.1920928955078125e-7;
  let r = sqrt(-2.0 * log(u.xz));
  let t = 6.283185307179586 * u.yw;
  return vec4f(r.x * cos(t.x), r.x * sin(t.x), r.y * cos(t.y), r.y * sin(t.y));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let n = params.num_chains;
  if (c >= n) {
    return;
  }
  var x0 = state[c];
  var x1 = state[n + c];
  var x2 = state[2u * n + c];
  let seed = c * 7919u + params.iteration * 104729u;
  let pad = vec4f(1.0, 1.0, 0.0, 0.0);
  var p0 = normals4(seed);
  var p1 = normals4(seed + 1u);
  var p2 = normals4(seed + 2u) * pad;
  let h0 = 0.5 * (dot(x0, x0) + dot(x1, x1) + dot(x2, x2) + dot(p0, p0) + dot(p1, p1) + dot(p2, p2));
  let e = params.step_size;
  let half = 0.5 * e;
  for (var i = 0u; i < params.num_steps; i++) {
    p0 -= half * x0;
    p1 -= half * x1;
    p2 -= half * x2;
    x0 += e * p0;
    x1 += e * p1;
    x2 += e * p2;
    p0 -= half * x0;
    p1 -= half * x1;
    p2 -= half * x2;
  }
  let h = 0.5 * (dot(x0, x0) + dot(x1, x1) + dot(x2, x2) + dot(p0, p0) + dot(p1, p1) + dot(p2, p2));
  let u = (f32(hash(seed ^ 0xABCDEFu) >> 9u) + 0.5) * 1.1920928955078125e-7;
  if (u < exp(h0 - h)) {
    state[c] = x0;
    state[n + c] = x1;
    state[2u * n + c] = x2;
  }
}
