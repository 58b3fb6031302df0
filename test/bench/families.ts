/**
 * The families table of `npm run bench -- --only families`: per-group gradient throughput of
 * every registered likelihood family (src/model/families, FAMILIES) against the normal
 * family's, on the same K, chains, data layout and transitions. Each (K, chains) cell is one
 * test/bench/family_probe.ts process holding every family's backend on one device: K groups
 * of the family's data from test/family_data.ts (1 + (k mod 3) observations a group),
 * noncentered, L leapfrog steps at a fixed step size, gradient evaluations per second while
 * sampling. The families' timed batches are interleaved, `rounds` times with their order
 * rotated, and each keeps its best: on a shared machine another process only ever slows a
 * batch, so the best of interleaved rounds is the fairest ratio.
 *
 * Goal (the families issue): binomial and Poisson at least GOAL_RATIO x normal at K = 1,000.
 */
import { FAMILIES, DEFAULT_FAMILY } from '../../src/model/families/index.ts';
import { type CellOptions, cellIterations, child, f } from './scaling.ts';

/** Per-group throughput of a count family over the normal family's at K = 1,000, at least. */
export const GOAL_RATIO = 0.5;
export const GOAL_K = 1000;

/** `iterations`: timed transitions per batch at least. */
export interface FamiliesOptions extends CellOptions {
  readonly groups: readonly number[];
  readonly chains: readonly number[];
  /** Interleaved timed batches of every family (the best is kept). */
  readonly rounds: number;
  /** Wide kernel form, when not the adapter's default. */
  readonly wideKernel?: string;
}

/** Runs the grid and prints the table; returns family/normal ratios by `K/chains/family`. */
export async function benchFamilies(o: FamiliesOptions): Promise<Map<string, number>> {
  const ids = FAMILIES.map((x) => x.id);
  console.log(`   families: ${ids.join(', ')}; L = ${o.steps}, at least ${o.iterations} timed transitions a batch, best of ${o.rounds} interleaved rounds`);
  console.log(`   data: test/family_data.ts (theta_k ~ Normal(0, 1), 1 + (k mod 3) observations a group, each family's example columns), noncentered`);
  const head = ['K', 'chains', 'family', 'kernel', 'M grad/s', 'M group-grad/s', 'vs normal', 'divergent', 'compile s', 'warmup iter s'];
  console.log('   ' + head.join(' | '));
  const ratios = new Map<string, number>();
  for (const K of o.groups) {
    for (const chains of o.chains) {
      const args = [K, chains, o.steps, cellIterations(K, chains, o.iterations), o.rounds, o.wideKernel ?? '-', ids.join(',')].map(String);
      const r = await child('./family_probe.ts', args, o.timeout);
      if (r.error) {
        console.log(`   ${K} | ${chains} | - | limit: ${r.error}`);
        continue;
      }
      const cells = r.families as Record<string, Record<string, unknown>>;
      const base = cells[DEFAULT_FAMILY.id]?.grad_per_s;
      for (const family of ids) {
        const c = cells[family];
        const g = c.grad_per_s as number;
        const ratio = typeof base === 'number' ? g / base : NaN;
        ratios.set(`${K}/${chains}/${family}`, ratio);
        console.log(`   ${[K, chains, family, c.kernel, f(g / 1e6, 3), f((g * K) / 1e6, 1), `${f(ratio, 2)}x`, f(c.divergent, 3), f(c.compile_s, 2), f(c.warmup_iter_s, 2)].join(' | ')}`);
      }
    }
  }
  if (o.groups.includes(GOAL_K)) {
    for (const family of ids) {
      if (family === DEFAULT_FAMILY.id) continue;
      const rs = o.chains.map((c) => ratios.get(`${GOAL_K}/${c}/${family}`)).filter((x): x is number => x !== undefined);
      if (!rs.length) continue;
      const lo = Math.min(...rs);
      console.log(`   ${family} vs normal at K = ${GOAL_K}: ${rs.map((x) => `${x.toFixed(2)}x`).join(', ')} (${o.chains.join(', ')} chains); goal >= ${GOAL_RATIO}x: ${lo >= GOAL_RATIO ? 'met' : 'NOT met'}`);
    }
  }
  return ratios;
}
