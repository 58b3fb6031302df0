/**
 * Progress on time, not iterations (an injected clock and stream; `tick()` as the displays'
 * timer calls it):
 * - off a terminal, the sampler's bar prints at each tenth of a phase and also whenever
 *   2 s passed without a line (updates then, or `tick()` with no update: the last line again
 *   with the time now), from its creation (the `setup` line) to `done`;
 * - every line has an ETA from the phase's rate so far (auto warmup: against its cap);
 * - compare/reproduce's bar and the diagnostics' line do the same.
 */
import { sink } from './cli_helpers.ts';
import { describe, expect, it } from 'vitest';
import { diagnosticsProgress, eta, formatDuration, multiRunProgressBar, progressBar, PROGRESS_MAX_SILENCE_MS } from '../src/cli/progress.ts';
import type { Progress } from '../src/sampler/sample.ts';


const report = (phase: Progress['phase'], iteration: number, total: number): Progress => ({
  phase, iteration, total, divergences: 0, stepSize: 0.1, trajectoryLength: 1, numSteps: 10, elapsedSeconds: 0,
});

describe('ETA', () => {
  it('formats durations and projects the rate so far', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(eta(100, 1000, 10)).toBe('  ETA 1m30s');
    expect(eta(0, 1000, 10)).toBe('  ETA ?');
    expect(eta(1000, 1000, 10)).toBe('');
  });
});

describe('progress bar off a terminal: never silent for 2 s', () => {
  it('a setup line while the device and kernels start, lines every 2 s within a tenth, ETAs from the phase\'s rate', () => {
    let t = 0;
    const { stream, chunks } = sink(false);
    const bar = progressBar(stream, () => t, { timer: false });
    t = 1500;
    bar.tick();
    expect(chunks).toEqual([]);
    t = 2100;
    bar.tick();
    expect(chunks).toEqual(['setup    starting the device and compiling the kernels  2.1s\n']);
    // Warmup (auto, cap 1,000): one iteration per 5 s, as at K = 5,000 on a CPU.
    t = 3000;
    bar.update(report('warmup', 1, 1000));
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toMatch(/^warmup +\[-+\] +1\/1000 .* 3\.0s  ETA \?\n$/);
    for (let it = 2; it <= 5; it++) {
      t += 500;
      bar.update(report('warmup', it, 1000));
    }
    // 2 s after the last line: a new one, though the tenth did not change.
    expect(chunks).toHaveLength(3);
    expect(chunks[2]).toMatch(/ 5\/1000 .* 5\.0s  ETA 8m18s\n$/);
    // No report for a while: the timer repeats the last line with the time now.
    t = 7100;
    bar.tick();
    expect(chunks).toHaveLength(4);
    expect(chunks[3]).toMatch(/ 5\/1000 .* 7\.1s /);
    t = 8000;
    bar.tick();
    expect(chunks).toHaveLength(4);
    // Sampling: its ETA counts from the end of warmup.
    t = 10_000;
    bar.update(report('warmup', 6, 6));
    t = 12_000;
    bar.update(report('sampling', 100, 1000));
    expect(chunks.at(-1)).toMatch(/^sampling .* 100\/1000 .* 12\.0s  ETA 18s\n$/);
    bar.done();
    t = 20_000;
    bar.tick();
    expect(chunks.at(-1)).toMatch(/^sampling /);
  });

  it('on a terminal the line is redrawn in place at least every second, with the time now', () => {
    let t = 0;
    const { stream, chunks } = sink(true);
    const bar = progressBar(stream, () => t, { timer: false });
    t = 1000;
    bar.tick();
    expect(chunks).toEqual(['\rsetup    starting the device and compiling the kernels  1.0s\x1b[K']);
    bar.update(report('sampling', 32, 1000));
    t = 2500;
    bar.tick();
    expect(chunks.at(-1)).toMatch(/^\rsampling .* 2\.5s /);
  });

  it('the timer runs by itself on process.stderr\'s default and stops at done', async () => {
    const { stream, chunks } = sink(false);
    let t = 0;
    const bar = progressBar(stream, () => t, { timer: true });
    t = PROGRESS_MAX_SILENCE_MS + 1;
    await new Promise((r) => setTimeout(r, 400));
    expect(chunks[0]).toMatch(/^setup /);
    bar.done();
    const n = chunks.length;
    t = 10 * PROGRESS_MAX_SILENCE_MS;
    await new Promise((r) => setTimeout(r, 400));
    expect(chunks.length).toBe(n);
  });
});

describe('compare/reproduce bar and diagnostics: never silent for 2 s', () => {
  it('multi-run bar: the run\'s setup, lines every 2 s, an ETA over all runs', () => {
    let t = 0;
    const { stream, chunks } = sink(false);
    const bar = multiRunProgressBar([{ name: 'centered', warmup: 100, draws: 100 }, { name: 'noncentered', warmup: 100, draws: 100 }], stream, () => t, { timer: false });
    const run0 = bar.forRun(0);
    t = 2500;
    bar.tick();
    expect(chunks.at(-1)).toMatch(/^\[-+\] +0%  1\/2 centered setup \(device and kernels\)  2\.5s  ETA \?\n$/);
    t = 3000;
    run0({ ...report('warmup', 1, 100) });
    t = 5000;
    run0({ ...report('warmup', 2, 100) });
    // 2 of 400 iterations in 5 s: 398 more at that rate.
    expect(chunks.at(-1)).toMatch(/1\/2 centered warmup 2\/100 .* 5\.0s  ETA 16m35s\n$/);
    bar.done();
  });

  it('diagnostics off a terminal: the start, a line every 2 s with an ETA, the end', () => {
    let t = 0;
    const { stream, chunks } = sink(false);
    const d = diagnosticsProgress(5003, 1_024_000, stream, () => t, { timer: false });
    t = 1000;
    d.update(100);
    expect(chunks).toHaveLength(1);
    t = 2000;
    d.update(200);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toMatch(/ 200\/5003 parameters .* 2\.0s  ETA 48s\n$/);
    t = 4500;
    d.tick();
    expect(chunks).toHaveLength(3);
    expect(chunks[2]).toMatch(/ 200\/5003 parameters .* 4\.5s /);
    d.done();
    expect(chunks).toHaveLength(4);
  });
});

describe('progress bar with --target-ess', () => {
  it('says where the stop stands: the last check\'s estimates and the next check', () => {
    let t = 0;
    const { stream, chunks } = sink(false);
    const bar = progressBar(stream, () => t, { timer: false });
    t = 100;
    bar.update({ ...report('sampling', 50, 1000), targetEss: { target: 4000, nextCheck: 100 } });
    t = 2500;
    bar.update({ ...report('sampling', 150, 1000), targetEss: { target: 4000, nextCheck: 220, essBulkMin: 2310.4, rhatMax: 1.0234 } });
    bar.done();
    const text = chunks.join('');
    expect(text).toContain('(--target-ess 4000: next at 100; the ETA is to the cap)');
    expect(text).toContain('(--target-ess 4000: ESS 2,310, R-hat 1.023 at the last check; next at 220; the ETA is to the cap)');
  });
});
