// FunnelWeb — the kernels' view of a likelihood family with one global parameter x (the normal
// family with unknown sd: x = log sigma; src/model/family.ts): its `lik(theta, a, b, g)`,
// `lik_shared(x)` and `lik_global(x, g)` (shaders/lik/<id>.wgsl) as family_lik,
// family_shared and family_global, the last with the prior of the global on its natural
// scale plus the log-Jacobian x of e^x (mirrors logScalePriorUnconstrained in
// src/model/priors.ts), t = e^x / FG_PRIOR_SCALE:
//   HalfNormal:   -t^2/2 + x,          d/dx = 1 - t^2
//   HalfCauchy:   -log(1 + t^2) + x,   d/dx = 1 - 2 t^2 / (1 + t^2)
//   Exponential:  -t + x,              d/dx = 1 - t
//
// Requires: const FG_PRIOR_KIND: u32 (0 HalfNormal, 1 HalfCauchy, 2 Exponential), const
// FG_PRIOR_SCALE: f32, and the family's FAMILY_STATS: vec4f.

struct FamilyLik {
  lp: vec4f,
  d: vec4f,
  dg: vec4f,
}

fn family_lik(theta: vec4f, a: vec4f, b: vec4f, g: vec4f) -> FamilyLik {
  let l = lik(theta, a, b, g);
  return FamilyLik(l.lp, l.d, l.dg);
}

fn family_shared(x: f32) -> vec4f {
  return lik_shared(x);
}

fn family_global(x: f32, g: vec4f) -> vec2f {
  let t = exp(x) / FG_PRIOR_SCALE;
  var prior: vec2f;
  if (FG_PRIOR_KIND == 0u) {
    prior = vec2f(-0.5 * t * t + x, 1.0 - t * t);
  } else if (FG_PRIOR_KIND == 1u) {
    let t2 = t * t;
    prior = vec2f(-log(1.0 + t2) + x, 1.0 - 2.0 * t2 / (1.0 + t2));
  } else {
    prior = vec2f(-t + x, 1.0 - t);
  }
  return lik_global(x, g) + prior;
}
