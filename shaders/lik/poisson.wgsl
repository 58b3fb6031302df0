// FunnelWeb — Poisson likelihood with the log link and exposure, per group through its
// sufficient statistics (mirrors src/model/families/poisson.ts): a = events Y, b = exposure E,
//   lp = Y theta - E e^theta,   d lp / d theta = Y - E e^theta.
// A lane without data (a = b = 0) gives exactly 0 and 0 while e^theta is finite.

struct Lik {
  lp: vec4f,
  d: vec4f,
}

fn lik(theta: vec4f, a: vec4f, b: vec4f) -> Lik {
  let m = b * exp(theta);
  return Lik(a * theta - m, a - m);
}
