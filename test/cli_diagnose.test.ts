/**
 * `funnelweb diagnose` end to end: spawns `node --import tsx src/cli/bin.ts diagnose ...`
 * (the sources; package.test.ts runs the built package) and checks the table, the --json
 * document, and exit code 2 with no JSON file written for every kind of bad input.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fw-diagnose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'diagnose', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function csv(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** 2 chains × 8 draws of a, b with Stan's sampler columns. */
function stanCsv(): string {
  const lines = ['chain,draw,a,b,lp__,accept_stat__,divergent__,energy__'];
  for (let c = 1; c <= 2; c++) {
    for (let d = 1; d <= 8; d++) {
      const a = Math.sin(c * 3 + d * 1.7);
      const b = Math.cos(c + d * 0.9) * 2 + 1;
      lines.push([c, d, a.toFixed(6), b.toFixed(6), (-a * a).toFixed(6), 0.9, d === 3 && c === 2 ? 1 : 0, (d % 3) + c].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

describe('funnelweb diagnose', () => {
  it('prints the summary table for the golden draws', () => {
    const r = run('test/golden/draws_main.csv');
    // Only warnings on stderr (the golden set holds a slow-mixing AR(1) series on purpose).
    expect(r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 chains × 200 draws/);
    expect(r.stdout).toMatch(/variable\s+mean\s+sd\s+q5\s+q50\s+q95\s+mcse_mean\s+mcse_sd\s+ess_bulk\s+ess_tail\s+rhat/);
    expect(r.stdout).toMatch(/^iid_normal\s.*\s809\s+815\s+1\.001$/m);
    expect(r.stdout).toMatch(/^constant\s.*\sNA\s+NA\s+NA$/m);
  });

  it('writes --json with posterior-equal numbers (NA as null) and nested R-hat', () => {
    const out = join(dir, 'nested.json');
    const r = run('test/golden/draws_nested.csv', '--superchains', '4', '--json', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rhat_nested/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const golden = JSON.parse(readFileSync(join(root, 'test/golden/posterior_goldens.json'), 'utf8')).cases.nested.params;
    expect(Object.keys(doc.params)).toEqual(['mixed', 'unmixed']);
    for (const name of ['mixed', 'unmixed']) {
      for (const k of ['mean', 'sd', 'q5', 'q50', 'q95', 'mcse_mean', 'mcse_sd', 'ess_bulk', 'ess_tail', 'rhat', 'rhat_nested']) {
        expect(doc.params[name][k], `${name}.${k}`).toBeCloseTo(golden[name][k], 9);
      }
    }
    expect(doc.ebfmi).toEqual([]);
    expect(doc.divergences).toBeNull();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const out2 = join(dir, 'main.json');
    expect(run('test/golden/draws_main.csv', '--json', out2).code).toBe(0);
    const main = JSON.parse(readFileSync(out2, 'utf8'));
    expect(main.params.constant.rhat).toBeNull();
    expect(main.params.constant.ess_bulk).toBeNull();
    expect(main.params.constant.mean).toBe(2.25);
    expect(main.params.constant.reasons[0]).toMatch(/constant/);
    expect(main.params.iid_normal.rhat_nested).toBeUndefined();
  });

  it('uses Stan-style lp__, energy__, divergent__ and accept_stat__ columns', () => {
    const path = csv('stan.csv', stanCsv());
    const out = join(dir, 'stan.json');
    const r = run(path, '--json', out);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(doc.params)).toEqual(['a', 'b', 'lp__']);
    expect(doc.divergences).toBe(1);
    expect(doc.divergencesPerChain).toEqual([0, 1]);
    expect(doc.acceptRate).toBeCloseTo(0.9, 12);
    expect(doc.ebfmi).toHaveLength(2);
    // energy chain 1: 2,3,1,2,3,1,2,3 → sum dE^2 = 1+4+1+1+4+1+1 = 13;
    // mean 17/8, sum (E - mean)^2 = 3(1/8)^2 + 3(7/8)^2 + 2(9/8)^2 = 4.875
    expect(doc.ebfmi[0]).toBeCloseTo(13 / 4.875, 12);
    expect(r.stdout).toMatch(/divergences: 1 \(per chain: 0 1\)/);
    expect(r.stdout).toMatch(/E-BFMI per chain/);
  });

  const bad: [string, string, RegExp][] = [
    ['unequal.csv', 'chain,draw,a\n1,1,0.5\n1,2,0.1\n2,1,0.3\n', /unequal numbers of draws \(chain 1: 2, chain 2: 1\)/],
    ['missing.csv', 'chain,draw,a,b\n1,1,0.5,1\n1,2,,2\n', /line 3, column 'a': missing cell/],
    ['short.csv', 'chain,draw,a,b\n1,1,0.5,1\n1,2,2\n', /line 3: expected 4 cells, found 3/],
    ['text.csv', 'chain,draw,a\n1,1,0.5\n1,2,abc\n', /line 3, column 'a': 'abc' is not a number/],
    ['na.csv', 'chain,draw,a\n1,1,NA\n', /'NA' is not a number/],
    ['nochain.csv', 'iter,a\n1,0.5\n', /no 'chain' column/],
    ['dup.csv', 'chain,draw,a\n1,1,0.5\n1,1,0.7\n', /chain 1 has draw 1 twice/],
    ['empty.csv', '', /empty/],
  ];
  for (const [name, text, message] of bad) {
    it(`exits 2 without writing JSON: ${name}`, () => {
      const path = csv(name, text);
      const out = join(dir, `${name}.json`);
      const r = run(path, '--json', out);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    });
  }

  it('exits 2 for a missing file, an unknown flag, a bad --superchains, or no file', () => {
    const out = join(dir, 'never.json');
    let r = run(join(dir, 'does-not-exist.csv'), '--json', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such file/);
    r = run('test/golden/draws_main.csv', '--bogus', '--json', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--bogus'/);
    r = run('test/golden/draws_main.csv', '--superchains', '3', '--json', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--superchains: 4 chains cannot form 3 equal superchains/);
    r = run('test/golden/draws_main.csv', '--superchains', 'two');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/positive integer/);
    r = run();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected a draws file/);
    expect(existsSync(out)).toBe(false);
    expect(run('--help').code).toBe(0);
  });

  it('reads CmdStan output as CmdStan writes it: one CSV per chain, Stan names, numbers equal R', () => {
    const g = JSON.parse(readFileSync(join(root, 'test/golden/posterior_goldens.json'), 'utf8')).cmdstan.cmdstan_warmup;
    const out = join(dir, 'cmdstan.json');
    const r = run(...g.files.map((f: string) => `test/golden/${f}`), '--json', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: R-hat/m); // this synthetic fit has not mixed: said on stderr, as every command says warnings
    expect(r.stdout).not.toMatch(/warning:/);
    expect(r.stdout).toMatch(/4 chains × 200 draws/);
    expect(r.stdout).toMatch(/^theta\[1\]\s/m);
    expect(r.stdout).not.toMatch(/theta\.1/);
    expect(r.stdout).toMatch(new RegExp(`divergences: ${g.divergences_per_chain.reduce((a: number, b: number) => a + b)} \\(per chain: ${g.divergences_per_chain.join(' ')}\\)`));
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(Object.keys(doc.params).sort()).toEqual(Object.keys(g.params).sort());
    for (const [name, p] of Object.entries(g.params as Record<string, Record<string, number>>)) {
      for (const k of ['mean', 'sd', 'q5', 'q50', 'q95', 'mcse_mean', 'mcse_sd', 'ess_bulk', 'ess_tail', 'rhat']) {
        expect(Math.abs(doc.params[name][k] - p[k]) / Math.abs(p[k]), `${name}.${k}`).toBeLessThan(1e-6);
      }
    }
    g.ebfmi.forEach((e: number, c: number) => expect(doc.ebfmi[c]).toBeCloseTo(e, 9));
  });

  it('reads InferenceData (.nc, .zarr) that xarray wrote, with the same numbers as the CmdStan files', () => {
    const g = JSON.parse(readFileSync(join(root, 'test/golden/posterior_goldens.json'), 'utf8')).cmdstan.cmdstan_warmup;
    for (const file of ['test/golden/cmdstan_warmup.nc', 'test/golden/cmdstan_warmup.zarr']) {
      const out = join(dir, 'idata.json');
      const r = run(file, '--json', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^theta\[8\]\s/m);
      const doc = JSON.parse(readFileSync(out, 'utf8'));
      expect(doc.params['theta[3]'].mean).toBeCloseTo(g.params['theta[3]'].mean, 9);
      expect(doc.params.tau.ess_bulk).toBeCloseTo(g.params.tau.ess_bulk, 6);
      expect(doc.divergencesPerChain).toEqual(g.divergences_per_chain);
      expect(doc.acceptRate).toBeCloseTo(g.accept_rate, 9);
    }
  });

  const cmdstanHead = ['# stan_version_major = 2', '#     num_warmup = 3', '#     save_warmup = 1', 'lp__,accept_stat__,mu'];
  const badSets: [string, [string, string][], RegExp][] = [
    ['a CmdStan file beside a chain/draw CSV', [['s1.csv', [...cmdstanHead, '-1,0.9,1', '-1,0.9,1', '-1,0.9,1', '-1,0.9,2'].join('\n')], ['plain.csv', 'chain,draw,a\n1,1,0.5\n']], /plain\.csv: is not a CmdStan CSV/],
    ['chains of unequal length', [['u1.csv', [...cmdstanHead, '# Adaptation terminated', '-1,0.9,2', '-1,0.9,3'].join('\n')], ['u2.csv', [...cmdstanHead, '# Adaptation terminated', '-1,0.9,2'].join('\n')]], /unequal numbers of draws after warmup/],
    ['different columns', [['c1.csv', [...cmdstanHead, '# Adaptation terminated', '-1,0.9,2'].join('\n')], ['c2.csv', ['lp__,accept_stat__,nu', '-1,0.9,2'].join('\n')]], /c2\.csv: columns differ/],
    ['save_warmup without num_warmup or marker', [['w1.csv', ['#     save_warmup = 1', 'lp__,mu', '-1,2'].join('\n')]], /no num_warmup/],
    ['only warmup rows', [['o1.csv', [...cmdstanHead, '-1,0.9,1', '-1,0.9,1'].join('\n')]], /fewer than the 3 warmup rows/],
    ['an InferenceData file beside another', [['x.csv', 'chain,draw,a\n1,1,0.5\n']], /give it alone/],
    ['a file that is not netCDF', [['fake.nc', 'not hdf5']], /fake\.nc: cannot read as netCDF-4\/HDF5 \(no HDF5 signature\)/],
    ['a netCDF-3 classic file', [['classic.nc', 'CDF\x01\x00\x00\x00\x00']], /classic\.nc: is a netCDF-3 \(classic\) file/],
  ];
  for (const [what, files, message] of badSets) {
    it(`exits 2 without writing JSON: ${what}`, () => {
      const paths = files.map(([n, t]) => csv(n, t));
      if (what.startsWith('an InferenceData')) paths.unshift('test/golden/cmdstan_warmup.nc');
      const out = join(dir, 'bad-set.json');
      const r = run(...paths, '--json', out);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    });
  }
});
