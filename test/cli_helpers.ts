/** What the CLI tests share: running `funnelweb` from the sources, and a stream that records what is written to it. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The CLI from the sources. */
export const BIN = join(ROOT, 'src', 'cli', 'bin.ts');

/** A finished command: its exit code (null when killed), stdout and stderr. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `funnelweb ARGS` from the sources in the repository root (killed after `timeout` ms). */
export function funnelweb(args: string[], timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, env: process.env, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** A writable stream (a terminal when `isTTY`) whose writes are collected in `chunks`. */
export function sink(isTTY: boolean): { stream: Writable & { isTTY: boolean }; chunks: string[] } {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    }),
    { isTTY },
  );
  return { stream, chunks };
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN): the real full-disk and read-only tests need one. */
export function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'funnelweb-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/**
 * A tmpfs of `options` (e.g. 'size=64k', 'ro,size=64k') mounted at `parent()/name` for the
 * tests of the enclosing describe block, unmounted after them; returns the mount point's getter.
 */
export function useTmpfs(parent: () => string, name: string, options: string): () => string {
  let at = '';
  beforeAll(() => {
    at = join(parent(), name);
    mkdirSync(at);
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
  });
  afterAll(() => {
    if (at) execFileSync('umount', [at]);
  });
  return () => at;
}
