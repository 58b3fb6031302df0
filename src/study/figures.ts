/**
 * The data behind the study's figures for one run (Betancourt's case study; SEED.md,
 * "Figures the study drew"), decimated to what a page can draw: thousands of chains give
 * millions of draws, so each figure keeps an evenly strided subset and says how many it shows.
 * Pure: plain arrays of numbers, ready for JSON.
 */
import { autocorrelation } from '../diagnostics/acf.ts';
import { thetaOf } from '../model/model.ts';
import type { ModelLayout } from '../model/layout.ts';
import { xorshift32Uniforms } from '../sampler/rng.ts';
import type { ExactPosterior } from '../model/posterior.ts';
import { logTauPriorNormalizer, logTauPriorUnconstrained, type TauPrior } from '../model/priors.ts';
import type { Summary } from '../diagnostics/summary.ts';
import type { SampleResult } from '../sampler/sample.ts';
import type { RunReport } from '../sampler/report.ts';
import { exactFor, type CompareRow } from '../compare/compare.ts';
import type { SeedTruth } from './seed.ts';

/** Chains drawn in trace plots (the study drew its 4). */
export const TRACE_CHAINS = 4;
/** Most points per chain in a trace plot (draws beyond are strided). */
export const TRACE_MAX_POINTS = 1000;
/** Most draws per funnel panel (all chains pooled, evenly strided). */
export const FUNNEL_MAX_POINTS = 1500;
/** Most divergent positions per funnel panel. */
export const FUNNEL_MAX_DIVERGENCES = 500;
/** Histogram bins of tau's posterior. */
export const TAU_BINS = 60;
/** Lags of the autocorrelation plots, and the most chains averaged for them. */
export const ACF_LAGS = 50;
export const ACF_CHAINS = 64;
/** Posterior draws used for the predictive check (evenly strided). */
export const PPC_DRAWS = 20_000;
/** E-BFMI values listed one by one in the diagnostics table (beyond: quantiles). */
export const EBFMI_LISTED = 8;

/**
 * For each non-centered group (null for centered ones): the share of z_k's posterior variance
 * explained by a least-squares fit z_k ~ a + b / tau + c mu / tau over the draws. When the data
 * pin theta_k, z_k = (theta_k - mu) / tau is a function of (mu, tau): the draws lie on a curved
 * ridge, the inverted funnel of the non-centered form, and the share is near 1 (0.993-0.996 for
 * every group of the strong data; 0.96 and 0.63 for the unbalanced data's groups 2 and 6 of
 * 1,000 and 100 observations). When z_k is independent of (mu, tau), as for weakly informed
 * groups, it is near 0 (0.000 on the weak data). Measured with 512 chains x 300 draws, seed 1.
 */
export function zRidgeShare(positions: ArrayLike<number>, n: number, layout: ModelLayout, c: ArrayLike<number>): (number | null)[] {
  const D = layout.dim;
  const iMu = layout.global('mu');
  const iLogTau = layout.global('log_tau');
  const iZ0 = layout.group(0);
  // Normal equations of the 3-column design [1, 1/tau, mu/tau], shared by all groups.
  const xtx = new Float64Array(9);
  const rows: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    const inv = Math.exp(-positions[i * D + iLogTau]);
    const row: [number, number, number] = [1, inv, positions[i * D + iMu] * inv];
    rows.push(row);
    for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) xtx[3 * p + q] += row[p] * row[q];
  }
  return Array.from(c, (ck, k) => {
    if (ck === 1 || n < 4) return null;
    const xty = [0, 0, 0];
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const z = positions[i * D + iZ0 + k];
      mean += z / n;
      for (let p = 0; p < 3; p++) xty[p] += rows[i][p] * z;
    }
    const beta = solve3(xtx, xty);
    let ssRes = 0;
    let ssTot = 0;
    for (let i = 0; i < n; i++) {
      const z = positions[i * D + iZ0 + k];
      const fit = beta[0] + beta[1] * rows[i][1] + beta[2] * rows[i][2];
      ssRes += (z - fit) ** 2;
      ssTot += (z - mean) ** 2;
    }
    return ssTot > 0 && beta.every(Number.isFinite) ? Math.max(0, 1 - ssRes / ssTot) : null;
  });
}

/** Solves the 3x3 system A x = b (A row-major) by Gaussian elimination with partial pivoting. */
function solve3(a: Float64Array, b: readonly number[]): number[] {
  const m = [0, 1, 2].map((r) => [a[3 * r], a[3 * r + 1], a[3 * r + 2], b[r]]);
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
    [m[col], m[piv]] = [m[piv], m[col]];
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const f = m[r][col] / m[col][col];
      for (let k = col; k < 4; k++) m[r][k] -= f * m[col][k];
    }
  }
  return m.map((row, i) => row[3] / row[i]);
}

/** Significant digits kept in the page's data (plots need no more). */
const DIGITS = 4;
const r = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(DIGITS)) : null);
const arr = (xs: ArrayLike<number>) => Array.from(xs, r);

/** Indices 0..n-1 strided down to at most `max`. */
function strided(n: number, max: number): number[] {
  const step = Math.max(1, Math.ceil(n / max));
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  return out;
}

/** Deterministic standard normals (xorshift32 + Box-Muller) so the page is the same run to run. */
function normals(n: number, seed: number): Float64Array {
  const u = xorshift32Uniforms(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const a = Math.sqrt(-2 * Math.log(u()));
    const b = 2 * Math.PI * u();
    out[i] = a * Math.cos(b);
    if (i + 1 < n) out[i + 1] = a * Math.sin(b);
  }
  return out;
}

function quantiles(xs: Float64Array, ps: readonly number[]): number[] {
  const s = Float64Array.from(xs).sort();
  return ps.map((p) => {
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
  });
}

/** The figures' data for one run; see the page script (`src/report/page.js`) for how each is drawn. */
export interface CaseFigures {
  readonly trace: { draw: (number | null)[]; mu: (number | null)[][]; logTau: (number | null)[][]; chains: number; shownDraws: number; draws: number };
  readonly funnel: {
    /** Pooled, strided draws: log tau, and per group theta_k and z_k (z omitted for centered groups, where z = theta). */
    logTau: (number | null)[];
    theta: (number | null)[][];
    z: ((number | null)[] | null)[];
    /** Divergent positions: log tau, theta_k and z_k where the transition diverged. */
    divLogTau: (number | null)[];
    divTheta: (number | null)[][];
    divZ: (number | null)[][];
    shown: number;
    total: number;
    divShown: number;
    divTotal: number;
    /** `zRidgeShare` per group (null for centered groups). */
    zRidge: (number | null)[];
  };
  readonly tau: { x: (number | null)[]; hist: (number | null)[]; exact: (number | null)[]; prior: (number | null)[]; truth: number; draws: number; outside: number };
  readonly ppc: { lo: number[]; mid: number[]; hi: number[]; meanLo: number[]; meanHi: number[]; observedMean: number[] };
  readonly acf: { lag: number[]; mu: (number | null)[]; tau: (number | null)[]; chains: number };
  readonly diagnostics: {
    divergences: number;
    transitions: number;
    ebfmi: { listed: (number | null)[]; chains: number; min: number; q25: number; median: number; q75: number; max: number };
    stepSize: number;
    trajectoryLength: number;
    leapfrog: number;
    essBulkMinPerS: number;
    essBulkTauPerS: number;
    essTailMinPerS: number;
    rhatMax: number;
    wallS: number;
    params: { name: string; mean: number; sd: number; exactMean: number | null; exactSd: number | null; essBulk: number; essTail: number; rhat: number; devMcse: number | null }[];
  };
}

/** Builds one run's figure data (decimated) from its result, report, summary and comparison row. */
export function caseFigures(
  result: SampleResult,
  report: RunReport,
  summary: Summary,
  row: CompareRow,
  exact: ExactPosterior,
  truth: SeedTruth,
  tauPrior: TauPrior,
): CaseFigures {
  const rec = result.records;
  const chains = rec.retainedChains;
  const draws = rec.draws;
  const D = result.model.dim;
  const iMu = result.model.layout.global('mu');
  const iLogTau = result.model.layout.global('log_tau');
  const iZ0 = result.model.layout.group(0);
  const K = result.model.stats.K;
  const c = result.model.c;
  const mu = result.params.mu;
  const logTau = result.params.log_tau;
  const tauDraws = result.params.tau;

  // Traces: the first chains, strided draws.
  const tChains = Math.min(TRACE_CHAINS, chains);
  const tIdx = strided(draws, TRACE_MAX_POINTS);
  const trace = {
    draw: tIdx.map((d) => d + 1),
    mu: Array.from({ length: tChains }, (_, ch) => tIdx.map((d) => r(mu[ch * draws + d]))),
    logTau: Array.from({ length: tChains }, (_, ch) => tIdx.map((d) => r(logTau[ch * draws + d]))),
    chains: tChains,
    shownDraws: tIdx.length,
    draws,
  };

  // Funnels: pooled draws of all retained chains, strided; divergent positions, strided.
  const n = chains * draws;
  const fIdx = strided(n, FUNNEL_MAX_POINTS);
  const pos = rec.positions;
  const theta = Array.from({ length: K }, (_, k) => fIdx.map((i) => r(result.params[`theta[${result.model.stats.labels[k]}]`][i])));
  const z = Array.from({ length: K }, (_, k) => (c[k] === 1 ? null : fIdx.map((i) => r(pos[i * D + iZ0 + k]))));
  const nDiv = rec.divergentChain.length;
  const dIdx = strided(nDiv, FUNNEL_MAX_DIVERGENCES);
  const dp = rec.divergentPositions;
  const divTheta = Array.from({ length: K }, (_, k) =>
    dIdx.map((i) => r(thetaOf(dp[i * D + iMu], dp[i * D + iLogTau], dp[i * D + iZ0 + k], c[k]))),
  );
  const funnel = {
    logTau: fIdx.map((i) => r(logTau[i])),
    theta,
    z,
    divLogTau: dIdx.map((i) => r(dp[i * D + iLogTau])),
    divTheta,
    divZ: Array.from({ length: K }, (_, k) => dIdx.map((i) => r(dp[i * D + iZ0 + k]))),
    shown: fIdx.length,
    total: n,
    divShown: dIdx.length,
    divTotal: nDiv,
    zRidge: zRidgeShare(pos, n, result.model.layout, c).map((v) => (v === null ? null : r(v))),
  };

  // tau: histogram (density), the exact posterior density and the prior, at the bin centres.
  const tSorted = Float64Array.from(tauDraws).sort();
  const upper = Math.max(tSorted[Math.floor(0.995 * (tSorted.length - 1))], truth.tau * 1.3, exact.tau.q95 * 1.2);
  const width = upper / TAU_BINS;
  const counts = new Float64Array(TAU_BINS);
  let inRange = 0;
  for (const t of tauDraws) {
    const b = Math.floor(t / width);
    if (b >= 0 && b < TAU_BINS) {
      counts[b]++;
      inRange++;
    }
  }
  const x = Array.from({ length: TAU_BINS }, (_, b) => (b + 0.5) * width);
  const gs = exact.grid.s;
  const gd = exact.grid.density;
  /** Exact density of tau: p_s(log tau) / tau, interpolated on the quadrature grid. */
  const exactTau = (t: number) => {
    const s = Math.log(t);
    const j = (s - gs[0]) / exact.grid.h;
    if (!(j >= 0 && j < gs.length - 1)) return 0;
    const lo = Math.floor(j);
    return (gd[lo] + (j - lo) * (gd[lo + 1] - gd[lo])) / t;
  };
  const priorTau = (t: number) => Math.exp(logTauPriorUnconstrained(tauPrior, Math.log(t)).value - Math.log(t) + logTauPriorNormalizer(tauPrior));
  const tau = {
    x: arr(x),
    hist: arr(Array.from(counts, (cnt) => cnt / (n * width))),
    exact: arr(x.map(exactTau)),
    prior: arr(x.map(priorTau)),
    truth: truth.tau,
    draws: n,
    outside: n - inRange,
  };

  // Posterior predictive check per group: y_rep of one observation (theta_k + sigma eps) and
  // of the group's mean (theta_k + se_k eps), 5/50/95% quantiles, against the observed data.
  const pIdx = strided(n, PPC_DRAWS);
  const eps = normals(pIdx.length * 2, 12345);
  const stats = result.model.stats;
  const ppc = { lo: [] as number[], mid: [] as number[], hi: [] as number[], meanLo: [] as number[], meanHi: [] as number[], observedMean: [] as number[] };
  for (let k = 0; k < K; k++) {
    const th = result.params[`theta[${stats.labels[k]}]`];
    const se = stats.n[k] > 0 ? stats.se[k] : NaN;
    // One observation's sd: se_k sqrt(n_k), exact when the group's observations share one sigma
    // (as in the seed data), else their precision-weighted (harmonic) mean.
    const sigmaK = se * Math.sqrt(stats.n[k]);
    const one = Float64Array.from(pIdx, (i, j) => th[i] + sigmaK * eps[2 * j]);
    const mean = Float64Array.from(pIdx, (i, j) => th[i] + se * eps[2 * j + 1]);
    const [lo, mid, hi] = quantiles(one, [0.05, 0.5, 0.95]);
    const [mlo, mhi] = quantiles(mean, [0.05, 0.95]);
    ppc.lo.push(r(lo) ?? NaN);
    ppc.mid.push(r(mid) ?? NaN);
    ppc.hi.push(r(hi) ?? NaN);
    ppc.meanLo.push(r(mlo) ?? NaN);
    ppc.meanHi.push(r(mhi) ?? NaN);
    ppc.observedMean.push(r(stats.ybar[k]) ?? NaN);
  }

  // Autocorrelation of mu and tau, averaged over the first chains.
  const aChains = Math.min(ACF_CHAINS, chains);
  const lags = Math.min(ACF_LAGS, draws - 1);
  const acfMean = (v: Float32Array | Float64Array) => {
    const acc = new Float64Array(lags + 1);
    for (let ch = 0; ch < aChains; ch++) {
      const a = autocorrelation(v.subarray(ch * draws, (ch + 1) * draws));
      for (let l = 0; l <= lags; l++) acc[l] += a[l] / aChains;
    }
    return arr(acc);
  };
  const acf = { lag: Array.from({ length: lags + 1 }, (_, l) => l), mu: acfMean(mu), tau: acfMean(tauDraws), chains: aChains };

  const e = Float64Array.from(summary.ebfmi).sort();
  const q = (p: number) => (e.length ? e[Math.round(p * (e.length - 1))] : NaN);
  const diagnostics = {
    divergences: row.divergences,
    transitions: row.transitions,
    ebfmi: { listed: arr(summary.ebfmi.slice(0, EBFMI_LISTED)), chains: e.length, min: q(0), q25: q(0.25), median: q(0.5), q75: q(0.75), max: q(1) },
    stepSize: row.step_size,
    trajectoryLength: row.trajectory_length,
    leapfrog: row.mean_leapfrog_steps,
    essBulkMinPerS: row.ess_bulk_min_per_s,
    essBulkTauPerS: row.ess_bulk_tau_per_s,
    essTailMinPerS: row.ess_tail_min_per_s,
    rhatMax: row.rhat_max,
    wallS: row.wall_s,
    params: Object.entries(report.params).map(([name, p]) => {
      const ex = exactFor(name, exact);
      return {
        name,
        mean: p.mean,
        sd: p.sd,
        exactMean: ex?.mean ?? null,
        exactSd: ex?.sd ?? null,
        essBulk: p.ess_bulk,
        essTail: p.ess_tail,
        rhat: p.rhat,
        devMcse: ex ? (p.mean - ex.mean) / p.mcse_mean : null,
      };
    }),
  };
  return { trace, funnel, tau, ppc, acf, diagnostics };
}
