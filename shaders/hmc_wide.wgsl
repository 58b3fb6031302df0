// FunnelWeb — static-HMC transitions for models of any width K: the same transitions as
// hmc.wgsl (momentum refresh, L leapfrog steps, Metropolis accept, the draw recorded; same
// Philox counters, so the same momenta), with the groups' data read from the `groups`
// buffer instead of compiled in, and each chain's blocks spread over TPC threads. The code
// depends on K only through BPT, the blocks per thread (unrolled up to MAX_UNROLL, rolled
// beyond), so it compiles in about the same time for every model; the baked kernel, whose
// code grows with K, is used for narrow models only (src/gpu/layout.ts).
//
// Threads: TPC threads per chain (a power of two), CPW chains per workgroup (WG = TPC CPW);
// thread t of chain cw is local invocation t * CPW + cw and holds blocks t + i TPC
// (i < BPT) of z, p and the group data in registers for the whole dispatch. The per-block
// terms of log p and its gradient need only (mu, log tau) and the block; their sums over
// the chain's blocks (log p, d/dmu, d/ds and the kinetic energy, one vec4) come from
// chain_sum (chain_sum.wgsl for TPC > 1, a workgroup tree; chain_sum_one.wgsl for TPC = 1).
// Every thread of a chain then holds the same (mu, s, momenta, energy). Barriers need
// uniform control flow: the leapfrog loop runs num_steps times for every chain, a
// divergent chain's steps doing nothing (its threads still take part in the sums).
// On SwiftShader every storage access with a run-time index is a lane-by-lane gather,
// which is why nothing is streamed through memory inside a trajectory.
//
// Buffers as hmc.wgsl (block-major vec4, block j of chain c at j * B + c; the globals block
// (mu, s, x, log p), x a family's global), except the diagonal inverse mass, in the storage
// buffer `inv_mass` (NV z blocks, then the globals' (mu, s, x, 1)). A family global's
// d/dx over the chain's blocks is a second chain_sum (FAMILY_GLOBAL only).
//
// Population-level predictors (NP > 0; shaders/predictors.wgsl): the coefficients beta sit in
// NBETA_BLOCKS blocks after the NZ z blocks (state, records, warm and inverse mass alike; NV =
// NZ + NBETA_BLOCKS), every thread of a chain holds all of them, each block's likelihood is
// taken at theta + m . beta, and d/dbeta over the chain's blocks is one chain_sum per block
// of four coefficients.
//
// Requires: const TPC, CPW, WG, BPT: u32, const DIAG_METRIC, WARMUP, BINARY_C: bool, the
// priors; block.wgsl, chain_sum(_one).wgsl, philox.wgsl, hmc_wide_common.wgsl.

// Constants, StepParams, WarmupStep: hmc_wide_common.wgsl.

@group(0) @binding(1) var<storage, read> groups: array<GroupBlock>;
@group(0) @binding(2) var<uniform> step: StepParams;
@group(0) @binding(3) var<storage, read_write> state: array<vec4f>;
@group(0) @binding(4) var<storage, read> inv_mass: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> warm: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> info: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> totals: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> rec: array<vec4f>;
@group(0) @binding(9) var<storage, read> warmup_step: WarmupStep;

// is_finite, all_finite, momentum_scale, block_inv_mass, lane_sums: hmc_wide_common.wgsl.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let cw = li % CPW;
  let t = li / CPW;
  let B = step.num_chains;
  let chain_index = (wid.y * step.row_stride + wid.x) * CPW + cw;
  // Threads past the last chain compute on it and write nothing (no early return: the
  // chain sums need every thread of the workgroup).
  let live = chain_index < B;
  let chain = min(chain_index, B - 1u);
  let writer = live && t == 0u;
  let NZ = (step.num_groups + 3u) / 4u;
  let NV = NZ + NBETA_BLOCKS;
  let S = NV + 1u;

  var num_iterations = 1u;
  var eps = step.step_size;
  var first_iteration = step.iteration;
  if (WARMUP) {
    eps = warmup_step.step_size;
    first_iteration = warmup_step.iteration;
  } else {
    num_iterations = step.num_iterations;
  }
  let record = !WARMUP && (step.flags & FLAG_RECORD) != 0u && chain < step.retained && live;
  let half = 0.5 * eps;
  var ims = vec4f(1.0);
  if (DIAG_METRIC) {
    ims = inv_mass[NV];
  }

  // This thread's blocks, held for the whole dispatch: group data, inverse mass (padding
  // blocks past NV: zero data, so they add exact zeros), the current z.
  var gbs: array<GroupBlock, BPT>;
  var im: array<vec4f, BPT>;
  var zc: array<vec4f, BPT>;
  // The predictors' means of this thread's blocks (zero past NZ), and the coefficients.
  var pm: array<vec4f, PM_SIZE>;
  for (var i = 0u; i < BPT; i++) { // @unroll
    let j = t + i * TPC;
    im[i] = vec4f(1.0);
    zc[i] = vec4f(0.0);
    gbs[i] = GroupBlock(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var p = 0u; p < NP; p++) { // @unroll
      pm[i * NP + p] = vec4f(0.0);
    }
    if (j < NZ) {
      gbs[i] = groups[j];
      im[i] = block_inv_mass(j);
      zc[i] = state[j * B + chain];
      if (!OBS_PATH) {
        for (var p = 0u; p < NP; p++) { // @unroll
          pm[i * NP + p] = predm[j * NP + p];
        }
      }
    }
  }
  var beta_c: array<vec4f, NBETA_ARR>;
  var imb: array<vec4f, NBETA_ARR>;
  for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
    beta_c[q] = state[(NZ + q) * B + chain];
    imb[q] = block_inv_mass(NZ + q);
  }
  let ms = state[NV * B + chain];
  var mu_c = ms.x;
  var s_c = ms.y;
  // The family global x (FAMILY_GLOBAL; lane 2 of the globals block), else 0.
  var xg_c = 0.0;
  if (FAMILY_GLOBAL) {
    xg_c = ms.z;
  }
  var lp_c = 0.0;
  var moved = false;
  var totals_add = vec4f(0.0);
  var last = vec4f(0.0);
  var sums = 0u;

  for (var m = 0u; m < num_iterations; m++) {
    let it = first_iteration + m;
    var num_steps = step.num_steps[m / 4u][m % 4u];
    if (WARMUP) {
      num_steps = warmup_step.num_steps;
    }
    // log p and its gradient at the current state, the momentum refresh and the opening
    // half kick, block by block.
    var mu = mu_c;
    var s = s_c;
    var xg = xg_c;
    var fg = family_shared(xg);
    var tau = exp(s);
    var inv_tau = 1.0 / tau;
    var part_x = 0.0;
    var z = zc;
    var beta = beta_c;
    var part_b: array<vec4f, NBETA_ARR>;
    for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
      part_b[q] = vec4f(0.0);
    }
    var p: array<vec4f, BPT>;
    var part = vec4f(0.0);
    for (var i = 0u; i < BPT; i++) { // @unroll
      let j = t + i * TPC;
      var bt: BlockTerms;
      if (OBS_PATH) {
        let ol = obs_lik(j, NZ, block_theta(z[i], gbs[i], mu, s, tau, inv_tau), beta, fg);
        bt = block_terms_lik(z[i], gbs[i], mu, s, tau, inv_tau, ol.l);
        for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
          part_b[q] += ol.g[q];
        }
      } else {
        var off = vec4f(0.0);
        for (var pp = 0u; pp < NP; pp++) { // @unroll
          off += pm[i * NP + pp] * beta[pp / 4u][pp % 4u];
        }
        bt = block_terms_at(z[i], gbs[i], mu, s, tau, inv_tau, fg, off);
        for (var pp = 0u; pp < NP; pp++) { // @unroll
          part_b[pp / 4u][pp % 4u] += dot(bt.d, pm[i * NP + pp]);
        }
      }
      var pj = vec4f(0.0);
      if (j < NZ) {
        pj = gbs[i].mask * normals4(step.key, it, chain, j) * momentum_scale(im[i]);
        if (WARMUP && live) {
          warm[j * B + chain] = z[i];
        }
      }
      part += lane_sums(bt, im[i] * pj * pj);
      if (FAMILY_GLOBAL) {
        part_x += dot(bt.g_x, vec4f(1.0));
      }
      p[i] = pj + half * bt.g_z;
    }
    let d0 = chain_sum(part, li, cw, t, sums & 1u);
    sums++;
    let pri0 = prior_terms(mu, s, tau);
    lp_c = d0.x + pri0.x;
    // The coefficients: their gradient summed over the chain's blocks, their own terms, and
    // their momentum (block NZ + q's normals, src/sampler/rng.ts).
    let bt0 = beta_terms(beta, xg, fg);
    var pb: array<vec4f, NBETA_ARR>;
    var g_b0: array<vec4f, NBETA_ARR>;
    var kin_b = vec4f(0.0);
    for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
      g_b0[q] = chain_sum(part_b[q], li, cw, t, sums & 1u) + bt0.g[q];
      sums++;
      pb[q] = BETA_MASK[q] * normals4(step.key, it, chain, NZ + q) * momentum_scale(imb[q]);
      kin_b += imb[q] * pb[q] * pb[q];
      if (WARMUP && writer) {
        warm[(NZ + q) * B + chain] = beta[q];
      }
    }
    lp_c += bt0.lp;
    // The family global's terms: d/dx summed over the chain's blocks, its own terms, and its
    // momentum (lane 0 of block NV + 1's normals, src/sampler/rng.ts).
    var g_x0 = 0.0;
    var p_x = 0.0;
    if (FAMILY_GLOBAL) {
      let dx = chain_sum(vec4f(part_x, 0.0, 0.0, 0.0), li, cw, t, sums & 1u);
      sums++;
      let fgl = family_global(xg, fg);
      lp_c += fgl.x;
      g_x0 = dx.x + fgl.y + bt0.g_x;
      p_x = normals4(step.key, it, chain, NV + 1u).x * momentum_scale(ims).z;
    }
    var lp = lp_c;
    let nms = normals2_uniform(step.key, it, chain, NV);
    var p_mu = nms.x * momentum_scale(ims).x;
    var p_s = nms.y * momentum_scale(ims).y;
    var kin_g = ims.x * p_mu * p_mu + ims.y * p_s * p_s;
    if (FAMILY_GLOBAL) {
      kin_g += ims.z * p_x * p_x;
    }
    let h0 = -lp + 0.5 * (kin_g + d0.w + dot(kin_b, vec4f(1.0)));
    if (WARMUP && writer) {
      warm[NV * B + chain] = vec4f(mu, s, xg, 0.0);
    }
    p_mu += half * (d0.y + pri0.y);
    p_s += half * (d0.z + pri0.z);
    if (FAMILY_GLOBAL) {
      p_x += half * g_x0;
    }
    for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
      pb[q] += half * g_b0[q];
    }

    // Leapfrog with the momentum at half steps, as hmc.wgsl: each step moves the blocks,
    // evaluates their gradient there and applies the closing and the next opening half
    // kicks (none after the last step in warmup).
    var h = h0;
    var divergent = !is_finite(h0);
    var steps_taken = 0u;
    for (var n = 0u; n < num_steps; n++) {
      let running = !divergent;
      var kick = half;
      if (WARMUP) {
        kick = select(half, 0.0, n + 1u == num_steps);
      }
      var step_part = vec4f(0.0);
      var step_x = 0.0;
      var step_b: array<vec4f, NBETA_ARR>;
      for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
        step_b[q] = vec4f(0.0);
      }
      if (running) {
        mu += eps * ims.x * p_mu;
        s += eps * ims.y * p_s;
        for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
          beta[q] += eps * imb[q] * pb[q];
        }
        if (FAMILY_GLOBAL) {
          xg += eps * ims.z * p_x;
          fg = family_shared(xg);
        }
        tau = exp(s);
        inv_tau = 1.0 / tau;
        for (var i = 0u; i < BPT; i++) { // @unroll
          z[i] += eps * im[i] * p[i];
          var bt: BlockTerms;
          if (OBS_PATH) {
            let ol = obs_lik(t + i * TPC, NZ, block_theta(z[i], gbs[i], mu, s, tau, inv_tau), beta, fg);
            bt = block_terms_lik(z[i], gbs[i], mu, s, tau, inv_tau, ol.l);
            for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
              step_b[q] += ol.g[q];
            }
          } else {
            var off = vec4f(0.0);
            for (var pp = 0u; pp < NP; pp++) { // @unroll
              off += pm[i * NP + pp] * beta[pp / 4u][pp % 4u];
            }
            bt = block_terms_at(z[i], gbs[i], mu, s, tau, inv_tau, fg, off);
            for (var pp = 0u; pp < NP; pp++) { // @unroll
              step_b[pp / 4u][pp % 4u] += dot(bt.d, pm[i * NP + pp]);
            }
          }
          let ps = p[i] + half * bt.g_z;
          step_part += lane_sums(bt, im[i] * ps * ps);
          if (FAMILY_GLOBAL) {
            step_x += dot(bt.g_x, vec4f(1.0));
          }
          p[i] = ps + kick * bt.g_z;
        }
      }
      let d = chain_sum(step_part, li, cw, t, sums & 1u);
      sums++;
      var dx = 0.0;
      if (FAMILY_GLOBAL) {
        dx = chain_sum(vec4f(step_x, 0.0, 0.0, 0.0), li, cw, t, sums & 1u).x;
        sums++;
      }
      var g_b: array<vec4f, NBETA_ARR>;
      for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
        g_b[q] = chain_sum(step_b[q], li, cw, t, sums & 1u);
        sums++;
      }
      if (running) {
        let pri = prior_terms(mu, s, tau);
        lp = d.x + pri.x;
        let g_mu = d.y + pri.y;
        let g_s = d.z + pri.z;
        let ps_mu = p_mu + half * g_mu;
        let ps_s = p_s + half * g_s;
        var kin = ims.x * ps_mu * ps_mu + ims.y * ps_s * ps_s;
        let btn = beta_terms(beta, xg, fg);
        lp += btn.lp;
        var kin_bn = vec4f(0.0);
        var ps_b: array<vec4f, NBETA_ARR>;
        for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
          g_b[q] += btn.g[q];
          ps_b[q] = pb[q] + half * g_b[q];
          kin_bn += imb[q] * ps_b[q] * ps_b[q];
        }
        var g_x = 0.0;
        var ps_x = 0.0;
        if (FAMILY_GLOBAL) {
          let fgl = family_global(xg, fg);
          lp += fgl.x;
          g_x = dx + fgl.y + btn.g_x;
          ps_x = p_x + half * g_x;
          kin += ims.z * ps_x * ps_x;
        }
        h = -lp + 0.5 * (kin + d.w + dot(kin_bn, vec4f(1.0)));
        steps_taken = n + 1u;
        divergent = !is_finite(h) || h - h0 > MAX_ENERGY_ERROR;
        p_mu = ps_mu + kick * g_mu;
        p_s = ps_s + kick * g_s;
        if (FAMILY_GLOBAL) {
          p_x = ps_x + kick * g_x;
        }
        for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
          pb[q] = ps_b[q] + kick * g_b[q];
        }
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
      xg_c = xg;
      beta_c = beta;
      lp_c = lp;
      moved = true;
    }
    let div = select(0.0, 1.0, divergent);

    // Per block: the draw, the divergence position, and in warmup q' and M^-1 p' (and
    // whether they are finite, summed over the chain's threads).
    let R = step.retained;
    let slot = step.record_slot + m;
    let pos_base = slot * S * R;
    let stats_base = step.slots * S * R;
    let div_base = stats_base + step.slots * R;
    var nonfinite = 0.0;
    for (var i = 0u; i < BPT; i++) { // @unroll
      let j = t + i * TPC;
      if (j < NZ) {
        if (record) {
          rec[pos_base + j * R + chain] = zc[i];
          if (divergent) {
            rec[div_base + (slot * S + j) * R + chain] = z[i];
          }
        }
        if (WARMUP) {
          nonfinite += select(1.0, 0.0, all_finite(z[i]) && all_finite(p[i]));
          if (live) {
            warm[(S + j) * B + chain] = z[i];
            warm[(2u * S + j) * B + chain] = im[i] * p[i];
          }
        }
      }
    }
    if (WARMUP) {
      // The chain's count of non-finite blocks (every thread takes part in the sum).
      let bad = chain_sum(vec4f(nonfinite, 0.0, 0.0, 0.0), li, cw, t, sums & 1u);
      sums++;
      var finite = bad.x == 0.0 && is_finite(mu) && is_finite(s) && is_finite(p_mu) && is_finite(p_s) && is_finite(xg) && is_finite(p_x);
      for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
        finite = finite && all_finite(beta[q]) && all_finite(pb[q]);
        if (writer) {
          warm[(S + NZ + q) * B + chain] = beta[q];
          warm[(2u * S + NZ + q) * B + chain] = imb[q] * pb[q];
        }
      }
      if (writer) {
        warm[(S + NV) * B + chain] = vec4f(mu, s, xg, 0.0);
        warm[(2u * S + NV) * B + chain] = vec4f(ims.x * p_mu, ims.y * p_s, ims.z * p_x, 0.0);
      }
      let valid = !divergent && finite;
      last = vec4f(accept_prob, div, energy, select(0.0, 1.0, valid));
    } else {
      last = vec4f(accept_prob, div, energy, 0.0);
      totals_add += vec4f(div, accept_prob, f32(steps_taken), 0.0);
    }
    if (writer && record) {
      rec[pos_base + NV * R + chain] = vec4f(mu_c, s_c, xg_c, lp_c);
      rec[stats_base + slot * R + chain] = vec4f(lp_c, energy, accept_prob, div);
      for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
        rec[pos_base + (NZ + q) * R + chain] = beta_c[q];
      }
      if (divergent) {
        rec[div_base + (slot * S + NV) * R + chain] = vec4f(mu, s, xg, 0.0);
        for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
          rec[div_base + (slot * S + NZ + q) * R + chain] = beta[q];
        }
      }
    }
  }

  if (moved && live) {
    for (var i = 0u; i < BPT; i++) { // @unroll
      let j = t + i * TPC;
      if (j < NZ) {
        state[j * B + chain] = zc[i];
      }
    }
    if (t == 0u) {
      state[NV * B + chain] = vec4f(mu_c, s_c, xg_c, lp_c);
      for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
        state[(NZ + q) * B + chain] = beta_c[q];
      }
    }
  }
  if (writer) {
    info[chain] = last;
    if (!WARMUP) {
      totals[chain] += totals_add;
    }
  }
}
