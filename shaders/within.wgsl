// FunnelWeb — the within-group coefficient of a Gaussian family with predictors varying within
// groups (shaders/predictors.wgsl): the family's lik_within(x, g) -> (coefficient, d/dx).
fn family_within(x: f32, g: vec4f) -> vec2f {
  return lik_within(x, g);
}
