/**
 * CLI conventions: `--version`, `funnelweb help [COMMAND]` (the same text as `COMMAND
 * --help`), the exit codes in every help text, usage errors as one line with exit 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { reportError } from '../src/cli/main.ts';
import { clip, EXIT_BAD_INPUT, EXIT_RUN_FAILED, InputError, listCapped, OutputError, RunError } from '../src/errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI conventions', () => {
  it('--version and -V print the package version', () => {
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`funnelweb ${VERSION}\n`);
    }
  });

  it('help COMMAND is COMMAND --help, and every help text lists the exit codes', () => {
    for (const cmd of ['sample', 'compare', 'reproduce', 'diagnose']) {
      const a = run('help', cmd);
      const b = run(cmd, '--help');
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toBe(b.stdout);
      expect(a.stdout).toMatch(/^Exit codes:$/m);
      for (const code of ['0', '1', '2', '130']) expect(a.stdout).toMatch(new RegExp(`^  ${code}\\b`, 'm'));
    }
    const top = run('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/funnelweb help \[COMMAND\]/);
    expect(top.stdout).toMatch(/^Exit codes:$/m);
    expect(run('help').stdout).toBe(top.stdout);
  });

  it('usage errors: one line on stderr, exit 2; no arguments: the usage on stderr, exit 2', () => {
    for (const args of [['nope'], ['help', 'nope'], ['sample', '--no-such-flag']]) {
      const r = run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^funnelweb: error: /);
      expect(r.stdout).toBe('');
    }
    const none = run();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^Exit codes:$/m);
  });

  it('each error class has its exit code; an unexpected error is one line, its stack only with --verbose', () => {
    const said: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((text: string) => (said.push(text), true)) as typeof process.stderr.write;
    try {
      expect(reportError(new InputError('--data', 'is required'))).toBe(EXIT_BAD_INPUT);
      expect(reportError(new OutputError('/x/s.json', 'no space left on the device: ENOSPC'))).toBe(EXIT_RUN_FAILED);
      expect(reportError(new RunError('the GPU device was lost'))).toBe(EXIT_RUN_FAILED);
      expect(reportError(new Error('boom\nsecond line'))).toBe(EXIT_RUN_FAILED);
      const quiet = said.length;
      expect(reportError(new Error('boom'), true)).toBe(EXIT_RUN_FAILED);
      expect(said.slice(0, quiet).join('')).not.toMatch(/\n\s+at /);
      expect(said.slice(0, quiet).every((l) => l.split('\n').length === 2)).toBe(true);
      expect(said.slice(quiet).join('')).toMatch(/\n\s+at /);
    } finally {
      process.stderr.write = write;
    }
    expect(said[0]).toBe('funnelweb: error: --data: is required\n');
    expect(said[1]).toBe('funnelweb: error: cannot write /x/s.json: no space left on the device: ENOSPC\n');
    expect(said[3]).toMatch(/^funnelweb: error: boom\\nsecond line \(an internal error/);
  });

  it('a reader that goes away (| head -1): the run goes on and writes its files, no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-epipe-'));
    try {
      const summary = join(dir, 's.json');
      const args = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'sample', '--data', join(ROOT, 'demo', 'data', 'weak.json'), '--backend', 'cpu', '--chains', '32', '--warmup', '50', '--draws', '50', '--quiet', '--summary', summary];
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // The reader is gone before the table is printed (as `head -1` is after the first line).
      child.stdout.destroy();
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(code, stderr).toBe(0);
      expect(existsSync(summary)).toBe(true);
      expect(JSON.parse(readFileSync(summary, 'utf8')).sampler.chains).toBe(32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('clip: what is echoed from the user is one short printable line', () => {
    expect(clip('plain')).toBe('plain');
    expect(clip('a\nb\r\tc\x1b[31m\x7f\x85')).toBe('a\\nb\\r\\tc\\x1b[31m\\x7f\\x85');
    // Bidirectional controls would let a terminal show "exe.pdf" for "fdp.exe".
    expect(clip('name\u202efdp.exe\u2066\u200f')).toBe('name\\u202efdp.exe\\u2066\\u200f');
    expect(clip('\ufffd\u2028')).toBe('\\ufffd\\u2028');
    const long = 'x'.repeat(10_000_000);
    expect(clip(long)).toBe(`${'x'.repeat(80)}… (10,000,000 characters)`);
    expect(clip('é漢字🙂')).toBe('é漢字🙂');
    expect(listCapped(Array.from({ length: 5000 }, (_, i) => `g${i}`))).toBe('g0, g1, g2, g3, g4, g5, g6, g7, g8, g9 … and 4,990 more');
  });
});
