/**
 * What `funnelweb sample` says on stderr, run as a user runs it (`funnelweb sample ...` from
 * the sources, in a fresh process):
 *
 * - a normal `--quiet` run on WebGPU, started without XDG_RUNTIME_DIR and without a chosen
 *   Vulkan driver (as in a container or CI shell), writes nothing on stderr but FunnelWeb's
 *   own `warning: ` lines: no `XDG_RUNTIME_DIR is invalid`, no Dawn or Vulkan loader lines;
 * - with no WebGPU adapter (the Vulkan drivers pointed at a file that does not exist),
 *   `--backend auto` runs on the CPU and says so in one line: why, and how to get WebGPU
 *   (`apt-get install -y chromium libvulkan1`); the summary JSON records the reason;
 * - `--backend webgpu` without an adapter exits 1 with the how-to, without a stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SWIFTSHADER_ICD } from '../src/gpu/device.ts';
import { testGpu } from './gpu_helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');
const WEAK = join(ROOT, 'demo', 'data', 'weak.json');
const gpu = await testGpu();
const dir = mkdtempSync(join(tmpdir(), 'funnelweb-stderr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function funnelweb(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, env, timeout: 240_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** The test's environment without a runtime directory and without FunnelWeb's own default driver choice. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.XDG_RUNTIME_DIR;
  delete env.FUNNELWEB_VERBOSE;
  if (env.VK_ICD_FILENAMES === DEFAULT_SWIFTSHADER_ICD && extra.VK_ICD_FILENAMES === undefined) delete env.VK_ICD_FILENAMES;
  return env;
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const SMALL = ['sample', '--data', WEAK, '--chains', '32', '--warmup', '20', '--draws', '20', '--quiet'];

describe.skipIf(!gpu)('a normal run', () => {
  it('prints nothing on stderr but its own warnings', async () => {
    const r = await funnelweb(SMALL, userEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(' on webgpu [');
    const foreign = lines(r.stderr).filter((l) => !l.startsWith('warning: '));
    expect(foreign).toEqual([]);
    expect(r.stderr).not.toContain('XDG_RUNTIME_DIR');
  });
});

describe('no WebGPU adapter', () => {
  const noAdapter = { VK_ICD_FILENAMES: join(dir, 'missing_icd.json'), FUNNELWEB_VK_ICD: join(dir, 'missing_icd.json') };

  it('--backend auto falls back to the CPU and says why and how to get WebGPU, in one line', async () => {
    const summary = join(dir, 'summary.json');
    const r = await funnelweb([...SMALL, '--summary', summary], userEnv(noAdapter));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(' on cpu [');
    const notices = lines(r.stderr).filter((l) => l.startsWith('warning: no WebGPU adapter'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(noAdapter.VK_ICD_FILENAMES);
    expect(notices[0]).toContain('CPU backend');
    expect(notices[0]).toContain('apt-get install -y chromium libvulkan1');
    const report = JSON.parse(readFileSync(summary, 'utf8'));
    expect(report.device.backend).toBe('cpu');
    expect(report.device.fallback_reason).toContain(noAdapter.VK_ICD_FILENAMES);
  });

  it('--backend webgpu exits 1 with how to get an adapter, without a stack trace', async () => {
    const r = await funnelweb([...SMALL, '--backend', 'webgpu'], userEnv(noAdapter));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('funnelweb: error: No WebGPU adapter found');
    expect(r.stderr).toContain('apt-get install -y chromium libvulkan1');
    // No JavaScript stack (Dawn's own warnings about the missing driver file may be there).
    expect(r.stderr).not.toMatch(/^\s+at .*\.[jt]s:\d+:\d+\)?$/m);
  });
});
