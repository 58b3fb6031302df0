// FunnelWeb — one block of four groups of the hierarchical normal model, with the group data
// read at run time (the wide transition kernel, shaders/hmc_wide.wgsl; the baked kernel of
// model.wgsl specialises these formulas per block at compile time).
//
// Per lane (group k), with c = c_k, tau = e^s, a = tau^-c, b = tau^(1-c), d = z - c mu,
// u = d a, r = theta - ybar = mu + b d - ybar, pr = P r (Gorinova, Moore & Hoffman 2020):
//   lp  = -u^2/2 - c s - pr r / 2
//   dz  = -u a - pr b
//   dmu = c u a - pr (1 - c b)
//   ds  = c (u^2 - 1) - pr (1 - c) b d
// Padding lanes have c = P = ybar = 0 and z = 0 (their momentum is masked), so every term
// is exactly 0 there. Mirrors logDensityGrad in src/model/model.ts (the float64 reference).
//
// Requires: const BINARY_C: bool (every c_k is 0 or 1: a lane-wise choice between the two
// forms, no exp); prior.wgsl for the priors' terms. The kernels declare binding 1 (the group data) in their own layout.

// Per block of four groups: precision-weighted mean, precision, centeredness, lane mask.
struct GroupBlock {
  ybar: vec4f,
  prec: vec4f,
  c: vec4f,
  mask: vec4f,
}

// A block's log-density terms and gradient (lanes summed by the caller).
struct BlockTerms {
  lp: vec4f,
  g_z: vec4f,
  g_mu: vec4f,
  g_s: vec4f,
}

fn block_terms(x: vec4f, gb: GroupBlock, mu: f32, s: f32, tau: f32, inv_tau: f32) -> BlockTerms {
  var out: BlockTerms;
  if (BINARY_C) {
    let cen = gb.c != vec4f(0.0);
    let a_inv = select(vec4f(1.0), vec4f(inv_tau), cen);   // tau^-c
    let b = select(vec4f(tau), vec4f(1.0), cen);            // tau^(1-c)
    let d = select(x, x - mu, cen);                         // z - c mu
    let u = d * a_inv;
    let r = mu + b * d - gb.ybar;
    let pr = gb.prec * r;
    let ua = u * a_inv;
    out.lp = select(vec4f(0.0), vec4f(-s), cen) - 0.5 * (u * u + pr * r);
    out.g_z = -ua - pr * b;
    out.g_mu = select(-pr, ua, cen);
    out.g_s = select(-pr * b * d, u * u - 1.0, cen);
  } else {
    let c = gb.c;
    let a_inv = exp(-c * s);
    let b = tau * a_inv;
    let d = x - c * mu;
    let u = d * a_inv;
    let r = mu + b * d - gb.ybar;
    let pr = gb.prec * r;
    out.lp = -0.5 * u * u - c * s - 0.5 * pr * r;
    out.g_z = -u * a_inv - pr * b;
    out.g_mu = c * u * a_inv - pr * (1.0 - c * b);
    out.g_s = c * (u * u - 1.0) - pr * (1.0 - c) * b * d;
  }
  return out;
}
