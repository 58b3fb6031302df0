/**
 * Every registered likelihood family (src/model/families, FAMILIES) at the model widths where
 * the device's code changes: K = 1 (a single lane), 4 (one full block), 5 (a partial second
 * block), 17 (the first wide model), 150 (the wide kernel, many blocks) and 10,000 groups.
 * Each runs `sample()` on WebGPU, and the small ones on the float64 CPU backend too; the
 * data are the family's own (test/family_data.ts), so a new family is tested here by its
 * registration alone.
 *
 * Checked: every draw finite; a theta (and the family's outcome, where the report has it) for
 * every group; the chains moved; at K = 1 the posterior mean and sd of theta against a
 * quadrature of the posterior from the family's logLik; at K = 5 the device's means against a
 * long run of the float64 CPU backend on the same data.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/model/families/index.ts';
import { familyGlobals, type Family } from '../src/model/family.ts';
import { exactPosterior } from '../src/model/posterior.ts';
import type { HierData } from '../src/model/data.ts';
import { DEFAULT_PRIORS } from '../src/model/priors.ts';
import { sample, type SampleResult, type SampleOptions } from '../src/sampler/sample.ts';
import { reportRun, type RunReport } from '../src/sampler/report.ts';
import { testGpu } from './gpu_helpers.ts';
import { familyData } from './family_data.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

/** Run lengths by K: short (the file's budget is about a minute on SwiftShader), longer where a posterior is checked. */
function runLength(K: number): Pick<SampleOptions, 'chains' | 'warmup' | 'draws'> {
  if (K >= 10_000) return { chains: 16, warmup: 6, draws: 6 };
  if (K >= 100) return { chains: 32, warmup: 40, draws: 20 };
  return { chains: 64, warmup: 150, draws: 200 };
}

/** The checks every run must pass, whatever its length. */
function checkRun(family: Family, data: HierData, r: SampleResult): void {
  const { K, labels } = data;
  const thetaNames = labels.map((l) => `theta[${l}]`);
  const names = new Set(r.paramNames);
  for (const n of ['mu', 'tau', ...thetaNames]) expect(names.has(n), `${n} in the report`).toBe(true);
  // The family's outcome (p[...], rate[...]) when the report carries it: for every group, and
  // the outcome of the same draw's theta.
  const outcome = family.outcome;
  if (outcome && r.paramNames.some((n) => n.startsWith(`${outcome.name}[`))) {
    for (let k = 0; k < K; k += Math.max(1, Math.floor(K / 50))) {
      const o = r.params[`${outcome.name}[${labels[k]}]`];
      const t = r.params[thetaNames[k]];
      expect(o, `${outcome.name}[${labels[k]}]`).toBeDefined();
      for (let i = 0; i < t.length; i += 7) expect(o[i]).toBeCloseTo(outcome.of(t[i]), 4);
    }
  }
  for (const n of r.paramNames) {
    const v = r.params[n];
    expect(v.length, n).toBe(r.retainedChains * r.draws);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) expect.fail(`${n}: draw ${i} is ${v[i]}`);
  }
  for (const v of r.records.positions) if (!Number.isFinite(v)) expect.fail('a non-finite unconstrained position');
  // Chains moved: a retained chain's mu took more than one value over its draws; most chains
  // do, and at least half in the 6-draw runs of K = 10,000 (step size barely adapted).
  const mu = r.params.mu;
  let moved = 0;
  for (let c = 0; c < r.retainedChains; c++) {
    const row = mu.subarray(c * r.draws, (c + 1) * r.draws);
    if (row.some((x) => x !== row[0])) moved++;
  }
  expect(moved, 'chains that moved').toBeGreaterThanOrEqual(Math.ceil((K >= 10_000 ? 0.5 : 0.75) * r.retainedChains));
  expect(r.totals.meanAccept).toBeGreaterThan(0.2);
}

/**
 * Posterior mean and sd of theta for one group (K = 1) under the default priors (a family with a
 * global parameter: its exact posterior, `exactPosterior`), else by
 * quadrature: p(theta | y) ∝ exp(l(theta)) ∫ N(theta | m, sqrt(s_mu^2 + tau^2)) p(tau) dtau
 * (mu ~ Normal(m, s_mu) integrated out analytically), l the family's logLik of the group.
 * Midpoint rules: tau on (0, 12 S] in 600 steps; theta on 8,000 points around the
 * likelihood's estimate, the span doubled from 20 standard errors until both ends hold less
 * than 1e-9 of the peak (a count family's likelihood has one heavy exponential tail).
 */
function quadratureTheta(family: Family, data: HierData): { mean: number; sd: number } {
  // A family with a global parameter (sigma unknown): the exact posterior integrates it too.
  if (familyGlobals(family).length > 0) return exactPosterior(data).theta[0];
  const f = family.reduce(data);
  const { mu: muPrior, tau: tauPrior } = DEFAULT_PRIORS;
  if (muPrior.kind !== 'normal' || tauPrior.kind !== 'halfnormal') throw new Error('quadrature written for normal / half-normal priors');
  const { estimate, se } = family.approx(f, 0);
  const S = tauPrior.scale;
  const nTau = 600;
  const dTau = (12 * S) / nTau;
  const grad = new Float64Array(1);
  const logPost = (theta: number) => {
    let prior = 0;
    for (let j = 0; j < nTau; j++) {
      const tau = (j + 0.5) * dTau;
      const v = muPrior.scale ** 2 + tau * tau;
      const d = theta - muPrior.loc;
      prior += (Math.exp(-(tau * tau) / (2 * S * S)) * Math.exp(-(d * d) / (2 * v))) / Math.sqrt(v);
    }
    return Math.log(prior) + family.logLik(f.a[0], f.b[0], theta, grad);
  };
  const nTheta = 8000;
  for (let half = 10 * Math.min(se, Math.hypot(muPrior.scale, 3 * S)); ; half *= 2) {
    const lo = estimate - half;
    const dTheta = (2 * half) / nTheta;
    const at = (i: number) => lo + (i + 0.5) * dTheta;
    const logW = Array.from({ length: nTheta }, (_, i) => logPost(at(i)));
    const maxLogW = Math.max(...logW);
    if (Math.max(logW[0], logW[nTheta - 1]) - maxLogW > Math.log(1e-9) && half < 1e4) continue;
    let z = 0;
    let m1 = 0;
    let m2 = 0;
    logW.forEach((lw, i) => {
      const w = Math.exp(lw - maxLogW);
      z += w;
      m1 += w * at(i);
      m2 += w * at(i) ** 2;
    });
    const mean = m1 / z;
    return { mean, sd: Math.sqrt(m2 / z - mean * mean) };
  }
}

/** A run's posterior mean of a parameter lies within `tol` combined MCSE of a reference's, plus a 2%-of-sd floor. */
function expectMeanNear(report: RunReport, name: string, ref: { mean: number; sd: number; mcse?: number }, tol: number): void {
  const p = report.params[name];
  expect(p, name).toBeDefined();
  const err = Math.hypot(p.mcse_mean, ref.mcse ?? 0);
  expect(Math.abs(p.mean - ref.mean), `${name}: mean ${p.mean} vs reference ${ref.mean} (mcse ${err})`).toBeLessThanOrEqual(tol * err + 0.02 * ref.sd);
}

const SIZES = [1, 4, 5, 17, 150, 10_000] as const;
/** Widths also run on the CPU backend (its cost grows with K and it checks nothing wider). */
const CPU_MAX_K = 17;
/** A posterior mean may differ from the reference by this many combined MCSE. */
const MEAN_TOL = 5;
/** A K = 1 posterior sd may differ from the quadrature's by this fraction (short runs). */
const SD_TOL = 0.15;

for (const family of FAMILIES) {
  describe(`${family.id} family at every model width`, () => {
    const cache = new Map<number, HierData>();
    // At K = 10,000 one observation in every fifth group (the rest prior only; 5 is prime to a
    // block's 4 lanes, so every lane has data somewhere): with data in every group, mu's
    // curvature (the groups' information summed) makes the step size, and the run, 10x longer.
    const sizesOf = (K: number) => (K >= 10_000 ? Array.from({ length: K }, (_, k) => (k % 5 === 0 ? 1 : 0)) : undefined);
    const dataOf = (K: number) => cache.get(K) ?? cache.set(K, familyData(family, K, { seed: 7 + K, sizes: sizesOf(K) }).data).get(K)!;
    const quadrature = new Map<number, { mean: number; sd: number }>();
    const quad = () => quadrature.get(1) ?? quadrature.set(1, quadratureTheta(family, dataOf(1))).get(1)!;
    /** K = 5 reference: a long run of the float64 CPU backend. */
    let reference: RunReport | undefined;
    const cpuReference = async () => {
      reference ??= reportRun(await sample({ data: dataOf(5), chains: 128, warmup: 300, draws: 600, seed: 101, backend: 'cpu' }), 101).report;
      return reference;
    };

    for (const K of SIZES) {
      it.skipIf(!gpu)(`K = ${K}, WebGPU: finite draws, every group reported, chains moved${K === 1 ? ', theta against quadrature' : K === 5 ? ', means against a long CPU run' : ''}`, async () => {
        const data = dataOf(K);
        const r = await sample({ data, ...runLength(K), seed: 11, backend: 'webgpu', gpu: gpu! });
        expect(r.backend.name).toBe('webgpu');
        checkRun(family, data, r);
        if (K === 1) {
          const { report } = reportRun(r, 11);
          const q = quad();
          expectMeanNear(report, 'theta[0]', q, MEAN_TOL);
          expect(Math.abs(report.params['theta[0]'].sd / q.sd - 1), `sd ${report.params['theta[0]'].sd} vs ${q.sd}`).toBeLessThanOrEqual(SD_TOL);
        }
        if (K === 5) {
          const { report } = reportRun(r, 11);
          const ref = await cpuReference();
          for (const n of ['mu', ...data.labels.map((l) => `theta[${l}]`)]) expectMeanNear(report, n, { ...ref.params[n], mcse: ref.params[n].mcse_mean }, MEAN_TOL);
        }
      });
    }

    for (const K of SIZES.filter((k) => k <= CPU_MAX_K)) {
      it(`K = ${K}, CPU backend: finite draws, every group reported, chains moved${K === 1 ? ', theta against quadrature' : ''}`, async () => {
        const data = dataOf(K);
        const r = await sample({ data, ...runLength(K), seed: 12, backend: 'cpu' });
        checkRun(family, data, r);
        if (K === 1) {
          const { report } = reportRun(r, 12);
          const q = quad();
          expectMeanNear(report, 'theta[0]', q, MEAN_TOL);
          expect(Math.abs(report.params['theta[0]'].sd / q.sd - 1), `sd ${report.params['theta[0]'].sd} vs ${q.sd}`).toBeLessThanOrEqual(SD_TOL);
        }
      });
    }
  });
}
