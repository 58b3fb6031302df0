// FunnelWeb — binomial likelihood with the logit link, per group through its sufficient
// statistics (mirrors src/model/families/binomial.ts): a = successes Y, b = trials T,
//   lp = Y theta - T log(1 + e^theta),   d lp / d theta = Y - T inv_logit(theta).
// log(1 + e^theta) = max(theta, 0) + log(1 + e^-|theta|) does not overflow; a lane without
// data (a = b = 0) gives exactly 0 and 0.

struct Lik {
  lp: vec4f,
  d: vec4f,
}

fn lik(theta: vec4f, a: vec4f, b: vec4f) -> Lik {
  let e = exp(-abs(theta));
  let softplus = max(theta, vec4f(0.0)) + log(1.0 + e);
  // inv_logit(theta) = 1 / (1 + e^-theta), from e = e^-|theta| on either side of 0.
  let p = select(e, vec4f(1.0), theta >= vec4f(0.0)) / (1.0 + e);
  return Lik(a * theta - b * softplus, a - b * p);
}
