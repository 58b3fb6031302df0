/**
 * FunnelWeb against Stan, in one run (`npm run bench -- --only stan`): min bulk ESS per
 * second on the four cases of issue 14, at Stan's adapt_delta 0.95 (the study's) and 0.8
 * (Stan's default).
 *
 * - **FunnelWeb** as a user runs it: the built command (`dist/cli/bin.js`, what `npx
 *   funnelweb` runs; built first with `npm run build`, untimed) as a child process, timed
 *   from spawn to exit (whole-process wall time: Node start-up, compile, warmup, sampling,
 *   diagnostics, report); the min bulk ESS is the summary JSON's (times its `ess_scale`).
 *   For ESS per second, with THROUGHPUT_ARGS (4,096 chains x 1,000 draws, automatic warmup);
 *   for the time to a usable answer, with the defaults (chains by adapter, sampling until
 *   every bulk ESS >= 4,000 and R-hat < 1.0091), beside Stan's time to the same ESS.
 * - **Stan** (rstan NUTS, `stan/run_stan.R`): the same model on per-group sufficient
 *   statistics (`ybar_k ~ normal(theta_k, se_k)`, se_k = sigma / sqrt(n_k)), with the case's
 *   centeredness (`stan/hier.stan`), 2 chains on 2 cores, 1,000 warmup + 10,000 draws per
 *   chain; compiled once (and cached between bench runs, in the OS's temporary directory),
 *   then Stan's figure is its own elapsed time, warmup + sampling of the slower chain (the
 *   chains run in parallel): compile and R's start of the worker processes excluded, as a
 *   CmdStan user would time it. The wall time of each `sampling()` call and of the whole
 *   Rscript process are reported too. Its draws are diagnosed with FunnelWeb's own estimator (`summarize`, equal to R's
 *   posterior to 1e-6), over the same parameters (mu, tau, log_tau, theta).
 *
 * Skipped, with a message, when `Rscript` with rstan is not installed (CI does not need it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDrawsCsv } from '../../src/io/draws_csv.ts';
import { makeModel } from '../../src/model/model.ts';
import { parseParameterization } from '../../src/model/parameterization.ts';
import { DEFAULT_PRIORS } from '../../src/model/priors.ts';
import { summarize } from '../../src/diagnostics/index.ts';
import type { RunReport } from '../../src/sampler/report.ts';
import { seed } from './sampler.ts';

/** The four cases of issue 14. */
export const STAN_CASES: readonly (readonly [string, string])[] = [
  ['weak', 'noncentered'],
  ['strong', 'centered'],
  ['unbalanced', 'mixed:2,6'],
  ['strong', 'noncentered'],
];
/** FunnelWeb's settings for ESS per second: every chain's 1,000 draws, 4,096 chains on any adapter. */
export const THROUGHPUT_ARGS = ['--chains', '4096', '--draws', '1000'] as const;
/** The study's adapt_delta, then Stan's default. */
export const STAN_ADAPT_DELTAS = [0.95, 0.8] as const;
/** Stan's settings: 2 chains (one per core of the benchmark machine), 1,000 warmup, 10,000 draws per chain. */
export const STAN_CHAINS = 2;
export const STAN_WARMUP = 1000;
export const STAN_DRAWS = 10000;

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./stan/', import.meta.url));

/** Whether `Rscript` with rstan and jsonlite is installed (a message says why not). */
export function stanAvailable(): { ok: boolean; why?: string } {
  const r = spawnSync('Rscript', ['-e', 'suppressPackageStartupMessages({library(rstan); library(jsonlite)})'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `Rscript not found (${(r.error as Error).message})` };
  if (r.status !== 0) return { ok: false, why: `rstan or jsonlite missing: ${r.stderr.trim().split('\n').pop()}` };
  return { ok: true };
}

export interface FunnelWebRun {
  data: string;
  param: string;
  wall_s: number;
  report: RunReport;
  ess_bulk_min: number;
  ess_per_s: number;
}

let built = false;
/** The command line of `funnelweb`: the built `dist/cli/bin.js`, built once per bench process. */
export function cliArgv(): string[] {
  if (!built) {
    const r = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
    built = true;
  }
  return [join(root, 'dist/cli/bin.js')];
}

/** Runs `funnelweb sample` (defaults unless `args` say otherwise) as a child process and times it. */
export async function runFunnelWebCli(dataName: string, param: string, args: string[] = []): Promise<FunnelWebRun> {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-bench-'));
  try {
    const summary = join(dir, 'summary.json');
    const argv = [...cliArgv(), 'sample', '--data', join(root, `demo/data/${dataName}.json`), '--param', param, '--summary', summary, '--quiet', ...args];
    const t0 = performance.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((res, rej) => {
      const p = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (b) => (err += b));
      p.on('error', rej);
      p.on('close', (c) => res({ code: c, stderr: err }));
    });
    const wall = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`funnelweb sample ${dataName} ${param} exited with ${code}: ${stderr}`);
    const report = JSON.parse(readFileSync(summary, 'utf8')) as RunReport;
    const ess = Math.min(...Object.values(report.params).map((p) => p.ess_bulk)) * report.throughput.ess_scale;
    return { data: dataName, param, wall_s: wall, report, ess_bulk_min: ess, ess_per_s: ess / wall };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall time of a process that only starts FunnelWeb's CLI (`sample --help`): Node and the imports. */
export function processStartSeconds(): number {
  const argv = cliArgv();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...argv, 'sample', '--help'], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('funnelweb sample --help failed');
  return (performance.now() - t0) / 1000;
}

export interface StanRun {
  data: string;
  param: string;
  adaptDelta: number;
  /** Draws per chain. */
  draws: number;
  /** Stan's own elapsed time (warmup + sampling, the slower chain): the figure's denominator. */
  elapsed_s: number;
  /** Stan's own warmup time of the slower chain's warmup. */
  warmup_s: number;
  /** Wall time of the sampling() call. */
  sampling_s: number;
  ess_bulk_min: number;
  ess_per_s: number;
  divergences: number;
  rhat_max: number;
  step_size: number;
  mean_leapfrog: number;
}

export interface StanResult {
  compile_s: number;
  process_s: number;
  version: string;
  runs: StanRun[];
}

/** Stan's data for a case: the model's sufficient statistics and centeredness. */
function stanData(dataName: string, param: string) {
  const d = seed(dataName);
  const m = makeModel(d, parseParameterization(param, d.labels), DEFAULT_PRIORS);
  const s = m.stats;
  const g: number[] = [];
  for (let k = 0; k < s.K; k++) if (s.n[k] > 0) g.push(k);
  if (DEFAULT_PRIORS.tau.kind !== 'halfnormal') throw new Error('the Stan model has a half-normal tau prior');
  return {
    K: s.K,
    J: g.length,
    g: g.map((k) => k + 1),
    ybar: g.map((k) => s.ybar[k]),
    se: g.map((k) => s.se[k]),
    c: Array.from(m.c),
    mu_loc: DEFAULT_PRIORS.mu.loc,
    mu_scale: DEFAULT_PRIORS.mu.scale,
    tau_scale: DEFAULT_PRIORS.tau.scale,
  };
}

/** Runs Stan on every case at every adapt_delta in one Rscript process (one compile). */
export async function runStan(cases: readonly (readonly [string, string])[] = STAN_CASES, deltas: readonly number[] = STAN_ADAPT_DELTAS, opts: { draws?: number; warmup?: number } = {}): Promise<StanResult> {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-stan-'));
  try {
    const jobs = cases.flatMap(([d, p], i) => deltas.map((delta) => ({ name: `case${i}_${delta}`, data: stanData(d, p), adapt_delta: delta, d, p })));
    // The compiled model is cached beside a copy of the .stan file (rewritten only when the
    // code changes, so rstan's auto_write finds it up to date).
    const cacheDir = join(tmpdir(), 'funnelweb-stan-cache');
    mkdirSync(cacheDir, { recursive: true });
    const code = readFileSync(join(here, 'hier.stan'), 'utf8');
    const model = join(cacheDir, 'hier.stan');
    if (!existsSync(model) || readFileSync(model, 'utf8') !== code) writeFileSync(model, code);
    const spec = {
      model,
      cache: true,
      chains: STAN_CHAINS,
      warmup: opts.warmup ?? STAN_WARMUP,
      draws: opts.draws ?? STAN_DRAWS,
      seed: 1,
      jobs: jobs.map(({ name, data, adapt_delta }) => ({ name, data, adapt_delta })),
    };
    const specPath = join(dir, 'jobs.json');
    writeFileSync(specPath, JSON.stringify(spec));
    const t0 = performance.now();
    const out = await new Promise<string>((res, rej) => {
      const p = spawn('Rscript', [join(here, 'run_stan.R'), specPath, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      p.stdout.on('data', (b) => (o += b));
      p.stderr.on('data', (b) => (e += b));
      p.on('error', rej);
      p.on('close', (c) => (c === 0 ? res(o) : rej(new Error(`run_stan.R exited with ${c}: ${e.slice(-2000)}`))));
    });
    const process_s = (performance.now() - t0) / 1000;
    const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const compiled = events.find((e) => e.event === 'compiled');
    const runs: StanRun[] = [];
    for (const e of events.filter((x) => x.event === 'fit')) {
      const job = jobs.find((j) => j.name === e.name)!;
      const table = parseDrawsCsv(readFileSync(e.csv, 'utf8'), e.csv);
      const params: Record<string, Float32Array> = {};
      params.mu = Float32Array.from(table.params.mu);
      params.tau = Float32Array.from(table.params.tau);
      params.log_tau = Float32Array.from(table.params.tau, Math.log);
      for (const [name, v] of Object.entries(table.params)) if (name.startsWith('theta')) params[name] = Float32Array.from(v);
      const s = summarize(params, table.chains, table.draws, { divergent: table.divergent });
      const ps = Object.values(s.params);
      const ess = Math.min(...ps.map((p) => p.ess_bulk));
      runs.push({
        data: job.d,
        param: job.p,
        adaptDelta: job.adapt_delta,
        draws: spec.draws,
        elapsed_s: e.elapsed_s,
        warmup_s: Math.max(...(e.chain_warmup_s as number[])),
        sampling_s: e.sampling_s,
        ess_bulk_min: ess,
        ess_per_s: ess / e.elapsed_s,
        divergences: e.divergences,
        rhat_max: Math.max(...ps.map((p) => p.rhat)),
        step_size: e.step_size,
        mean_leapfrog: e.mean_leapfrog,
      });
    }
    return { compile_s: compiled?.compile_s ?? NaN, process_s, version: compiled?.stan ?? '?', runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : String(v));
const ratio = (a: number, b: number) => `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}x`;

/** The table: FunnelWeb's ESS/s beside Stan's at each adapt_delta, with ratios, then the details. */
/**
 * Seconds from the end of sampling to the process's exit (diagnostics, report, output,
 * exit), and their share of the whole-process wall time: the process records when sampling
 * ended (`timing.sampling_ended_at_s`, since its start), the bench times it from spawn to exit.
 */
export function afterSampling(f: FunnelWebRun): string {
  const at = f.report.timing.sampling_ended_at_s;
  if (at === undefined) return '-';
  const after = f.wall_s - at;
  return `${after.toFixed(2)} (${((100 * after) / f.wall_s).toFixed(0)}%)`;
}

/**
 * Time to a usable answer: FunnelWeb with its defaults (sampling ends at the target ESS),
 * whole process, beside Stan's elapsed time scaled to the same target: its warmup plus the
 * share of its sampling time that made that many effective draws (ESS grows in proportion to
 * the draws), at each adapt_delta. Stan's compile and R's start-up are excluded, as above.
 */
export function formatAnswerTable(fw: FunnelWebRun[], stan: StanResult | null): string {
  const lines: string[] = [];
  const target = fw[0]?.report.sampler.target_ess?.target ?? NaN;
  lines.push(`Time to a usable answer (min bulk ESS >= ${int(target)}, R-hat < 1.01): FunnelWeb's defaults, whole process; Stan: warmup + the sampling time for that ESS at its rate:`);
  lines.push('| case | FunnelWeb chains x draws | wall s | min bulk ESS | R-hat max | div | Stan (0.95) s | Stan s / FunnelWeb s | Stan (0.8) s | Stan s / FunnelWeb s |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const f of fw) {
    const s = f.report.sampler;
    const rh = Math.max(...Object.values(f.report.params).map((p) => p.rhat));
    const st = (delta: number) => {
      const r = stan?.runs.find((x) => x.data === f.data && x.param === f.param && x.adaptDelta === delta);
      if (!r) return ['-', '-'];
      const t = r.warmup_s + (r.elapsed_s - r.warmup_s) * Math.min(1, target / r.ess_bulk_min);
      return [t.toFixed(2), `${(t / f.wall_s).toFixed(2)}x`];
    };
    lines.push(`| ${f.data} x ${f.param} | ${s.chains} x ${s.draws} | ${f.wall_s.toFixed(2)} | ${int(f.ess_bulk_min)} | ${rh.toFixed(4)} | ${s.divergences} | ${st(0.95).join(' | ')} | ${st(0.8).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function formatStanTable(fw: FunnelWebRun[], stan: StanResult | null, startup_s: number): string {
  const lines: string[] = [];
  lines.push('| case | FunnelWeb | Stan (0.95) | ratio | Stan (default 0.8) | ratio |');
  lines.push('|---|---|---|---|---|---|');
  for (const f of fw) {
    const s95 = stan?.runs.find((r) => r.data === f.data && r.param === f.param && r.adaptDelta === 0.95);
    const s80 = stan?.runs.find((r) => r.data === f.data && r.param === f.param && r.adaptDelta === 0.8);
    lines.push(
      `| ${f.data} x ${f.param} | ${int(f.ess_per_s)} | ${s95 ? int(s95.ess_per_s) : '-'} | ${s95 ? ratio(f.ess_per_s, s95.ess_per_s) : '-'} | ${s80 ? int(s80.ess_per_s) : '-'} | ${s80 ? ratio(f.ess_per_s, s80.ess_per_s) : '-'} |`,
    );
  }
  lines.push('');
  lines.push(`FunnelWeb (${THROUGHPUT_ARGS.join(' ')}; wall = the whole \`funnelweb sample\` process; process start alone, \`sample --help\`: ${startup_s.toFixed(2)} s):`);
  lines.push('| case | wall s | compile | warmup (iterations) | sampling | diagnostics | after sampling (share of wall) | min bulk ESS | ESS/s of sampling alone | ESS per 1k grads (sampling) | div | R-hat max | E-BFMI min |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const f of fw) {
    const t = f.report.timing;
    const s = f.report.sampler;
    const rh = Math.max(...Object.values(f.report.params).map((p) => p.rhat));
    lines.push(
      `| ${f.data} x ${f.param} | ${f.wall_s.toFixed(2)} | ${t.compile_s.toFixed(2)} | ${t.warmup_s.toFixed(2)} (${s.warmup}${s.warmup_stopped_at === null ? ', cap' : ''}) | ${t.sampling_s.toFixed(2)} | ${t.diagnostics_s?.toFixed(2) ?? '-'} | ${afterSampling(f)} | ${int(f.ess_bulk_min)} | ` +
        `${int(f.ess_bulk_min / t.sampling_s)} | ${((1000 * f.ess_bulk_min) / (s.chains * s.draws * s.mean_leapfrog_steps)).toFixed(2)} | ${s.divergences} | ${rh.toFixed(4)} | ${s.ebfmi_min.toFixed(2)} |`,
    );
  }
  if (stan === null) return lines.join('\n');
  lines.push('');
  lines.push(
    `Stan ${stan.version} (rstan NUTS, ${STAN_CHAINS} chains in parallel, ${STAN_WARMUP} warmup + ${STAN_DRAWS} draws each; ` +
      `compile (or load from cache) ${stan.compile_s.toFixed(1)} s, whole Rscript process ${stan.process_s.toFixed(1)} s; ESS/s per second of Stan's elapsed time):`,
  );
  lines.push('| case | adapt_delta | elapsed s | sampling() wall s | min bulk ESS | ESS/s | ESS/s of sampling() wall | ESS per 1k grads (sampling) | div | R-hat max | step size | leapfrog/iter |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of stan.runs) {
    lines.push(
      `| ${r.data} x ${r.param} | ${r.adaptDelta} | ${r.elapsed_s.toFixed(2)} | ${r.sampling_s.toFixed(2)} | ${int(r.ess_bulk_min)} | ${int(r.ess_per_s)} | ${int(r.ess_bulk_min / r.sampling_s)} | ${((1000 * r.ess_bulk_min) / (STAN_CHAINS * r.draws * r.mean_leapfrog)).toFixed(2)} | ${r.divergences} | ${r.rhat_max.toFixed(4)} | ${r.step_size.toPrecision(3)} | ${r.mean_leapfrog.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}
