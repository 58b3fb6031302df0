/**
 * `npm run bench -- --only sbc`: many simulated data sets per GPU batch against the loop users
 * run today, and sweeps on BullMQ workers.
 *
 * 1. SBC simulations per second: `funnelweb sbc` (one process, sims x chains in batches of 4,096
 *    chains) against a loop of separate fits with the same chains, warmup and draws per fit,
 *    both whole wall time: `funnelweb sample` once per simulated data set (a process each, as
 *    a shell loop runs it), and `sample()` of the library called once per data set in one
 *    process (no process start; the device and compiled pipelines reused). The loops run a
 *    subset of the simulations (their rate is steady) and are scaled to sims per second.
 * 2. Sweep data sets per minute on 1 and on 3 `funnelweb worker` processes on this machine
 *    (a real redis-server on a free port), against the same sweep in-process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSeedJson } from '../../src/io/data.ts';
import { DEFAULT_PRIORS } from '../../src/model/priors.ts';
import { simulation } from '../../src/sbc/simulate.ts';
import { samplerSeed } from '../../src/sbc/sbc.ts';
import { sample } from '../../src/sampler/sample.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { cliArgv } from './stan.ts';
import { startRedis } from '../redis_helpers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ wall: number; code: number | null; out: string }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [...cliArgv(), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', rej);
    p.on('close', (code) => res({ wall: (performance.now() - t0) / 1000, code, out }));
  });
}

export interface SbcBenchOptions {
  readonly sims: number;
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  /** Simulations the CLI loop and the library loop run. */
  readonly loopSims: number;
  readonly param: string;
}

/** Section 1: sims/s of one batched `sbc` against the two loops. */
export async function benchSbc(o: SbcBenchOptions): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-bench-sbc-'));
  try {
    const sizes = ['--chains', String(o.chains), '--warmup', String(o.warmup), '--draws', String(o.draws)];
    const batched = await run(['sbc', '--data', join(root, 'demo/data/weak.json'), '--sims', String(o.sims), '--param', o.param, ...sizes, '--quiet', '--out', join(dir, 'sbc')]);
    if (batched.code !== 0) throw new Error(`funnelweb sbc failed: ${batched.out}`);
    const design = parseSeedJson(readFileSync(join(root, 'demo/data/weak.json'), 'utf8'));
    // The same simulations as the batch's first loopSims, each a data file.
    const files: string[] = [];
    for (let i = 0; i < o.loopSims; i++) {
      const { data } = simulation(design, DEFAULT_PRIORS, 1, i);
      const f = join(dir, `sim${i}.json`);
      writeFileSync(f, JSON.stringify({ y: Array.from(data.y), idx: Array.from(data.group), sigma: Array.from(data.sigma), K: data.K }));
      files.push(f);
    }
    const t0 = performance.now();
    for (const [i, f] of files.entries()) {
      const r = await run(['sample', '--data', f, '--param', o.param, ...sizes, '--seed', String(samplerSeed(1, i)), '--quiet']);
      if (r.code !== 0) throw new Error(`funnelweb sample failed: ${r.out}`);
    }
    const cliLoop = (performance.now() - t0) / 1000;
    const gpu = await requestGpu();
    const t1 = performance.now();
    for (let i = 0; i < o.loopSims; i++) {
      const { data } = simulation(design, DEFAULT_PRIORS, 1, i);
      await sample({ data, parameterization: o.param === 'centered' ? new Float64Array(data.K).fill(1) : new Float64Array(data.K), chains: o.chains, warmup: o.warmup, draws: o.draws, seed: samplerSeed(1, i), gpu });
    }
    const libLoop = (performance.now() - t1) / 1000;
    gpu.device.destroy();
    const rate = (n: number, s: number) => n / s;
    const b = rate(o.sims, batched.wall);
    const lines = [
      `   weak.json design, ${o.param}, ${o.chains} chains x (${o.warmup} warmup + ${o.draws} draws) per simulation`,
      '| how | simulations | wall s | simulations/s | batched against it |',
      '|---|---|---|---|---|',
      `| funnelweb sbc (batches of ${Math.floor(4096 / o.chains)} simulations) | ${o.sims} | ${batched.wall.toFixed(1)} | ${b.toFixed(1)} | 1x |`,
      `| loop of funnelweb sample processes | ${o.loopSims} | ${cliLoop.toFixed(1)} | ${rate(o.loopSims, cliLoop).toFixed(2)} | ${(b / rate(o.loopSims, cliLoop)).toFixed(0)}x |`,
      `| loop of sample() in one process (library, device reused) | ${o.loopSims} | ${libLoop.toFixed(1)} | ${rate(o.loopSims, libLoop).toFixed(2)} | ${(b / rate(o.loopSims, libLoop)).toFixed(0)}x |`,
    ];
    return lines.join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Section 2: sweep data sets per minute in-process and on 1 and 3 workers. */
export async function benchSweepWorkers(grid: string, sampler: string[]): Promise<string> {
  if (spawnSync('redis-server', ['--version']).status !== 0) return '   (skipped: redis-server is not installed)';
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-bench-sweep-'));
  const redis = await startRedis(dir);
  const port = redis.port;
  try {
    const base = ['sweep', '--grid', grid, '--param', 'centered', '--param', 'noncentered', ...sampler, '--quiet'];
    const cells = (out: string) => Number(/(\d+) data sets/.exec(out)?.[1] ?? NaN);
    const rows: string[] = ['| where | data sets | wall s | data sets/min |', '|---|---|---|---|'];
    const local = await run([...base, '--out', join(dir, 'local')]);
    if (local.code !== 0) throw new Error(`sweep failed: ${local.out}`);
    rows.push(`| in-process | ${cells(local.out)} | ${local.wall.toFixed(1)} | ${((60 * cells(local.out)) / local.wall).toFixed(1)} |`);
    for (const n of [1, 3]) {
      // Each round its own queue database, so that no result is taken from an earlier round.
      const url = `redis://127.0.0.1:${port}/${n}`;
      const workers = Array.from({ length: n }, () => spawn(process.execPath, [...cliArgv(), 'worker', '--queue', url], { stdio: ['ignore', 'ignore', 'pipe'] }));
      const logs = workers.map(() => '');
      workers.forEach((w, i) => w.stderr!.on('data', (d) => (logs[i] += d)));
      while (!logs.every((l) => l.includes('listening'))) await new Promise((r) => setTimeout(r, 50));
      const q = await run([...base, '--queue', url, '--out', join(dir, `q${n}`)]);
      for (const w of workers) w.kill('SIGTERM');
      if (q.code !== 0) throw new Error(`sweep --queue failed: ${q.out}`);
      rows.push(`| ${n} worker${n > 1 ? 's' : ''} on this machine | ${cells(q.out)} | ${q.wall.toFixed(1)} | ${((60 * cells(q.out)) / q.wall).toFixed(1)} |`);
    }
    return rows.join('\n');
  } finally {
    redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
