/**
 * One way for every command to handle SIGINT (Ctrl-C), SIGTERM and SIGHUP.
 *
 * The first signal is acknowledged at once with one line on stderr (what happens now, which
 * the command says for its current phase) and aborts `signal`: the command stops at its next
 * chance, keeps what is finished, and exits with 128 + the signal's number (130, 143, 129).
 * A second signal, of any of the three, exits at once with its own code, after removing the
 * temporary files of writes still under way (`removePendingTemporaries`), so that no
 * half-written file stays behind.
 */
import { removePendingTemporaries } from '../io/write.ts';
import { EXIT_SIGNAL } from '../errors.ts';

/** The signals handled: each stops a command as Ctrl-C does. */
export type StopSignal = keyof typeof EXIT_SIGNAL;

/** SIGINT, SIGTERM and SIGHUP. */
export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * How long a second signal waits (blocking, ms) before removing the temporaries: a file
 * operation already handed to libuv's threads (an `open` creating a temporary) completes
 * meanwhile, while no JavaScript runs to start another (or to rename one into place).
 */
export const HARD_EXIT_SETTLE_MS = 50;

/** Phrases for the acknowledgement lines: "Ctrl-C" for SIGINT, else the signal's name. */
export function signalName(s: StopSignal): string {
  return s === 'SIGINT' ? 'Ctrl-C (SIGINT)' : s;
}

/** The state of a command's signal handling (`handleStopSignals`). */
export interface StopSignals {
  /** Aborted at the first signal; its reason is an Error naming the signal. */
  readonly signal: AbortSignal;
  /** The first signal received, or null while none. */
  readonly received: StopSignal | null;
  /** 128 + the first signal's number (130, 143, 129); 0 while none was received. */
  readonly exitCode: number;
  /** Stops handling the signals (their default actions return). */
  dispose(): void;
}

/**
 * Handles SIGINT, SIGTERM and SIGHUP for one command until `dispose()`. At the first,
 * writes `funnelweb: <signal>: <acknowledge()>` on stderr (`acknowledge` says what the
 * command does now, in its current phase) and aborts `signal`. At a second: writes
 * `funnelweb: interrupted again (<signal>): exiting now`, removes the temporaries of writes
 * under way and exits with 128 + that signal's number.
 */
export function handleStopSignals(acknowledge: (signal: StopSignal) => string): StopSignals {
  const controller = new AbortController();
  let received: StopSignal | null = null;
  const handlers = new Map<StopSignal, () => void>();
  for (const s of STOP_SIGNALS) {
    const handler = () => {
      if (received !== null) hardExit(s);
      received = s;
      // On a terminal, below the progress line being redrawn.
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}funnelweb: ${signalName(s)}: ${acknowledge(s)}\n`);
      controller.abort(new Error(`interrupted (${s})`));
    };
    handlers.set(s, handler);
    process.on(s, handler);
  }
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received === null ? 0 : EXIT_SIGNAL[received];
    },
    dispose() {
      for (const [s, h] of handlers) process.off(s, h);
      handlers.clear();
    },
  };
}

/**
 * Exits at once after a second signal: waits HARD_EXIT_SETTLE_MS (blocking, so that no
 * write goes on and none is renamed into place), removes the temporaries of the writes
 * under way, and exits with 128 + the signal's number.
 */
export function hardExit(s: StopSignal): never {
  process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}funnelweb: interrupted again (${s}): exiting now\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, HARD_EXIT_SETTLE_MS);
  removePendingTemporaries();
  process.exit(EXIT_SIGNAL[s]);
}

/**
 * For a command with nothing to keep when stopped (`diagnose`: its one output is written at
 * the end): the first SIGINT, SIGTERM or SIGHUP says `funnelweb: <signal>: <note>`, removes
 * the temporary of a write under way and exits with 128 + the signal's number. Returns the
 * function that removes the handlers.
 */
export function exitOnStopSignals(note: string): () => void {
  const handlers = STOP_SIGNALS.map((s) => {
    const handler = () => {
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}funnelweb: ${signalName(s)}: ${note}\n`);
      removePendingTemporaries();
      process.exit(EXIT_SIGNAL[s]);
    };
    process.on(s, handler);
    return [s, handler] as const;
  });
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

/** The ending of an acknowledgement: how to quit at once. */
export const AGAIN_TO_QUIT = 'Ctrl-C or the signal again quits at once';
