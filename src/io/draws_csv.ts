/**
 * Reader for draws from any sampler as CSV: a header with `chain`, `draw` and one column
 * per parameter, one row per (chain, draw). Stan-style sampler columns (names ending in
 * `__`) are not parameters, except `lp__`, which is summarised like one (as CmdStan
 * does); `energy__`, `divergent__` and `accept_stat__` feed E-BFMI, divergence counts
 * and the acceptance rate. posterior's `as_draws_df` names (`.chain`, `.iteration`,
 * `.draw`) are accepted too. Lines starting with `#` (CmdStan comments) are skipped.
 *
 * Every problem is an `InputError` naming the file and line: a missing cell, a value that
 * is not a number, chains of unequal length, a repeated (chain, draw).
 */
import { readTextFile, ReadTextError } from './read_text.ts';
import { clip, InputError, listCapped } from '../errors.ts';
import { splitCsvRecord } from './csv.ts';

/** Draws in FunnelWeb's layout: every array is chain-major, (c, d) at c * draws + d. */
export interface DrawsTable {
  readonly chains: number;
  readonly draws: number;
  /** Chain labels from the file, in the order used (ascending). */
  readonly chainIds: number[];
  /** Parameter columns (including `lp__` when present), in file order. */
  readonly params: Record<string, Float64Array>;
  readonly energy?: Float64Array;
  readonly divergent?: Uint8Array;
  readonly acceptProb?: Float64Array;
}

const CHAIN_COLUMNS = ['chain', '.chain'];
const DRAW_COLUMNS = ['draw', '.draw', 'iteration', '.iteration'];
/** posterior's bookkeeping columns, never parameters. */
const RESERVED = new Set(['chain', '.chain', 'draw', '.draw', 'iteration', '.iteration']);

export function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/** Parses one numeric cell; NaN/Inf spelled out are numbers, anything else (NA, '') is not. */
export function parseCell(text: string): number | null {
  const t = unquote(text);
  if (t === '') return null;
  const v = Number(t);
  if (!Number.isNaN(v)) return v;
  const l = t.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf' || l === '+inf') return Infinity;
  if (l === '-inf') return -Infinity;
  return null;
}

/** The draws reader's error for a fault at a line of `source`. */
function failAt(source: string): (line: number, what: string) => never {
  return (line, what) => {
    throw new InputError(source, `line ${line}: ${what}`);
  };
}

/** Checks a header's column names: an empty or repeated name is an InputError. */
function checkHeader(header: string[], lineNo: number, source: string): string[] {
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw new InputError(source, `line ${lineNo}: empty column name in the header`);
    if (seen.has(h)) throw new InputError(source, `line ${lineNo}: column '${clip(h)}' appears twice`);
    seen.add(h);
  }
  return header;
}

/**
 * The column names of a CSV header line (1-based `lineNo`), unquoted per RFC 4180 (a quoted
 * name may hold commas and doubled quotes); an empty or repeated name is an InputError
 * naming the file and line.
 */
export function parseHeader(line: string, lineNo: number, source: string): string[] {
  return checkHeader(splitCsvRecord(line, 0, lineNo, failAt(source)).fields, lineNo, source);
}

/**
 * Parses draws CSV text; `source` names the file in error messages. Header names may be
 * quoted (RFC 4180), with commas, quotes and line breaks inside the quotes.
 */
export function parseDrawsCsv(text: string, source = 'draws'): DrawsTable {
  // Blank lines and comments before the header.
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let headerLineNo = 1;
  while (pos < text.length) {
    const eol = text.indexOf('\n', pos);
    const line = text.slice(pos, eol < 0 ? text.length : eol);
    if (line.trim() !== '' && !line.startsWith('#')) break;
    pos = eol < 0 ? text.length : eol + 1;
    headerLineNo++;
  }
  if (pos >= text.length) throw new InputError(source, 'no header line (the file is empty)');
  const record = splitCsvRecord(text, pos, headerLineNo, failAt(source));
  const header = checkHeader(record.fields, headerLineNo, source);
  // Body lines: lines[li] is line firstLine + li of the file.
  const lines = text.slice(record.end).split(/\r?\n/);
  const firstLine = headerLineNo + record.newlines + 1;
  const chainCol = header.findIndex((h) => CHAIN_COLUMNS.includes(h));
  const drawCol = header.findIndex((h) => DRAW_COLUMNS.includes(h));
  if (chainCol < 0) throw new InputError(source, `no 'chain' column in the header (${clip(listCapped(header), 200)})`);
  if (drawCol < 0) throw new InputError(source, `no 'draw' column in the header (${clip(listCapped(header), 200)})`);
  const paramCols: number[] = [];
  header.forEach((h, i) => {
    if (!RESERVED.has(h) && (!h.endsWith('__') || h === 'lp__')) paramCols.push(i);
  });
  if (paramCols.length === 0) throw new InputError(source, 'no parameter columns besides chain and draw');
  const energyCol = header.indexOf('energy__');
  const divergentCol = header.indexOf('divergent__');
  const acceptCol = header.indexOf('accept_stat__');

  const width = header.length;
  const columns: number[][] = header.map(() => []);
  const lineOf: number[] = [];
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li];
    if (line.trim() === '' || line.startsWith('#')) continue;
    const cells = line.split(',');
    const lineNo = firstLine + li;
    if (cells.length !== width) {
      throw new InputError(source, `line ${lineNo}: expected ${width} cells, found ${cells.length} (missing or extra cell)`);
    }
    for (let j = 0; j < width; j++) {
      const v = parseCell(cells[j]);
      if (v === null) {
        const what = unquote(cells[j]) === '' ? 'missing cell' : `'${clip(unquote(cells[j]))}' is not a number`;
        throw new InputError(source, `line ${lineNo}, column '${clip(header[j])}': ${what}`);
      }
      columns[j].push(v);
    }
    const c = columns[chainCol][columns[chainCol].length - 1];
    const d = columns[drawCol][columns[drawCol].length - 1];
    if (!Number.isInteger(c)) throw new InputError(source, `line ${lineNo}: chain '${c}' is not an integer`);
    if (!Number.isInteger(d)) throw new InputError(source, `line ${lineNo}: draw '${d}' is not an integer`);
    lineOf.push(lineNo);
  }
  const rows = lineOf.length;
  if (rows === 0) throw new InputError(source, 'no draws (only a header)');

  // Group rows by chain, order each chain by draw.
  const byChain = new Map<number, number[]>();
  for (let r = 0; r < rows; r++) {
    const c = columns[chainCol][r];
    const list = byChain.get(c);
    if (list) list.push(r);
    else byChain.set(c, [r]);
  }
  const chainIds = [...byChain.keys()].sort((a, b) => a - b);
  const draws = byChain.get(chainIds[0])!.length;
  for (const c of chainIds) {
    const n = byChain.get(c)!.length;
    if (n !== draws) {
      const counts = listCapped(chainIds.map((k) => `chain ${k}: ${byChain.get(k)!.length}`));
      throw new InputError(source, `chains have unequal numbers of draws (${counts})`);
    }
  }
  const drawColumn = columns[drawCol];
  const rowOrder = new Int32Array(rows);
  let k = 0;
  for (const c of chainIds) {
    const list = byChain.get(c)!;
    list.sort((a, b) => drawColumn[a] - drawColumn[b]);
    for (let i = 1; i < list.length; i++) {
      if (drawColumn[list[i]] === drawColumn[list[i - 1]]) {
        throw new InputError(
          source,
          `line ${lineOf[list[i]]}: chain ${c} has draw ${drawColumn[list[i]]} twice (also line ${lineOf[list[i - 1]]})`,
        );
      }
    }
    for (const r of list) rowOrder[k++] = r;
  }
  const gather = (col: number): Float64Array => {
    const src = columns[col];
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) out[i] = src[rowOrder[i]];
    return out;
  };
  const params: Record<string, Float64Array> = {};
  for (const j of paramCols) params[header[j]] = gather(j);
  let divergent: Uint8Array | undefined;
  if (divergentCol >= 0) {
    const d = gather(divergentCol);
    divergent = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) divergent[i] = d[i] !== 0 ? 1 : 0;
  }
  return {
    chains: chainIds.length,
    draws,
    chainIds,
    params,
    energy: energyCol >= 0 ? gather(energyCol) : undefined,
    divergent,
    acceptProb: acceptCol >= 0 ? gather(acceptCol) : undefined,
  };
}

/** Reads and parses a draws CSV file (InputError when it cannot be read). */
export async function readDrawsCsv(path: string): Promise<DrawsTable> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (err) {
    if (!(err instanceof ReadTextError)) throw err;
    throw new InputError(clip(path, 200), err.reason);
  }
  return parseDrawsCsv(text, path);
}
