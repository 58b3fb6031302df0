// FunnelWeb — one static-HMC transition for every chain, one invocation per chain:
// momentum refresh, num_steps leapfrog steps, Metropolis accept. No host round trip
// inside a trajectory. Mirrors src/sampler/cpu_backend.ts (the float64 reference).
//
// Layout (src/gpu/layout.ts): per-chain vec4 arrays are block-major, block j of chain c at
// j * B + c; blocks 0..NV-1 hold z, block NV holds (mu, s, aux, aux).
// Divergence (Stan's rule): non-finite energy, or energy error H - H0 > 1000.
//
// Requires: const NV: u32, const WG: u32, const DIAG_METRIC: bool (false: the unit metric,
// inv_mass is then ignored and its multiplications vanish); model.wgsl; philox.wgsl.

const MAX_ENERGY_ERROR: f32 = 1000.0;
const FLAG_WARMUP: u32 = 1u;
const FLAG_RECORD: u32 = 2u;

struct StepParams {
  iteration: u32,
  num_steps: u32,
  num_chains: u32,
  row_stride: u32,
  step_size: f32,
  flags: u32,
  record_slot: u32,
  retained: u32,
  key: vec2u,
  slots: u32,
  _pad: u32,
  // Diagonal inverse mass: z blocks, then (mu, s, 1, 1).
  inv_mass: array<vec4f, NV + 1u>,
}

@group(0) @binding(2) var<uniform> step: StepParams;
// Current state: z blocks, then (mu, s, log p, 0) (log p kept for the records).
@group(0) @binding(3) var<storage, read_write> state: array<vec4f>;
// Gradient at the current state: z blocks, then (d/dmu, d/ds, log p, 0).
@group(0) @binding(4) var<storage, read_write> grad: array<vec4f>;
// Warmup only, three regions of (NV+1) x B: initial q0, proposal q', end velocity M^-1 p'.
@group(0) @binding(5) var<storage, read_write> warm: array<vec4f>;
// Last transition per chain: (acceptance prob, divergent, energy, valid): valid = not
// divergent with finite proposal and momentum (the masking contract of adaptation/chees.ts).
@group(0) @binding(6) var<storage, read_write> info: array<vec4f>;
// Sampling-phase totals per chain: (divergences, sum of acceptance, leapfrog steps, 0).
@group(0) @binding(7) var<storage, read_write> totals: array<vec4f>;
// Recorded draws of the retained chains, three regions over `slots` iterations:
// positions slots x (NV+1) x R (aux lane 2 = log p), stats slots x R
// (log p, energy, acceptance, divergent), divergence positions slots x (NV+1) x R.
@group(0) @binding(8) var<storage, read_write> rec: array<vec4f>;

fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7F800000u) != 0x7F800000u;
}

fn all_finite(v: vec4f) -> bool {
  return all((bitcast<vec4u>(v) & vec4u(0x7F800000u)) != vec4u(0x7F800000u));
}

// Momentum p ~ Normal(0, M) from standard normals: scale 1 / sqrt(inv_mass).
fn momentum_scale(inv_mass: vec4f) -> vec4f {
  if (DIAG_METRIC) {
    return inverseSqrt(inv_mass);
  }
  return vec4f(1.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let chain = gid.y * step.row_stride + gid.x;
  let B = step.num_chains;
  if (chain >= B) {
    return;
  }
  let eps = step.step_size;
  let warmup = (step.flags & FLAG_WARMUP) != 0u;
  let record = (step.flags & FLAG_RECORD) != 0u && chain < step.retained;
  let S = NV + 1u;

  // Diagonal inverse mass, read once: uniform loads inside the leapfrog loop cost SwiftShader
  // about a third of a step.
  var im: array<vec4f, NV>;
  var ims = vec4f(1.0);
  if (DIAG_METRIC) {
    ims = step.inv_mass[NV];
    for (var j = 0u; j < NV; j++) { // @unroll
      im[j] = step.inv_mass[j];
    }
  } else {
    for (var j = 0u; j < NV; j++) { // @unroll
      im[j] = vec4f(1.0);
    }
  }
  var z: array<vec4f, NV>;
  var g: array<vec4f, NV>;
  var p: array<vec4f, NV>;
  let ms = state[NV * B + chain];
  let gms = grad[NV * B + chain];
  var mu = ms.x;
  var s = ms.y;
  let lp0 = gms.z;
  var lp = lp0;
  var g_mu = gms.x;
  var g_s = gms.y;

  // Momentum refresh p ~ Normal(0, M), M = diag(1 / inv_mass); kinetic energy p'M^-1 p / 2.
  let nms = normals2_uniform(step.key, step.iteration, chain, NV);
  var p_mu = nms.x * momentum_scale(ims).x;
  var p_s = nms.y * momentum_scale(ims).y;
  var kin = vec4f(ims.x * p_mu * p_mu + ims.y * p_s * p_s, 0.0, 0.0, 0.0);
  for (var j = 0u; j < NV; j++) { // @unroll
    z[j] = state[j * B + chain];
    g[j] = grad[j * B + chain];
    var mask: vec4f;
    if (GROUPS_CONST) {
      mask = GROUP_MASK[j];
    } else {
      mask = groups[j].mask;
    }
    p[j] = mask * normals4(step.key, step.iteration, chain, j) * momentum_scale(im[j]);
    kin += im[j] * p[j] * p[j];
    if (warmup) {
      warm[j * B + chain] = z[j];
    }
  }
  if (warmup) {
    warm[NV * B + chain] = vec4f(mu, s, 0.0, 0.0);
  }
  let h0 = -lp + 0.5 * dot(kin, vec4f(1.0));

  // Leapfrog (velocity Verlet), stopping at the first divergent step.
  var h = h0;
  var divergent = !is_finite(h0);
  var steps_taken = 0u;
  for (var n = 0u; n < step.num_steps && !divergent; n++) {
    let half = 0.5 * eps;
    p_mu += half * g_mu;
    p_s += half * g_s;
    mu += eps * ims.x * p_mu;
    s += eps * ims.y * p_s;
    for (var j = 0u; j < NV; j++) { // @unroll
      p[j] += half * g[j];
      z[j] += eps * im[j] * p[j];
    }
    let dens = log_density_grad(mu, s, z);
    g = dens.g_z;
    lp = dens.lp;
    g_mu = dens.g_mu;
    g_s = dens.g_s;
    p_mu += half * g_mu;
    p_s += half * g_s;
    kin = vec4f(ims.x * p_mu * p_mu + ims.y * p_s * p_s, 0.0, 0.0, 0.0);
    for (var j = 0u; j < NV; j++) { // @unroll
      p[j] += half * g[j];
      kin += im[j] * p[j] * p[j];
    }
    h = -lp + 0.5 * dot(kin, vec4f(1.0));
    steps_taken = n + 1u;
    divergent = !is_finite(h) || h - h0 > MAX_ENERGY_ERROR;
  }

  var accept_prob = 0.0;
  if (!divergent) {
    accept_prob = min(1.0, exp(h0 - h));
  }
  let accepted = nms.z < accept_prob;
  var energy = h0;
  if (accepted) {
    energy = h;
    for (var j = 0u; j < NV; j++) { // @unroll
      state[j * B + chain] = z[j];
      grad[j * B + chain] = g[j];
    }
    state[NV * B + chain] = vec4f(mu, s, lp, 0.0);
    grad[NV * B + chain] = vec4f(g_mu, g_s, lp, 0.0);
  }

  if (warmup) {
    // ChEES inputs: proposal and end momentum; invalid chains are flagged, not used.
    var finite = is_finite(mu) && is_finite(s) && is_finite(p_mu) && is_finite(p_s);
    for (var j = 0u; j < NV; j++) { // @unroll
      warm[(S + j) * B + chain] = z[j];
      warm[(2u * S + j) * B + chain] = im[j] * p[j];
      finite = finite && all_finite(z[j]) && all_finite(p[j]);
    }
    warm[(S + NV) * B + chain] = vec4f(mu, s, 0.0, 0.0);
    warm[(2u * S + NV) * B + chain] = vec4f(ims.x * p_mu, ims.y * p_s, 0.0, 0.0);
    let valid = !divergent && finite;
    info[chain] = vec4f(accept_prob, select(0.0, 1.0, divergent), energy, select(0.0, 1.0, valid));
  } else {
    info[chain] = vec4f(accept_prob, select(0.0, 1.0, divergent), energy, 0.0);
    totals[chain] += vec4f(select(0.0, 1.0, divergent), accept_prob, f32(steps_taken), 0.0);
  }

  if (record) {
    let R = step.retained;
    let slot = step.record_slot;
    let pos_base = slot * S * R;
    let stats_base = step.slots * S * R;
    let div_base = stats_base + step.slots * R;
    // The draw is the state after the transition (reloaded: unchanged when rejected).
    let lp_after = select(lp0, lp, accepted);
    for (var j = 0u; j < NV; j++) { // @unroll
      rec[pos_base + j * R + chain] = state[j * B + chain];
    }
    let ms_after = state[NV * B + chain];
    rec[pos_base + NV * R + chain] = vec4f(ms_after.x, ms_after.y, lp_after, 0.0);
    rec[stats_base + slot * R + chain] = vec4f(lp_after, energy, accept_prob, select(0.0, 1.0, divergent));
    if (divergent) {
      for (var j = 0u; j < NV; j++) { // @unroll
        rec[div_base + (slot * S + j) * R + chain] = z[j];
      }
      rec[div_base + (slot * S + NV) * R + chain] = vec4f(mu, s, 0.0, 0.0);
    }
  }
}
