// FunnelWeb — no within-group term (predictors constant within groups, or none).
fn family_within(x: f32, g: vec4f) -> vec2f {
  return vec2f(0.0);
}
