/**
 * The errors FunnelWeb raises on purpose, each with the exit code the CLI gives it, and
 * `clip`, the one way a value read from the user is echoed into a message.
 *
 * Exit codes (README "Exit codes", `funnelweb --help`):
 *   0    the run finished and every output was written
 *   1    the run failed: an output could not be written, the GPU device was lost, no chain moved
 *   2    bad input: a flag, a data file, an output path (found before any work is done)
 *   130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM; 129 by SIGHUP (128 + the signal's number)
 */

/** Exit code: success. */
export const EXIT_OK = 0;
/** Exit code: the run failed (an output not written, a lost device, no chain moved). */
export const EXIT_RUN_FAILED = 1;
/** Exit code: bad input or usage, found before any work. */
export const EXIT_BAD_INPUT = 2;
/** Exit code after a signal: 128 + its number, as shells report a process it stopped. */
export const EXIT_SIGNAL = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

/** Raised for any malformed user input; `field` names the offending field/flag/row. Exit 2. */
export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'InputError';
  }
}

/**
 * An output that could not be written (disk full, I/O error, permissions): `path` names the
 * file and `cause` the system's reason. No file is left under `path` or beside it. Exit 1.
 */
export class OutputError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot write ${clip(path, 200)}: ${reason}`, options);
    this.name = 'OutputError';
  }
}

/** A run that started but could not produce a result (a lost GPU device, no chain moved). Exit 1. */
export class RunError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
  }
}

/** Default most characters of a user's value echoed into a message. */
export const ECHO_MAX = 80;

/**
 * A value from the user's input as it may appear in a message: control bytes and other
 * non-printing characters escaped (`\n`, `\x1b`, `\u2028`, `\u202e`), cut to `max` characters with
 * '…' and the full length when longer. A 10 MB cell or binary garbage stays one short line.
 */
export function clip(value: string, max = ECHO_MAX): string {
  const head = value.length > max ? value.slice(0, max) : value;
  // eslint-disable-next-line no-control-regex
  // C0/C1 controls, the line and paragraph separators, the bidirectional controls (which can
  // make a terminal show text reordered) and U+FFFD (a byte that was not UTF-8).
  const safe = head.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufffd]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return value.length > max ? `${safe}… (${value.length.toLocaleString('en-US')} characters)` : safe;
}

/** "a, b, c … and 4,990 more": at most `max` items of a list named in a message or warning. */
export function listCapped(items: readonly string[], max = 10): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} … and ${(items.length - max).toLocaleString('en-US')} more`;
}
