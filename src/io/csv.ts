/**
 * One CSV record per RFC 4180, shared by the readers of data CSV (`data.ts`) and draws CSV
 * (`draws_csv.ts`): fields separated by commas; a field in double quotes may hold commas,
 * CR, LF and doubled quotes (`""`), and spaces around it are ignored; an unquoted field is
 * trimmed; the record ends at CRLF, LF, a lone CR or the end of the text.
 */
import { clip } from '../errors.ts';

/** One CSV record split into fields (see `splitCsvRecord`). */
export interface CsvRecordSplit {
  /** The fields, unquoted: quoted ones with `""` made `"`, unquoted ones trimmed. */
  readonly fields: string[];
  /** Index in the text just after the record's line end (CRLF, LF or the end of the text). */
  readonly end: number;
  /** Line breaks inside quoted fields (the record spans `newlines + 1` lines). */
  readonly newlines: number;
}

/**
 * Splits the record starting at `text[start]`. `fail(line, what)` raises the reader's own
 * error for an unterminated quoted field, text after a closing quote or (with
 * `strayQuotes: 'reject'`) a double quote inside an unquoted field; `line` is the 1-based
 * line of the fault given that the record starts on `lineNo`.
 */
export function splitCsvRecord(
  text: string,
  start: number,
  lineNo: number,
  fail: (line: number, what: string) => never,
  strayQuotes: 'keep' | 'reject' = 'keep',
): CsvRecordSplit {
  const fields: string[] = [];
  const n = text.length;
  let i = start;
  let newlines = 0;
  for (;;) {
    let j = i;
    while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
    if (text[j] === '"') {
      let k = j + 1;
      let value = '';
      for (;;) {
        if (k >= n) fail(lineNo, 'unterminated quoted field');
        const ch = text[k];
        if (ch === '"') {
          if (text[k + 1] === '"') {
            value += '"';
            k += 2;
            continue;
          }
          k++;
          break;
        }
        if (ch === '\n') newlines++;
        value += ch;
        k++;
      }
      while (k < n && (text[k] === ' ' || text[k] === '\t')) k++;
      if (k < n && text[k] !== ',' && text[k] !== '\n' && text[k] !== '\r') fail(lineNo + newlines, `unexpected character '${clip(text[k])}' after a quoted field`);
      fields.push(value);
      i = k;
    } else {
      let k = i;
      while (k < n && text[k] !== ',' && text[k] !== '\n' && text[k] !== '\r') k++;
      const cell = text.slice(i, k).trim();
      if (strayQuotes === 'reject' && cell.includes('"')) fail(lineNo + newlines, `stray double quote in field '${clip(cell)}'`);
      fields.push(cell);
      i = k;
    }
    if (i < n && text[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  if (text[i] === '\r') i++;
  if (text[i] === '\n') i++;
  return { fields, end: i, newlines };
}
