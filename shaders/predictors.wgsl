// FunnelWeb — population-level predictors in the wide kernel (src/model/predictors.ts, the
// group path): eta = theta_k + o_k with the offset o_k = m_k . beta of group k's predictor
// means m_k (the `predm` buffer, block j's predictor p at vec4 j * NP + p, lanes the block's
// groups), so a block's likelihood is the family's at theta + o, and
//   d/dbeta_p = sum_k l'_k m_kp   (chain_sum over the chain's threads)
//             - (beta_p - BETA_LOC) / BETA_SCALE^2                     (prior, beta_terms)
//             + coefficient(x) 2 (Cxx beta - Cxy)_p                    (PRED_WITHIN)
// where a Gaussian family with predictors varying within groups adds coefficient(x) (beta'
// Cxx beta - 2 beta . Cxy) to log p (`family_within`: (coefficient, d/dx), from the family's
// `lik_within`; shaders/within.wgsl, or shaders/within_none.wgsl for other families).
// Every thread of a chain holds all of beta, as it holds mu and log tau. Mirrors
// logDensityGradPredictors in src/model/model.ts.
//
// Observation path (OBS_PATH: a family that is not Gaussian, with predictors that vary
// within groups): each group's likelihood is the sum over its observations of the family's
// at eta_i = theta_k + x_i . beta with the observation's own fields (a_i, b_i), O(N P) per
// gradient; d/dbeta_p = sum_i l'_i x_ip. `predm` then holds, per z block j, two vec4 of its
// groups' first chunk and chunk count (u32 bits), then the chunks: four observations of one
// group each, as (a, b, x_0, .., x_{NP-1}) vec4s (lanes the observations; padding lanes a =
// b = 0 and x = 0 give exact zeros), `packObservations` in src/gpu/layout.ts.
//
// Requires: const OBS_PATH: bool, const NP: u32 (predictors), NBETA_BLOCKS: u32 = ceil(NP / 4), NBETA_ARR: u32 =
// max(1, NBETA_BLOCKS), PRED_WITHIN: bool, BETA_LOC, BETA_SCALE: f32, BETA_MASK:
// array<vec4f, NBETA_ARR> (1 in lanes below NP), WITHIN_XX: array<vec4f, NP * NBETA_ARR> (row
// p's blocks; one zero vector without), WITHIN_XY: array<vec4f, NBETA_ARR>; family_within.

// The predictors' per-group means (group path); binding 10 (the stream form's scratch, unused
// by the register form).
@group(0) @binding(10) var<storage, read_write> predm: array<vec4f>;

struct BetaTerms {
  lp: f32,
  // d/dx of the family global (PRED_WITHIN with a family whose coefficient depends on x).
  g_x: f32,
  g: array<vec4f, NBETA_ARR>,
}

// The coefficients' prior and the Gaussian within-group term at beta (x: the family global).
fn beta_terms(beta: array<vec4f, NBETA_ARR>, x: f32, fg: vec4f) -> BetaTerms {
  var out: BetaTerms;
  out.lp = 0.0;
  out.g_x = 0.0;
  for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
    let t = (beta[q] - vec4f(BETA_LOC)) / BETA_SCALE * BETA_MASK[q];
    out.lp -= 0.5 * dot(t, t);
    out.g[q] = -t / BETA_SCALE;
  }
  if (PRED_WITHIN) {
    let cw = family_within(x, fg);
    var v = 0.0;
    for (var p = 0u; p < NP; p++) { // @unroll
      var row = 0.0;
      for (var q = 0u; q < NBETA_BLOCKS; q++) { // @unroll
        row += dot(WITHIN_XX[p * NBETA_ARR + q], beta[q]);
      }
      let bp = beta[p / 4u][p % 4u];
      let xy = WITHIN_XY[p / 4u][p % 4u];
      v += bp * (row - 2.0 * xy);
      out.g[p / 4u][p % 4u] += cw.x * 2.0 * (row - xy);
    }
    out.lp += cw.x * v;
    out.g_x = cw.y * v;
  }
  return out;
}

// The observation path's likelihood of block j's groups at theta (the block's theta_k) and
// the coefficients beta: per lane the sums over the group's observations (FamilyLik), and
// d/dbeta's partial sums over them. `nz`: the number of z blocks (where the chunks start).
struct ObsLik {
  l: FamilyLik,
  g: array<vec4f, NBETA_ARR>,
}

fn obs_lik(j: u32, nz: u32, theta: vec4f, beta: array<vec4f, NBETA_ARR>, fg: vec4f) -> ObsLik {
  var out: ObsLik;
  if (j >= nz) {
    return out;
  }
  let first = bitcast<vec4u>(predm[2u * j]);
  let count = bitcast<vec4u>(predm[2u * j + 1u]);
  let base = 2u * nz;
  for (var l = 0u; l < 4u; l++) { // @unroll
    var lp = vec4f(0.0);
    var d = vec4f(0.0);
    var dg = vec4f(0.0);
    for (var c = 0u; c < count[l]; c++) {
      let at = base + (first[l] + c) * (2u + NP);
      var eta = vec4f(theta[l]);
      for (var p = 0u; p < NP; p++) { // @unroll
        eta += predm[at + 2u + p] * beta[p / 4u][p % 4u];
      }
      let lk = family_lik(eta, predm[at], predm[at + 1u], fg);
      lp += lk.lp;
      d += lk.d;
      dg += lk.dg;
      for (var p = 0u; p < NP; p++) { // @unroll
        out.g[p / 4u][p % 4u] += dot(lk.d, predm[at + 2u + p]);
      }
    }
    let ones = vec4f(1.0);
    out.l.lp[l] = dot(lp, ones);
    out.l.d[l] = dot(d, ones);
    out.l.dg[l] = dot(dg, ones);
  }
  return out;
}
