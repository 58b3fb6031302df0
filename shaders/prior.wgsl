// FunnelWeb — the priors of the hierarchical normal model (float32), shared by the baked
// kernel (model.wgsl) and the wide ones (block.wgsl's kernels). Mirrors the prior terms of
// logDensityGrad in src/model/model.ts (the float64 reference).
//
// The priors' terms (lp, d/dmu, d/ds): mu ~ Normal(MU_LOC, MU_SCALE), the tau prior, and the
// log-Jacobian s of tau = e^s. Requires MU_LOC, MU_SCALE, TAU_SCALE: f32, TAU_HALF_CAUCHY: bool.
fn prior_terms(mu: f32, s: f32, tau: f32) -> vec3f {
  let muz = (mu - MU_LOC) / MU_SCALE;
  let t = tau / TAU_SCALE;
  let t2 = t * t;
  var lp = -0.5 * muz * muz + s;
  var g_s = 1.0;
  if (TAU_HALF_CAUCHY) {
    lp -= log(1.0 + t2);
    g_s -= 2.0 * t2 / (1.0 + t2);
  } else {
    lp -= 0.5 * t2;
    g_s -= t2;
  }
  return vec3f(lp, -muz / MU_SCALE, g_s);
}
