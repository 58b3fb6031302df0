/**
 * The run report and the progress bar at scale and in detail:
 * - `reportRun` on 2^20 chains' statistics (E-BFMI, divergences and acceptance per chain)
 *   completes with finite figures: no reduction over chains may spread an array into
 *   arguments (`Math.min(...ebfmi)` overflowed the stack at a million chains);
 * - a partial result is reported as partial, with the draws it holds;
 * - the progress bar's L is the mean leapfrog steps over the iterations it reports.
 */
import { sink } from './cli_helpers.ts';
import { describe, expect, it } from 'vitest';
import { makeModel } from '../src/model/model.ts';
import { DEFAULT_PRIORS } from '../src/model/priors.ts';
import { reportRun } from '../src/sampler/report.ts';
import type { SampleResult, Progress } from '../src/sampler/sample.ts';
import type { HierData } from '../src/model/data.ts';
import { diagnosticsProgress, progressBar } from '../src/cli/progress.ts';
import { medianFinite, minFinite } from '../src/diagnostics/quantile.ts';
import { xorshift32Uniforms } from '../src/sampler/rng.ts';

/** A SampleResult of `chains` chains x `draws` draws of one group, independent normal draws. */
function syntheticResult(chains: number, draws: number): SampleResult {
  const data: HierData = { y: Float64Array.of(1), group: Int32Array.of(0), sigma: Float64Array.of(1), K: 1, labels: ['a'] };
  const model = makeModel(data, Float64Array.of(0), DEFAULT_PRIORS);
  const n = chains * draws;
  const u = xorshift32Uniforms(7);
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const mu = new Float32Array(n);
  const logTau = new Float32Array(n);
  const theta = new Float32Array(n);
  const energy = new Float32Array(n);
  const acceptProb = new Float32Array(n);
  const divergent = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    mu[i] = normal();
    logTau[i] = 0.5 * normal();
    theta[i] = mu[i] + Math.exp(logTau[i]) * normal();
    energy[i] = 5 + normal();
    acceptProb[i] = u();
    divergent[i] = i % 1000 === 0 ? 1 : 0;
  }
  const tau = logTau.map(Math.exp);
  return {
    model,
    backend: { name: 'cpu', adapter: 'synthetic' },
    chains,
    retainedChains: chains,
    warmup: 0,
    draws,
    partial: false,
    requestedDraws: draws,
    params: { mu, tau, log_tau: logTau, 'theta[a]': theta },
    paramNames: ['mu', 'tau', 'log_tau', 'theta[a]'],
    records: {
      retainedChains: chains,
      draws,
      positions: new Float32Array(0),
      logDensity: new Float32Array(n),
      energy,
      acceptProb,
      divergent,
      divergentPositions: new Float32Array(0),
      divergentChain: new Int32Array(0),
      divergentDraw: new Int32Array(0),
    },
    totals: { divergences: Math.ceil(n / 1000), meanAccept: 0.5, gradientEvals: n * 10 },
    stepSize: 0.3,
    trajectoryLength: 3,
    invMass: Float64Array.of(1, 1, 1),
    numSteps: new Int32Array(draws).fill(10),
    adaptation: {
      stepSize: new Float64Array(0),
      trajectoryLength: new Float64Array(0),
      numSteps: new Int32Array(0),
      meanAccept: new Float64Array(0),
      harmonicMeanAccept: new Float64Array(0),
      divergences: new Int32Array(0),
    },
    warmupGradientEvals: 0,
    timing: { compile_s: 0, warmup_s: 0, sampling_s: 1, total_s: 1 },
  };
}

describe('reportRun at 2^20 chains', () => {
  it('reports a million chains (E-BFMI per chain, divergences, acceptance) with finite figures', () => {
    const chains = 2 ** 20;
    const result = syntheticResult(chains, 4);
    const { report, summary } = reportRun(result, 1);
    expect(summary.ebfmi.length).toBe(chains);
    expect(summary.divergencesPerChain.length).toBe(chains);
    expect(report.sampler.chains).toBe(chains);
    expect(report.partial).toBe(false);
    expect(Number.isFinite(report.sampler.ebfmi_min)).toBe(true);
    expect(report.sampler.ebfmi_min).toBe(minFinite(summary.ebfmi));
    expect(report.sampler.ebfmi_median).toBe(medianFinite(summary.ebfmi));
    expect(report.sampler.ebfmi_min).toBeLessThan(report.sampler.ebfmi_median);
    for (const name of result.paramNames) {
      expect(Number.isFinite(report.params[name].mean), name).toBe(true);
      expect(Number.isFinite(report.params[name].rhat), name).toBe(true);
    }
    // Independent draws: R-hat near 1.
    expect(Math.abs(report.params.mu.rhat - 1)).toBeLessThan(0.01);
    expect(report.sampler.divergences).toBe(result.totals.divergences);
  }, 120_000);

  it('minFinite and medianFinite skip NaN, agree with sorting, and take 2^20 values', () => {
    expect(minFinite([3, NaN, -1, 2])).toBe(-1);
    expect(Number.isNaN(minFinite([NaN]))).toBe(true);
    expect(medianFinite([5, NaN, 1, 3, 2])).toBe(2.5);
    const big = new Float64Array(2 ** 20).map((_, i) => (i * 7919) % 1000003);
    const sorted = Float64Array.from(big).sort();
    expect(minFinite(big)).toBe(sorted[0]);
    expect(medianFinite(big)).toBe(0.5 * (sorted[2 ** 19 - 1] + sorted[2 ** 19]));
  });
});

describe('a partial result', () => {
  it('is reported as partial, with the draws it holds and the draws asked for', () => {
    const r = { ...syntheticResult(64, 40), partial: true, requestedDraws: 1000 };
    const { report } = reportRun(r, 1);
    expect(report.partial).toBe(true);
    expect(report.sampler.draws).toBe(40);
    expect(report.sampler.requested_draws).toBe(1000);
    expect(Number.isFinite(report.params.mu.ess_bulk)).toBe(true);
  });
});


function report(phase: 'warmup' | 'sampling', iteration: number, total: number, numSteps: number): Progress {
  return { phase, iteration, total, divergences: 0, stepSize: 0.1, trajectoryLength: 1, numSteps, elapsedSeconds: 0 };
}

describe('progress bar', () => {
  it('shows the mean L of the iterations since its last line, not the last transition', () => {
    const { stream, chunks } = sink(false);
    const bar = progressBar(stream);
    // Sampling reports every 32 iterations, each with its batch's mean L; 320 draws: a line per tenth.
    const means = [13.5, 2, 20, 10, 10, 10, 10, 10, 10, 12];
    for (let b = 0; b < 10; b++) bar.update(report('sampling', 32 * (b + 1), 320, means[b]));
    bar.done();
    const ls = chunks.map((c) => Number(/ L (\S+)/.exec(c)![1]));
    expect(ls).toEqual(means.map((m) => Number(m.toFixed(1))));
    // Fewer lines than reports: the line averages over the iterations it covers.
    const { stream: s2, chunks: c2 } = sink(false);
    const bar2 = progressBar(s2);
    for (let it = 1; it <= 100; it++) bar2.update(report('warmup', it, 100, it % 2 ? 4 : 8));
    const l2 = c2.map((c) => Number(/ L (\S+)/.exec(c)![1]));
    // Lines at iterations 1, 10, 20, ..., 100: the first covers iteration 1 (L 4), the
    // second 2..10 (five 8s, four 4s: 6.2), the others ten iterations each (mean 6).
    expect(l2.length).toBe(11);
    expect(l2[0]).toBe(4);
    expect(l2[1]).toBe(6.2);
    expect(l2.slice(2)).toEqual(new Array(9).fill(6));
  });

  it('on a terminal redraws at most every 100 ms, and always at the end of a phase', () => {
    const { stream, chunks } = sink(true);
    let t = 0;
    const bar = progressBar(stream, () => t);
    for (let it = 1; it <= 64; it++) bar.update(report('warmup', it, 64, it === 64 ? 30 : 2));
    const drawn = chunks.filter((c) => c.startsWith('\r'));
    // First report, then the last one (mean over iterations 2..64).
    expect(drawn.length).toBe(2);
    expect(Number(/ L (\S+)/.exec(drawn[1])![1])).toBeCloseTo((62 * 2 + 30) / 63, 1);
    t = 1000;
    bar.update(report('sampling', 32, 64, 9));
    expect(chunks.at(-1)).toMatch(/^\rsampling .* L 9\.0/);
  });

  it('diagnostics: redrawn per parameter on a terminal; a line at the start and the end otherwise', () => {
    let t = 0;
    const tty = sink(true);
    const d = diagnosticsProgress(12, 4_096_000, tty.stream, () => t);
    t = 700;
    d.update(5);
    t = 2500;
    d.update(12);
    d.done();
    expect(tty.chunks.map((c) => /(\d+)\/12 parameters/.exec(c)![1])).toEqual(['0', '5', '12', '12']);
    expect(tty.chunks[1]).toMatch(/^\rdiagnose \[#{10}-{14}\] +5\/12 parameters \(R-hat, ESS, MCSE over 4,096,000 draws each\) +0\.7s/);
    expect(tty.chunks.at(-1)!.endsWith('\n')).toBe(true);
    const log = sink(false);
    const e = diagnosticsProgress(3, 100, log.stream, () => 0);
    e.update(1);
    e.update(3);
    e.done();
    expect(log.chunks).toHaveLength(2);
    expect(log.chunks[1]).toMatch(/^diagnose \[#{24}\] +3\/3 parameters/);
  });
});
