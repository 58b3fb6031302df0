/**
 * `funnelweb compare` end to end (`node src/cli/bin.js compare ...`), small runs:
 * - three parameterizations on the unbalanced data: exit 0, one table row each with the
 *   winner marked, `--json` rows with every column and a verdict per row (the winner's
 *   verdict and the marked row agree; each loser says "lost: ..."), `--out` holds each run's
 *   summary JSON and draws CSV;
 * - the default set (centered, noncentered, auto) runs without --param;
 * - bad input (unknown parameterization, a repeated one, a bad flag) exits 2 and writes nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_COMPARE_PARAMS } from '../src/cli/compare.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');
const UNBALANCED = join(ROOT, 'demo', 'data', 'unbalanced.json');
const SMALL = ['--chains', '64', '--warmup', '200', '--draws', '200'];

function funnelweb(args: string[], timeout = 200_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, env: process.env, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

describe('funnelweb compare', () => {
  const dir = mkdtempSync(join(tmpdir(), 'funnelweb-compare-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs each parameterization, prints one table with the winner marked, writes --json and --out', async () => {
    const json = join(dir, 'cmp.json');
    const out = join(dir, 'runs');
    const r = await funnelweb(['compare', '--data', UNBALANCED, '--param', 'centered', '--param', 'noncentered', '--param', 'mixed:2,6', ...SMALL, '--json', json, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => /minESS\/s/.test(l));
    expect(head).toBeGreaterThan(0);
    const rows = lines.slice(head + 1, head + 4);
    expect(rows.map((l) => l.slice(2).trim().split(/\s+/)[0])).toEqual(['centered', 'noncentered', 'mixed:2,6']);
    // The progress bar covers the whole comparison: the last line reaches 100% on run 3/3.
    expect(r.stderr).toMatch(/100%\s+3\/3 mixed:2,6 sampling 200\/200/);

    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(doc.rows).toHaveLength(3);
    for (const row of doc.rows) {
      for (const k of ['ess_bulk_min_per_s', 'ess_bulk_tau_per_s', 'ess_tail_min_per_s', 'divergences', 'divergence_rate', 'ebfmi_min', 'ebfmi_median', 'step_size', 'trajectory_length', 'mean_leapfrog_steps', 'gradient_evals_per_s', 'wall_s', 'rhat_max', 'exact_deviation_max']) {
        expect(typeof row[k], `${row.name}.${k}`).toBe('number');
      }
      expect(row.ess_bulk_tau_per_s).toBeGreaterThanOrEqual(row.ess_bulk_min_per_s * (1 - 1e-12));
      expect(row.verdict).toMatch(row.winner ? /^winner/ : /^lost: /);
    }
    const winners = doc.rows.filter((x: { winner: boolean }) => x.winner);
    expect(winners.length).toBeLessThanOrEqual(1);
    if (winners.length === 1) {
      expect(doc.winner).toBe(winners[0].name);
      expect(winners[0].clean).toBe(true);
      expect(r.stdout).toMatch(new RegExp(`^\\* ${winners[0].name.replace(/[:,]/g, '.')}\\s`, 'm'));
      for (const x of doc.rows) if (x.clean) expect(x.ess_bulk_min_per_s).toBeLessThanOrEqual(winners[0].ess_bulk_min_per_s);
    }
    expect(readdirSync(out).sort()).toEqual(['centered.draws.csv', 'centered.summary.json', 'mixed_2_6.draws.csv', 'mixed_2_6.summary.json', 'noncentered.draws.csv', 'noncentered.summary.json']);
    const s = JSON.parse(readFileSync(join(out, 'mixed_2_6.summary.json'), 'utf8'));
    expect(s.data.parameterization).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0]);
    expect(readFileSync(join(out, 'mixed_2_6.draws.csv'), 'utf8').split('\n').length).toBe(64 * 200 + 2);
  });

  it('runs the default set without --param', async () => {
    expect(DEFAULT_COMPARE_PARAMS).toEqual(['centered', 'noncentered', 'auto']);
    const r = await funnelweb(['compare', '--data', UNBALANCED, '--chains', '32', '--warmup', '100', '--draws', '100', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[* ] centered\s/m);
    expect(r.stdout).toMatch(/^[* ] noncentered\s/m);
    expect(r.stdout).toMatch(/^[* ] auto\s/m);
    expect(r.stderr).not.toMatch(/skipping 'auto'/);
  });

  it.each([
    [['--param', 'sideways'], /--param/],
    [['--param', 'centered', '--param', 'centered'], /given twice/],
    [['--param', 'centered', '--rank-by', 'speed'], /--rank-by/],
    [['--param', 'centered', '--chains', '0'], /--chains/],
  ])('rejects %j with exit 2 and writes nothing', async (args, msg) => {
    const json = join(dir, 'bad.json');
    const out = join(dir, 'bad-out');
    const r = await funnelweb(['compare', '--data', UNBALANCED, ...args, '--json', json, '--out', out, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(existsSync(json)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});
