import type { SampleResult } from '../sampler/sample.ts';

/**
 * A run's retained draws as a Stan-like CSV: chain, draw (both 1-based), the constrained
 * parameters, lp__, energy__, divergent__, accept_stat__ (what `parseDrawsCsv` reads back).
 * Yields one chunk per chain: 4,096 chains x 1,000 draws is more text than one string holds.
 */
export function* drawsCsv(r: SampleResult): Generator<string> {
  const { records: rec, paramNames, params } = r;
  yield ['chain', 'draw', ...paramNames, 'lp__', 'energy__', 'divergent__', 'accept_stat__'].join(',') + '\n';
  for (let c = 0; c < rec.retainedChains; c++) {
    const lines: string[] = [];
    for (let d = 0; d < rec.draws; d++) {
      const i = c * rec.draws + d;
      const row = [c + 1, d + 1, ...paramNames.map((n) => params[n][i]), rec.logDensity[i], rec.energy[i], rec.divergent[i], rec.acceptProb[i]];
      lines.push(row.join(',') + '\n');
    }
    yield lines.join('');
  }
}
