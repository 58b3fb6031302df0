// FunnelWeb — normal likelihood with one unknown sd sigma = e^x, per group through its
// sufficient statistics (mirrors src/model/families/normal_sigma.ts): a = ybar, b = n,
// w = e^{-2x} (lik_shared, once per gradient),
//   lp = -n w (theta - ybar)^2 / 2,   d lp / d theta = -n w (theta - ybar),   d lp / d x = -2 lp,
// and the theta-free term -N x - SS w / 2 (lik_global; FAMILY_STATS = (N, SS, ., .)).
// A lane without data (a = b = 0) gives exactly 0 and 0.

struct Lik {
  lp: vec4f,
  d: vec4f,
  dg: vec4f,
}

fn lik_shared(x: f32) -> vec4f {
  return vec4f(exp(-2.0 * x), 0.0, 0.0, 0.0);
}

fn lik(theta: vec4f, a: vec4f, b: vec4f, g: vec4f) -> Lik {
  let r = theta - a;
  let pr = (b * g.x) * r;
  let lp = -0.5 * pr * r;
  return Lik(lp, -pr, -2.0 * lp);
}

fn lik_global(x: f32, g: vec4f) -> vec2f {
  let n = FAMILY_STATS.x;
  let ss = FAMILY_STATS.y;
  return vec2f(-n * x - 0.5 * ss * g.x, ss * g.x - n);
}

// Predictors varying within groups (shaders/predictors.wgsl): the within-group residual sum
// of squares R enters log p as -R e^{-2x} / 2 (g.x = e^{-2x}), d/dx = R e^{-2x}.
fn lik_within(x: f32, g: vec4f) -> vec2f {
  return vec2f(-0.5 * g.x, g.x);
}
