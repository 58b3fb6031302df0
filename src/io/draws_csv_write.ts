/**
 * The retained draws of a run as a Stan-like CSV (`--draws-csv`): a header
 * `chain,draw,<params...>,lp__,energy__,divergent__,accept_stat__` and one row per
 * (chain, draw), chains and draws 1-based, values in JavaScript's shortest round-trip form
 * (float32 draws print their exact float64 value). `parseDrawsCsv` and
 * `funnelweb diagnose` read it back.
 *
 * Produced in pieces of ROWS_PER_CHUNK rows: 4,096 chains x 1,000 draws is about 1 GB of
 * text, more than one JavaScript string may hold (V8: 2^29 - 24 characters).
 */
import type { SampleResult } from '../sampler/sample.ts';
import { writeChunksAtomic } from './write.ts';

/** Rows per piece of text (a few MB each). */
export const ROWS_PER_CHUNK = 10_000;

/** The CSV text in pieces (header first); joined, they are the whole file. Pure. */
export function* drawsCsvChunks(r: SampleResult, rowsPerChunk = ROWS_PER_CHUNK): Generator<string> {
  const { records: rec, paramNames, params } = r;
  yield ['chain', 'draw', ...paramNames, 'lp__', 'energy__', 'divergent__', 'accept_stat__'].join(',') + '\n';
  const columns = paramNames.map((n) => params[n]);
  let lines: string[] = [];
  for (let c = 0; c < rec.retainedChains; c++) {
    for (let d = 0; d < rec.draws; d++) {
      const i = c * rec.draws + d;
      const row = [c + 1, d + 1, ...columns.map((col) => col[i]), rec.logDensity[i], rec.energy[i], rec.divergent[i], rec.acceptProb[i]];
      lines.push(row.join(','));
      if (lines.length === rowsPerChunk) {
        yield lines.join('\n') + '\n';
        lines = [];
      }
    }
  }
  if (lines.length) yield lines.join('\n') + '\n';
}

/** Writes the draws CSV to `path` atomically (a temporary file renamed into place). */
export async function writeDrawsCsv(path: string, r: SampleResult): Promise<void> {
  await writeChunksAtomic(path, drawsCsvChunks(r));
}
