import type { Progress } from '../sampler/sample.ts';

/** Width of the bar in characters. */
const BAR_WIDTH = 24;
/** On a terminal, the line is redrawn at most this often (ms), and at the end of each phase. */
export const TTY_REDRAW_MS = 100;
/**
 * Longest silence (ms): when no line was drawn for this long, the last one is drawn again
 * with the time now (on a terminal in place, otherwise as a new line), in every phase:
 * device setup and compile, warmup, sampling, diagnostics.
 */
export const PROGRESS_MAX_SILENCE_MS = 2000;
/** How often the silence is checked (ms), by a timer that does not keep the process alive. */
const TICK_MS = 250;

/** Options of the progress displays. */
export interface ProgressOptions {
  /**
   * Check for silence with a timer (default: when writing to process.stderr). Tests pass
   * false and call `tick()` with their own clock.
   */
  readonly timer?: boolean;
}

/** "  (--target-ess 4000: ESS 2,310, R-hat 1.023 at the last check; next at 200)": where the stop stands. */
function targetText(t: NonNullable<Progress['targetEss']>): string {
  const last = t.essBulkMin !== undefined && t.rhatMax !== undefined ? `ESS ${Math.round(t.essBulkMin).toLocaleString('en-US')}, R-hat ${t.rhatMax.toFixed(3)} at the last check; ` : '';
  return `  (--target-ess ${t.target}: ${last}next at ${t.nextCheck}; the ETA is to the cap)`;
}

/** "42s", "3m05s", "1h02m": a duration for an ETA. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * ETA text from a phase's rate so far: `done` of `total` units after `seconds` (measured
 * from the phase's start); empty until some work is done.
 */
export function eta(done: number, total: number, seconds: number): string {
  if (done >= total) return '';
  if (!(done > 0) || !(seconds > 0)) return '  ETA ?';
  return `  ETA ${formatDuration(((total - done) * seconds) / done)}`;
}

/** A timer calling `fn` every TICK_MS that does not keep Node alive; a no-op stopper when off. */
function ticker(on: boolean, fn: () => void): () => void {
  if (!on) return () => {};
  const h = setInterval(fn, TICK_MS);
  h.unref();
  return () => clearInterval(h);
}

/**
 * A progress bar on stderr: redrawn in place on a terminal (at most every TTY_REDRAW_MS),
 * otherwise printed as a line at every tenth of each phase (logs stay short); either way
 * never silent for more than PROGRESS_MAX_SILENCE_MS (the last line again, with the time
 * now), from its creation (phase `setup`: the device and the kernels' compile) to `done`.
 * Each line has an ETA for its phase from the phase's rate so far (auto warmup: against
 * its cap).
 *
 * `L` is the mean number of leapfrog steps per transition over all the iterations since
 * the line was last drawn (each report's `numSteps` is the mean over the iterations it
 * covers, weighted here by their count), not the last transition's jittered L.
 */
export function progressBar(
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  clock: () => number = () => performance.now(),
  options: ProgressOptions = {},
): { update: (p: Progress) => void; tick: () => void; done: () => void } {
  const tty = stream.isTTY === true;
  const t0 = clock();
  let lastDecile = -1;
  let lastPhase = '';
  let lastIteration = 0;
  let lastDraw = -Infinity;
  let lastWrite = t0;
  let latest: Progress | null = null;
  let lastMeanL = 0;
  let drawn = false;
  // The current phase's start (time and iterations then), for its ETA.
  let phaseT = t0;
  let phaseIt = 0;
  let phaseEnd = t0;
  // leapfrog steps and iterations since the line was last drawn
  let steps = 0;
  let iterations = 0;
  let finished = false;
  const line = (p: Progress, meanL: number, t: number) => {
    const frac = p.total > 0 ? p.iteration / p.total : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    const acc = p.acceptRate !== undefined ? ` accept ${p.acceptRate.toFixed(2)}` : '';
    const stop = p.warmupStopped ? '  (settled and mixed: warmup ends)' : p.targetEss ? targetText(p.targetEss) : '';
    const elapsed = (t - t0) / 1000;
    return `${p.phase.padEnd(8)} [${bar}] ${String(p.iteration).padStart(5)}/${p.total}  div ${p.divergences}  eps ${p.stepSize.toPrecision(3)}  T ${p.trajectoryLength.toPrecision(3)}  L ${meanL.toFixed(1)}${acc}  ${elapsed.toFixed(1)}s${eta(p.iteration - phaseIt, p.total - phaseIt, (t - phaseT) / 1000)}${stop}`;
  };
  /** The mean L since the line was last drawn (the last line's when no iteration since). */
  const takeMeanL = () => {
    if (iterations > 0) lastMeanL = steps / iterations;
    steps = 0;
    iterations = 0;
    return lastMeanL;
  };
  const setupLine = (t: number) => `setup    starting the device and compiling the kernels  ${((t - t0) / 1000).toFixed(1)}s`;
  const write = (text: string, t: number) => {
    lastWrite = t;
    drawn = true;
    stream.write(tty ? `\r${text}\x1b[K` : text + '\n');
  };
  const tick = () => {
    if (finished) return;
    const t = clock();
    if (t - lastWrite < (tty ? 1000 : PROGRESS_MAX_SILENCE_MS)) return;
    write(latest ? line(latest, takeMeanL(), t) : setupLine(t), t);
  };
  const stop = ticker(options.timer ?? stream === process.stderr, tick);
  return {
    update(p) {
      const t = clock();
      const newPhase = p.phase !== lastPhase;
      if (newPhase) {
        if (tty && lastPhase !== '') stream.write('\n');
        lastIteration = 0;
        lastDecile = -1;
        steps = 0;
        iterations = 0;
        // A phase after another starts where it ended; the first from its first report
        // (the device setup before it is no part of its rate).
        if (lastPhase !== '') {
          phaseT = phaseEnd;
          phaseIt = 0;
        } else {
          phaseT = t;
          phaseIt = p.iteration;
        }
      }
      lastPhase = p.phase;
      phaseEnd = t;
      const covered = Math.max(1, p.iteration - lastIteration);
      lastIteration = p.iteration;
      steps += p.numSteps * covered;
      iterations += covered;
      const end = p.iteration >= p.total;
      let draw: boolean;
      if (tty) {
        draw = newPhase || end || t - lastDraw >= TTY_REDRAW_MS;
      } else {
        const decile = Math.floor((10 * p.iteration) / Math.max(1, p.total));
        draw = decile !== lastDecile || p.warmupStopped === true || t - lastWrite >= PROGRESS_MAX_SILENCE_MS;
        lastDecile = decile;
      }
      latest = p;
      if (!draw) return;
      lastDraw = t;
      write(line(p, takeMeanL(), t), t);
    },
    tick,
    done() {
      if (finished) return;
      finished = true;
      stop();
      if (tty && drawn) stream.write('\n');
    },
  };
}

/**
 * One progress bar over several runs in sequence (`funnelweb compare`, `reproduce`): the bar
 * and percentage cover all runs' warmup and sampling iterations together; the line names the
 * current run and shows its phase, divergences, step size, trajectory length and steps, and
 * an ETA for all runs from the rate so far. On a terminal it is redrawn in place; otherwise a
 * line at every 5% of the whole, and never more than PROGRESS_MAX_SILENCE_MS without one
 * (the last again, with the time now; also while a run sets up its device and kernels).
 */
export function multiRunProgressBar(
  runs: readonly { name: string; warmup: number; draws: number }[],
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  clock: () => number = () => performance.now(),
  options: ProgressOptions = {},
): { forRun: (i: number) => (p: Progress) => void; tick: () => void; done: () => void } {
  const tty = stream.isTTY === true;
  const total = runs.reduce((a, r) => a + r.warmup + r.draws, 0);
  const offsets = runs.map((_, i) => runs.slice(0, i).reduce((a, r) => a + r.warmup + r.draws, 0));
  const t0 = clock();
  let lastPercentStep = -1;
  let lastWrite = t0;
  let latest: { i: number; p: Progress | null; done: number } = { i: 0, p: null, done: 0 };
  let finished = false;
  let drawn = false;
  const text = (t: number) => {
    const { i, p, done } = latest;
    const frac = total > 0 ? done / total : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    const what = p
      ? `${p.phase} ${p.iteration}/${p.total}  div ${p.divergences}  eps ${p.stepSize.toPrecision(3)}  T ${p.trajectoryLength.toPrecision(3)}  L ${p.numSteps.toFixed(1)}`
      : 'setup (device and kernels)';
    const s = (t - t0) / 1000;
    return `[${bar}] ${(100 * frac).toFixed(0).padStart(3)}%  ${i + 1}/${runs.length} ${runs[i]?.name ?? ''} ${what}  ${s.toFixed(1)}s${eta(done, total, s)}`;
  };
  const write = (t: number) => {
    lastWrite = t;
    drawn = true;
    stream.write(tty ? `\r${text(t)}\x1b[K` : text(t) + '\n');
  };
  const tick = () => {
    if (finished) return;
    const t = clock();
    if (t - lastWrite >= (tty ? 1000 : PROGRESS_MAX_SILENCE_MS)) write(t);
  };
  const stop = ticker(options.timer ?? stream === process.stderr, tick);
  return {
    forRun: (i) => {
      // A run starts with its device and kernels: shown as its setup until its first report.
      latest = { i, p: null, done: offsets[i] ?? total };
      return (p) => {
        const done = offsets[i] + (p.phase === 'sampling' ? runs[i].warmup : 0) + p.iteration;
        latest = { i, p, done };
        const t = clock();
        if (tty) {
          if (t - lastWrite >= TTY_REDRAW_MS || !drawn) write(t);
          return;
        }
        // Not a terminal: a line at every 5% of the whole, so logs stay short.
        const step = Math.floor((20 * done) / Math.max(1, total));
        if (step !== lastPercentStep || t - lastWrite >= PROGRESS_MAX_SILENCE_MS) {
          lastPercentStep = step;
          write(t);
        }
      };
    },
    tick,
    done() {
      if (finished) return;
      finished = true;
      stop();
      if (tty && drawn) stream.write('\n');
    },
  };
}

/**
 * Progress of the diagnostics after sampling (parameters summarised so far), below the
 * sampling bar (see `countProgress`).
 */
export function diagnosticsProgress(
  total: number,
  draws: number,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  clock: () => number = () => performance.now(),
  options: ProgressOptions = {},
): { update: (done: number) => void; tick: () => void; done: () => void } {
  return countProgress('diagnose', total, `parameters (R-hat, ESS, MCSE over ${draws.toLocaleString('en-US')} draws each)`, stream, clock, options);
}

/**
 * Progress of a phase counted in units (`diagnose`: parameters; `write`: rows of a file),
 * with an ETA from the rate so far: redrawn in place on a terminal; otherwise one line when
 * it starts, one when it ends, and one whenever PROGRESS_MAX_SILENCE_MS passed without one.
 */
export function countProgress(
  name: string,
  total: number,
  unit: string,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  clock: () => number = () => performance.now(),
  options: ProgressOptions = {},
): { update: (done: number) => void; tick: () => void; done: () => void } {
  const tty = stream.isTTY === true;
  const t0 = clock();
  let lastWrite = t0;
  let finished = false;
  const line = (done: number, t: number) => {
    const filled = Math.round((done / Math.max(1, total)) * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    const s = (t - t0) / 1000;
    return `${name.padEnd(8)} [${bar}] ${String(done).padStart(5)}/${total} ${unit}  ${s.toFixed(1)}s${done > 0 ? eta(done, total, s) : ''}`;
  };
  const write = (done: number, t: number, end = false) => {
    lastWrite = t;
    stream.write(tty ? `\r${line(done, t)}\x1b[K${end ? '\n' : ''}` : line(done, t) + '\n');
  };
  write(0, t0);
  let last = 0;
  const tick = () => {
    if (finished) return;
    const t = clock();
    if (t - lastWrite >= (tty ? 1000 : PROGRESS_MAX_SILENCE_MS)) write(last, t);
  };
  const stop = ticker(options.timer ?? stream === process.stderr, tick);
  return {
    update(done) {
      last = done;
      const t = clock();
      if (tty || t - lastWrite >= PROGRESS_MAX_SILENCE_MS) write(done, t);
    },
    tick,
    done() {
      if (finished) return;
      finished = true;
      stop();
      write(last, clock(), true);
    },
  };
}
