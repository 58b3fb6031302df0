/**
 * Writer of a run's retained draws as a Stan-like CSV: `chain, draw, <params>, lp__,
 * energy__, divergent__, accept_stat__`, one row per (chain, draw), chains and draws
 * numbered from 1 — the layout `funnelweb diagnose` (src/io/draws_csv.ts) reads back.
 */
import type { SampleResult } from '../sampler/sample.ts';

/** The header row's columns. */
export function drawsCsvColumns(r: SampleResult): string[] {
  return ['chain', 'draw', ...r.paramNames, 'lp__', 'energy__', 'divergent__', 'accept_stat__'];
}

/**
 * The CSV in pieces: the header, then one piece per chain (so that a caller can stream it,
 * or hand the pieces to a Blob, without building one string of the whole file).
 */
export function* drawsCsvChunks(r: SampleResult): Generator<string> {
  const { records: rec, paramNames, params } = r;
  yield drawsCsvColumns(r).join(',') + '\n';
  const cols = paramNames.map((n) => params[n]);
  for (let c = 0; c < rec.retainedChains; c++) {
    const lines: string[] = [];
    for (let d = 0; d < rec.draws; d++) {
      const i = c * rec.draws + d;
      const row: (number | string)[] = [c + 1, d + 1];
      for (const col of cols) row.push(col[i]);
      row.push(rec.logDensity[i], rec.energy[i], rec.divergent[i], rec.acceptProb[i]);
      lines.push(row.join(','));
    }
    yield lines.join('\n') + '\n';
  }
}

/** The whole CSV as one string. */
export function formatDrawsCsv(r: SampleResult): string {
  return [...drawsCsvChunks(r)].join('');
}
