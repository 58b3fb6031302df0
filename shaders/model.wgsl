// FunnelWeb — a hierarchical model's log-density and gradient (float32), baked form.
//
// Unconstrained coordinates q = (mu, s = log tau, z_0..z_{K-1}); per-group centeredness
// c_k (Gorinova, Moore & Hoffman 2020):  z_k ~ Normal(c_k mu, tau^c_k),
// theta_k = mu + tau^(1-c_k) (z_k - c_k mu); the data enter through the family's `lik`
// (shaders/lik/, e.g. -P_k (theta_k - ybar_k)^2 / 2 for normal data, no float32
// cancellation; called as family_lik, shaders/lik_plain.wgsl or lik_global.wgsl) and the
// chain rule of block.wgsl. A family with a global parameter x (FAMILY_GLOBAL; the normal
// family's log sigma) adds family_global(x) and d/dx = its derivative + sum_k dl_k/dx. The z coordinates are packed four to a
// vec4 ("block"); NV = ceil(K/4) blocks. Padding lanes have c = 0, no data and z = 0 (their
// momentum is masked), so every term below is exactly 0 there without a mask. Mirrors
// src/model/model.ts (the float64 reference).
//
// Requires (from the composer, src/gpu/shader.ts; values from src/gpu/layout.ts):
//   const NV: u32; const BINARY_C: bool (every c_k is 0 or 1: tau^-c and tau^(1-c) then need
//   no exp per block); prior.wgsl and its constants MU_LOC, MU_SCALE, TAU_SCALE: f32,
//   TAU_HALF_CAUCHY: bool; the family's `lik` and its adapter (FAMILY_GLOBAL: bool);
//   const GROUPS_CONST: bool and the group data GROUP_A, GROUP_B, GROUP_C, GROUP_MASK
//   (array<vec4f, NV>) baked in when the block loops unroll. Compile-time data costs no
//   memory traffic and folds; larger models read the `groups` buffer instead.
// Binding 1 of group 0 belongs to this module.

// Per block of four groups: the family's two fields (src/model/family.ts), centeredness, lane mask.
struct GroupBlock {
  fa: vec4f,
  fb: vec4f,
  c: vec4f,
  mask: vec4f,
}

@group(0) @binding(1) var<storage, read> groups: array<GroupBlock>;

// Block j's group data is read inline where needed, as
//   if (GROUPS_CONST) { gb = GroupBlock(GROUP_A[j], ...); } else { gb = groups[j]; }
// so that in unrolled loops (j a constant) the baked values are constant expressions; a
// helper function taking j would index the baked arrays dynamically (a copy per call).

// log p(q) and its gradient. Arrays pass by value (no pointers), so that after inlining
// every block lives in registers.
struct Density {
  lp: f32,
  g_mu: f32,
  g_s: f32,
  // d/dx of the family global (0 without one).
  g_x: f32,
  g_z: array<vec4f, NV>,
}

fn log_density_grad(mu: f32, s: f32, x_g: f32, z: array<vec4f, NV>) -> Density {
  var out: Density;
  let tau = exp(s);
  let inv_tau = 1.0 / tau;
  // What every block's likelihood needs of the family global (nothing without one).
  let fg = family_shared(x_g);
  var gx4 = vec4f(0.0);
  // Priors: mu ~ Normal(loc, scale); tau prior plus the log-Jacobian s of tau = e^s.
  let prior = prior_terms(mu, s, tau);
  var lp4 = vec4f(0.0);
  var gmu4 = vec4f(0.0);
  var gs4 = vec4f(0.0);
  for (var j = 0u; j < NV; j++) { // @unroll
    var gb: GroupBlock;
    if (GROUPS_CONST) {
      gb = GroupBlock(GROUP_A[j], GROUP_B[j], GROUP_C[j], GROUP_MASK[j]);
    } else {
      gb = groups[j];
    }
    let x = z[j];
    // Baked data makes these conditions constant: full blocks of noncentered or of
    // centered groups get their own (shorter) vector formulas; other baked blocks go lane
    // by lane below.
    let full = all(GROUP_MASK[j] == vec4f(1.0));
    let nc_block = GROUPS_CONST && BINARY_C && full && all(GROUP_C[j] == vec4f(0.0));
    let c_block = GROUPS_CONST && BINARY_C && full && all(GROUP_C[j] == vec4f(1.0));
    if (nc_block) {
      // c = 0: theta = mu + tau z.
      let l = family_lik(mu + tau * x, gb.fa, gb.fb, fg);
      lp4 += -0.5 * x * x + l.lp;
      out.g_z[j] = -x + l.d * tau;
      gmu4 += l.d;
      gs4 += l.d * tau * x;
      if (FAMILY_GLOBAL) {
        gx4 += l.dg;
      }
    } else if (c_block) {
      // c = 1: theta = z, u = (z - mu) / tau.
      let u = (x - mu) * inv_tau;
      let l = family_lik(x, gb.fa, gb.fb, fg);
      lp4 += -0.5 * u * u + l.lp - s;
      out.g_z[j] = -u * inv_tau + l.d;
      gmu4 += u * inv_tau;
      gs4 += u * u - 1.0;
      if (FAMILY_GLOBAL) {
        gx4 += l.dg;
      }
    } else if (BINARY_C && GROUPS_CONST) {
      // A baked block of both kinds or with padding lanes: lane by lane, each lane with its
      // own form and padding lanes skipped (constant conditions per lane, so each lane
      // compiles to its form only; on SwiftShader a vec4's lanes are separate registers
      // anyway). Measured per leapfrog step: mixed blocks -9 to -11%, padded ones -5 to -12%.
      // theta lane by lane, then the family's likelihood of the block at once.
      var th = vec4f(0.0);
      for (var l = 0u; l < 4u; l++) { // @unroll
        if (GROUP_MASK[j][l] == 0.0) {
          // Padding: theta 0, no data.
        } else if (GROUP_C[j][l] != 0.0) {
          th[l] = x[l];
        } else {
          th[l] = mu + tau * x[l];
        }
      }
      let lk = family_lik(th, gb.fa, gb.fb, fg);
      if (FAMILY_GLOBAL) {
        // Padding lanes: no data, so dg is exactly 0 there.
        gx4 += lk.dg;
      }
      var g4 = vec4f(0.0);
      for (var l = 0u; l < 4u; l++) { // @unroll
        let xl = x[l];
        if (GROUP_MASK[j][l] == 0.0) {
          // Padding: contributes nothing.
        } else if (GROUP_C[j][l] != 0.0) {
          let u = (xl - mu) * inv_tau;
          lp4[l] += -0.5 * u * u + lk.lp[l] - s;
          g4[l] = -u * inv_tau + lk.d[l];
          gmu4[l] += u * inv_tau;
          gs4[l] += u * u - 1.0;
        } else {
          lp4[l] += -0.5 * xl * xl + lk.lp[l];
          g4[l] = -xl + lk.d[l] * tau;
          gmu4[l] += lk.d[l];
          gs4[l] += lk.d[l] * tau * xl;
        }
      }
      out.g_z[j] = g4;
    } else if (BINARY_C) {
      // Lane-wise choice between the centered (c = 1) and noncentered (c = 0) forms of the
      // general case below (group data from the buffer: the choice is made at run time).
      let cen = gb.c != vec4f(0.0);
      let a_inv = select(vec4f(1.0), vec4f(inv_tau), cen);   // tau^-c
      let b = select(vec4f(tau), vec4f(1.0), cen);            // tau^(1-c)
      let d = select(x, x - mu, cen);                         // z - c mu
      let u = d * a_inv;
      let l = family_lik(mu + b * d, gb.fa, gb.fb, fg);
      let ua = u * a_inv;
      lp4 += select(vec4f(0.0), vec4f(-s), cen) + (-0.5 * u * u + l.lp);
      out.g_z[j] = -ua + l.d * b;
      gmu4 += select(l.d, ua, cen);
      gs4 += select(l.d * b * d, u * u - 1.0, cen);
      if (FAMILY_GLOBAL) {
        gx4 += l.dg;
      }
    } else {
      let c = gb.c;
      // tau^-c: a single scalar exp when the block's groups share one c (padding lanes
      // contribute 0 whatever their a_inv: x, c and the data are 0 there), else one per lane.
      let c_shared = GROUPS_CONST && all((GROUP_C[j] == vec4f(GROUP_C[j].x)) | (GROUP_MASK[j] == vec4f(0.0)));
      var a_inv: vec4f;
      if (c_shared) {
        a_inv = vec4f(exp(-GROUP_C[j].x * s));
      } else {
        a_inv = exp(-c * s);
      }
      let b = tau * a_inv;                                    // tau^(1-c)
      let d = x - c * mu;
      let u = d * a_inv;
      let l = family_lik(mu + b * d, gb.fa, gb.fb, fg);
      lp4 += -0.5 * u * u - c * s + l.lp;
      out.g_z[j] = -u * a_inv + l.d * b;
      gmu4 += c * u * a_inv + l.d * (1.0 - c * b);
      gs4 += c * (u * u - 1.0) + l.d * (1.0 - c) * b * d;
      if (FAMILY_GLOBAL) {
        gx4 += l.dg;
      }
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
