import type { Progress } from '../sampler/sample.ts';

/** Width of the bar in characters. */
const BAR_WIDTH = 24;

/**
 * A progress bar on stderr: redrawn in place on a terminal, otherwise printed as a line
 * at every tenth of each phase (logs stay short).
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): { update: (p: Progress) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let lastDecile = -1;
  let lastPhase = '';
  const line = (p: Progress) => {
    const frac = p.total > 0 ? p.iteration / p.total : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    const acc = p.acceptRate !== undefined ? ` accept ${p.acceptRate.toFixed(2)}` : '';
    return `${p.phase.padEnd(8)} [${bar}] ${String(p.iteration).padStart(5)}/${p.total}  div ${p.divergences}  eps ${p.stepSize.toPrecision(3)}  T ${p.trajectoryLength.toPrecision(3)}  L ${p.numSteps}${acc}  ${p.elapsedSeconds.toFixed(1)}s`;
  };
  return {
    update(p) {
      if (tty) {
        if (lastPhase !== '' && p.phase !== lastPhase) stream.write('\n');
        stream.write(`\r${line(p)}\x1b[K`);
        lastPhase = p.phase;
        return;
      }
      const decile = Math.floor((10 * p.iteration) / Math.max(1, p.total));
      if (p.phase !== lastPhase) lastDecile = -1;
      lastPhase = p.phase;
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(line(p) + '\n');
      }
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
