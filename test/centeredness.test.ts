/**
 * `--param auto`: the centeredness rule, the exact state transform when c changes (against
 * the float64 model), both backends' reparameterize, and determinism of auto runs.
 */
import { makeLayout } from '../src/model/layout.ts';
import { afterAll, describe, expect, it } from 'vitest';
import {
  centerednessFor,
  centerednessOver,
  centerednessWindowEnds,
  CHANGE_TOLERANCE,
  dersimonianLairdTau2,
  ensembleTau2,
  ensembleTheta,
  init,
  logTauRange,
  precisionAt,
  seDependsOnTheta,
  parameterizationAdvice,
  SNAP_DISTANCE,
  TAIL_PROBABILITY,
  update,
  type LogTauRange,
} from '../src/adaptation/centeredness.ts';
import { exactPosterior } from '../src/model/posterior.ts';
import { readFileSync } from 'node:fs';
import { constrain, logDensity, logDensityGrad, makeModel, reparameterizationLogJacobian, reparameterizePositions, withCenteredness, type HierModel } from '../src/model/model.ts';
import { groupStats, type GroupStats } from '../src/model/suffstats.ts';
import { mulberry32 } from '../src/gpu/kernel_check.ts';
import { createCpuBackend } from '../src/sampler/cpu_backend.ts';
import { createWebGpuBackend } from '../src/sampler/gpu_backend.ts';
import { initialPositions, keyFromSeed } from '../src/sampler/rng.ts';
import { sample } from '../src/sampler/sample.ts';
import { reportRun } from '../src/sampler/report.ts';
import type { Backend } from '../src/sampler/backend.ts';
import { seedData, testGpu } from './gpu_helpers.ts';
import { wideData } from './wide_data.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Random unconstrained positions around the region the posterior cares about (and beyond). */
function randomPositions(u: () => number, chains: number, K: number): Float64Array {
  const D = K + 2;
  const q = new Float64Array(chains * D);
  for (let c = 0; c < chains; c++) {
    q[c * D] = -5 + 15 * u();
    q[c * D + 1] = -4 + 6.5 * u();
    for (let k = 0; k < K; k++) q[c * D + 2 + k] = 3 * normal(u);
  }
  return q;
}

describe('the centeredness rule', () => {
  const stats = (se: number[]): GroupStats => groupStats({
    y: Float64Array.from(se, (_, k) => k),
    group: Int32Array.from(se, (_, k) => k),
    sigma: Float64Array.from(se),
    K: se.length,
    labels: se.map((_, k) => String(k)),
  });

  it('is c_k = tau^2 / (tau^2 + se_k^2), snapped near 0 and 1; auto-binary rounds; empty groups are non-centered', () => {
    const se = [0.5, 1.5, 2, 3, 10, 0.01];
    const st = stats(se);
    const tau2 = 4;
    const exact = se.map((x) => tau2 / (tau2 + x * x));
    const c = centerednessFor(st, tau2, false);
    for (let k = 0; k < exact.length; k++) {
      const want = exact[k] <= SNAP_DISTANCE ? 0 : exact[k] >= 1 - SNAP_DISTANCE ? 1 : exact[k];
      expect(c[k], `group ${k}`).toBeCloseTo(want, 12);
    }
    expect(Array.from(c).map((v) => Number(v.toFixed(6)))).toEqual([1, 0.64, 0.5, 0.307692, 0, 1]);
    expect(Array.from(centerednessFor(st, tau2, true))).toEqual([1, 1, 1, 0, 0, 1]);
    // A group without data (precision 0) and a non-finite tau^2.
    const empty = groupStats({ y: new Float64Array([1, 2]), group: new Int32Array([0, 0]), sigma: new Float64Array([1, 1]), K: 2, labels: ['a', 'b'] });
    expect(Array.from(centerednessFor(empty, 100, false))).toEqual([1, 0]);
    expect(Array.from(centerednessFor(empty, NaN, false))).toEqual([0, 0]);
  });

  it('balances the scale of z_k over the range of log tau: the secant slope of g_k(s) = log sqrt(1 + e^{2s}/se_k^2)', () => {
    const se = [0.5, 1.5, 2, 3, 10, 0.01];
    const st = stats(se);
    const range: LogTauRange = { lo: Math.log(0.05), median: Math.log(2), hi: Math.log(8) };
    const g = (s: number, x: number) => 0.5 * Math.log(1 + Math.exp(2 * s) / (x * x));
    const c = centerednessOver(st, range, false);
    for (let k = 0; k < se.length; k++) {
      const v = (g(range.hi, se[k]) - g(range.lo, se[k])) / (range.hi - range.lo);
      const want = v <= SNAP_DISTANCE ? 0 : v >= 1 - SNAP_DISTANCE ? 1 : v;
      expect(c[k], `group ${k}`).toBeCloseTo(want, 12);
      if (want > 0 && want < 1) {
        // The conditional sd of z_k, tau^c / sqrt(1 + tau^2/se^2), is equal at both ends.
        const sd = (s: number) => Math.exp(c[k] * s - g(s, se[k]));
        expect(sd(range.lo) / sd(range.hi)).toBeCloseTo(1, 12);
      }
    }
    // The secant lies below the tangent rule for a strongly informed group (the neck at small tau).
    expect(c[0]).toBeLessThan(centerednessFor(st, 4, false)[0]);
    // A range of one point is the tangent rule there; binary rounds.
    const point = { lo: Math.log(2), median: Math.log(2), hi: Math.log(2) };
    expect(Array.from(centerednessOver(st, point, false))).toEqual(Array.from(centerednessFor(st, 4, false)));
    expect(Array.from(centerednessOver(st, range, true))).toEqual(Array.from(c, (v) => (v >= 0.5 ? 1 : 0)));
  });

  it('takes the range of log tau from the marginal posterior: quantiles of the exact one for normal data', () => {
    const data = seedData('weak');
    const r = logTauRange(groupStats(data));
    const exact = exactPosterior(data);
    expect(r.median).toBeCloseTo(exact.logTau.q50, 2);
    // The grid's cumulative mass at lo and hi.
    const { s, weight } = exact.grid;
    let below = 0;
    let above = 0;
    for (let i = 0; i < s.length; i++) {
      if (s[i] < r.lo) below += weight[i];
      if (s[i] > r.hi) above += weight[i];
    }
    expect(below / TAIL_PROBABILITY).toBeGreaterThan(0.7);
    expect(below / TAIL_PROBABILITY).toBeLessThan(1.3);
    expect(above / TAIL_PROBABILITY).toBeGreaterThan(0.7);
    expect(above / TAIL_PROBABILITY).toBeLessThan(1.3);
  });

  it('picks the expected c on the seed sets and the surgical data (binomial)', () => {
    expect(Array.from(init(groupStats(seedData('weak')), 1000, 'auto').c)).toEqual(new Array(9).fill(0));
    expect(Array.from(init(groupStats(seedData('strong')), 1000, 'auto').c)).toEqual(new Array(9).fill(1));
    const unb = init(groupStats(seedData('unbalanced')), 1000, 'auto').c;
    expect(unb[2]).toBe(1);
    expect(unb[6]).toBeGreaterThan(0.5);
    expect(unb[6]).toBeLessThan(0.8);
    expect(unb[4]).toBe(0);
    // Surgical (posterior tau ~0.1-0.9, positive density at 0): the tangent rule at the
    // median tau centred the se ~0.15 hospitals; over the tail the run visits, every c is
    // at most ~0.4.
    const raw = JSON.parse(readFileSync(new URL('./reference/data/binomial_surgical.json', import.meta.url), 'utf8'));
    const surgical = groupStats({ likelihood: 'binomial', y: Float64Array.from(raw.y), group: Int32Array.from(raw.group), sigma: new Float64Array(0), columns: { trials: Float64Array.from(raw.trials) }, K: raw.K, labels: raw.labels });
    const s = init(surgical, 1000, 'auto');
    expect(Math.max(...s.c)).toBeLessThan(0.4);
    expect(Math.max(...centerednessFor(surgical, s.initialTau ** 2, false))).toBe(1);
  });

  it('estimates tau^2 by DerSimonian–Laird before warmup (checked by hand) and by the ensemble median of tau^2 after', () => {
    // ybar = 0, 1, 2, 3 with se = 1: w = 1, ybar_w = 1.5, Q = 2.25 + 0.25 + 0.25 + 2.25 = 5,
    // tau^2 = (5 - 3) / (4 - 4/4) = 2/3.
    expect(dersimonianLairdTau2(stats([1, 1, 1, 1]))).toBeCloseTo(2 / 3, 14);
    // Unequal weights: se = 1, 2 with ybar = 0, 1: w = 1, 1/4, ybar_w = 0.2, Q = 0.04 + 0.16 = 0.2 < 1 -> 0.
    expect(dersimonianLairdTau2(stats([1, 2]))).toBe(0);
    expect(dersimonianLairdTau2(stats([1]))).toBe(0);
    // Median over chains of tau^2 (log tau in column 1 of 3), non-finite ignored.
    const pos = Float64Array.from([0, Math.log(1), 0, 0, Math.log(3), 0, 0, Math.log(2), 0, 0, NaN, 0]);
    expect(ensembleTau2(pos, 4, 3, makeLayout(1).global('log_tau'))).toBeCloseTo(4, 12);
    expect(ensembleTau2(pos.subarray(0, 6), 2, 3, makeLayout(1).global('log_tau'))).toBeCloseTo(3, 12);
    expect(ensembleTau2(Float64Array.from([0, NaN, 0]), 1, 3, makeLayout(1).global('log_tau'))).toBeNaN();
  });

  it('updates at the window ends, applies only changes above the tolerance, and records where c settled', () => {
    expect(centerednessWindowEnds(1000)).toEqual([75, 150, 300, 500]);
    expect(centerednessWindowEnds(10)).toEqual([1, 3, 5]);
    expect(centerednessWindowEnds(1)).toEqual([]);
    const st = stats([1, 2, 3]);
    let s = init(st, 1000, 'auto');
    expect(s.c.length).toBe(3);
    expect(Array.from(s.c)).toEqual(Array.from(centerednessOver(st, s.range, false)));
    // The same range: nothing moves (the normal family's c is final from the start).
    let r = update(s, st, 75, 4);
    expect(r.changed).toBe(false);
    s = r.state;
    // Another range (as the model's priors would give): applied.
    const range = { lo: Math.log(0.5), median: Math.log(2), hi: Math.log(4) };
    r = update(s, st, 75, 4, st.precision, range);
    expect(r.changed).toBe(true);
    expect(Array.from(r.state.c)).toEqual(Array.from(centerednessOver(st, range, false)));
    s = r.state;
    // A range moving every c by less than the tolerance: not applied.
    const near = { ...range, hi: Math.log(4.1) };
    r = update(s, st, 150, 4.1, st.precision, near);
    const moved = Math.max(...Array.from(centerednessOver(st, near, false), (v, k) => Math.abs(v - s.c[k])));
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(CHANGE_TOLERANCE);
    expect(r.changed).toBe(false);
    expect(r.state.c).toBe(s.c);
    expect(r.state.settledWindow).toBe(2);
    expect(r.state.settledIteration).toBe(75);
    expect(r.state.updates.map((x) => x.changed)).toEqual([false, true, false]);
    expect(r.state.updates[2].tau).toBeCloseTo(Math.sqrt(4.1), 12);
  });

  it('non-normal families: se_k is the Fisher information at the ensemble\'s median theta_k; the normal family keeps its data se', () => {
    // Binomial: 0 of 2 (weak), 1,500 of 5,000 (strong), 3 of 10, and a group without data.
    const data = {
      likelihood: 'binomial',
      y: Float64Array.from([0, 1500, 3]),
      group: Int32Array.from([0, 1, 2]),
      sigma: new Float64Array(0),
      columns: { trials: Float64Array.from([2, 5000, 10]) },
      K: 4,
      labels: ['a', 'b', 'c', 'd'],
    };
    const st = groupStats(data);
    expect(seDependsOnTheta(st)).toBe(true);
    expect(seDependsOnTheta(groupStats(seedData('weak')))).toBe(false);
    // T p (1 - p) at theta; 0 without data; the data's precision where theta is not finite.
    const theta = [-1, 0.3, 2, 0];
    const p = precisionAt(st, theta);
    for (const k of [0, 1, 2]) {
      const pk = 1 / (1 + Math.exp(-theta[k]));
      expect(p[k]).toBeCloseTo(data.columns.trials[k] * pk * (1 - pk), 9);
    }
    expect(p[3]).toBe(0);
    expect(precisionAt(st, [NaN, 0, 0, 0])[0]).toBe(st.precision[0]);
    // Median over chains of theta_k = mu + tau^(1-c) (z - c mu): three chains, K = 4.
    const layout = makeLayout(4);
    const c = Float64Array.from([0, 1, 0.5, 0]);
    const pos = Float64Array.from([
      [1, Math.log(2), 0.5, 3, 1, 7],
      [0, 0, -1, 2, 4, NaN],
      [2, Math.log(0.5), 2, 1, 0, 7],
    ].flat());
    const th = ensembleTheta(pos, 3, layout, c);
    // chain 0: mu 1, tau 2: theta = 1 + 2 * 0.5, 3, 1 + sqrt(2) (1 - 0.5), 1 + 2 * 7
    // chain 1: mu 0, tau 1: -1, 2, 4, NaN;  chain 2: mu 2, tau 0.5: 3, 1, 2 + sqrt(0.5) (0 - 1), 2 + 3.5
    expect(th[0]).toBeCloseTo(2, 12);
    expect(th[1]).toBeCloseTo(2, 12);
    expect(th[2]).toBeCloseTo(1 + Math.SQRT2 * 0.5, 12);
    expect(th[3]).toBeCloseTo((15 + 5.5) / 2, 12);
    // At tau = 0.5: the 5,000-trial group is centered, the 2-trial group non-centered, at the
    // data's estimate and at the ensemble's theta alike; the 0-of-2 group's data estimate
    // (p = 0.17) and a posterior theta of 0 (p = 1/2) give it different information.
    const s0 = init(st, 1000, 'auto');
    const atHalf = { lo: Math.log(0.5), median: Math.log(0.5), hi: Math.log(0.5) };
    const r = update(s0, st, 75, 0.25, precisionAt(st, [0, -0.85, -1, 0]), atHalf);
    expect(Array.from(r.state.c.subarray(0, 2))).toEqual([0, 1]);
    const atData = centerednessFor(st, 4, false);
    const atZero = centerednessFor(st, 4, false, precisionAt(st, [0, -0.85, -1, 0]));
    expect(atData[0]).not.toBe(atZero[0]);
    expect(atZero[0]).toBeCloseTo((4 * 0.5) / (4 * 0.5 + 1), 12);
  });

  it('advises the cure for a fixed parameterization from the posterior tau', () => {
    const strong = groupStats(seedData('strong'));
    expect(parameterizationAdvice(strong, new Float64Array(9), 3.5 ** 2)).toMatch(/9 of 9 groups are strongly informed.*try --param auto or centered/);
    expect(parameterizationAdvice(strong, new Float64Array(9).fill(1), 3.5 ** 2)).toBeUndefined();
    const weak = groupStats(seedData('weak'));
    expect(parameterizationAdvice(weak, new Float64Array(9).fill(1), 3 ** 2)).toMatch(/9 of 9 groups are weakly informed.*try --param auto or noncentered/);
    const unb = groupStats(seedData('unbalanced'));
    const advice = parameterizationAdvice(unb, new Float64Array(9), 3.5 ** 2);
    expect(advice).toMatch(/strongly informed .* but non-centered: try --param auto\.$/);
  });
});

describe('the state transform when c changes (float64 model)', () => {
  const data = { unbalanced: seedData('unbalanced'), wide: wideData(100) };
  for (const [name, d] of Object.entries(data)) {
    it(`${name}: theta, mu and tau are unchanged and log p differs by the Jacobian only`, () => {
      const u = mulberry32(7);
      const K = d.K;
      const cs = [new Float64Array(K), new Float64Array(K).fill(1), Float64Array.from({ length: K }, () => u()), Float64Array.from({ length: K }, () => (u() < 0.5 ? 0 : 1))];
      const chains = K > 20 ? 6 : 20;
      const q = randomPositions(u, chains, K);
      const D = K + 2;
      for (const c0 of cs) {
        for (const c1 of cs) {
          const from = makeModel(d, c0);
          const to = withCenteredness(from, c1);
          const q1 = reparameterizePositions(from, to, q, chains);
          // Round trip.
          const back = reparameterizePositions(to, from, q1, chains);
          for (let i = 0; i < q.length; i++) expect(back[i]).toBeCloseTo(q[i], 9);
          for (let ch = 0; ch < chains; ch++) {
            const a = q.subarray(ch * D, (ch + 1) * D);
            const b = q1.subarray(ch * D, (ch + 1) * D);
            const pa = constrain(from, a);
            const pb = constrain(to, b);
            expect(pb.mu).toBe(pa.mu);
            expect(pb.tau).toBe(pa.tau);
            for (let k = 0; k < K; k++) expect(Math.abs(pb.theta[k] - pa.theta[k])).toBeLessThanOrEqual(1e-11 * (1 + Math.abs(pa.theta[k])));
            const lpa = logDensity(from, a);
            const lpb = logDensity(to, b);
            const jac = reparameterizationLogJacobian(from, to, a[from.layout.global('log_tau')]);
            expect(Math.abs(lpb - (lpa + jac)), `log p: ${lpb} vs ${lpa} + ${jac}`).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lpa)));
          }
        }
      }
    });
  }

  it('the Jacobian is the determinant of the map (finite differences, one chain)', () => {
    const d = seedData('unbalanced');
    const u = mulberry32(3);
    const from = makeModel(d, Float64Array.from({ length: 9 }, () => u()));
    const to = withCenteredness(from, Float64Array.from({ length: 9 }, () => u()));
    const q = randomPositions(u, 1, 9);
    // The map is triangular (mu, s kept; z'_k depends on z_k, mu, s): det = prod dz'_k/dz_k.
    let logDet = 0;
    const h = 1e-6;
    for (let k = 0; k < 9; k++) {
      const qp = Float64Array.from(q);
      const qm = Float64Array.from(q);
      qp[2 + k] += h;
      qm[2 + k] -= h;
      const dz = (reparameterizePositions(from, to, qp, 1)[2 + k] - reparameterizePositions(from, to, qm, 1)[2 + k]) / (2 * h);
      logDet += Math.log(Math.abs(dz));
    }
    // log |dq/dq'| = -log |dq'/dq|.
    expect(reparameterizationLogJacobian(from, to, q[from.layout.global('log_tau')])).toBeCloseTo(-logDet, 6);
  });
});

/** Checks a backend's reparameterize: positions move exactly, and the next transitions match a backend built for the new c. */
async function checkBackendReparameterize(make: (m: HierModel) => Promise<Backend>, tol: number, d = seedData('unbalanced')) {
  const chains = 64;
  const K = d.K;
  const from = makeModel(d, new Float64Array(K));
  const to = withCenteredness(from, Float64Array.from({ length: K }, (_, k) => [0.6, 0.4, 1, 0.6, 0, 0.4, 1, 0.6, 0.4][k % 9]));
  const start = initialPositions(keyFromSeed(5), chains, K);
  const a = await make(from);
  const b = await make(to);
  try {
    await a.init(start);
    const invMass = new Float64Array(K + 2).fill(1);
    for (let it = 0; it < 3; it++) a.step({ iteration: it, stepSize: 0.1, numSteps: 5, invMass });
    const before = Float64Array.from(await a.positions());
    const moved = reparameterizePositions(from, to, before, chains);
    await a.reparameterize(to, moved);
    const after = Float64Array.from(await a.positions());
    for (let i = 0; i < after.length; i++) expect(Math.abs(after[i] - moved[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(moved[i])));
    // From here on `a` must behave exactly like a backend built for c' at the same state.
    await b.init(after);
    for (let it = 3; it < 6; it++) {
      a.step({ iteration: it, stepSize: 0.1, numSteps: 5, invMass });
      b.step({ iteration: it, stepSize: 0.1, numSteps: 5, invMass });
    }
    const [pa, pb] = [Float64Array.from(await a.positions()), Float64Array.from(await b.positions())];
    expect(Array.from(pa)).toEqual(Array.from(pb));
  } finally {
    a.destroy();
    b.destroy();
  }
}

describe('backends: reparameterize mid-warmup', () => {
  it('cpu: positions moved exactly, then the same transitions as a backend built for the new c', async () => {
    await checkBackendReparameterize((m) => createCpuBackend(m, 64, 9), 0);
  });
  it.skipIf(!gpu)('webgpu: the same (positions to float32 rounding), pipelines rebuilt for the new c', async () => {
    await checkBackendReparameterize((m) => createWebGpuBackend(m, 64, 9, gpu!), 1e-6);
  });
  it.skipIf(!gpu)('webgpu, wide model (K = 40: the wide kernel, c read from the group buffer): the same', async () => {
    await checkBackendReparameterize((m) => createWebGpuBackend(m, 64, 9, gpu!), 1e-6, wideData(40));
  });
});

describe('the report of a fixed parameterization in trouble names the cure', () => {
  it('strong × noncentered with a collapsed step size: try --param auto or centered; centered: no advice', async () => {
    const opts = { data: seedData('strong'), chains: 32, warmup: 60, draws: 40, seed: 2, backend: 'cpu' as const };
    const nc = await sample({ ...opts, parameterization: 'noncentered' });
    // The trouble itself takes a long run to show; its signature is set here directly.
    const collapsed = { ...nc, numSteps: new Int32Array(nc.draws).fill(150) };
    const w = reportRun(collapsed).report.warnings;
    expect(w.some((x) => /step size collapsed/.test(x)), w.join(' | ')).toBe(true);
    expect(w.some((x) => /9 of 9 groups are strongly informed .* but non-centered: try --param auto or centered/.test(x)), w.join(' | ')).toBe(true);
    const ce = await sample({ ...opts, parameterization: 'centered' });
    const w2 = reportRun({ ...ce, numSteps: new Int32Array(ce.draws).fill(150) }).report.warnings;
    expect(w2.some((x) => /try --param/.test(x)), w2.join(' | ')).toBe(false);
    // No trouble, no advice.
    expect(reportRun(nc).report.warnings.some((x) => /try --param/.test(x))).toBe(nc.totals.divergences > 0);
  });
});

describe('auto runs', () => {
  const opts = { data: seedData('unbalanced'), parameterization: 'auto', chains: 64, warmup: 80, draws: 40 } as const;
  it('cpu: same seed, same draws and the same learned c; the c settled and is reported', async () => {
    const [r1, r2, r3] = [await sample({ ...opts, seed: 4, backend: 'cpu' }), await sample({ ...opts, seed: 4, backend: 'cpu' }), await sample({ ...opts, seed: 5, backend: 'cpu' })];
    expect(Array.from(r1.params.mu)).toEqual(Array.from(r2.params.mu));
    expect(Array.from(r1.model.c)).toEqual(Array.from(r2.model.c));
    expect(Array.from(r1.params.mu)).not.toEqual(Array.from(r3.params.mu));
    const cr = r1.centeredness!;
    expect(cr.rule).toBe('auto');
    expect(cr.c).toBe(r1.model.c);
    expect(cr.updates.map((u) => u.iteration)).toEqual([6, 12, 24, 40]);
    expect(cr.settledWindow).toBeGreaterThanOrEqual(0);
    // Group 2 (1,000 observations, se 0.32) is centered, group 4 (one, se 10) non-centered.
    expect(r1.model.c[2]).toBe(1);
    expect(r1.model.c[4]).toBeLessThan(0.2);
    const { report } = reportRun(r1, 4);
    expect(report.centeredness?.c).toEqual(Array.from(r1.model.c));
    expect(report.data.parameterization).toEqual(Array.from(r1.model.c));
    const bin = await sample({ ...opts, parameterization: 'auto-binary', seed: 4, backend: 'cpu' });
    expect(bin.model.c.every((v) => v === 0 || v === 1)).toBe(true);
    expect(bin.centeredness!.rule).toBe('auto-binary');
  });

  it('cpu, binomial: the rule reads the Fisher information at the ensemble\'s theta; heavily informed groups centered, weak ones non-centered', async () => {
    // Trials 5,000 and 2,000 (se ~ 0.03) against 2 and 3 (se ~ 1.5): with tau ~ 0.5 the rule
    // gives c ~ 1 and, for the small groups, the mean of w_k over the range of tau the run
    // visits (up to tau's 1 - 1e-5 quantile, where w_k is larger than at the median), 0.25-0.36.
    const trials = [5000, 2, 2000, 3, 40, 400, 2, 5000];
    const succ = [1500, 0, 700, 2, 10, 90, 1, 1100];
    const data = {
      likelihood: 'binomial',
      y: Float64Array.from(succ),
      group: Int32Array.from(succ, (_, k) => k),
      sigma: new Float64Array(0),
      columns: { trials: Float64Array.from(trials) },
      K: 8,
      labels: succ.map((_, k) => String(k)),
    };
    const r = await sample({ data, parameterization: 'auto', chains: 64, warmup: 200, draws: 100, seed: 6, backend: 'cpu' });
    const c = r.model.c;
    for (const k of [0, 2, 7]) expect(c[k], `group ${k} (${trials[k]} trials)`).toBe(1);
    for (const k of [1, 3, 6]) expect(c[k], `group ${k} (${trials[k]} trials)`).toBeLessThan(0.4);
    expect(r.centeredness!.updates.length).toBe(4);
  });

  it.skipIf(!gpu)('webgpu: same seed, same draws with auto (device adaptation runs stop at the window ends)', async () => {
    const g = { ...opts, chains: 256, backend: 'webgpu' as const, gpu: gpu! };
    const [r1, r2] = [await sample({ ...g, seed: 4 }), await sample({ ...g, seed: 4 })];
    expect(Array.from(r1.params['theta[2]'])).toEqual(Array.from(r2.params['theta[2]']));
    expect(Array.from(r1.model.c)).toEqual(Array.from(r2.model.c));
    expect(r1.centeredness!.updates.map((u) => u.iteration)).toEqual([6, 12, 24, 40]);
  });
});
