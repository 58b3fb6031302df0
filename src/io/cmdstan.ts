/**
 * Reader for CmdStan's sampler output as CmdStan writes it: one CSV per chain,
 *
 *   # stan_version_major = 2            <- the configuration, as `# key = value [(Default)]`
 *   #     num_warmup = 1000 (Default)
 *   #     save_warmup = 1                   (CmdStan >= 2.33 may write true/false)
 *   #     thin = 1 (Default)
 *   # id = 1 (Default)
 *   lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,theta.1,...
 *   <ceil(num_warmup / thin) warmup rows, only when save_warmup = 1>
 *   # Adaptation terminated
 *   # Step size = 0.389442
 *   # Diagonal elements of inverse mass matrix:
 *   # 21.8577, 13.1283, ...
 *   <sampling rows>
 *   #  Elapsed Time: ...
 *
 * (CmdStan guide, "MCMC Sampling" → "Stan CSV file"). Warmup rows are dropped: those
 * before the `# Adaptation terminated` line when it is there, else the first
 * ceil(num_warmup / thin) rows when save_warmup is on. Stan's flattened names `theta.1`,
 * `Sigma.1.2` become `theta[1]`, `Sigma[1,2]`. Chains are the files, in the order given.
 */
import { readTextFile, ReadTextError } from './read_text.ts';
import { clip, InputError, listCapped } from '../errors.ts';
import { parseCell, parseHeader, unquote, type DrawsTable } from './draws_csv.ts';

const ADAPTATION_MARKER = /^#\s*Adaptation terminated/;
const CONFIG_LINE = /^#\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*(\(Default\))?\s*$/;

/** One chain's file, warmup dropped. */
export interface CmdStanChain {
  readonly source: string;
  /** Column names as Stan writes them (`theta.1`). */
  readonly header: readonly string[];
  /** Sampling rows, one Float64Array per column. */
  readonly columns: readonly Float64Array[];
  /** The `# key = value` lines before the header (first occurrence of each key). */
  readonly config: ReadonlyMap<string, string>;
  /** Warmup rows found in the file and dropped. */
  readonly warmupRows: number;
  /** `# Step size = ` after adaptation, when present. */
  readonly stepSize?: number;
}

/** Stan's flattened name to bracket form: `theta.1` → `theta[1]`, `Sigma.1.2` → `Sigma[1,2]`. */
export function stanName(name: string): string {
  const m = /^(.+?)((?:\.\d+)+)$/.exec(name);
  if (!m) return name;
  return `${m[1]}[${m[2].slice(1).split('.').join(',')}]`;
}

/**
 * True when `text` looks like Stan CSV: no `chain` column, and an `lp__` column or
 * CmdStan's configuration comments.
 */
export function isCmdStanCsv(text: string): boolean {
  const lines = text.split(/\r?\n/, 400);
  const header = lines.find((l) => l.trim() !== '' && !l.startsWith('#'));
  if (header === undefined) return false;
  const cols = header.split(',').map(unquote);
  if (cols.includes('chain') || cols.includes('.chain')) return false;
  return cols.includes('lp__') || lines.some((l) => /^#\s*stan_version_major\s*=/.test(l));
}

function flag(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (t === '1' || t === 'true') return true;
  if (t === '0' || t === 'false') return false;
  return undefined;
}

function count(config: ReadonlyMap<string, string>, key: string, source: string): number | undefined {
  const v = config.get(key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InputError(source, `configuration '${key} = ${clip(v)}' is not a count`);
  return n;
}

/** Parses one CmdStan CSV (one chain); `source` names the file in errors. */
export function parseCmdStanCsv(text: string, file = 'cmdstan.csv'): CmdStanChain {
  // The file's name as it appears in messages (a name with control bytes stays one line).
  const source = clip(file, 200);
  const lines = text.split(/\r?\n/);
  const config = new Map<string, string>();
  let li = 0;
  for (; li < lines.length; li++) {
    const line = lines[li];
    if (line.trim() === '') continue;
    if (!line.startsWith('#')) break;
    const m = CONFIG_LINE.exec(line);
    if (m && !config.has(m[1])) config.set(m[1], m[2]);
  }
  if (li >= lines.length) throw new InputError(source, 'no header line (only comments or empty)');
  const header = parseHeader(lines[li], li + 1, source);
  const width = header.length;
  const rows: number[][] = header.map(() => []);
  let nRows = 0;
  let markerAt = -1;
  let stepSize: number | undefined;
  for (li = li + 1; li < lines.length; li++) {
    const line = lines[li];
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (ADAPTATION_MARKER.test(line) && markerAt < 0) markerAt = nRows;
      const s = /^#\s*Step size\s*=\s*(\S+)/.exec(line);
      if (s && stepSize === undefined) stepSize = Number(s[1]);
      continue;
    }
    const cells = line.split(',');
    if (cells.length !== width) {
      throw new InputError(source, `line ${li + 1}: expected ${width} cells, found ${cells.length} (missing or extra cell)`);
    }
    for (let j = 0; j < width; j++) {
      const v = parseCell(cells[j]);
      if (v === null) {
        const what = unquote(cells[j]) === '' ? 'missing cell' : `'${clip(unquote(cells[j]))}' is not a number`;
        throw new InputError(source, `line ${li + 1}, column '${clip(header[j])}': ${what}`);
      }
      rows[j].push(v);
    }
    nRows++;
  }
  const saveWarmup = flag(config.get('save_warmup'));
  const numWarmup = count(config, 'num_warmup', source);
  const thin = count(config, 'thin', source) ?? 1;
  let warmupRows = 0;
  if (markerAt >= 0) {
    warmupRows = markerAt;
  } else if (saveWarmup) {
    if (numWarmup === undefined) throw new InputError(source, 'save_warmup = 1 but no num_warmup in the configuration comments: cannot tell warmup rows from draws');
    warmupRows = Math.ceil(numWarmup / Math.max(1, thin));
  }
  if (warmupRows > nRows) throw new InputError(source, `${nRows} rows, fewer than the ${warmupRows} warmup rows the configuration announces`);
  if (nRows - warmupRows === 0) throw new InputError(source, `no draws after the ${warmupRows} warmup rows`);
  return {
    source: file,
    header,
    columns: rows.map((r) => Float64Array.from(r.slice(warmupRows))),
    config,
    warmupRows,
    stepSize,
  };
}

/**
 * Chains (one parsed file each) as a DrawsTable: parameters are the columns not ending
 * in `__`, plus `lp__` (summarised like a parameter, as CmdStan does), named in bracket
 * form; `energy__`, `divergent__` and `accept_stat__` feed E-BFMI, divergences and the
 * acceptance rate. All files must have the same columns and number of draws.
 */
export function cmdstanDrawsTable(chains: readonly CmdStanChain[]): DrawsTable {
  if (chains.length === 0) throw new InputError('diagnose', 'no CmdStan files');
  const first = chains[0];
  const draws = first.columns[0].length;
  for (const ch of chains.slice(1)) {
    if (ch.header.join(',') !== first.header.join(',')) {
      throw new InputError(clip(ch.source, 200), `columns differ from ${clip(first.source, 200)} (${ch.header.length} vs ${first.header.length} columns)`);
    }
    if (ch.columns[0].length !== draws) {
      const counts = listCapped(chains.map((c) => `${clip(c.source, 200)}: ${c.columns[0].length}`));
      throw new InputError(clip(ch.source, 200), `chains have unequal numbers of draws after warmup (${counts})`);
    }
  }
  const C = chains.length;
  const gather = (j: number): Float64Array => {
    const out = new Float64Array(C * draws);
    chains.forEach((ch, c) => out.set(ch.columns[j], c * draws));
    return out;
  };
  const params: Record<string, Float64Array> = {};
  first.header.forEach((h, j) => {
    if (!h.endsWith('__') || h === 'lp__') params[stanName(h)] = gather(j);
  });
  const col = (name: string) => {
    const j = first.header.indexOf(name);
    return j < 0 ? undefined : gather(j);
  };
  const div = col('divergent__');
  const ids = chains.map((ch, i) => {
    const id = Number(ch.config.get('id'));
    return Number.isInteger(id) ? id : i + 1;
  });
  return {
    chains: C,
    draws,
    chainIds: new Set(ids).size === C ? ids : chains.map((_, i) => i + 1),
    params,
    energy: col('energy__'),
    divergent: div && Uint8Array.from(div, (v) => (v !== 0 ? 1 : 0)),
    acceptProb: col('accept_stat__'),
  };
}

/** Reads CmdStan CSV files, one chain each, into a DrawsTable. */
export async function readCmdStanCsv(paths: readonly string[]): Promise<DrawsTable> {
  const chains: CmdStanChain[] = [];
  for (const p of paths) chains.push(parseCmdStanCsv(await readText(p), p));
  return cmdstanDrawsTable(chains);
}

/** Reads a text file (InputError naming it when it cannot be read). */
export async function readText(path: string): Promise<string> {
  try {
    return await readTextFile(path);
  } catch (err) {
    if (!(err instanceof ReadTextError)) throw err;
    throw new InputError(clip(path, 200), err.reason);
  }
}
