/**
 * The CmdStan CSV reader (src/io/cmdstan.ts) on the forms CmdStan writes: names,
 * configuration values (1/0 and CmdStan >= 2.33's true/false), warmup by marker or by
 * count with thinning, NaN/Inf cells, and the errors. The golden comparison with R is in
 * diagnostics_golden.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cmdstanDrawsTable, isCmdStanCsv, parseCmdStanCsv, stanName } from '../src/io/cmdstan.ts';

const config = (saveWarmup: string, numWarmup = 4, thin = 1) => [
  '# stan_version_major = 2',
  '# method = sample (Default)',
  '#   sample',
  '#     num_samples = 3',
  `#     num_warmup = ${numWarmup}`,
  `#     save_warmup = ${saveWarmup}`,
  `#     thin = ${thin}${thin === 1 ? ' (Default)' : ''}`,
  '# id = 2',
];
const header = 'lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,theta.1,theta.2,L_Omega.2.1';
const row = (i: number, div = 0) => [-i, 0.9, 0.5, 2, 3, div, i + 1, i / 10, i, -i, 0.5].join(',');

describe('CmdStan CSV', () => {
  it("names: Stan's flattened indices in brackets", () => {
    expect(stanName('theta.1')).toBe('theta[1]');
    expect(stanName('L_Omega.2.1')).toBe('L_Omega[2,1]');
    expect(stanName('mu')).toBe('mu');
    expect(stanName('lp__')).toBe('lp__');
    expect(stanName('x.y')).toBe('x.y');
  });

  it('recognises Stan CSV and not a chain/draw CSV', () => {
    expect(isCmdStanCsv([...config('0'), header, row(1)].join('\n'))).toBe(true);
    expect(isCmdStanCsv('chain,draw,lp__,a\n1,1,0,0\n')).toBe(false);
    expect(isCmdStanCsv('a,b\n1,2\n')).toBe(false);
  });

  for (const saveWarmup of ['1', 'true']) {
    it(`save_warmup = ${saveWarmup}: the rows before the adaptation marker are dropped`, () => {
      const text = [...config(saveWarmup), header, row(1), row(2), row(3), row(4), '# Adaptation terminated', '# Step size = 0.5', '# Diagonal elements of inverse mass matrix:', '# 1, 1, 1, 1', row(5), row(6, 1), row(7), '#  Elapsed Time: 0.1 seconds (Warm-up)', ''].join('\n');
      const ch = parseCmdStanCsv(text, 'x.csv');
      expect(ch.warmupRows).toBe(4);
      const t = cmdstanDrawsTable([ch]);
      expect(t.chains).toBe(1);
      expect(t.draws).toBe(3);
      expect(t.chainIds).toEqual([2]);
      expect(Object.keys(t.params)).toEqual(['lp__', 'mu', 'theta[1]', 'theta[2]', 'L_Omega[2,1]']);
      expect([...t.params['theta[1]']]).toEqual([5, 6, 7]);
      expect([...t.divergent!]).toEqual([0, 1, 0]);
      expect([...t.energy!]).toEqual([6, 7, 8]);
    });
  }

  it('without the marker (adaptation off), ceil(num_warmup / thin) rows are warmup', () => {
    const text = [...config('1', 5, 2), header, row(1), row(2), row(3), row(4), row(5)].join('\n');
    const ch = parseCmdStanCsv(text, 'x.csv');
    expect(ch.warmupRows).toBe(3);
    expect([...cmdstanDrawsTable([ch]).params.mu]).toEqual([0.4, 0.5]);
  });

  it('save_warmup = 0 keeps every row; nan and inf are numbers', () => {
    const text = [...config('0'), header, row(1), row(2).replace(/,0\.2,/, ',nan,'), row(3).replace(/^-3/, '-inf')].join('\n');
    const t = cmdstanDrawsTable([parseCmdStanCsv(text, 'x.csv')]);
    expect(t.draws).toBe(3);
    expect(t.params.mu[1]).toBeNaN();
    expect(t.params.lp__[2]).toBe(-Infinity);
  });

  it('names the file and line of a bad cell', () => {
    const text = [...config('0'), header, row(1), row(2).replace(/,0\.2,/, ',x,')].join('\n');
    expect(() => parseCmdStanCsv(text, 'out_3.csv')).toThrow(/out_3\.csv: line 11, column 'mu': 'x' is not a number/);
    expect(() => parseCmdStanCsv([...config('0'), header, '1,2'].join('\n'), 'out_3.csv')).toThrow(/line 10: expected 11 cells, found 2/);
    expect(() => parseCmdStanCsv(config('0').join('\n'), 'out_3.csv')).toThrow(/no header line/);
  });
});
