// FunnelWeb — the kernels' view of a likelihood family without a global parameter (binomial,
// Poisson, normal with known sd): its `lik(theta, a, b)` (shaders/lik/<id>.wgsl) as the
// family_lik every kernel calls, with no derivative in a family global, and no global terms.
// The kernels guard every use of the family global with FAMILY_GLOBAL (false here), so these
// zeros compile away. See lik_global.wgsl for families with a global.

struct FamilyLik {
  lp: vec4f,
  d: vec4f,
  dg: vec4f,
}

fn family_lik(theta: vec4f, a: vec4f, b: vec4f, g: vec4f) -> FamilyLik {
  let l = lik(theta, a, b);
  return FamilyLik(l.lp, l.d, vec4f(0.0));
}

fn family_shared(x: f32) -> vec4f {
  return vec4f(0.0);
}

fn family_global(x: f32, g: vec4f) -> vec2f {
  return vec2f(0.0);
}
