import { familyGlobalOf, type HierModel } from '../model/model.ts';
import { fieldsOf } from '../model/suffstats.ts';
import { initialPositions, type PhiloxKey } from './rng.ts';
import { medianFinite } from '../diagnostics/quantile.ts';
import { predictorFit, predictorOffsets } from '../model/predictors.ts';

/** max(1, sd) of each predictor over the terms the model keeps (groups' means or observations). */
function predictorSpread(model: HierModel): Float64Array {
  const pr = model.predictors!;
  const P = pr.P;
  const rows = pr.path === 'observation' ? pr.obs!.X : pr.m;
  const n = rows.length / P;
  const out = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < n; r++) {
      s += rows[r * P + p];
      s2 += rows[r * P + p] ** 2;
    }
    const v = n > 1 ? (s2 - (s * s) / n) / (n - 1) : 0;
    out[p] = Math.max(1, Math.sqrt(Math.max(0, v)));
  }
  return out;
}

/** max |x_p| of each predictor over the terms the model keeps. */
function predictorRange(model: HierModel): Float64Array {
  const pr = model.predictors!;
  const P = pr.P;
  const rows = pr.path === 'observation' ? pr.obs!.X : pr.m;
  const out = new Float64Array(P);
  for (let r = 0; r < rows.length; r++) out[r % P] = Math.max(out[r % P], Math.abs(rows[r]));
  return out;
}

/**
 * Where the chains start: uniform on (-2, 2) in every unconstrained coordinate (Stan's
 * default; `initialPositions`), in the units the model runs in.
 *
 * For a family whose data are moved to standardized units (normal, `model/scale.ts`) those
 * units already put the data near 0 with spread O(1), and the box is used as it is. A family
 * whose theta has fixed units (a logit, a log rate) gets the same box about the centre of its
 * data instead, m = the median of the groups' own estimates (`family.approx`): mu = m + u_mu and
 * z_k = u_k + c_k m, so theta_k = m + u_mu + tau^(1-c_k) (u_k - c_k u_mu) whatever c_k; and log
 * tau in (-2, 0), tau within (e^-2, 1), since theta's spread is O(1) on these scales. From the
 * plain box, rates of e^(mu + tau z) up to e^16 times the data's put chains where every
 * trajectory diverges, and with one step size for all chains they never leave (3 of 256
 * chains on a Poisson set with exposures up to 200). With predictors such a family's
 * coefficients start about a precision-weighted least-squares fit of the groups' estimates on
 * them (`predictorFit`) and m is the median of what the fit leaves of those estimates: from the
 * box, x . beta up to +-5 on posteriordb's GLMM_Poisson (year^3 up to 4.6) put chains at
 * rates e^5 times the data's, the shared step size collapsed and no chain recovered.
 */
export function startingPositions(model: HierModel, key: PhiloxKey, chains: number, superchains?: number): Float64Array {
  const K = model.stats.K;
  const q = initialPositions(key, chains, K, superchains, model.layout.beta.start, model.layout.beta.count);
  const pr = model.predictors;
  const B0 = model.layout.beta.start;
  // Where the data fix the units (counts), the coefficients start about the data's own fit
  // (`predictorFit`) and the groups about what the predictors leave of their estimates.
  const fit = pr && !model.stats.family.scalable ? predictorFit(model.stats, pr) : undefined;
  if (pr) {
    // Coefficients start where x . beta stays O(1): (-2, 2) / max(1, sd of the predictor) in
    // standardized units; about the fit, (-2, 2) / (2 P max |x_p|), within 1 of it in x . beta.
    const spread = fit ? predictorRange(model).map((r) => 2 * pr.P * Math.max(r, 1e-300)) : predictorSpread(model);
    for (let ch = 0; ch < chains; ch++) for (let p = 0; p < pr.P; p++) q[ch * model.dim + B0 + p] = (fit ? fit[p + 1] : 0) + q[ch * model.dim + B0 + p] / spread[p];
  }
  // A family's global (log sigma) starts in its family's interval: (-2, 2) -> centre +- width/2.
  const fg = familyGlobalOf(model);
  if (fg) {
    const { centre, width } = fg.global.start(fieldsOf(model.stats));
    for (let ch = 0; ch < chains; ch++) q[ch * model.dim + fg.index] = centre + (width / 4) * q[ch * model.dim + fg.index];
  }
  if (model.stats.family.scalable) return q;
  const offsets = fit && pr ? predictorOffsets(pr, K, fit.subarray(1)) : undefined;
  const withData = model.stats.ybar.map((y, k) => y - (offsets ? offsets[k] : 0)).filter((_, k) => model.stats.n[k] > 0);
  const m = withData.length > 0 ? medianFinite(withData) : 0;
  const { layout, c } = model;
  const iMu = layout.global('mu');
  const iLogTau = layout.global('log_tau');
  const D = layout.dim;
  for (let ch = 0; ch < chains; ch++) {
    const row = ch * D;
    q[row + iMu] += m;
    // (-2, 2) -> (-2, 0)
    q[row + iLogTau] = -1 + 0.5 * q[row + iLogTau];
    for (let k = 0; k < K; k++) q[row + layout.group(k)] += c[k] * m;
  }
  return q;
}
