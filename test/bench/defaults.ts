/**
 * What the defaults give (`npm run bench -- --only defaults`): whole-process min bulk ESS per
 * second of `funnelweb sample` (see stan.ts) for chain and draw counts around the defaults,
 * and the fixed 1,000-iteration warmup beside the automatic one, interleaved (A, B, C, A, B,
 * C, ...) so that a machine's slow spell hits every variant alike. The figures behind the
 * DEFAULT_* constants of src/sampler/sample.ts.
 */
import { runFunnelWebCli, type FunnelWebRun } from './stan.ts';

export interface Variant {
  readonly label: string;
  readonly args: readonly string[];
}

/**
 * The defaults (chains by adapter, sampling until every bulk ESS >= 4,000 and R-hat < 1.0091,
 * at most 1,000 draws, automatic warmup) beside fixed chains x draws around 4,096 x 1,000.
 */
export const DEFAULT_VARIANTS: readonly Variant[] = [
  { label: 'defaults (chains by adapter, --target-ess 4000)', args: [] },
  { label: '--target-ess 4000, 4096 chains', args: ['--chains', '4096'] },
  { label: '4096 x 1000', args: ['--chains', '4096', '--draws', '1000'] },
  { label: '4096 x 1000, warmup 1000 (fixed)', args: ['--chains', '4096', '--draws', '1000', '--warmup', '1000'] },
  { label: '4096 x 500', args: ['--chains', '4096', '--draws', '500'] },
  { label: '1024 x 1000', args: ['--chains', '1024', '--draws', '1000'] },
  { label: '8192 x 500', args: ['--chains', '8192', '--draws', '500'] },
];

export async function benchDefaults(cases: readonly (readonly [string, string])[], variants: readonly Variant[] = DEFAULT_VARIANTS, repeats = 2): Promise<string> {
  const runs: { c: string; v: string; r: FunnelWebRun }[] = [];
  for (let rep = 0; rep < repeats; rep++) {
    for (const [d, p] of cases) {
      for (const v of variants) runs.push({ c: `${d} x ${p}`, v: v.label, r: await runFunnelWebCli(d, p, [...v.args]) });
    }
  }
  const lines = ['| case | variant | chains x draws | warmup | wall s (each run) | min bulk ESS | ESS/s (each run) | R-hat max | div |', '|---|---|---|---|---|---|---|---|---|'];
  for (const [d, p] of cases) {
    for (const v of variants) {
      const rs = runs.filter((x) => x.c === `${d} x ${p}` && x.v === v.label).map((x) => x.r);
      const s = rs[0].report.sampler;
      const rhat = Math.max(...rs.flatMap((r) => Object.values(r.report.params).map((q) => q.rhat)));
      lines.push(
        `| ${d} x ${p} | ${v.label} | ${s.chains} x ${s.draws} | ${s.warmup} | ${rs.map((r) => r.wall_s.toFixed(1)).join(', ')} | ${Math.round(rs[0].ess_bulk_min).toLocaleString('en-US')} | ${rs.map((r) => Math.round(r.ess_per_s).toLocaleString('en-US')).join(', ')} | ${rhat.toFixed(4)} | ${s.divergences} |`,
      );
    }
  }
  return lines.join('\n');
}
