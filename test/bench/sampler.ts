/**
 * Sampler benchmarks (not timed tests): kernel throughput and end-to-end ChEES-HMC runs of
 * the seed study's cases on the WebGPU backend, with the float64 CPU backend beside it.
 * Run through `npm run bench` (test/bench/run.ts), which prints every figure.
 */
import { readFileSync } from 'node:fs';
import { parseSeedJson } from '../../src/io/data.ts';
import { makeModel } from '../../src/model/model.ts';
import { parseParameterization } from '../../src/model/parameterization.ts';
import { sample, type BackendKind } from '../../src/sampler/sample.ts';
import { reportRun, summaryInputs } from '../../src/sampler/report.ts';
import { summarizeParallel } from '../../src/diagnostics/parallel.ts';
import { createWebGpuBackend } from '../../src/sampler/gpu_backend.ts';
import { createCpuBackend } from '../../src/sampler/cpu_backend.ts';
import { initialPositions, keyFromSeed } from '../../src/sampler/rng.ts';
import type { HierData } from '../../src/model/data.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { wideData } from '../wide_data.ts';

/** The seed study's seven cases (SEED.md). */
export const SEED_CASES: readonly (readonly [string, string])[] = [
  ['weak', 'centered'],
  ['weak', 'noncentered'],
  ['strong', 'centered'],
  ['strong', 'noncentered'],
  ['unbalanced', 'centered'],
  ['unbalanced', 'noncentered'],
  ['unbalanced', 'mixed:2,6'],
];

/**
 * `auto` against the fixed forms it should match or beat (issue 13): on each seed data set
 * centered, noncentered, mixed:2,6, auto and auto-binary; on the wide unbalanced sets
 * (`wide100`, `wide1000`: K groups of 1 to 1,000 observations, test/wide_data.ts) the two
 * pure forms, auto and auto-binary.
 */
export const AUTO_CASES: readonly (readonly [string, string])[] = [
  ...['weak', 'strong', 'unbalanced'].flatMap((d) => ['centered', 'noncentered', 'mixed:2,6', 'auto', 'auto-binary'].map((p) => [d, p] as const)),
  ...['wide100', 'wide1000'].flatMap((d) => ['centered', 'noncentered', 'auto', 'auto-binary'].map((p) => [d, p] as const)),
];

/** A seed data set by name, or `wide<K>` (test/wide_data.ts). */
export function seed(name: string): HierData {
  const wide = /^wide(\d+)$/.exec(name);
  if (wide) return wideData(Number(wide[1]));
  return parseSeedJson(readFileSync(new URL(`../../demo/data/${name}.json`, import.meta.url), 'utf8'), { source: `${name}.json` });
}

export interface CaseResult {
  data: string;
  param: string;
  backend: string;
  chains: number;
  total_s: number;
  warmup_s: number;
  sampling_s: number;
  grad_per_s: number;
  ess_bulk_min: number;
  ess_per_s: number;
  /** Bulk ESS of tau per second of total wall time (scaled like ess_per_s). */
  tau_ess_per_s: number;
  divergences: number;
  step_size: number;
  mean_steps: number;
  ebfmi_min: number;
  rhat_max: number;
  /** The centeredness sampled with (auto: as learned), short form. */
  c: string;
}

/** One end-to-end run of `sample()` and its report. */
export async function runCase(
  dataName: string,
  param: string,
  opts: { chains: number; warmup: number; draws: number; backend: BackendKind; gpu?: Gpu; adaptMetric?: boolean },
): Promise<CaseResult> {
  const data = seed(dataName);
  const r = await sample({ data, parameterization: param, seed: 1, ...opts });
  const { report } = reportRun(r, 1, await summarizeParallel(...summaryInputs(r)));
  const rhats = Object.values(report.params).map((p) => p.rhat);
  return {
    data: dataName,
    param,
    backend: r.backend.name,
    chains: opts.chains,
    total_s: report.timing.total_s,
    warmup_s: report.timing.warmup_s,
    sampling_s: report.timing.sampling_s,
    grad_per_s: report.throughput.gradient_evals_per_s,
    ess_bulk_min: Math.min(...Object.values(report.params).map((p) => p.ess_bulk)) * report.throughput.ess_scale,
    ess_per_s: report.throughput.ess_bulk_min_per_s,
    tau_ess_per_s: (report.params.tau.ess_bulk * report.throughput.ess_scale) / report.timing.total_s,
    divergences: report.sampler.divergences,
    step_size: report.sampler.step_size,
    mean_steps: report.sampler.mean_leapfrog_steps,
    ebfmi_min: report.sampler.ebfmi_min,
    rhat_max: Math.max(...rhats),
    c: r.centeredness ? describeLearned(r.model.c, r.centeredness.settledWindow) : '',
  };
}

/**
 * Raw transition throughput while sampling: `iterations` transitions of `numSteps`
 * leapfrog steps for every chain (no adaptation, no recording), gradient evals per second.
 */
export async function kernelThroughput(
  dataName: string,
  param: string,
  chains: number,
  numSteps: number,
  iterations: number,
  backend: 'webgpu' | 'cpu',
  gpu?: Gpu,
): Promise<number> {
  const data = seed(dataName);
  const model = makeModel(data, parseParameterization(param, data.labels));
  const b = backend === 'webgpu' ? await createWebGpuBackend(model, chains, 1, gpu) : await createCpuBackend(model, chains, 1);
  try {
    await b.init(initialPositions(keyFromSeed(1), chains, data.K));
    const invMass = new Float64Array(model.dim).fill(1);
    // One untimed transition (pipeline warm-up), then timed ones; the gradient evaluations
    // are the leapfrog steps actually taken (a divergent trajectory stops early).
    b.step({ iteration: 0, stepSize: 0.05, numSteps, invMass });
    await b.sync();
    b.beginSampling(iterations, 0);
    const t0 = performance.now();
    for (let i = 1; i <= iterations; i++) b.step({ iteration: i, stepSize: 0.05, numSteps, invMass });
    await b.sync();
    const dt = (performance.now() - t0) / 1000;
    const { totals } = await b.collect();
    return totals.gradientEvals / dt;
  } finally {
    b.destroy();
  }
}

/** c as centered/noncentered/partial counts, and the window where it settled. */
function describeLearned(c: Float64Array, settled: number): string {
  const ones = c.filter((v) => v === 1).length;
  const zeros = c.filter((v) => v === 0).length;
  return `${ones}C ${zeros}N ${c.length - ones - zeros}P @w${settled}`;
}

const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

export function formatCases(rows: CaseResult[]): string {
  const head = ['data', 'param', 'backend', 'chains', 'total s', 'warmup s', 'sampling s', 'Mgrad/s', 'min ESS', 'ESS/s', 'tau ESS/s', 'ESS/Mgrad', 'div', 'eps', 'L', 'E-BFMI min', 'R-hat max', 'c (auto)'];
  const cells = rows.map((r) => [
    r.data,
    r.param,
    r.backend,
    String(r.chains),
    fmt(r.total_s, 1),
    fmt(r.warmup_s, 1),
    fmt(r.sampling_s, 1),
    fmt(r.grad_per_s / 1e6, 2),
    fmt(r.ess_bulk_min, 0),
    fmt(r.ess_per_s, 0),
    fmt(r.tau_ess_per_s, 0),
    // Min bulk ESS per million gradient evaluations (warmup included): the sampler's
    // efficiency apart from the machine's speed, which on a loaded machine varies 2x.
    fmt(r.ess_bulk_min / ((r.grad_per_s * r.total_s) / 1e6), 0),
    String(r.divergences),
    r.step_size.toPrecision(3),
    fmt(r.mean_steps, 1),
    fmt(r.ebfmi_min, 2),
    fmt(r.rhat_max, 3),
    r.c,
  ]);
  const w = head.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j].length)));
  const line = (c: string[]) => c.map((x, j) => (j < 3 ? x.padEnd(w[j]) : x.padStart(w[j]))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}
