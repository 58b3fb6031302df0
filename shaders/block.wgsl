// FunnelWeb — one block of four groups of the hierarchy, with the group data read at run time
// (the wide transition kernel, shaders/hmc_wide.wgsl and hmc_stream.wgsl; the baked kernel of
// model.wgsl specialises these formulas per block at compile time).
//
// Per lane (group k), with c = c_k, tau = e^s, a = tau^-c, b = tau^(1-c), d = z - c mu,
// u = d a, theta = mu + b d, and the family's log-likelihood l(theta) and l'(theta) (`lik`, one
// module of shaders/lik/, called as family_lik with fg = family_shared(x) of the family
// global x; Gorinova, Moore & Hoffman 2020 for the hierarchy):
//   lp  = -u^2/2 - c s + l
//   dz  = -u a + l' b
//   dmu = c u a + l' (1 - c b)
//   ds  = c (u^2 - 1) + l' (1 - c) b d
//   dx  = dl/dx (a family global's share; 0 without one)
//   d   = l' (for the population-level coefficients: d/dbeta_p = sum_k l'_k m_kp)
// With predictors (shaders/predictors.wgsl) the family's l is taken at theta + o, the block's
// offsets o = m . beta (`block_terms_at`); `block_terms` is o = 0.
// Padding lanes have c = 0, no data (the family's lik gives 0 there) and z = 0 (their
// momentum is masked), so every term is exactly 0 there. Mirrors logDensityGrad in
// src/model/model.ts (the float64 reference).
//
// Requires: const BINARY_C: bool (every c_k is 0 or 1: a lane-wise choice between the two
// forms, no exp); the family's `lik` and its adapter; prior.wgsl for the priors' terms. The kernels declare
// binding 1 (the group data) in their own layout.

// Per block of four groups: the family's two fields (src/model/family.ts: normal ybar and
// precision, binomial successes and trials, Poisson events and exposure), centeredness, lane mask.
struct GroupBlock {
  fa: vec4f,
  fb: vec4f,
  c: vec4f,
  mask: vec4f,
}

// A block's log-density terms and gradient (lanes summed by the caller).
struct BlockTerms {
  lp: vec4f,
  g_z: vec4f,
  g_mu: vec4f,
  g_s: vec4f,
  g_x: vec4f,
  d: vec4f,
}

fn block_terms(x: vec4f, gb: GroupBlock, mu: f32, s: f32, tau: f32, inv_tau: f32, fg: vec4f) -> BlockTerms {
  return block_terms_at(x, gb, mu, s, tau, inv_tau, fg, vec4f(0.0));
}

fn block_terms_at(x: vec4f, gb: GroupBlock, mu: f32, s: f32, tau: f32, inv_tau: f32, fg: vec4f, off: vec4f) -> BlockTerms {
  return block_terms_lik(x, gb, mu, s, tau, inv_tau, family_lik(block_theta(x, gb, mu, s, tau, inv_tau) + off, gb.fa, gb.fb, fg));
}

// theta = mu + tau^(1-c) (z - c mu) of the block's groups.
fn block_theta(x: vec4f, gb: GroupBlock, mu: f32, s: f32, tau: f32, inv_tau: f32) -> vec4f {
  if (BINARY_C) {
    let cen = gb.c != vec4f(0.0);
    let b = select(vec4f(tau), vec4f(1.0), cen);            // tau^(1-c)
    let d = select(x, x - mu, cen);                         // z - c mu
    return mu + b * d;
  }
  let c = gb.c;
  let b = tau * exp(-c * s);
  return mu + b * (x - c * mu);
}

// The block's terms given its groups' likelihood l (lp, l' = d, dl/dx = dg) at block_theta.
fn block_terms_lik(x: vec4f, gb: GroupBlock, mu: f32, s: f32, tau: f32, inv_tau: f32, l: FamilyLik) -> BlockTerms {
  var out: BlockTerms;
  out.d = l.d;
  out.g_x = l.dg;
  if (BINARY_C) {
    let cen = gb.c != vec4f(0.0);
    let a_inv = select(vec4f(1.0), vec4f(inv_tau), cen);   // tau^-c
    let b = select(vec4f(tau), vec4f(1.0), cen);            // tau^(1-c)
    let d = select(x, x - mu, cen);                         // z - c mu
    let u = d * a_inv;
    let ua = u * a_inv;
    out.lp = select(vec4f(0.0), vec4f(-s), cen) + (-0.5 * u * u + l.lp);
    out.g_z = -ua + l.d * b;
    out.g_mu = select(l.d, ua, cen);
    out.g_s = select(l.d * b * d, u * u - 1.0, cen);
  } else {
    let c = gb.c;
    let a_inv = exp(-c * s);
    let b = tau * a_inv;
    let d = x - c * mu;
    let u = d * a_inv;
    out.lp = -0.5 * u * u - c * s + l.lp;
    out.g_z = -u * a_inv + l.d * b;
    out.g_mu = c * u * a_inv + l.d * (1.0 - c * b);
    out.g_s = c * (u * u - 1.0) + l.d * (1.0 - c) * b * d;
  }
  return out;
}
