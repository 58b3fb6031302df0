import type { Progress } from '../sampler/sample.ts';

/** Width of the bar in characters. */
const BAR_WIDTH = 24;
/** On a terminal, the line is redrawn at most this often (ms), and at the end of each phase. */
export const TTY_REDRAW_MS = 100;

/**
 * A progress bar on stderr: redrawn in place on a terminal (at most every TTY_REDRAW_MS),
 * otherwise printed as a line at every tenth of each phase (logs stay short).
 *
 * `L` is the mean number of leapfrog steps per transition over all the iterations since
 * the line was last drawn (each report's `numSteps` is the mean over the iterations it
 * covers, weighted here by their count), not the last transition's jittered L.
 */
export function progressBar(
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  clock: () => number = () => performance.now(),
): { update: (p: Progress) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let lastDecile = -1;
  let lastPhase = '';
  let lastIteration = 0;
  let lastDraw = -Infinity;
  // leapfrog steps and iterations since the line was last drawn
  let steps = 0;
  let iterations = 0;
  const line = (p: Progress, meanL: number) => {
    const frac = p.total > 0 ? p.iteration / p.total : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    const acc = p.acceptRate !== undefined ? ` accept ${p.acceptRate.toFixed(2)}` : '';
    const stop = p.warmupStopped ? '  (settled and mixed: warmup ends)' : '';
    return `${p.phase.padEnd(8)} [${bar}] ${String(p.iteration).padStart(5)}/${p.total}  div ${p.divergences}  eps ${p.stepSize.toPrecision(3)}  T ${p.trajectoryLength.toPrecision(3)}  L ${meanL.toFixed(1)}${acc}  ${p.elapsedSeconds.toFixed(1)}s${stop}`;
  };
  return {
    update(p) {
      const newPhase = p.phase !== lastPhase;
      if (newPhase) {
        if (tty && lastPhase !== '') stream.write('\n');
        lastIteration = 0;
        lastDecile = -1;
        steps = 0;
        iterations = 0;
      }
      lastPhase = p.phase;
      const covered = Math.max(1, p.iteration - lastIteration);
      lastIteration = p.iteration;
      steps += p.numSteps * covered;
      iterations += covered;
      const last = p.iteration >= p.total;
      let draw: boolean;
      if (tty) {
        const t = clock();
        draw = newPhase || last || t - lastDraw >= TTY_REDRAW_MS;
        if (draw) lastDraw = t;
      } else {
        const decile = Math.floor((10 * p.iteration) / Math.max(1, p.total));
        draw = decile !== lastDecile || p.warmupStopped === true;
        lastDecile = decile;
      }
      if (!draw) return;
      const text = line(p, steps / iterations);
      steps = 0;
      iterations = 0;
      stream.write(tty ? `\r${text}\x1b[K` : text + '\n');
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

/**
 * One progress bar over several runs in sequence (`funnelweb compare`, `reproduce`): the bar
 * and percentage cover all runs' warmup and sampling iterations together; the line names the
 * current run and shows its phase, divergences, step size, trajectory length and steps.
 */
export function multiRunProgressBar(
  runs: readonly { name: string; warmup: number; draws: number }[],
  stream: NodeJS.WriteStream = process.stderr,
): { forRun: (i: number) => (p: Progress) => void; done: () => void } {
  const tty = stream.isTTY === true;
  const total = runs.reduce((a, r) => a + r.warmup + r.draws, 0);
  const offsets = runs.map((_, i) => runs.slice(0, i).reduce((a, r) => a + r.warmup + r.draws, 0));
  const t0 = performance.now();
  let lastPercentStep = -1;
  return {
    forRun: (i) => (p) => {
      const done = offsets[i] + (p.phase === 'sampling' ? runs[i].warmup : 0) + p.iteration;
      const frac = total > 0 ? done / total : 1;
      const filled = Math.round(frac * BAR_WIDTH);
      const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
      const text = `[${bar}] ${(100 * frac).toFixed(0).padStart(3)}%  ${i + 1}/${runs.length} ${runs[i].name} ${p.phase} ${p.iteration}/${p.total}  div ${p.divergences}  eps ${p.stepSize.toPrecision(3)}  T ${p.trajectoryLength.toPrecision(3)}  L ${p.numSteps}  ${((performance.now() - t0) / 1000).toFixed(1)}s`;
      if (tty) {
        stream.write(`\r${text}\x1b[K`);
        return;
      }
      // Not a terminal: a line at every 5% of the whole, so logs stay short.
      const step = Math.floor(20 * frac);
      if (step !== lastPercentStep) {
        lastPercentStep = step;
        stream.write(text + '\n');
      }
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

/**
 * Progress of the diagnostics after sampling (parameters summarised so far), below the
 * sampling bar: redrawn in place on a terminal; otherwise one line when they start and one
 * when they end.
 */
export function diagnosticsProgress(
  total: number,
  draws: number,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  clock: () => number = () => performance.now(),
): { update: (done: number) => void; done: () => void } {
  const tty = stream.isTTY === true;
  const t0 = clock();
  const line = (done: number) => {
    const filled = Math.round((done / Math.max(1, total)) * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    return `diagnose [${bar}] ${String(done).padStart(5)}/${total} parameters (R-hat, ESS, MCSE over ${draws.toLocaleString('en-US')} draws each)  ${((clock() - t0) / 1000).toFixed(1)}s`;
  };
  stream.write(tty ? `\r${line(0)}\x1b[K` : line(0) + '\n');
  let last = 0;
  return {
    update(done) {
      last = done;
      if (tty) stream.write(`\r${line(done)}\x1b[K`);
    },
    done() {
      stream.write(tty ? `\r${line(last)}\x1b[K\n` : line(last) + '\n');
    },
  };
}
