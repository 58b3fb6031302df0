import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSeedJson } from '../src/io/data.ts';
import type { HierData } from '../src/model/data.ts';
import { constrain, logDensity, logDensityGrad, logJointPerObservation, makeModel, unconstrain, type HierModel } from '../src/model/model.ts';
import { logTauPriorNormalizer, type Priors } from '../src/model/priors.ts';
import { groupStats } from '../src/model/suffstats.ts';
import { mulberry32 } from '../src/gpu/kernel_check.ts';

const SEEDS = ['weak', 'strong', 'unbalanced'] as const;
const DATA = Object.fromEntries(
  SEEDS.map((n) => [n, parseSeedJson(readFileSync(new URL(`../demo/data/${n}.json`, import.meta.url), 'utf8'), { source: `${n}.json` })]),
) as Record<(typeof SEEDS)[number], HierData>;

const PRIORS: Record<string, Priors> = {
  halfnormal: { mu: { kind: 'normal', loc: 0, scale: 5 }, tau: { kind: 'halfnormal', scale: 5 } },
  halfcauchy: { mu: { kind: 'normal', loc: 1, scale: 3 }, tau: { kind: 'halfcauchy', scale: 2 } },
};

/** Deterministic uniform generator (mulberry32), so failures reproduce. */
const rng = mulberry32;
function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** A random (mu, tau, theta) in the region the posterior cares about (and beyond). */
function randomPoint(u: () => number, K: number): { mu: number; tau: number; theta: Float64Array } {
  const mu = -5 + 15 * u();
  const tau = Math.exp(-4 + 6.5 * u()); // tau in [0.018, 12]
  const theta = Float64Array.from({ length: K }, () => mu + tau * normal(u));
  return { mu, tau, theta };
}

function centerednessCases(K: number, u: () => number): Record<string, Float64Array> {
  return {
    'c = 0': new Float64Array(K),
    'c = 1': new Float64Array(K).fill(1),
    'mixed 0/1': Float64Array.from({ length: K }, (_, k) => (k === 2 || k === 6 ? 1 : 0)),
    'c = 0.5': new Float64Array(K).fill(0.5),
    'random c in [0,1]': Float64Array.from({ length: K }, () => u()),
  };
}

/**
 * Central difference with one Richardson step, (4 D(h/2) - D(h)) / 3: truncation O(h^4).
 * With h = 1e-3 the truncation error is ~1e-12 |f^(5)| and rounding ~1e-13 |f|.
 */
function fdGradient(f: (q: Float64Array) => number, q: Float64Array): Float64Array {
  const g = new Float64Array(q.length);
  const h = 1e-3;
  const d = (i: number, step: number) => {
    const qp = Float64Array.from(q);
    const qm = Float64Array.from(q);
    qp[i] += step;
    qm[i] -= step;
    return (f(qp) - f(qm)) / (2 * step);
  };
  for (let i = 0; i < q.length; i++) g[i] = (4 * d(i, h / 2) - d(i, h)) / 3;
  return g;
}

describe('logDensityGrad: gradient vs finite differences', () => {
  // Tolerance: |analytic - FD| <= 1e-7 (1 + |analytic|) in every coordinate.
  const REL_TOL = 1e-7;
  for (const name of SEEDS) {
    for (const [pname, priors] of Object.entries(PRIORS)) {
      it(`${name} data, ${pname} prior, all parameterizations`, () => {
        const data = DATA[name];
        const u = rng(17 + name.length + pname.length);
        for (const [cname, c] of Object.entries(centerednessCases(data.K, u))) {
          const model = makeModel(data, c, priors);
          for (let rep = 0; rep < 8; rep++) {
            const p = randomPoint(u, data.K);
            const q = unconstrain(model, p.mu, p.tau, p.theta);
            const g = new Float64Array(model.dim);
            const lp = logDensityGrad(model, q, g);
            expect(lp).toBe(logDensity(model, q));
            const fd = fdGradient((x) => logDensity(model, x), q);
            for (let i = 0; i < model.dim; i++) {
              const err = Math.abs(g[i] - fd[i]) / (1 + Math.abs(g[i]));
              expect(err, `${cname}, rep ${rep}, coordinate ${i}: ${g[i]} vs ${fd[i]}`).toBeLessThan(REL_TOL);
            }
          }
        }
      });
    }
  }
});

describe('constrain / unconstrain', () => {
  it('are inverse for every parameterization', () => {
    const data = DATA.unbalanced;
    const u = rng(5);
    for (const c of Object.values(centerednessCases(data.K, u))) {
      const model = makeModel(data, c);
      for (let rep = 0; rep < 20; rep++) {
        const p = randomPoint(u, data.K);
        const back = constrain(model, unconstrain(model, p.mu, p.tau, p.theta));
        expect(back.mu).toBe(p.mu);
        expect(Math.abs(back.tau - p.tau) / p.tau).toBeLessThan(1e-14);
        for (let k = 0; k < data.K; k++) expect(Math.abs(back.theta[k] - p.theta[k])).toBeLessThan(1e-12 * (1 + Math.abs(p.theta[k])));
      }
    }
  });
});

/** The unbalanced data with a random sd per observation in [0.5, 20]. */
function unbalancedPerObsSigma(): HierData {
  const d = DATA.unbalanced;
  const u = rng(99);
  return { ...d, sigma: Float64Array.from(d.sigma, () => 0.5 + 19.5 * u()) };
}

describe('sufficient statistics vs per-observation likelihood', () => {
  const cases: [string, HierData][] = [
    ['weak', DATA.weak],
    ['strong', DATA.strong],
    ['unbalanced', DATA.unbalanced],
    ['unbalanced, per-observation sigma', unbalancedPerObsSigma()],
    ['unbalanced with an empty group', { ...DATA.unbalanced, K: 10, labels: [...DATA.unbalanced.labels, 'empty'] }],
  ];
  for (const [name, data] of cases) {
    for (const [pname, priors] of Object.entries(PRIORS)) {
      it(`${name}, ${pname}: logJointPerObservation + log tau - logDensity(centered) is one known constant`, () => {
        const model = makeModel(data, new Float64Array(data.K).fill(1), priors);
        const stats = groupStats(data);
        // The constant, from the definitions: the normalizers the unnormalized log density
        // leaves out, and the family's per-group likelihood constants (see families/normal.ts).
        const expected =
          -0.5 * Math.log(2 * Math.PI * priors.mu.scale ** 2) + logTauPriorNormalizer(priors.tau) - 0.5 * data.K * Math.log(2 * Math.PI) + stats.logConst;
        const u = rng(3);
        for (let rep = 0; rep < 50; rep++) {
          const p = randomPoint(u, data.K);
          const q = unconstrain(model, p.mu, p.tau, p.theta);
          for (let k = 0; k < data.K; k++) expect(q[2 + k]).toBe(p.theta[k]); // centered: z = theta
          const lj = logJointPerObservation(data, priors, p.mu, p.tau, p.theta);
          const diff = lj + Math.log(p.tau) - logDensity(model, q);
          // |lj| reaches ~1e5 here; 1e-9 relative to it is ~100x float64 rounding of the sum.
          expect(Math.abs(diff - expected), `rep ${rep}`).toBeLessThan(1e-9 * (1 + Math.abs(lj)));
        }
      });
    }
  }
});

describe('the marginal posterior of (mu, tau) does not depend on c', () => {
  /*
   * (a) Exact change of variables. theta_k = mu + tau^{1-c_k} (z_k - c_k mu) has
   * dtheta_k/dz_k = tau^{1-c_k}, so the density of q = (mu, s, z) is
   *   p_q(q) = p(mu, s, theta) * prod_k tau^{1-c_k},
   * i.e. log p(mu, s, theta) = logDensity_c(q) - sum_k (1 - c_k) s (+ a constant). The
   * log-Jacobian is *subtracted* when going from q back to theta: adding it would leave
   * a c-dependent 2 sum_k (1 - c_k) s.
   */
  it('(a) change of variables: logDensity_c - sum_k (1 - c_k) log tau is the same for all c', () => {
    for (const name of SEEDS) {
      for (const priors of Object.values(PRIORS)) {
        const data = DATA[name];
        const u = rng(11);
        const cs = Object.values(centerednessCases(data.K, u));
        const models = cs.map((c) => makeModel(data, c, priors));
        let constant: number | undefined;
        for (let rep = 0; rep < 40; rep++) {
          const p = randomPoint(u, data.K);
          const s = Math.log(p.tau);
          const vals = models.map((m) => {
            let jac = 0;
            for (let k = 0; k < data.K; k++) jac += (1 - m.c[k]) * s;
            return logDensity(m, unconstrain(m, p.mu, p.tau, p.theta)) - jac;
          });
          // Against the per-observation joint (a function of (mu, tau, theta) alone).
          const ref = logJointPerObservation(data, priors, p.mu, p.tau, p.theta) + s;
          for (const v of vals) {
            constant ??= ref - v;
            expect(Math.abs(ref - v - constant)).toBeLessThan(1e-9 * (1 + Math.abs(ref)));
          }
        }
      }
    }
  });

  /** The model restricted to group k alone (same priors, same c_k): D = 3. */
  function groupModel(model: HierModel, k: number): HierModel {
    const st = model.stats;
    const stats = {
      ...st,
      K: 1,
      n: st.n.subarray(k, k + 1),
      a: st.a.subarray(k, k + 1),
      b: st.b.subarray(k, k + 1),
      precision: st.precision.subarray(k, k + 1),
      ybar: st.ybar.subarray(k, k + 1),
      se: st.se.subarray(k, k + 1),
      labels: [st.labels[k]],
    };
    return { ...model, stats, c: model.c.subarray(k, k + 1), dim: 3 };
  }

  /**
   * log of the integral over z of exp(log p(q)), q = (mu, s, z), with the log density
   * factorized by group: prior terms + sum_k log of a 1-D integral over z_k of the model's
   * own single-group log density minus its prior terms. The integrand is Gaussian in z_k;
   * its centre and width only place the grid (+-40 sd, spacing 0.2 sd, where the trapezoid
   * error is ~exp(-2 pi^2 / 0.04), far below float64); the values are the model's.
   */
  function logIntegralZ(model: HierModel, mu: number, s: number): number {
    const prior = priorTerms(model, mu, s);
    const g = new Float64Array(3);
    const q = new Float64Array([mu, s, 0]);
    let total = prior;
    for (let k = 0; k < model.stats.K; k++) {
      const one = groupModel(model, k);
      const ck = one.c[0];
      const a = Math.exp(-ck * s); // du/dz
      const b = Math.exp((1 - ck) * s); // dtheta/dz
      const P = one.stats.precision[0];
      const prec = a * a + P * b * b;
      // Stationary point: a^2 (z - c mu) + P b (mu + b (z - c mu) - ybar) = 0.
      const z0 = ck * mu - (P * b * (mu - one.stats.ybar[0])) / prec;
      const sd = 1 / Math.sqrt(prec);
      const n = 400;
      const h = (80 * sd) / n;
      const terms = new Float64Array(n + 1);
      let mx = -Infinity;
      for (let i = 0; i <= n; i++) {
        q[2] = z0 - 40 * sd + i * h;
        terms[i] = logDensityGrad(one, q, g) - prior;
        mx = Math.max(mx, terms[i]);
      }
      let sum = 0;
      for (let i = 0; i <= n; i++) sum += (i === 0 || i === n ? 0.5 : 1) * Math.exp(terms[i] - mx);
      total += Math.log(sum * h) + mx;
    }
    return total;
  }

  /** The log density's terms that depend on (mu, s) only: with K = 0 groups, logDensity is exactly these. */
  function priorTerms(model: HierModel, mu: number, s: number): number {
    const empty: HierModel = { ...model, stats: { ...model.stats, K: 0 }, c: new Float64Array(0), dim: 2 };
    return logDensity(empty, [mu, s]);
  }

  it('(b) numerically: integrating exp(logDensity) over z gives the same log p(mu, s | y) for every c', () => {
    for (const name of SEEDS) {
      for (const priors of Object.values(PRIORS)) {
        const data = DATA[name];
        const stats = groupStats(data);
        const u = rng(23);
        const cs = centerednessCases(data.K, u);
        const models = Object.values(cs).map((c) => makeModel(data, c, priors));
        let constant: number | undefined;
        let closedFormConstant: number | undefined;
        for (const mu of [-3, 0, 2.5, 4.5, 8]) {
          for (const s of [-3, -1, 0, 1, 1.5, 2.5]) {
            const vals = models.map((m) => logIntegralZ(m, mu, s));
            for (const v of vals) {
              constant ??= v - vals[0];
              expect(Math.abs(v - vals[0] - constant), `${name} mu=${mu} s=${s}`).toBeLessThan(1e-8);
            }
            // And it is the closed-form p(mu, s | y) with theta integrated out: the
            // integrand of posterior.ts's logMarginalTau before mu is integrated out.
            let closed = priorTerms(models[0], mu, s);
            const tau2 = Math.exp(2 * s);
            for (let k = 0; k < data.K; k++) {
              if (!(stats.precision[k] > 0)) continue;
              const v = tau2 + 1 / stats.precision[k];
              closed += -0.5 * ((stats.ybar[k] - mu) ** 2 / v) - 0.5 * Math.log(v);
            }
            closedFormConstant ??= vals[0] - closed;
            expect(Math.abs(vals[0] - closed - closedFormConstant)).toBeLessThan(1e-8);
          }
        }
        // The Jacobian makes the constant exactly 0 (each z-integral equals the theta-integral).
        expect(Math.abs(constant!)).toBeLessThan(1e-8);
      }
    }
  });
});
