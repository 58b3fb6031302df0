/**
 * The scaling table of `npm run bench -- --only scaling`: chains x groups, each cell in its
 * own process (test/bench/scaling_probe.ts) so that its peak RSS is its own. Per cell:
 * gradient evaluations per second while sampling (and per group: x K), compile time, time
 * to the first draw, peak RSS and GPU buffer memory; a cell that does not fit says why.
 * Then compile time against K for the README (test/bench/compile_probe.ts).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Chains x (groups + 8) per timed cell at least (transitions are added up to 100). */
export const WORK_PER_CELL = 4e6;

/** Timed transitions of a cell: at least `min`, enough that small cells do not time dispatch latency alone. */
export function cellIterations(K: number, chains: number, min: number): number {
  return Math.min(100, Math.max(min, Math.ceil(WORK_PER_CELL / (chains * (K + 8)))));
}

/** What every table of one-process cells takes. */
export interface CellOptions {
  /** Leapfrog steps per transition and timed transitions per cell. */
  readonly steps: number;
  readonly iterations: number;
  /** Wall-clock limit per cell, seconds. */
  readonly timeout: number;
}

export interface ScalingOptions extends CellOptions {
  readonly chains: readonly number[];
  readonly groups: readonly number[];
  /** Wide kernel form and threads per chain, when not the adapter's default. */
  readonly wideKernel?: string;
  readonly threadsPerChain?: number;
}

/** Runs a probe script of this folder in a fresh process and returns its last JSON line (or `{error}`). */
export async function child(script: string, args: string[], timeout: number): Promise<Record<string, unknown>> {
  const path = new URL(script, import.meta.url).pathname;
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path, ...args], { timeout: timeout * 1000, env: process.env, maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } catch (err) {
    const e = err as { killed?: boolean; signal?: string; message: string };
    return { error: e.killed ? `over the ${timeout} s limit of a cell` : `failed: ${e.signal ?? e.message.split('\n')[0]}` };
  }
}

export const f = (x: unknown, d: number) => (typeof x === 'number' ? x.toFixed(d) : '-');

export async function benchScaling(o: ScalingOptions): Promise<void> {
  console.log(`   L = ${o.steps}, at least ${o.iterations} timed transitions per cell, synthetic noncentered data (test/bench/synthetic.ts)`);
  const head = ['K', 'chains', 'kernel', 'M grad/s', 'M group-grad/s', 'compile s', 'first draw s', 'peak RSS MB', 'GPU MB'];
  console.log('   ' + head.join(' | '));
  const perGroup = new Map<string, number>();
  for (const K of o.groups) {
    for (const chains of o.chains) {
      const iterations = cellIterations(K, chains, o.iterations);
      const args = [String(K), String(chains), String(o.steps), String(iterations), o.wideKernel ?? '', o.threadsPerChain ? String(o.threadsPerChain) : ''];
      const r = await child('./scaling_probe.ts', args, o.timeout);
      if (r.error) {
        console.log(`   ${K} | ${chains} | - | limit: ${r.error}`);
        continue;
      }
      const g = r.grad_per_s as number;
      perGroup.set(`${K}/${chains}`, g * K);
      console.log(`   ${[K, chains, r.kernel, f(g / 1e6, 3), f((g * K) / 1e6, 1), f(r.compile_s, 2), f(r.first_draw_s, 2), f(r.max_rss_mb, 0), f(r.gpu_mb, 1)].join(' | ')}`);
    }
  }
  const K0 = Math.min(...o.groups);
  for (const K of o.groups) {
    if (K === K0) continue;
    for (const chains of o.chains) {
      const a = perGroup.get(`${K}/${chains}`);
      const b = perGroup.get(`${K0}/${chains}`);
      if (a && b) console.log(`   per-group throughput, K = ${K} vs K = ${K0}, ${chains} chains: ${(a / b).toFixed(2)}x`);
    }
  }
}

/** Compile time and peak RSS against K (every pipeline of a run; 256 chains, a few transitions). */
export async function benchCompile(groups: readonly number[], timeout: number): Promise<void> {
  console.log('   K | kernel blocks | compile s | peak RSS MB');
  for (const K of groups) {
    const r = await child('./compile_probe.ts', [String(K), '256', 'centered'], timeout);
    console.log(r.error ? `   ${K} | limit: ${r.error}` : `   ${K} | ${Math.ceil(K / 4)} | ${f(r.compile_s, 2)} | ${f(r.max_rss_mb, 0)}`);
  }
}

/** `steps` applies below N = 100,000; from there L = 1 (a software adapter takes seconds per gradient). */
export interface ObservationsOptions extends CellOptions {
  readonly ns: readonly number[];
  readonly chains: readonly number[];
  readonly K: number;
  readonly P: number;
}

/**
 * The observations table: Poisson with P predictors that vary within groups (the O(N·P)
 * observation path) against N, each cell in its own process (observations_probe.ts).
 * "M obs-terms/s" is gradient evaluations per second x N: the observation path's rate.
 */
export async function benchObservations(o: ObservationsOptions): Promise<void> {
  console.log(`   K = ${o.K}, P = ${o.P}, L = ${o.steps} (1 from N = 100,000), ${o.iterations} timed transition(s) per cell after one untimed, synthetic data (test/bench/synthetic.ts)`);
  console.log('   ' + ['N', 'chains', 'L', 'kernel', 'grad/s', 's per gradient', 'M obs-terms/s', 'compile s', 'GPU MB', 'of which data MB', 'peak RSS MB'].join(' | '));
  for (const N of o.ns) {
    for (const chains of o.chains) {
      const L = N >= 100_000 ? 1 : o.steps;
      const r = await child('./observations_probe.ts', [String(N), String(o.K), String(chains), String(o.P), String(L), String(o.iterations)], o.timeout);
      if (r.error) {
        console.log(`   ${N} | ${chains} | - | limit: ${r.error}`);
        continue;
      }
      const g = r.grad_per_s as number;
      console.log(`   ${[N, chains, L, r.kernel, f(g, 0), f(chains / g, 3), f((r.obs_grad_per_s as number) / 1e6, 1), f(r.compile_s, 2), f(r.gpu_mb, 1), f(r.data_mb, 1), f(r.max_rss_mb, 0)].join(' | ')}`);
    }
  }
}
