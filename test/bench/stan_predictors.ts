/**
 * FunnelWeb against Stan on posteriordb's models with population-level predictors, in one run
 * (`npm run bench -- --only stan-predictors`): min bulk ESS per second on radon_mn, seeds and
 * GLMM_Poisson, at Stan's adapt_delta 0.8 (its default) and 0.95.
 *
 * One case list (PREDICTOR_CASES) gives both sides the same model and priors: FunnelWeb's
 * flags (`--likelihood`, `--predictors`, `--columns`, `--mu-prior`, `--tau-prior`,
 * `--sigma-prior`, `--beta-prior`) are written from it, and so is Stan's data: the design
 * matrix X, y, groups and trials as FunnelWeb's own loader (`loadData`) reads them from the
 * same file with the same flags, and the prior scales.
 *
 * - **FunnelWeb** as in test/bench/stan.ts: the built command (`dist/cli/bin.js`, built first,
 *   untimed) as a child process, `--param auto` and otherwise its defaults (chains, warmup,
 *   draws), timed from spawn to exit (whole-process wall time); min bulk ESS over mu, tau,
 *   log_tau, sigma and log_sigma (radon), every beta and every theta of the summary, times its
 *   `ess_scale` (p[...] and rate[...] are monotone in theta: the same bulk ESS).
 * - **Stan** (rstan NUTS, `stan/run_stan_predictors.R`) on the posteriordb-style models with
 *   non-centered random intercepts (`stan/radon_predictors.stan`: posteriordb's
 *   radon_hierarchical_intercept_noncentered; `stan/seeds_predictors.stan`,
 *   `stan/glmm_poisson_predictors.stan`): the settings of the existing Stan bench (2 chains in
 *   parallel, 1,000 warmup + 10,000 draws per chain, seed 1; compiled once and cached in the
 *   OS's temporary directory, compile excluded); the figure is min bulk ESS per second of
 *   Stan's own elapsed time (warmup + sampling, the slower chain), over the same parameters
 *   (Stan's theta[k] is FunnelWeb's theta[<label k>], beta[j] its beta[<predictor j>], log_tau
 *   and log_sigma computed from the draws), with FunnelWeb's `summarize`.
 *
 * Skipped, with a message, when `Rscript` with rstan is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDrawsCsv } from '../../src/io/draws_csv.ts';
import { loadData } from '../../src/io/data.ts';
import { familyOf } from '../../src/model/families/index.ts';
import type { HierData } from '../../src/model/data.ts';
import { summarize } from '../../src/diagnostics/index.ts';
import type { RunReport } from '../../src/sampler/report.ts';
import { STAN_CHAINS, STAN_DRAWS, STAN_WARMUP } from './stan.ts';

/** A posteriordb data set with predictors, its model and priors, for both samplers. */
export interface PredictorCase {
  name: string;
  /** The data file, relative to the repository root. */
  data: string;
  likelihood: 'normal' | 'binomial' | 'poisson';
  predictors: string[];
  /** `--columns`: FunnelWeb's column names to the file's. */
  columns: Record<string, string>;
  mu: [number, number];
  tau: number;
  /** Half-normal scale of sigma (normal likelihood without a sigma column: sigma unknown). */
  sigma?: number;
  beta: [number, number];
  /** The Stan model file (test/bench/stan/). */
  stan: string;
}

const POSTERIORDB = 'test/reference/data/posteriordb';
export const PREDICTOR_CASES: readonly PredictorCase[] = [
  {
    name: 'radon_mn',
    data: `${POSTERIORDB}/radon_mn.json`,
    likelihood: 'normal',
    predictors: ['log_uppm', 'floor_measure'],
    columns: { y: 'log_radon', group: 'county_idx' },
    mu: [0, 10],
    tau: 1,
    sigma: 1,
    beta: [0, 10],
    stan: 'radon_predictors.stan',
  },
  {
    name: 'seeds',
    data: `${POSTERIORDB}/seeds_data.json`,
    likelihood: 'binomial',
    predictors: ['x1', 'x2', 'x1:x2'],
    columns: { y: 'n', trials: 'N' },
    mu: [0, 10],
    tau: 1,
    beta: [0, 10],
    stan: 'seeds_predictors.stan',
  },
  {
    name: 'GLMM_Poisson',
    data: `${POSTERIORDB}/GLMM_Poisson_data.json`,
    likelihood: 'poisson',
    predictors: ['year', 'year:year', 'year:year:year'],
    columns: { y: 'C' },
    mu: [0, 10],
    tau: 1,
    beta: [0, 5],
    stan: 'glmm_poisson_predictors.stan',
  },
];
/** Stan's default adapt_delta, then the stricter one. */
export const PREDICTOR_ADAPT_DELTAS = [0.8, 0.95] as const;

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./stan/', import.meta.url));

/** FunnelWeb's model flags of a case (the data, likelihood, columns, predictors and priors). */
export function caseFlags(c: PredictorCase): string[] {
  const flags = [
    '--data', join(root, c.data),
    '--likelihood', c.likelihood,
    '--predictors', c.predictors.join(','),
    '--columns', Object.entries(c.columns).map(([k, v]) => `${k}=${v}`).join(','),
    '--mu-prior', `normal:${c.mu[0]},${c.mu[1]}`,
    '--tau-prior', `halfnormal:${c.tau}`,
    '--beta-prior', `normal:${c.beta[0]},${c.beta[1]}`,
  ];
  if (c.sigma !== undefined) flags.push('--sigma-prior', `halfnormal:${c.sigma}`);
  return flags;
}

/** The parameters both sides are judged on: mu, tau, log_tau, sigma, log_sigma, beta[...], theta[...]. */
function judged(name: string): boolean {
  return ['mu', 'tau', 'log_tau', 'sigma', 'log_sigma'].includes(name) || name.startsWith('beta[') || name.startsWith('theta[');
}

export interface PredictorFunnelWebRun {
  case: string;
  wall_s: number;
  report: RunReport;
  /** The parameters the min is over. */
  names: string[];
  ess_bulk_min: number;
  /** The parameter with the min. */
  ess_bulk_argmin: string;
  ess_per_s: number;
}

let built = false;
function cliPath(): string {
  if (!built) {
    const r = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
    built = true;
  }
  return join(root, 'dist/cli/bin.js');
}

/** The FunnelWeb command line of a case (relative paths, for printing). */
export function funnelWebCommand(c: PredictorCase): string {
  return ['npx funnelweb sample', ...caseFlags(c).map((a) => a.replace(root, '')), '--param auto --summary summary.json'].join(' ');
}

/** Runs `funnelweb sample --param auto` on a case (defaults otherwise) as a child process and times it. */
export async function runFunnelWebPredictors(c: PredictorCase): Promise<PredictorFunnelWebRun> {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-bench-'));
  try {
    const summary = join(dir, 'summary.json');
    const argv = [cliPath(), 'sample', ...caseFlags(c), '--param', 'auto', '--summary', summary, '--quiet'];
    const t0 = performance.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((res, rej) => {
      const p = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (b) => (err += b));
      p.on('error', rej);
      p.on('close', (code) => res({ code, stderr: err }));
    });
    const wall = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`funnelweb sample on ${c.name} exited with ${code}:\n${stderr}`);
    if (stderr.trim()) console.log(`   FunnelWeb ${c.name} stderr:\n${stderr.trimEnd()}`);
    const report = JSON.parse(readFileSync(summary, 'utf8')) as RunReport;
    const names = Object.keys(report.params).filter(judged);
    const [argmin, min] = minBy(names, (n) => report.params[n].ess_bulk);
    const ess = min * report.throughput.ess_scale;
    return { case: c.name, wall_s: wall, report, names, ess_bulk_min: ess, ess_bulk_argmin: argmin, ess_per_s: ess / wall };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function minBy(names: string[], f: (n: string) => number): [string, number] {
  let best = names[0];
  for (const n of names) if (f(n) < f(best) || Number.isNaN(f(n))) best = n;
  return [best, f(best)];
}

export interface PredictorStanRun {
  case: string;
  adaptDelta: number;
  draws: number;
  elapsed_s: number;
  sampling_s: number;
  names: string[];
  ess_bulk_min: number;
  ess_bulk_argmin: string;
  ess_per_s: number;
  divergences: number;
  rhat_max: number;
  step_size: number;
  mean_leapfrog: number;
  /** Posterior mean and sd of each judged parameter (for the agreement check). */
  moments: Record<string, { mean: number; sd: number }>;
}

export interface PredictorStanResult {
  compile_s: Record<string, number>;
  process_s: number;
  version: string;
  runs: PredictorStanRun[];
}

/** Stan's data for a case, read by FunnelWeb's loader from the same file with the same flags. */
async function stanData(c: PredictorCase): Promise<{ data: Record<string, unknown>; loaded: HierData; arrays: string[]; ints: string[] }> {
  const loaded = await loadData(join(root, c.data), { family: familyOf(c.likelihood), predictors: c.predictors, columns: c.columns });
  const p = loaded.predictors;
  if (!p) throw new Error(`${c.name}: no predictors loaded`);
  const N = loaded.y.length;
  const P = p.names.length;
  const d: Record<string, unknown> = {
    N,
    P,
    X: Array.from(p.X),
    y: Array.from(loaded.y),
    mu_loc: c.mu[0],
    mu_scale: c.mu[1],
    tau_scale: c.tau,
    beta_loc: c.beta[0],
    beta_scale: c.beta[1],
  };
  const arrays = ['y'];
  const ints: string[] = [];
  if (c.likelihood === 'normal') {
    if (loaded.sigma.length > 0 || c.sigma === undefined) throw new Error(`${c.name}: the Stan model has sigma unknown`);
    d.J = loaded.K;
    d.g = Array.from(loaded.group, (k) => k + 1);
    d.sigma_scale = c.sigma;
    arrays.push('g');
    ints.push('g');
  } else {
    // Each observation its own group (no group column): Stan's theta[i] is observation i's.
    if (loaded.K !== N || loaded.group.some((k, i) => k !== i)) throw new Error(`${c.name}: the Stan model has one group per observation`);
    ints.push('y');
    if (c.likelihood === 'binomial') {
      d.trials = Array.from(loaded.columns!.trials);
      arrays.push('trials');
      ints.push('trials');
    } else if (loaded.columns?.exposure?.some((e) => e !== 1)) throw new Error(`${c.name}: the Stan model has exposure 1`);
  }
  return { data: d, loaded, arrays, ints };
}

/** Runs Stan on every case at every adapt_delta in one Rscript process (each model compiled once). */
export async function runStanPredictors(
  cases: readonly PredictorCase[] = PREDICTOR_CASES,
  deltas: readonly number[] = PREDICTOR_ADAPT_DELTAS,
  opts: { draws?: number; warmup?: number } = {},
): Promise<PredictorStanResult> {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-stan-'));
  try {
    const cacheDir = join(tmpdir(), 'funnelweb-stan-cache');
    mkdirSync(cacheDir, { recursive: true });
    const models: Record<string, string> = {};
    for (const c of cases) {
      // A copy beside the compiled model, rewritten only when the code changes (rstan's auto_write then reuses it).
      const code = readFileSync(join(here, c.stan), 'utf8');
      const model = join(cacheDir, c.stan);
      if (!existsSync(model) || readFileSync(model, 'utf8') !== code) writeFileSync(model, code);
      models[c.name] = model;
    }
    const prepared = await Promise.all(cases.map(async (c) => ({ c, ...(await stanData(c)) })));
    const jobs = prepared.flatMap(({ c, data, loaded, arrays, ints }) =>
      deltas.map((delta) => ({
        name: `${c.name}_${delta}`,
        model: c.name,
        adapt_delta: delta,
        pars: ['mu', 'tau', ...(c.likelihood === 'normal' ? ['sigma'] : []), 'beta', 'theta'],
        arrays,
        ints,
        data,
        c,
        loaded,
      })),
    );
    const spec = {
      models,
      cache: true,
      chains: STAN_CHAINS,
      warmup: opts.warmup ?? STAN_WARMUP,
      draws: opts.draws ?? STAN_DRAWS,
      seed: 1,
      jobs: jobs.map(({ name, model, adapt_delta, pars, arrays, ints, data }) => ({ name, model, adapt_delta, pars, arrays, ints, data })),
    };
    const specPath = join(dir, 'jobs.json');
    writeFileSync(specPath, JSON.stringify(spec));
    const t0 = performance.now();
    const out = await new Promise<string>((res, rej) => {
      const p = spawn('Rscript', [join(here, 'run_stan_predictors.R'), specPath, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      p.stdout.on('data', (b) => (o += b));
      p.stderr.on('data', (b) => (e += b));
      p.on('error', rej);
      p.on('close', (code) => (code === 0 ? res(o) : rej(new Error(`run_stan_predictors.R exited with ${code}: ${e.slice(-3000)}`))));
    });
    const process_s = (performance.now() - t0) / 1000;
    const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const compiled = events.filter((e) => e.event === 'compiled');
    const runs: PredictorStanRun[] = [];
    for (const e of events.filter((x) => x.event === 'fit')) {
      const job = jobs.find((j) => j.name === e.name)!;
      const table = parseDrawsCsv(readFileSync(e.csv, 'utf8'), e.csv);
      const betaNames = job.loaded.predictors!.names;
      const params: Record<string, Float32Array> = {};
      const take = (stanName: string, name: string, f: (v: number) => number = (v) => v) => {
        const v = table.params[stanName];
        if (!v) throw new Error(`${e.name}: no ${stanName} in Stan's draws`);
        params[name] = Float32Array.from(v, f);
      };
      take('mu', 'mu');
      take('tau', 'tau');
      take('tau', 'log_tau', Math.log);
      if (job.c.likelihood === 'normal') {
        take('sigma', 'sigma');
        take('sigma', 'log_sigma', Math.log);
      }
      betaNames.forEach((b, j) => take(`beta[${j + 1}]`, `beta[${b}]`));
      job.loaded.labels.forEach((l, k) => take(`theta[${k + 1}]`, `theta[${l}]`));
      const s = summarize(params, table.chains, table.draws, { divergent: table.divergent });
      const names = Object.keys(s.params);
      const [argmin, min] = minBy(names, (n) => s.params[n].ess_bulk);
      runs.push({
        case: job.c.name,
        adaptDelta: job.adapt_delta,
        draws: spec.draws,
        elapsed_s: e.elapsed_s,
        sampling_s: e.sampling_s,
        names,
        ess_bulk_min: min,
        ess_bulk_argmin: argmin,
        ess_per_s: min / e.elapsed_s,
        divergences: e.divergences,
        rhat_max: Math.max(...names.map((n) => s.params[n].rhat)),
        step_size: e.step_size,
        mean_leapfrog: e.mean_leapfrog,
        moments: Object.fromEntries(names.map((n) => [n, { mean: s.params[n].mean, sd: s.params[n].sd }])),
      });
    }
    const v = compiled[0];
    return {
      compile_s: Object.fromEntries(compiled.map((x) => [x.model, x.compile_s])),
      process_s,
      version: v ? `Stan ${v.stan} (rstan ${v.rstan}, ${v.r})` : 'Stan ?',
      runs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The machine: CPU model and cores, memory, FunnelWeb's adapter, Node. */
export function machineLine(fw: readonly PredictorFunnelWebRun[], stan: PredictorStanResult | null): string {
  const c = cpus();
  const dev = fw[0]?.report.device;
  return (
    `Machine: ${c[0]?.model.trim() ?? '?'} x ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
    `FunnelWeb on ${dev ? `${dev.backend} (${dev.adapter})` : '?'}, node ${process.version}; ${stan ? stan.version : 'Stan not run'}`
  );
}

const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : String(v));
const ratio = (a: number, b: number) => `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}x`;

/**
 * Largest |FunnelWeb mean - Stan mean| / Stan sd over the judged parameters (Stan at 0.95):
 * a check that both sides sampled the same posterior (a few hundredths expected).
 */
function agreement(f: PredictorFunnelWebRun, s: PredictorStanRun | undefined): string {
  if (!s) return '-';
  let worst = 0;
  let at = '';
  for (const n of f.names) {
    const m = s.moments[n];
    if (!m) return `no ${n} in Stan's`;
    const d = Math.abs(f.report.params[n].mean - m.mean) / m.sd;
    if (d > worst) [worst, at] = [d, n];
  }
  const missing = Object.keys(s.moments).filter((n) => !f.names.includes(n));
  return `${worst.toFixed(3)} (${at})${missing.length ? `; not in FunnelWeb's: ${missing.join(', ')}` : ''}`;
}

/** The issue's table (FunnelWeb beside Stan at 0.8 and 0.95, with divergences and ratios), the machine, then the details. */
export function formatStanPredictorsTable(fw: readonly PredictorFunnelWebRun[], stan: PredictorStanResult | null, cases: readonly PredictorCase[] = PREDICTOR_CASES): string {
  const lines: string[] = [];
  const find = (name: string, delta: number) => stan?.runs.find((r) => r.case === name && r.adaptDelta === delta);
  lines.push('| case | FunnelWeb min ESS/s (div) | Stan 0.8 min ESS/s (div) | ratio | Stan 0.95 min ESS/s (div) | ratio |');
  lines.push('|---|---|---|---|---|---|');
  for (const f of fw) {
    const cell = (s: PredictorStanRun | undefined) => (s ? [`${int(s.ess_per_s)} (${s.divergences})`, ratio(f.ess_per_s, s.ess_per_s)] : ['-', '-']);
    lines.push(`| ${f.case} | ${int(f.ess_per_s)} (${f.report.sampler.divergences}) | ${cell(find(f.case, 0.8)).join(' | ')} | ${cell(find(f.case, 0.95)).join(' | ')} |`);
  }
  lines.push('');
  lines.push(machineLine(fw, stan));
  lines.push('');
  lines.push('FunnelWeb (`--param auto`, defaults otherwise; wall = the whole `funnelweb sample` process):');
  for (const c of cases) lines.push(`   ${c.name}: ${funnelWebCommand(c)}`);
  lines.push('| case | wall s | compile | warmup (iterations) | sampling | diagnostics | chains (retained) x draws | min bulk ESS (at) | leapfrog/iter | div | R-hat max | E-BFMI min | centeredness | mean vs Stan 0.95: max abs diff / sd |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const f of fw) {
    const t = f.report.timing;
    const s = f.report.sampler;
    const rh = Math.max(...f.names.map((n) => f.report.params[n].rhat));
    const c = (f.report as unknown as { centeredness?: { c?: number[] } }).centeredness?.c;
    const centText = c ? `${c.filter((v) => v === 1).length} c / ${c.filter((v) => v === 0).length} nc / ${c.filter((v) => v > 0 && v < 1).length} partial` : '-';
    lines.push(
      `| ${f.case} | ${f.wall_s.toFixed(2)} | ${t.compile_s.toFixed(2)} | ${t.warmup_s.toFixed(2)} (${s.warmup}${s.warmup_stopped_at === null ? ', cap' : ''}) | ${t.sampling_s.toFixed(2)} | ${t.diagnostics_s?.toFixed(2) ?? '-'} | ` +
        `${s.chains} (${s.retained_chains}) x ${s.draws} | ${int(f.ess_bulk_min)} (${f.ess_bulk_argmin}) | ${s.mean_leapfrog_steps.toFixed(1)} | ${s.divergences} | ${rh.toFixed(4)} | ${s.ebfmi_min.toFixed(2)} | ${centText} | ${agreement(f, find(f.case, 0.95))} |`,
    );
  }
  if (stan === null) return lines.join('\n');
  lines.push('');
  const compile = Object.entries(stan.compile_s).map(([m, s]) => `${m} ${s.toFixed(1)} s`).join(', ');
  lines.push(
    `${stan.version}: NUTS, ${STAN_CHAINS} chains in parallel, ${STAN_WARMUP} warmup + ${stan.runs[0]?.draws ?? STAN_DRAWS} draws each, seed 1; ` +
      `compile (or load from cache): ${compile}; whole Rscript process ${stan.process_s.toFixed(1)} s; ESS/s per second of Stan's own elapsed time:`,
  );
  lines.push('| case | adapt_delta | elapsed s | sampling() wall s | min bulk ESS (at) | ESS/s | div | R-hat max | step size | leapfrog/iter |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of stan.runs) {
    lines.push(
      `| ${r.case} | ${r.adaptDelta} | ${r.elapsed_s.toFixed(2)} | ${r.sampling_s.toFixed(2)} | ${int(r.ess_bulk_min)} (${r.ess_bulk_argmin}) | ${int(r.ess_per_s)} | ${r.divergences} | ${r.rhat_max.toFixed(4)} | ${r.step_size.toPrecision(3)} | ${r.mean_leapfrog.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}
