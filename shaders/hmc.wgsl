// FunnelWeb — static-HMC transitions for every chain, one invocation per chain: for each of
// the dispatch's num_iterations transitions, momentum refresh, L leapfrog steps, Metropolis
// accept, the draw recorded. No host round trip inside a trajectory (or a batch).
// Mirrors src/sampler/cpu_backend.ts (the float64 reference).
//
// Layout (src/gpu/layout.ts): per-chain vec4 arrays are block-major, block j of chain c at
// j * B + c; blocks 0..NV-1 hold z, block NV holds (mu, s, x, aux): x the family global
// (FAMILY_GLOBAL; 0 and untouched without one), aux = log p in the state and the records.
// Divergence (Stan's rule): non-finite energy, or energy error H - H0 > MAX_ENERGY_ERROR.
//
// Requires: const NV: u32, const WG: u32, const DIAG_METRIC: bool (false: the unit metric,
// inv_mass is then ignored and its multiplications vanish), const WARMUP: bool (the warmup
// pipeline writes the ChEES inputs, the sampling one totals and records; each compiles
// without the other's code); model.wgsl; philox.wgsl; hmc_common.wgsl.

struct StepParams {
  // First iteration of this dispatch (the Philox counter) and how many follow it.
  iteration: u32,
  num_iterations: u32,
  num_chains: u32,
  row_stride: u32,
  step_size: f32,
  flags: u32,
  record_slot: u32,
  retained: u32,
  key: vec2u,
  slots: u32,
  _pad: u32,
  // Leapfrog steps of the dispatch's k-th transition: num_steps[k / 4][k % 4].
  num_steps: array<vec4u, MAX_BATCH / 4u>,
  // Diagonal inverse mass: z blocks, then (mu, s, x, 1) (x: 1 without a family global).
  inv_mass: array<vec4f, NV + 1u>,
}

@group(0) @binding(2) var<uniform> step: StepParams;
// Warmup only: the transition's WarmupStep (hmc_common.wgsl).
@group(0) @binding(9) var<storage, read> warmup_step: WarmupStep;
// Current state: z blocks, then (mu, s, x, log p) (log p written back for the records; the
// kernel itself evaluates log p and its gradient at the start of each transition).
@group(0) @binding(3) var<storage, read_write> state: array<vec4f>;
// Warmup only, three regions of (NV+1) x B: initial q0, proposal q', end velocity M^-1 p'.
@group(0) @binding(5) var<storage, read_write> warm: array<vec4f>;
// Last transition per chain: (acceptance prob, divergent, energy, valid): valid = not
// divergent with finite proposal and momentum (the masking contract of adaptation/chees.ts).
@group(0) @binding(6) var<storage, read_write> info: array<vec4f>;
// Sampling-phase totals per chain: (divergences, sum of acceptance, leapfrog steps, 0).
@group(0) @binding(7) var<storage, read_write> totals: array<vec4f>;
// Recorded draws of the retained chains, three regions over `slots` iterations:
// positions slots x (NV+1) x R (lane 3 of the globals block = log p), stats slots x R
// (log p, energy, acceptance, divergent), divergence positions slots x (NV+1) x R.
@group(0) @binding(8) var<storage, read_write> rec: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let chain = gid.y * step.row_stride + gid.x;
  let B = step.num_chains;
  if (chain >= B) {
    return;
  }
  // Warmup runs one transition per dispatch (adaptation reads its statistics).
  var num_iterations = 1u;
  var eps = step.step_size;
  var first_iteration = step.iteration;
  if (WARMUP) {
    eps = warmup_step.step_size;
    first_iteration = warmup_step.iteration;
  } else {
    num_iterations = step.num_iterations;
  }
  let record = !WARMUP && (step.flags & FLAG_RECORD) != 0u && chain < step.retained;
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

  // The chain's current state, kept in registers across the dispatch's transitions and
  // written back once.
  var zc: array<vec4f, NV>;
  for (var j = 0u; j < NV; j++) { // @unroll
    zc[j] = state[j * B + chain];
  }
  let ms = state[NV * B + chain];
  var mu_c = ms.x;
  var s_c = ms.y;
  var x_c = 0.0;
  if (FAMILY_GLOBAL) {
    x_c = ms.z;
  }
  var lp_c = 0.0;
  var moved = false;
  var totals_add = vec4f(0.0);
  var last = vec4f(0.0);

  for (var m = 0u; m < num_iterations; m++) {
    let it = first_iteration + m;
    var num_steps = step.num_steps[m / 4u][m % 4u];
    if (WARMUP) {
      num_steps = warmup_step.num_steps;
    }
    var z = zc;
    var p: array<vec4f, NV>;
    var mu = mu_c;
    var s = s_c;
    var xg = x_c;
    // log p and its gradient at the current state, evaluated here rather than carried over
    // from the accepted proposal (or, before the first transition, from an initial pass):
    // the same function of the same float32 inputs, so the same bits. On SwiftShader every
    // value a loop carries or hands out costs masked stack copies in each leapfrog step;
    // not handing the gradient out saved 7-11% per step, for one evaluation per transition.
    let d0 = log_density_grad(mu_c, s_c, x_c, zc);
    lp_c = d0.lp;
    var lp = lp_c;

    // Momentum refresh p ~ Normal(0, M), M = diag(1 / inv_mass); kinetic energy p'M^-1 p / 2.
    let nms = normals2_uniform(step.key, it, chain, NV);
    var p_mu = nms.x * momentum_scale(ims).x;
    var p_s = nms.y * momentum_scale(ims).y;
    var kin = vec4f(ims.x * p_mu * p_mu + ims.y * p_s * p_s, 0.0, 0.0, 0.0);
    // The family global's momentum: lane 0 of block NV + 1's normals (src/sampler/rng.ts).
    var p_x = 0.0;
    if (FAMILY_GLOBAL) {
      p_x = normals4(step.key, it, chain, NV + 1u).x * momentum_scale(ims).z;
      kin.y = ims.z * p_x * p_x;
    }
    for (var j = 0u; j < NV; j++) { // @unroll
      var mask: vec4f;
      if (GROUPS_CONST) {
        mask = GROUP_MASK[j];
      } else {
        mask = groups[j].mask;
      }
      p[j] = mask * normals4(step.key, it, chain, j) * momentum_scale(im[j]);
      kin += im[j] * p[j] * p[j];
      if (WARMUP) {
        warm[j * B + chain] = z[j];
      }
    }
    if (WARMUP) {
      warm[NV * B + chain] = vec4f(mu, s, xg, 0.0);
    }
    let h0 = -lp + 0.5 * dot(kin, vec4f(1.0));

    // Leapfrog (velocity Verlet), stopping at the first divergent step. The momentum lives at
    // half steps inside the loop: each step's closing half kick (the full-step momentum,
    // for the energy) and the next step's opening one are applied together, in the same
    // order and so to the same bits as kick by kick, and the gradient is not carried from
    // one step to the next (on SwiftShader every loop-carried value costs masked copies).
    let half = 0.5 * eps;
    p_mu += half * d0.g_mu;
    p_s += half * d0.g_s;
    if (FAMILY_GLOBAL) {
      p_x += half * d0.g_x;
    }
    for (var j = 0u; j < NV; j++) { // @unroll
      p[j] += half * d0.g_z[j];
    }
    var h = h0;
    var divergent = !is_finite(h0);
    var steps_taken = 0u;
    for (var n = 0u; n < num_steps && !divergent; n++) {
      mu += eps * ims.x * p_mu;
      s += eps * ims.y * p_s;
      if (FAMILY_GLOBAL) {
        xg += eps * ims.z * p_x;
      }
      for (var j = 0u; j < NV; j++) { // @unroll
        z[j] += eps * im[j] * p[j];
      }
      let dens = log_density_grad(mu, s, xg, z);
      lp = dens.lp;
      // The full-step momentum and the energy.
      let ps_mu = p_mu + half * dens.g_mu;
      let ps_s = p_s + half * dens.g_s;
      kin = vec4f(ims.x * ps_mu * ps_mu + ims.y * ps_s * ps_s, 0.0, 0.0, 0.0);
      var ps_x = 0.0;
      if (FAMILY_GLOBAL) {
        ps_x = p_x + half * dens.g_x;
        kin.y = ims.z * ps_x * ps_x;
      }
      var ps: array<vec4f, NV>;
      for (var j = 0u; j < NV; j++) { // @unroll
        ps[j] = p[j] + half * dens.g_z[j];
        kin += im[j] * ps[j] * ps[j];
      }
      h = -lp + 0.5 * dot(kin, vec4f(1.0));
      steps_taken = n + 1u;
      divergent = !is_finite(h) || h - h0 > MAX_ENERGY_ERROR;
      // The next step's opening half kick; none after the last step in warmup, where the
      // ChEES update reads the end momentum (sampling only needs the energy).
      var kick = half;
      if (WARMUP) {
        kick = select(half, 0.0, steps_taken == num_steps);
      }
      p_mu = ps_mu + kick * dens.g_mu;
      p_s = ps_s + kick * dens.g_s;
      if (FAMILY_GLOBAL) {
        p_x = ps_x + kick * dens.g_x;
      }
      for (var j = 0u; j < NV; j++) { // @unroll
        p[j] = ps[j] + kick * dens.g_z[j];
      }
    }

    var accept_prob = 0.0;
    if (!divergent) {
      accept_prob = min(1.0, exp(h0 - h));
    }
    let accepted = nms.z < accept_prob;
    var energy = h0;
    if (accepted) {
      energy = h;
      zc = z;
      mu_c = mu;
      s_c = s;
      x_c = xg;
      lp_c = lp;
      moved = true;
    }
    let div = select(0.0, 1.0, divergent);

    if (WARMUP) {
      // ChEES inputs: proposal and end momentum; invalid chains are flagged, not used.
      var finite = is_finite(mu) && is_finite(s) && is_finite(p_mu) && is_finite(p_s) && is_finite(xg) && is_finite(p_x);
      for (var j = 0u; j < NV; j++) { // @unroll
        warm[(S + j) * B + chain] = z[j];
        warm[(2u * S + j) * B + chain] = im[j] * p[j];
        finite = finite && all_finite(z[j]) && all_finite(p[j]);
      }
      warm[(S + NV) * B + chain] = vec4f(mu, s, xg, 0.0);
      warm[(2u * S + NV) * B + chain] = vec4f(ims.x * p_mu, ims.y * p_s, ims.z * p_x, 0.0);
      let valid = !divergent && finite;
      last = vec4f(accept_prob, div, energy, select(0.0, 1.0, valid));
    } else {
      last = vec4f(accept_prob, div, energy, 0.0);
      totals_add += vec4f(div, accept_prob, f32(steps_taken), 0.0);
    }

    if (record) {
      // The draw is the state after the transition (unchanged when rejected).
      let R = step.retained;
      let slot = step.record_slot + m;
      let pos_base = slot * S * R;
      let stats_base = step.slots * S * R;
      let div_base = stats_base + step.slots * R;
      for (var j = 0u; j < NV; j++) { // @unroll
        rec[pos_base + j * R + chain] = zc[j];
      }
      rec[pos_base + NV * R + chain] = vec4f(mu_c, s_c, x_c, lp_c);
      rec[stats_base + slot * R + chain] = vec4f(lp_c, energy, accept_prob, div);
      if (divergent) {
        for (var j = 0u; j < NV; j++) { // @unroll
          rec[div_base + (slot * S + j) * R + chain] = z[j];
        }
        rec[div_base + (slot * S + NV) * R + chain] = vec4f(mu, s, xg, 0.0);
      }
    }
  }

  if (moved) {
    for (var j = 0u; j < NV; j++) { // @unroll
      state[j * B + chain] = zc[j];
    }
    state[NV * B + chain] = vec4f(mu_c, s_c, x_c, lp_c);
  }
  info[chain] = last;
  if (!WARMUP) {
    totals[chain] += totals_add;
  }
}
