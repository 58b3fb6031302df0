// FunnelWeb — static-HMC transitions of many data sets in one dispatch (src/batch/): chains
// belong to data sets, `chains_per_set` consecutive chains each; every data set has its own
// group data, Philox key, step size and leapfrog steps, so that each set adapts to its own
// geometry while all of them share the device. One invocation per chain, as shaders/hmc.wgsl,
// whose transition this repeats with the group data read at run time (block.wgsl) at the
// chain's set: set d's chains take the same momenta, accept tests and so the same draws
// (within float32) as a single-set run of that data set with set d's seed
// (src/sampler/cpu_backend.ts, the float64 reference). Models without predictors; a family
// with a global parameter x (FAMILY_GLOBAL: the normal family's log sigma) has its global
// statistics per set (SetParams.stats, loaded into FAMILY_STATS by batch_stats.wgsl).
//
// Layout: per-chain vec4 arrays are block-major over all B chains, block j of chain c at
// j * B + c; blocks 0..NV-1 hold z, block NV holds (mu, s, x, log p) (x = 0 without a global).
//
// Requires: const NV: u32, const WG: u32, const WARMUP: bool, const BINARY_C: bool,
// const FAMILY_GLOBAL: bool, DIAG_METRIC = false (hmc_common.wgsl); prior.wgsl, the family's
// lik and its adapter (lik_plain.wgsl or lik_global.wgsl), batch_stats.wgsl or
// batch_stats_none.wgsl, block.wgsl, philox.wgsl, hmc_common.wgsl.

struct BatchParams {
  // First iteration of this dispatch (the Philox counter) and how many follow it.
  iteration: u32,
  num_iterations: u32,
  num_chains: u32,
  row_stride: u32,
  chains_per_set: u32,
  // Sampling: the record slot of the dispatch's first transition, and the slots the record
  // buffer holds.
  record_slot: u32,
  slots: u32,
  _pad: u32,
}

// Per data set: its Philox key, step size, the family's global statistics (FAMILY_STATS of
// lik_global.wgsl; zeros without a global), and the leapfrog steps of the dispatch's k-th
// transition, num_steps[k / 4][k % 4] (the trajectory jitter is shared, the lengths are not).
struct SetParams {
  key: vec2u,
  step_size: f32,
  _pad: u32,
  stats: vec4f,
  num_steps: array<vec4u, MAX_BATCH / 4u>,
}

@group(0) @binding(0) var<uniform> bp: BatchParams;
// Group data, set-major: block j of set d at d * NV + j.
@group(0) @binding(1) var<storage, read> groups: array<GroupBlock>;
@group(0) @binding(2) var<storage, read> sets: array<SetParams>;
// Current state: z blocks, then (mu, s, 0, log p).
@group(0) @binding(3) var<storage, read_write> state: array<vec4f>;
// Warmup only, three regions of (NV+1) x B: initial q0, proposal q', end momentum p'.
@group(0) @binding(4) var<storage, read_write> warm: array<vec4f>;
// Last transition per chain: (acceptance prob, divergent, energy, valid): valid = not
// divergent with finite proposal and momentum (the masking contract of adaptation/chees.ts).
@group(0) @binding(5) var<storage, read_write> info: array<vec4f>;
// Sampling only: positions slots x (NV+1) x B (lane 3 of the globals block = log p), then
// per-transition stats slots x B: (log p, energy, acceptance, divergent).
@group(0) @binding(6) var<storage, read_write> rec: array<vec4f>;

// log p(q) and its gradient for the data set whose blocks start at `base`.
struct Density {
  lp: f32,
  g_mu: f32,
  g_s: f32,
  // d/dx of the family global (0 without one).
  g_x: f32,
  g_z: array<vec4f, NV>,
}

fn log_density_grad(base: u32, mu: f32, s: f32, x_g: f32, z: array<vec4f, NV>) -> Density {
  var out: Density;
  let tau = exp(s);
  let inv_tau = 1.0 / tau;
  let fg = family_shared(x_g);
  let prior = prior_terms(mu, s, tau);
  var lp4 = vec4f(0.0);
  var gmu4 = vec4f(0.0);
  var gs4 = vec4f(0.0);
  var gx4 = vec4f(0.0);
  for (var j = 0u; j < NV; j++) { // @unroll
    let t = block_terms(z[j], groups[base + j], mu, s, tau, inv_tau, fg);
    lp4 += t.lp;
    out.g_z[j] = t.g_z;
    gmu4 += t.g_mu;
    gs4 += t.g_s;
    if (FAMILY_GLOBAL) {
      gx4 += t.g_x;
    }
  }
  let ones = vec4f(1.0);
  out.lp = prior.x + dot(lp4, ones);
  out.g_mu = prior.y + dot(gmu4, ones);
  out.g_s = prior.z + dot(gs4, ones);
  if (FAMILY_GLOBAL) {
    // The family's theta-free term and the global's prior (with its log-Jacobian).
    let fgl = family_global(x_g, fg);
    out.lp += fgl.x;
    out.g_x = fgl.y + dot(gx4, ones);
  }
  return out;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let chain = gid.y * bp.row_stride + gid.x;
  let B = bp.num_chains;
  if (chain >= B) {
    return;
  }
  let ds = chain / bp.chains_per_set;
  // The chain's index within its set keys its random numbers, as in a single-set run.
  let lc = chain - ds * bp.chains_per_set;
  let base = ds * NV;
  let key = sets[ds].key;
  let eps = sets[ds].step_size;
  let S = NV + 1u;
  load_family_stats(ds);

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
  var lp_c = ms.w;
  var moved = false;
  var last = vec4f(0.0);

  for (var m = 0u; m < bp.num_iterations; m++) {
    let it = bp.iteration + m;
    let num_steps = sets[ds].num_steps[m / 4u][m % 4u];
    var z = zc;
    var p: array<vec4f, NV>;
    var mu = mu_c;
    var s = s_c;
    var xg = x_c;
    let d0 = log_density_grad(base, mu_c, s_c, x_c, zc);
    lp_c = d0.lp;
    var lp = lp_c;

    // Momentum refresh p ~ Normal(0, I); kinetic energy p.p / 2.
    let nms = normals2_uniform(key, it, lc, NV);
    var p_mu = nms.x;
    var p_s = nms.y;
    var kin = vec4f(p_mu * p_mu + p_s * p_s, 0.0, 0.0, 0.0);
    // The family global's momentum: lane 0 of block NV + 1's normals (src/sampler/rng.ts).
    var p_x = 0.0;
    if (FAMILY_GLOBAL) {
      p_x = normals4(key, it, lc, NV + 1u).x;
      kin.y = p_x * p_x;
    }
    for (var j = 0u; j < NV; j++) { // @unroll
      p[j] = groups[base + j].mask * normals4(key, it, lc, j);
      kin += p[j] * p[j];
      if (WARMUP) {
        warm[j * B + chain] = z[j];
      }
    }
    if (WARMUP) {
      warm[NV * B + chain] = vec4f(mu, s, xg, 0.0);
    }
    let h0 = -lp + 0.5 * dot(kin, vec4f(1.0));

    // Leapfrog (velocity Verlet) with the momentum at half steps, stopping at the first
    // divergent step (as hmc.wgsl).
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
      mu += eps * p_mu;
      s += eps * p_s;
      if (FAMILY_GLOBAL) {
        xg += eps * p_x;
      }
      for (var j = 0u; j < NV; j++) { // @unroll
        z[j] += eps * p[j];
      }
      let dens = log_density_grad(base, mu, s, xg, z);
      lp = dens.lp;
      let ps_mu = p_mu + half * dens.g_mu;
      let ps_s = p_s + half * dens.g_s;
      kin = vec4f(ps_mu * ps_mu + ps_s * ps_s, 0.0, 0.0, 0.0);
      var ps_x = 0.0;
      if (FAMILY_GLOBAL) {
        ps_x = p_x + half * dens.g_x;
        kin.y = ps_x * ps_x;
      }
      var ps: array<vec4f, NV>;
      for (var j = 0u; j < NV; j++) { // @unroll
        ps[j] = p[j] + half * dens.g_z[j];
        kin += ps[j] * ps[j];
      }
      h = -lp + 0.5 * dot(kin, vec4f(1.0));
      steps_taken = n + 1u;
      divergent = !is_finite(h) || h - h0 > MAX_ENERGY_ERROR;
      // The next step's opening half kick; none after the last step, where ChEES reads the
      // end momentum.
      let kick = select(half, 0.0, steps_taken == num_steps);
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
      var finite = is_finite(mu) && is_finite(s) && is_finite(p_mu) && is_finite(p_s) && is_finite(xg) && is_finite(p_x);
      for (var j = 0u; j < NV; j++) { // @unroll
        warm[(S + j) * B + chain] = z[j];
        warm[(2u * S + j) * B + chain] = p[j];
        finite = finite && all_finite(z[j]) && all_finite(p[j]);
      }
      warm[(S + NV) * B + chain] = vec4f(mu, s, xg, 0.0);
      warm[(2u * S + NV) * B + chain] = vec4f(p_mu, p_s, p_x, 0.0);
      last = vec4f(accept_prob, div, energy, select(0.0, 1.0, !divergent && finite));
    } else {
      last = vec4f(accept_prob, div, energy, f32(steps_taken));
      // The draw is the state after the transition (unchanged when rejected).
      let slot = bp.record_slot + m;
      let pos_base = slot * S * B;
      for (var j = 0u; j < NV; j++) { // @unroll
        rec[pos_base + j * B + chain] = zc[j];
      }
      rec[pos_base + NV * B + chain] = vec4f(mu_c, s_c, x_c, lp_c);
      rec[bp.slots * S * B + slot * B + chain] = vec4f(lp_c, energy, accept_prob, div);
    }
  }

  if (moved) {
    for (var j = 0u; j < NV; j++) { // @unroll
      state[j * B + chain] = zc[j];
    }
  }
  state[NV * B + chain] = vec4f(mu_c, s_c, x_c, lp_c);
  info[chain] = last;
}
