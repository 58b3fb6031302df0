// FunnelWeb — normal likelihood with known sd, per group through its sufficient statistics
// (mirrors src/model/families/normal.ts): a = precision-weighted mean ybar, b = precision P,
//   lp = -P (theta - ybar)^2 / 2,   d lp / d theta = -P (theta - ybar).
// A lane without data (a = b = 0) gives exactly 0 and 0.

struct Lik {
  lp: vec4f,
  d: vec4f,
}

fn lik(theta: vec4f, a: vec4f, b: vec4f) -> Lik {
  let r = theta - a;
  let pr = b * r;
  return Lik(-0.5 * pr * r, -pr);
}

// Predictors varying within groups (shaders/predictors.wgsl): the within-group residual sum
// of squares R enters log p as -R / 2 (sigma_i known, in the weights).
fn lik_within(x: f32, g: vec4f) -> vec2f {
  return vec2f(-0.5, 0.0);
}
