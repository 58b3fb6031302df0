/**
 * Golden tests against R's `posterior` package (values made by
 * test/golden/make_goldens.R from the draws in test/golden/draws_*.csv).
 * Relative tolerance 1e-6; R's NA (JSON null) must come out as NaN.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  essBasic,
  essBulk,
  essMean,
  essQuantile,
  essTail,
  mcseMean,
  mcseQuantile,
  mcseSd,
  nestedRhat,
  qbeta,
  qnorm,
  quantile,
  rhat,
  rhatBasic,
  summarize,
} from '../src/diagnostics/index.ts';
import { parseDrawsCsv, type DrawsTable } from '../src/io/draws_csv.ts';
import { cmdstanDrawsTable, parseCmdStanCsv } from '../src/io/cmdstan.ts';
import { readInferenceDataDraws } from '../src/io/inference_data_read.ts';

interface GoldenCase {
  file: string;
  chains: number;
  draws: number;
  superchains: number | null;
  params: Record<string, Record<string, number | null>>;
}
interface CmdStanGolden {
  files: string[];
  chains: number;
  draws: number;
  params: Record<string, Record<string, number | null>>;
  divergences_per_chain: number[];
  ebfmi: number[];
  accept_rate: number;
}
interface Golden {
  posterior_version: string;
  cmdstan: Record<string, CmdStanGolden>;
  cases: Record<string, GoldenCase>;
  qnorm: { p: number; value: number }[];
  qbeta: { p: number; a: number; b: number; value: number }[];
}

const dir = new URL('./golden/', import.meta.url);
const golden = JSON.parse(readFileSync(new URL('posterior_goldens.json', dir), 'utf8')) as Golden;
const REL = 1e-6;

function expectClose(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    expect(actual, `${what}: R gives NA`).toBeNaN();
    return;
  }
  expect(Number.isNaN(actual), `${what}: got NaN, R gives ${expected}`).toBe(false);
  const scale = Math.max(Math.abs(expected), 1e-300);
  const rel = Math.abs(actual - expected) / scale;
  expect(rel, `${what}: ${actual} vs R ${expected}`).toBeLessThanOrEqual(REL);
}

describe('golden values from R posterior', () => {
  it('were made with posterior 1.4.0', () => {
    expect(golden.posterior_version).toBe('1.4.0');
  });

  for (const [caseName, gc] of Object.entries(golden.cases)) {
    const table = parseDrawsCsv(readFileSync(new URL(gc.file, dir), 'utf8'), gc.file);
    const { chains, draws } = table;

    it(`${caseName}: reads ${gc.file} as ${gc.chains} chains × ${gc.draws} draws`, () => {
      expect(chains).toBe(gc.chains);
      expect(draws).toBe(gc.draws);
      expect(Object.keys(table.params)).toEqual(Object.keys(gc.params));
    });

    for (const [name, g] of Object.entries(gc.params)) {
      const x = table.params[name];
      const what = (stat: string) => `${caseName}/${name}/${stat}`;

      it(`${caseName}/${name}: single estimators equal R`, () => {
        expectClose(rhat(x, chains, draws), g.rhat, what('rhat'));
        expectClose(rhatBasic(x, chains, draws), g.rhat_basic, what('rhat_basic'));
        expectClose(essBulk(x, chains, draws), g.ess_bulk, what('ess_bulk'));
        expectClose(essTail(x, chains, draws), g.ess_tail, what('ess_tail'));
        expectClose(essMean(x, chains, draws), g.ess_mean, what('ess_mean'));
        expectClose(essBasic(x, chains, draws), g.ess_basic, what('ess_basic'));
        expectClose(essQuantile(x, chains, draws, 0.05), g.ess_q5, what('ess_q5'));
        expectClose(essQuantile(x, chains, draws, 0.95), g.ess_q95, what('ess_q95'));
        expectClose(mcseMean(x, chains, draws), g.mcse_mean, what('mcse_mean'));
        expectClose(mcseSd(x, chains, draws), g.mcse_sd, what('mcse_sd'));
        expectClose(mcseQuantile(x, chains, draws, 0.05), g.mcse_q5, what('mcse_q5'));
        expectClose(mcseQuantile(x, chains, draws, 0.95), g.mcse_q95, what('mcse_q95'));
        const q = quantile(x, chains, draws, [0.05, 0.5, 0.95]);
        expectClose(q[0], g.q5, what('q5'));
        expectClose(q[1], g.q50, what('q50'));
        expectClose(q[2], g.q95, what('q95'));
        if (gc.superchains !== null) {
          expectClose(nestedRhat(x, chains, draws, gc.superchains), g.rhat_nested, what('rhat_nested'));
        }
      });

      it(`${caseName}/${name}: summarize equals R`, () => {
        const s = summarize({ [name]: x }, chains, draws, {
          superchains: gc.superchains ?? undefined,
        }).params[name];
        for (const k of [
          'mean',
          'sd',
          'q5',
          'q50',
          'q95',
          'mcse_mean',
          'mcse_sd',
          'mcse_q5',
          'mcse_q95',
          'ess_bulk',
          'ess_tail',
          'rhat',
        ] as const) {
          expectClose(s[k], g[k], what(`summary.${k}`));
        }
        if (gc.superchains !== null) expectClose(s.rhat_nested!, g.rhat_nested, what('summary.rhat_nested'));
        // every NaN comes with a reason
        const anyNaN = Object.values(s).some((v) => typeof v === 'number' && Number.isNaN(v));
        if (anyNaN) expect(s.reasons.length).toBeGreaterThan(0);
      });

      it(`${caseName}/${name}: float32 input agrees with float64 input`, () => {
        const x32 = new Float32Array(x);
        const x64 = Float64Array.from(x32);
        const a = summarize({ p: x32 }, chains, draws).params.p;
        const b = summarize({ p: x64 }, chains, draws).params.p;
        for (const k of ['rhat', 'ess_bulk', 'ess_tail', 'mcse_mean', 'q5'] as const) {
          if (Number.isNaN(b[k])) expect(a[k]).toBeNaN();
          else expect(a[k]).toBeCloseTo(b[k], 10);
        }
      });
    }
  }

  it('qnorm equals R (AS 241)', () => {
    for (const { p, value } of golden.qnorm) expectClose(qnorm(p), value, `qnorm(${p})`);
  });

  it('qbeta equals R', () => {
    for (const { p, a, b, value } of golden.qbeta) {
      const v = qbeta(p, a, b);
      expect(Math.abs(v - value), `qbeta(${p}, ${a}, ${b}) = ${v} vs R ${value}`).toBeLessThan(1e-12 + 1e-10 * value);
    }
  });
});

/** Every summary statistic of `table` against R's estimates (and the sampler diagnostics). */
function expectSummaryEqualsR(table: DrawsTable, g: CmdStanGolden, label: string, withStats: { energy: boolean; accept: boolean }): void {
  expect(table.chains).toBe(g.chains);
  expect(table.draws).toBe(g.draws);
  const s = summarize(table.params, table.chains, table.draws, { energy: table.energy, divergent: table.divergent, acceptProb: table.acceptProb });
  for (const [name, p] of Object.entries(s.params)) {
    const r = g.params[name];
    expect(r, `${label}: R has no '${name}'`).toBeDefined();
    for (const k of ['mean', 'sd', 'q5', 'q50', 'q95', 'mcse_mean', 'mcse_sd', 'mcse_q5', 'mcse_q95', 'ess_bulk', 'ess_tail', 'rhat'] as const) {
      expectClose(p[k], r[k], `${label}/${name}/${k}`);
    }
  }
  expect(s.divergencesPerChain).toEqual(g.divergences_per_chain);
  if (withStats.energy) g.ebfmi.forEach((e, c) => expectClose(s.ebfmi[c], e, `${label}/ebfmi[${c}]`));
  if (withStats.accept) expectClose(s.acceptRate, g.accept_rate, `${label}/accept_rate`);
}

describe('CmdStan output as CmdStan writes it, against R (rstan::read_stan_csv + posterior)', () => {
  for (const [caseName, g] of Object.entries(golden.cmdstan)) {
    it(`${caseName}: ${g.files.length} files, warmup dropped, Stan names, every estimate equals R`, () => {
      const chains = g.files.map((f) => parseCmdStanCsv(readFileSync(new URL(f, dir), 'utf8'), f));
      const table = cmdstanDrawsTable(chains);
      // the same parameters as R, in bracket form
      expect(Object.keys(table.params).sort()).toEqual(Object.keys(g.params).sort());
      expect(Object.keys(table.params)).toContain('theta[8]');
      expectSummaryEqualsR(table, g, caseName, { energy: true, accept: true });
    });
  }

  it('cmdstan_warmup: dropped the rows before "# Adaptation terminated" (150 per chain) and read the step size', () => {
    const f = golden.cmdstan.cmdstan_warmup.files[0];
    const ch = parseCmdStanCsv(readFileSync(new URL(f, dir), 'utf8'), f);
    expect(ch.warmupRows).toBe(150);
    expect(ch.stepSize).toBe(0.389442);
    expect(ch.config.get('save_warmup')).toBe('1');
  });

  it('cmdstan_thin: without the adaptation marker, dropped ceil(num_warmup / thin) = 50 rows', () => {
    const f = golden.cmdstan.cmdstan_thin.files[0];
    expect(parseCmdStanCsv(readFileSync(new URL(f, dir), 'utf8'), f).warmupRows).toBe(50);
  });

  // Files written by xarray (netCDF-C, zarr-python with Blosc) from the same draws: see
  // test/golden/make_inference_data_goldens.py. lp is in sample_stats there, not a parameter.
  for (const file of ['cmdstan_warmup.nc', 'cmdstan_warmup.zarr']) {
    it(`${file} (written by xarray): every estimate equals R`, async () => {
      const table = await readInferenceDataDraws(fileURLToPath(new URL(file, dir)));
      const g = golden.cmdstan.cmdstan_warmup;
      expect(Object.keys(table.params).sort()).toEqual(Object.keys(g.params).filter((n) => n !== 'lp__').sort());
      expectSummaryEqualsR(table, g, file, { energy: true, accept: true });
    });
  }
});
