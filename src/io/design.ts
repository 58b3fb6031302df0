/**
 * A data file as the CLI read it, carried as data (a job of `sbc` or `sweep` for a worker):
 * its text, format and the load options that apply, parsed by the same loaders as `--data`.
 */
import type { HierData } from '../model/data.ts';
import { familyOf } from '../model/families/index.ts';
import { parseCsv, parseSeedJson } from './data.ts';

/** A data file as the CLI read it: its text, format and the load options that apply. */
export interface DesignSpec {
  /** The file's base name (for messages and reports). */
  readonly name: string;
  readonly format: 'json' | 'csv';
  readonly text: string;
  /** `--likelihood` (absent: normal). */
  readonly likelihood?: string;
  /** Values of the family's column options (`{ "--sigma": 10 }`). */
  readonly options?: Readonly<Record<string, number>>;
  /** `--columns` mapping. */
  readonly columns?: Readonly<Record<string, string>>;
}

/** Parses a design spec as the CLI parses `--data` (every check of the loaders applies). */
export function designOf(d: DesignSpec): HierData {
  const family = familyOf(d.likelihood);
  const opts = { family, source: d.name, ...(d.options && { options: d.options }), ...(d.columns && { columns: d.columns }) };
  return d.format === 'csv' ? parseCsv(d.text, opts) : parseSeedJson(d.text, opts);
}
