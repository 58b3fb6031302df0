/**
 * Conformance of every registered likelihood family (src/model/families, `FAMILIES`): the
 * float64 twin `logLik` against finite differences; the sufficient-statistic path (`reduce`,
 * `logLik`, `logConst`) against the per-observation definition; the hierarchy's log-density
 * and gradient under the family; the WGSL `lik` against the float64 twin on every kernel form
 * (baked, registers, stream); exact zeros from a lane without data; posterior predictive
 * draws against the family's own exact distribution; and `approx`'s se against the Fisher
 * information. A family added to the registry is checked here with no edit to this file.
 *
 * Distributions are taken from the family's own definition, `logLikObservation`, read as a
 * function of y: summed over y = 0, 1, ... for count families, integrated over y otherwise.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/model/families/index.ts';
import { familyGlobals, type Family, type GroupFields, type Variates } from '../src/model/family.ts';
import type { HierData } from '../src/model/data.ts';
import { familyGlobalOf, logDensityGrad, logJointPerObservation, makeModel, unconstrain, withCenteredness, type HierModel } from '../src/model/model.ts';
import { DEFAULT_PRIORS } from '../src/model/priors.ts';
import { FLOAT32_KERNEL_TOLERANCE, familyLik, fd, float32ErrorScales, mulberry32, randomModelPoints } from '../src/gpu/kernel_check.ts';
import { gpuLogDensityGrad } from '../src/gpu/logdensity.ts';
import { isWideModel } from '../src/gpu/layout.ts';
import { createCpuBackend } from '../src/sampler/cpu_backend.ts';
import { createWebGpuBackend, type WideKernel } from '../src/sampler/gpu_backend.ts';
import type { Backend } from '../src/sampler/backend.ts';
import { qnorm } from '../src/diagnostics/special.ts';
import { testGpu } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

/** Uniform and standard normal variates from mulberry32 (Box–Muller, cosine branch). */
function variates(seed: number): Variates {
  const u = mulberry32(seed);
  return {
    uniform: () => {
      let x = u();
      while (x === 0) x = u();
      return x;
    },
    normal: () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()),
  };
}

/** HierData of `family` (the column named `sigma` is HierData's own field, as the io layer has it). */
function familyData(family: Family, y: number[], group: number[], K: number, cols: Record<string, number[]>): HierData {
  const columns: Record<string, Float64Array> = {};
  let sigma = new Float64Array(0);
  for (const spec of family.columns) {
    const v = Float64Array.from(cols[spec.name]);
    if (spec.name === 'sigma') sigma = v;
    else columns[spec.name] = v;
  }
  return {
    likelihood: family.id,
    y: Float64Array.from(y),
    group: Int32Array.from(group),
    sigma,
    ...(Object.keys(columns).length ? { columns } : {}),
    K,
    labels: Array.from({ length: K }, (_, k) => String(k)),
  };
}

/** A column value near the spec's example (x 0.02 to 2), within its bounds. */
function columnValue(spec: Family['columns'][number], u: () => number): number {
  let v = spec.example * Math.exp(Math.log(0.02) + u() * Math.log(100));
  if (spec.integer) v = Math.max(Math.round(v), Math.ceil(spec.min), spec.exclusive ? Math.floor(spec.min) + 1 : -Infinity);
  else if (!(v > spec.min)) v = spec.min + spec.example * 1e-3;
  return v;
}

/**
 * Random data of `family`: K groups of 0 to 3 observations (`empty` groups none), column
 * values near their examples, y drawn by the family's `predict` at theta_k in [-3, 3].
 */
function randomData(family: Family, seed: number, K: number, empty: readonly number[] = []): HierData {
  const u = mulberry32(seed);
  const rng = variates(seed + 1);
  const y: number[] = [];
  const group: number[] = [];
  const cols: Record<string, number[]> = Object.fromEntries(family.columns.map((c) => [c.name, []]));
  for (let k = 0; k < K; k++) {
    const n = empty.includes(k) ? 0 : 1 + Math.floor(3 * u());
    for (let i = 0; i < n; i++) {
      group.push(k);
      for (const c of family.columns) cols[c.name].push(columnValue(c, u));
      y.push(0);
    }
  }
  const data = familyData(family, y, group, K, cols);
  const theta = Array.from({ length: K }, () => -3 + 6 * u());
  const yy = data.y as Float64Array;
  for (let i = 0; i < yy.length; i++) yy[i] = family.predict(data, i, theta[data.group[i]], rng);
  return data;
}

const fieldsOf = (family: Family, data: HierData): GroupFields => family.reduce(data);

/** The family's log-likelihood of fields (a, b) at theta and its theta-derivative (kernel_check.ts). */
const lik = familyLik;

/** Observation i's log-likelihood at theta with y_i replaced by `y`. */
function obsLogLik(family: Family, data: HierData, i: number, y: number, theta: number, x?: number): number {
  const yy = Float64Array.from(data.y);
  yy[i] = y;
  return family.logLikObservation({ ...data, y: yy }, i, theta, x);
}

/** A value of the family's global (log sigma) in [-2, 1.5], or undefined for a family without one. */
function globalValue(family: Family, u: () => number): number | undefined {
  return familyGlobals(family).length ? -2 + 3.5 * u() : undefined;
}

/**
 * E[f(y)] under observation i's distribution at theta, from the family's definition: a sum
 * over y = 0, 1, ... (count families, until the mass left is below 1e-14 or y leaves the
 * support), or Simpson's rule over y (continuous families: on center +- 40 `spread`).
 */
function expectation(family: Family, data: HierData, i: number, theta: number, f: ((y: number) => number)[], center = 0, spread = 1, x?: number): { values: number[]; mass: number } {
  const values = f.map(() => 0);
  let mass = 0;
  if (family.yInteger) {
    const column = (name: string) => (name === 'sigma' ? data.sigma[i] : data.columns![name][i]);
    for (let y = 0; y < 1e7; y++) {
      if (family.checkObservation(y, column)) break;
      const p = Math.exp(obsLogLik(family, data, i, y, theta, x));
      mass += p;
      f.forEach((fn, j) => (values[j] += p * fn(y)));
      if (y > center && 1 - mass < 1e-14 && p < 1e-16) break;
    }
  } else {
    const n = 40_000;
    const lo = center - 40 * spread;
    const h = (80 * spread) / n;
    for (let j = 0; j <= n; j++) {
      const y = lo + j * h;
      const w = ((j === 0 || j === n ? 1 : j % 2 ? 4 : 2) * h) / 3;
      const p = Math.exp(obsLogLik(family, data, i, y, theta, x));
      mass += w * p;
      f.forEach((fn, m) => (values[m] += w * p * fn(y)));
    }
  }
  return { values, mass };
}

/** Points (mu, s, theta) with theta_k in [-8, 8] as float32 positions of `model` (kernel_check.ts). */
const randomPoints = (model: HierModel, seed: number, points: number) => randomModelPoints(model, mulberry32(seed), points);

/** Centeredness vectors of the checks: all non-centered, all centered, and a mix of 0, 1 and 0.3. */
function centerednessCases(K: number): [string, Float64Array][] {
  return [
    ['c = 0', new Float64Array(K)],
    ['c = 1', new Float64Array(K).fill(1)],
    ['c mixed 0 / 1 / 0.3', Float64Array.from({ length: K }, (_, k) => [0, 1, 0.3][k % 3])],
    ['c binary mixed', Float64Array.from({ length: K }, (_, k) => k % 2)],
  ];
}

/** A wide-form backend pair (float64 CPU, WebGPU `form`) at the same positions. */
async function widePair(model: HierModel, chains: number, positions: Float64Array, form: WideKernel, threadsPerChain?: number): Promise<[Backend, Backend]> {
  const cpu = await createCpuBackend(model, chains, 11);
  const g = await createWebGpuBackend(model, chains, 11, gpu!, { wideKernel: form, ...(threadsPerChain ? { threadsPerChain } : {}) });
  await cpu.init(positions);
  await g.init(positions);
  return [cpu, g];
}

/** One recorded transition of every chain with `stepSize` and one leapfrog step (unit metric). */
async function oneTransition(b: Backend, stepSize: number): Promise<{ positions: Float64Array; logDensity: Float64Array }> {
  b.beginSampling(1, b.chains);
  b.step({ iteration: 7, stepSize, numSteps: 1, invMass: new Float64Array(b.dim).fill(1) });
  b.recordDraw();
  const { draws } = await b.collect();
  return { positions: Float64Array.from(draws.positions), logDensity: Float64Array.from(draws.logDensity) };
}

describe.each(FAMILIES)('family $id', (family) => {
  it('logLik: its derivatives agree with finite differences (theta in [-8, 8], a family global in [-2, 1.5], random small data sets)', () => {
    let worst = 0;
    for (let set = 0; set < 20; set++) {
      const f = fieldsOf(family, randomData(family, 100 + set, 6));
      const u = mulberry32(200 + set);
      for (let k = 0; k < f.K; k++) {
        for (let j = 0; j < 10; j++) {
          const th = -8 + 16 * u();
          const x = globalValue(family, u);
          const { l, d, dx } = lik(family, f.a[k], f.b[k], th, x);
          const num = fd((t) => lik(family, f.a[k], f.b[k], t, x).l, th, 1e-4);
          const err = Math.abs(num - d) / (1 + Math.abs(d) + Math.abs(l));
          worst = Math.max(worst, err);
          expect(err, `k ${k} theta ${th}: ${d} vs ${num}`).toBeLessThan(1e-6);
          if (x !== undefined) {
            const numx = fd((t) => lik(family, f.a[k], f.b[k], th, t).l, x, 1e-5);
            const errx = Math.abs(numx - dx) / (1 + Math.abs(dx) + Math.abs(l));
            worst = Math.max(worst, errx);
            expect(errx, `k ${k} theta ${th} x ${x}: d/dx ${dx} vs ${numx}`).toBeLessThan(1e-6);
          }
        }
      }
      if (family.logLikGlobal) {
        const g = new Float64Array(1);
        for (const x of [-2, -0.4, 0, 0.8, 1.5]) {
          const v = family.logLikGlobal(f.stats!, x, g);
          const num = fd((t) => family.logLikGlobal!(f.stats!, t, new Float64Array(1)), x, 1e-5);
          expect(Math.abs(num - g[0]) / (1 + Math.abs(g[0]) + Math.abs(v)), `global term at x ${x}`).toBeLessThan(1e-6);
        }
      }
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('reduce + sum_k logLik + logConst = sum_i logLikObservation (1e-9 relative)', () => {
    for (let set = 0; set < 20; set++) {
      const data = randomData(family, 300 + set, 7, [3]);
      const f = fieldsOf(family, data);
      expect(f.K).toBe(7);
      expect(f.n[3]).toBe(0);
      expect([f.a[3], f.b[3]]).toEqual([0, 0]);
      const u = mulberry32(400 + set);
      for (let j = 0; j < 5; j++) {
        const theta = Array.from({ length: 7 }, () => -8 + 16 * u());
        const x = globalValue(family, u);
        let stat = f.logConst;
        for (let k = 0; k < 7; k++) stat += lik(family, f.a[k], f.b[k], theta[k], x).l;
        if (x !== undefined) stat += family.logLikGlobal!(f.stats!, x, new Float64Array(1));
        let obs = 0;
        let scale = 0;
        for (let i = 0; i < data.y.length; i++) {
          const v = family.logLikObservation(data, i, theta[data.group[i]], x);
          obs += v;
          scale += Math.abs(v);
        }
        expect(Math.abs(stat - obs), `${stat} vs ${obs}`).toBeLessThanOrEqual(1e-9 * (1 + scale));
      }
    }
  });

  describe.each(centerednessCases(9))('the hierarchy: logDensityGrad, %s', (_, c) => {
    const data = randomData(family, 500, 9, [4]);
    const model = makeModel(data, c);
    const points = randomPoints(model, 501, 12);
    const D = model.dim;

    it('its gradient agrees with finite differences', () => {
      const g = new Float64Array(D);
      const gp = new Float64Array(D);
      for (let p = 0; p < 12; p++) {
        const q = Float64Array.from(points.subarray(p * D, (p + 1) * D));
        const lp = logDensityGrad(model, q, g);
        for (let d = 0; d < D; d++) {
          const h = 1e-5 * (1 + Math.abs(q[d]));
          const at = (x: number) => {
            const qq = Float64Array.from(q);
            qq[d] = x;
            return logDensityGrad(model, qq, gp);
          };
          const num = fd(at, q[d], h);
          expect(Math.abs(num - g[d]), `point ${p} coordinate ${d}: ${g[d]} vs ${num}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(g[d]) + 1e-3 * Math.abs(lp)));
        }
      }
    });

    it('log p(q) = the per-observation log joint of (mu, tau, theta) + the log-Jacobian, up to one constant', () => {
      const g = new Float64Array(D);
      const L = model.layout;
      let offset: number | undefined;
      for (let p = 0; p < 12; p++) {
        const q = points.subarray(p * D, (p + 1) * D);
        const mu = q[L.global('mu')];
        const s = q[L.global('log_tau')];
        const theta = Array.from({ length: 9 }, (_, k) => mu + Math.exp((1 - c[k]) * s) * (q[L.group(k)] - c[k] * mu));
        // dtheta_k/dz_k = tau^(1-c_k), dtau/ds = tau; a family global's sigma = e^x: dsigma/dx = sigma.
        const fg = familyGlobalOf(model);
        const x = fg ? q[fg.index] : undefined;
        let jac = s + (x ?? 0);
        for (let k = 0; k < 9; k++) jac += (1 - c[k]) * s;
        const lp = logDensityGrad(model, q, g);
        const joint = logJointPerObservation(data, DEFAULT_PRIORS, mu, Math.exp(s), theta, x) + jac;
        offset ??= lp - joint;
        expect(Math.abs(lp - joint - offset), `point ${p}`).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(lp)));
      }
    });
  });

  it('an empty group gives exactly 0 and a zero derivative (float64)', () => {
    for (const th of [-8, -1.5, -0, 0, 0.7, 8, 30]) {
      const { l, d } = lik(family, 0, 0, th);
      expect(l === 0 && d === 0, `theta ${th}: ${l}, ${d}`).toBe(true);
    }
  });

  describe('posterior predictive draws (family.predict) against the family\'s own distribution', () => {
    const N_DRAWS = 20_000;
    // Each column at a small, a typical and a large value (binomial trials 1, 20, 5000).
    const columnCases = (spec: Family['columns'][number]): number[] =>
      spec.integer ? [Math.max(1, Math.ceil(spec.min)), Math.round(spec.example / 2.5), 100 * spec.example] : [spec.example / 20, spec.example, 100 * spec.example];
    const cases: [number, Record<string, number>][] = [];
    for (const theta of [-2.5, 0, 1.3]) {
      for (let j = 0; j < 3; j++) cases.push([theta, Object.fromEntries(family.columns.map((c) => [c.name, columnCases(c)[j]]))]);
    }
    it.each(cases)('theta %d, columns %o: mean and variance of 20,000 draws within 5 standard errors of the exact moments', (theta, col) => {
      const data = familyData(family, [0], [0], 1, Object.fromEntries(Object.entries(col).map(([k, v]) => [k, [v]])));
      const rng = variates(Math.round(1000 * theta) + 77 + Object.values(col).reduce((a, b) => a + b, 0));
      const draws = Float64Array.from({ length: N_DRAWS }, () => family.predict(data, 0, theta, rng));
      const m = draws.reduce((a, b) => a + b, 0) / N_DRAWS;
      const v = draws.reduce((a, b) => a + (b - m) ** 2, 0) / (N_DRAWS - 1);
      const sdHat = Math.sqrt(v) || 1;
      const e1 = expectation(family, data, 0, theta, [(y) => y], m, sdHat).values[0];
      const [mass, e2, e3, e4] = [(_: number) => 1, (y: number) => (y - e1) ** 2, (y: number) => (y - e1) ** 3, (y: number) => (y - e1) ** 4].map(
        (fn) => expectation(family, data, 0, theta, [fn], m, sdHat).values[0],
      );
      void e3;
      expect(Math.abs(mass - 1), 'the distribution sums to 1').toBeLessThan(1e-9);
      const seMean = Math.sqrt(e2 / N_DRAWS);
      // Var(s^2) = (mu4 - sigma^4 (n - 3)/(n - 1)) / n (exact for any distribution; its
      // leading term mu4 - sigma^4 vanishes for a Bernoulli(1/2)).
      const seVar = Math.sqrt(Math.max(e4 - (e2 * e2 * (N_DRAWS - 3)) / (N_DRAWS - 1), 0) / N_DRAWS);
      expect(Math.abs(m - e1), `mean ${m} vs ${e1}`).toBeLessThanOrEqual(5 * seMean + 1e-12);
      expect(Math.abs(v - e2), `variance ${v} vs ${e2}`).toBeLessThanOrEqual(5 * seVar + 1e-12);
    });

    it('a small case: the histogram of 20,000 draws against the exact distribution (chi-square, p > 1e-4)', () => {
      const col = Object.fromEntries(family.columns.map((c) => [c.name, [c.integer ? 5 : c.example]]));
      const data = familyData(family, [0], [0], 1, col);
      const theta = 0.4;
      const rng = variates(4242);
      const draws = Float64Array.from({ length: N_DRAWS }, () => family.predict(data, 0, theta, rng));
      // Bins: single values for count families (tails pooled so every bin expects >= 20), or
      // 20 bins of equal probability otherwise.
      const bins: { lo: number; hi: number; p: number }[] = [];
      if (family.yInteger) {
        let open = { lo: 0, p: 0 };
        for (let y = 0; ; y++) {
          const column = (name: string) => (name === 'sigma' ? data.sigma[0] : data.columns![name][0]);
          if (family.checkObservation(y, column) || y > 1e6) break;
          open.p += Math.exp(obsLogLik(family, data, 0, y, theta));
          if (open.p * N_DRAWS >= 20) {
            bins.push({ lo: open.lo, hi: y, p: open.p });
            open = { lo: y + 1, p: 0 };
          }
          if (bins.reduce((a, b) => a + b.p, 0) > 1 - 20 / N_DRAWS) break;
        }
        const last = bins[bins.length - 1];
        last.hi = Infinity;
        last.p = 1 - bins.slice(0, -1).reduce((a, b) => a + b.p, 0);
      } else {
        const mean = draws.reduce((a, b) => a + b, 0) / N_DRAWS;
        const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / N_DRAWS);
        // The exact CDF on a fine grid, then edges at its 1/20 quantiles.
        const n = 40_000;
        const lo = mean - 40 * sd;
        const h = (80 * sd) / n;
        let cdf = 0;
        let next = 1;
        let prev = -Infinity;
        let fPrev = Math.exp(obsLogLik(family, data, 0, lo, theta));
        for (let j = 1; j <= n && next < 20; j++) {
          const y = lo + j * h;
          const fy = Math.exp(obsLogLik(family, data, 0, y, theta));
          cdf += 0.5 * h * (fPrev + fy);
          fPrev = fy;
          if (cdf >= next / 20) {
            bins.push({ lo: prev, hi: y, p: 1 / 20 });
            prev = y;
            next++;
          }
        }
        bins.push({ lo: prev, hi: Infinity, p: 1 / 20 });
      }
      const counts = bins.map(() => 0);
      for (const y of draws) {
        const j = bins.findIndex((b) => (family.yInteger ? y >= b.lo && y <= b.hi : y > b.lo && y <= b.hi));
        counts[j < 0 ? bins.length - 1 : j]++;
      }
      let chi2 = 0;
      bins.forEach((b, j) => (chi2 += (counts[j] - N_DRAWS * b.p) ** 2 / (N_DRAWS * b.p)));
      const df = bins.length - 1;
      expect(df).toBeGreaterThanOrEqual(3);
      // Wilson–Hilferty: (X/df)^(1/3) is nearly normal with mean 1 - 2/(9 df), variance 2/(9 df).
      const z = (Math.cbrt(chi2 / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
      expect(z, `chi-square ${chi2.toFixed(1)} on ${df} df; counts ${counts.join(' ')}`).toBeLessThan(qnorm(1 - 1e-4));
    });
  });

  describe.skipIf(!gpu)('the WGSL lik against the float64 twin, on every kernel form', () => {
    const POINTS = 64;
    /** Worst scaled error of float32 (lp, grad) against float64 at the positions. */
    const worstError = (model: HierModel, positions: Float64Array, lp: ArrayLike<number>, grad?: ArrayLike<number>) => {
      const D = model.dim;
      const g = new Float64Array(D);
      let worst = 0;
      for (let p = 0; p < lp.length; p++) {
        const q = positions.subarray(p * D, (p + 1) * D);
        const ref = logDensityGrad(model, q, g);
        const sc = float32ErrorScales(model, q, ref, g);
        worst = Math.max(worst, Math.abs(lp[p] - ref) / sc.lp);
        if (grad) for (let d = 0; d < D; d++) worst = Math.max(worst, Math.abs(grad[p * D + d] - g[d]) / sc.grad[d]);
      }
      return worst;
    };

    // K <= 16: the baked form (data compiled in); K = 40: the same kernel reading the group buffer.
    for (const K of [5, 13, 40]) {
      it.each(centerednessCases(K))(`baked form (shaders/model.wgsl via logdensity.wgsl), K = ${K}, %s: log p and gradient within float32 tolerance`, async (_, c) => {
        const model = makeModel(randomData(family, 800 + K, K, [1]), c);
        const positions = randomPoints(model, 801 + K, POINTS);
        const out = await gpuLogDensityGrad(gpu!.device, model, positions, POINTS);
        expect(out.logDensity.every(Number.isFinite) && out.grad.every(Number.isFinite)).toBe(true);
        expect(worstError(model, positions, out.logDensity, out.grad)).toBeLessThan(FLOAT32_KERNEL_TOLERANCE);
      });
    }

    // The wide forms run only inside the transition kernels: log p from a transition of step
    // size 0 (the chain stays and records log p at its start), the gradient from one leapfrog
    // step of size EPS against the float64 CPU backend from the same start and momentum:
    //   q1 = q0 + EPS p + EPS^2/2 grad log p(q0),
    // so positions agree to EPS^2/2 x the gradient's error plus float32 rounding of q1.
    const EPS = 0.02;
    // The register form also with 4 threads per chain: its sums over a chain's threads
    // (shaders/chain_sum.wgsl, a workgroup tree) instead of one thread's own.
    for (const [form, tpc] of [['registers', undefined], ['registers', 4], ['stream', undefined]] as const) {
      it.each(centerednessCases(21))(`wide form '${form}'${tpc ? ` (${tpc} threads per chain)` : ''}, K = 21, %s: log p within float32 tolerance, one leapfrog step as the CPU backend's`, async (_, c) => {
        const model = makeModel(randomData(family, 900, 21, [1]), c);
        expect(isWideModel(21)).toBe(true);
        const chains = 128;
        const positions = randomPoints(model, 901, chains);
        const [cpu, g] = await widePair(model, chains, positions, form, tpc);
        try {
          const still = await oneTransition(g, 0);
          expect(Array.from(still.positions)).toEqual(Array.from(positions));
          expect(worstError(model, positions, still.logDensity)).toBeLessThan(FLOAT32_KERNEL_TOLERANCE);
          const D = model.dim;
          const [a, b] = [await oneTransition(cpu, EPS), await oneTransition(g, EPS)];
          const gr = new Float64Array(D);
          let compared = 0;
          let worst = 0;
          let where = '';
          for (let ch = 0; ch < chains; ch++) {
            const q0 = positions.subarray(ch * D, (ch + 1) * D);
            const qa = a.positions.subarray(ch * D, (ch + 1) * D);
            const qb = b.positions.subarray(ch * D, (ch + 1) * D);
            const movedA = qa.some((v, d) => v !== q0[d]);
            const movedB = qb.some((v, d) => v !== q0[d]);
            if (!movedA || !movedB) continue; // rejected by one of them (energies differ in float32)
            compared++;
            const lp = logDensityGrad(model, q0, gr);
            const sc = float32ErrorScales(model, q0, lp, gr);
            for (let d = 0; d < D; d++) {
              // Besides the gradient's error: rounding of q1, and the momentum's (float32
              // Box–Muller on the device, ~1e-4 relative: 1e-3 of |EPS p| <= |q1 - q0| + EPS^2/2 |grad|).
              const tol = ((EPS * EPS) / 2) * (FLOAT32_KERNEL_TOLERANCE * sc.grad[d] + 1e-3 * Math.abs(gr[d])) + 1e-3 * Math.abs(qa[d] - q0[d]) + 1e-6 * (1 + Math.abs(qa[d]));
              const e = Math.abs(qa[d] - qb[d]) / tol;
              if (e > worst) {
                worst = e;
                where = `chain ${ch} coordinate ${d}: ${qa[d]} vs ${qb[d]} from ${q0[d]}, gradient ${gr[d]}`;
              }
            }
          }
          // Points far out (theta to +-8 against the data, tau down to e^-3) reject often.
          expect(compared).toBeGreaterThanOrEqual(chains / 8);
          expect(worst, where).toBeLessThanOrEqual(1);
        } finally {
          cpu.destroy();
          g.destroy();
        }
      });
    }

    it('an empty lane gives exactly 0: padding lanes (K % 4 != 0) and a group without data add nothing, bit for bit (baked form)', async () => {
      const small = randomData(family, 950, 5, [2]);
      const wide = { ...small, K: 8, labels: Array.from({ length: 8 }, (_, k) => String(k)) };
      const c5 = Float64Array.from([1, 0, 0, 0.3, 1]);
      const m5 = makeModel(small, c5);
      const m8 = makeModel(wide, Float64Array.from([...c5, 0, 0, 0]));
      const p5 = randomPoints(m5, 951, POINTS);
      const [D5, D8] = [m5.dim, m8.dim];
      const p8 = new Float64Array(POINTS * D8);
      for (let p = 0; p < POINTS; p++) {
        p5[p * D5 + m5.layout.group(2)] = 0; // the empty group at z = 0 under c = 0: prior term 0 too
        p8.set(p5.subarray(p * D5, (p + 1) * D5), p * D8);
      }
      const [o5, o8] = [await gpuLogDensityGrad(gpu!.device, m5, p5, POINTS), await gpuLogDensityGrad(gpu!.device, m8, p8, POINTS)];
      for (let p = 0; p < POINTS; p++) {
        expect(o8.logDensity[p]).toBe(o5.logDensity[p]);
        expect(Array.from(o8.grad.subarray(p * D8, p * D8 + D5))).toEqual(Array.from(o5.grad.subarray(p * D5, (p + 1) * D5)));
        // Exactly zero (either sign: -u a + 0 b is -0 at u = 0).
        expect(Array.from(o8.grad.subarray(p * D8 + D5, (p + 1) * D8)).every((v) => v === 0)).toBe(true);
        expect(o5.grad[p * D5 + m5.layout.group(2)] === 0).toBe(true);
      }
    });

    for (const form of ['registers', 'stream'] as const) {
      it(`an empty lane gives exactly 0 on the wide form '${form}': log p of K = 21 and of K = 24 with three empty groups at z = 0 agree bit for bit`, async () => {
        const small = randomData(family, 960, 21, [6]);
        const wide = { ...small, K: 24, labels: Array.from({ length: 24 }, (_, k) => String(k)) };
        const c21 = Float64Array.from({ length: 21 }, (_, k) => (k === 6 ? 0 : [0, 1, 0.3][k % 3]));
        const m21 = makeModel(small, c21);
        const m24 = makeModel(wide, Float64Array.from([...c21, 0, 0, 0]));
        const chains = 64;
        const p21 = randomPoints(m21, 961, chains);
        const [D21, D24] = [m21.dim, m24.dim];
        const p24 = new Float64Array(chains * D24);
        for (let ch = 0; ch < chains; ch++) {
          p21[ch * D21 + m21.layout.group(6)] = 0;
          p24.set(p21.subarray(ch * D21, (ch + 1) * D21), ch * D24);
        }
        const out: Float64Array[] = [];
        for (const [m, p] of [[m21, p21], [m24, p24]] as const) {
          const g = await createWebGpuBackend(m, chains, 3, gpu!, { wideKernel: form });
          try {
            await g.init(p);
            out.push((await oneTransition(g, 0)).logDensity);
          } finally {
            g.destroy();
          }
        }
        expect(Array.from(out[1])).toEqual(Array.from(out[0]));
      });
    }
  });

  it('approx: se^-2 is the Fisher information at `at` (the variance of the score, summed over the group)', () => {
    const data = randomData(family, 700, 5, [2]);
    const f = fieldsOf(family, data);
    for (let k = 0; k < 5; k++) {
      for (const at of [-4, -0.5, 0, 1.2, 3.5]) {
        // A family global at a typical value (its Fisher information in theta depends on it).
        const x = familyGlobals(family).length ? 0.4 : undefined;
        const { se } = family.approx(f, k, at, x);
        if (f.n[k] === 0) {
          expect(se).toBe(Infinity);
          continue;
        }
        let info = 0;
        for (let i = 0; i < data.y.length; i++) {
          if (data.group[i] !== k) continue;
          // Score of the observation at y, by central differences in theta.
          const score = (y: number) => fd((t) => obsLogLik(family, data, i, y, t, x), at, 1e-5);
          const sd = 1 / Math.sqrt(1e-300 + Math.abs(fd((t) => obsLogLik(family, data, i, data.y[i], t, x), at, 1e-3) - fd((t) => obsLogLik(family, data, i, data.y[i], t, x), at + 1e-3, 1e-3)) / 1e-3);
          const center = family.yInteger ? 0 : at;
          info += expectation(family, data, i, at, [(y) => score(y) ** 2], center, Math.max(sd, 1e-3), x).values[0];
        }
        expect(Math.abs(se ** -2 / info - 1), `group ${k} at ${at}: se^-2 ${se ** -2} vs Fisher ${info}`).toBeLessThan(1e-5);
      }
    }
  });
});
