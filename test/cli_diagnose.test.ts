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
    expect(r.stderr).toBe('');
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
    expect(r.stderr).toMatch(/expected one DRAWS.csv/);
    expect(existsSync(out)).toBe(false);
    expect(run('--help').code).toBe(0);
  });
});
