/**
 * The retained draws of a run as a Stan-like CSV (`--draws-csv`): a header
 * `chain,draw,<params...>,lp__,energy__,divergent__,accept_stat__` (names quoted per RFC 4180
 * where they hold a comma, a quote or a line break: `csvField`) and one row per
 * (chain, draw), chains and draws 1-based, values in JavaScript's shortest round-trip form
 * (float32 draws print their exact float64 value). `parseDrawsCsv` and
 * `funnelweb diagnose` read it back.
 *
 * Produced in pieces of ROWS_PER_CHUNK rows: 4,096 chains x 1,000 draws is about 1 GB of
 * text, more than one JavaScript string may hold (V8: 2^29 - 24 characters).
 */
import type { SampleResult } from '../sampler/sample.ts';
import { writeChunksAtomic, type WriteOptions } from './write.ts';

/**
 * A header field as RFC 4180 wants it: in double quotes (quotes inside doubled) when it
 * holds a comma, a double quote, CR or LF, or begins or ends with white space (which
 * readers trim from an unquoted field); as it is otherwise. Group labels become parameter
 * names `theta[<label>]`, so any text may reach the header.
 */
export function csvField(name: string): string {
  return /[",\r\n]|^\s|\s$/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

/** Rows per piece of text (a few MB each). */
export const ROWS_PER_CHUNK = 10_000;

/** The CSV text in pieces (header first); joined, they are the whole file. Pure. */
export function* drawsCsvChunks(r: SampleResult, rowsPerChunk = ROWS_PER_CHUNK): Generator<string> {
  const { records: rec, paramNames, params } = r;
  yield ['chain', 'draw', ...paramNames, 'lp__', 'energy__', 'divergent__', 'accept_stat__'].map(csvField).join(',') + '\n';
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

/**
 * Writes the draws CSV to `path` atomically (a temporary file renamed into place).
 *
 * @throws OutputError naming `path` and the cause (disk full, I/O error); no file is left.
 */
export async function writeDrawsCsv(path: string, r: SampleResult, opts: WriteOptions & { readonly onRows?: (rows: number) => void } = {}): Promise<void> {
  const { onRows, ...writeOpts } = opts;
  await writeChunksAtomic(path, onRows ? countingRows(r, onRows) : drawsCsvChunks(r), writeOpts);
}

/** `drawsCsvChunks`, calling `onRows` with the rows written so far as each piece is asked for (after the previous one was written). */
function* countingRows(r: SampleResult, onRows: (rows: number) => void): Generator<string> {
  const total = r.records.retainedChains * r.draws;
  let pieces = 0;
  for (const chunk of drawsCsvChunks(r)) {
    if (pieces > 0) onRows(Math.min(total, (pieces - 1) * ROWS_PER_CHUNK));
    yield chunk;
    pieces++;
  }
  onRows(total);
}
