// FunnelWeb — the hierarchical normal model's log-density and gradient (float32).
//
// Unconstrained coordinates q = (mu, s = log tau, z_0..z_{K-1}); per-group centeredness
// c_k (Gorinova, Moore & Hoffman 2020):  z_k ~ Normal(c_k mu, tau^c_k),
// theta_k = mu + tau^(1-c_k) (z_k - c_k mu);  y-likelihood through sufficient statistics
// -P_k (theta_k - ybar_k)^2 / 2 (P_k = sum 1/sigma_i^2), so no float32 cancellation.
// The z coordinates are packed four to a vec4 ("block"); NV = ceil(K/4) blocks. Padding
// lanes have c = P = ybar = 0 and z = 0 (their momentum is masked), so every term below is
// exactly 0 there without a mask. Mirrors src/model/model.ts (the float64 reference).
//
// Requires (from the composer, src/gpu/shader.ts): const NV: u32, const BINARY_C: bool
// (true when every c_k is 0 or 1: tau^-c and tau^(1-c) then need no exp per block).
// Bindings 0 and 1 of group 0 belong to this module.

struct ModelParams {
  mu_loc: f32,
  mu_scale: f32,
  tau_scale: f32,
  // 0 = HalfNormal(tau_scale), 1 = HalfCauchy(tau_scale)
  tau_prior: u32,
}

// Per block of four groups: precision-weighted mean, precision, centeredness, lane mask.
struct GroupBlock {
  ybar: vec4f,
  prec: vec4f,
  c: vec4f,
  mask: vec4f,
}

@group(0) @binding(0) var<uniform> model: ModelParams;
@group(0) @binding(1) var<storage, read> groups: array<GroupBlock>;
// Per-invocation copy of the group data (constant indices keep it in registers).
var<private> gblocks: array<GroupBlock, NV>;

fn load_groups() {
  for (var j = 0u; j < NV; j++) { // @unroll
    gblocks[j] = groups[j];
  }
}

// log p(q) and its gradient. Arrays pass by value (no pointers), so that after inlining
// every block lives in registers.
struct Density {
  lp: f32,
  g_mu: f32,
  g_s: f32,
  g_z: array<vec4f, NV>,
}

fn log_density_grad(mu: f32, s: f32, z: array<vec4f, NV>) -> Density {
  var out: Density;
  // Priors: mu ~ Normal(loc, scale); tau prior plus the log-Jacobian s of tau = e^s.
  let muz = (mu - model.mu_loc) / model.mu_scale;
  let tau = exp(s);
  let inv_tau = 1.0 / tau;
  let t = tau / model.tau_scale;
  let t2 = t * t;
  var lp = -0.5 * muz * muz + s;
  var g_mu = -muz / model.mu_scale;
  var g_s = 1.0;
  if (model.tau_prior == 0u) {
    lp -= 0.5 * t2;
    g_s -= t2;
  } else {
    lp -= log(1.0 + t2);
    g_s -= 2.0 * t2 / (1.0 + t2);
  }
  var lp4 = vec4f(0.0);
  var gmu4 = vec4f(0.0);
  var gs4 = vec4f(0.0);
  for (var j = 0u; j < NV; j++) { // @unroll
    let gb = gblocks[j];
    let c = gb.c;
    var a_inv: vec4f;                 // tau^-c
    var b: vec4f;                     // tau^(1-c)
    if (BINARY_C) {
      a_inv = mix(vec4f(1.0), vec4f(inv_tau), c);
      b = mix(vec4f(tau), vec4f(1.0), c);
    } else {
      a_inv = exp(-c * s);
      b = exp((1.0 - c) * s);
    }
    let d = z[j] - c * mu;
    let u = d * a_inv;
    let r = mu + b * d - gb.ybar;     // theta - ybar
    let pr = gb.prec * r;
    lp4 += -0.5 * u * u - c * s - 0.5 * pr * r;
    out.g_z[j] = -u * a_inv - pr * b;
    gmu4 += c * u * a_inv - pr * (1.0 - c * b);
    gs4 += c * (u * u - 1.0) - pr * (1.0 - c) * b * d;
  }
  let ones = vec4f(1.0);
  out.lp = lp + dot(lp4, ones);
  out.g_mu = g_mu + dot(gmu4, ones);
  out.g_s = g_s + dot(gs4, ones);
  return out;
}
