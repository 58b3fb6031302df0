/**
 * The user's Vulkan driver choice (VK_ICD_FILENAMES / VK_DRIVER_FILES) is respected: never
 * silently replaced by SwiftShader, and a broken one is said in one line without the Vulkan
 * loader's or Dawn's native output (which only --verbose lets through).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { icdManifestProblem } from '../src/gpu/native_env.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fw-icd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const badJson = join(dir, 'bad.json');
writeFileSync(badJson, '{ not json');
const noLib = join(dir, 'nolib.json');
writeFileSync(noLib, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: '/nonexistent/libvulkan_fake.so', api_version: '1.3.0' } }));
const relLib = join(dir, 'rel.json');
writeFileSync(relLib, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: './libfake.so', api_version: '1.3.0' } }));

function run(env: Record<string, string>, backend: string) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('VK_ICD_FILENAMES' in env)) delete e.VK_ICD_FILENAMES;
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'bin.ts'), 'sample', '--data', join(ROOT, 'demo', 'data', 'weak.json'), '--chains', '16', '--warmup', '10', '--draws', '10', '--quiet', '--backend', backend], {
    cwd: ROOT,
    env: e,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('icdManifestProblem', () => {
  it('names what is wrong, and nothing for a good manifest or a bare library name', () => {
    expect(icdManifestProblem(badJson)).toMatch(/not JSON/);
    expect(icdManifestProblem(noLib)).toMatch(/'\/nonexistent\/libvulkan_fake.so' .* does not exist/);
    expect(icdManifestProblem(relLib)).toMatch(/libfake.so' .* does not exist/);
    expect(icdManifestProblem(join(dir, 'absent.json'))).toMatch(/cannot be read \(ENOENT\)/);
    const bare = join(dir, 'bare.json');
    writeFileSync(bare, JSON.stringify({ ICD: { library_path: 'libvulkan_whatever.so' } }));
    expect(icdManifestProblem(bare)).toBeUndefined();
    expect(icdManifestProblem(dir)).toBeUndefined();
  });
});

describe('a broken VK_ICD_FILENAMES / VK_DRIVER_FILES', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['a manifest that does not exist', { VK_ICD_FILENAMES: join(dir, 'absent.json') }, /VK_ICD_FILENAMES names '.*absent.json', which does not exist/],
    ['a manifest that is not JSON', { VK_ICD_FILENAMES: badJson }, /VK_ICD_FILENAMES: '.*bad.json' is not a Vulkan ICD manifest/],
    ['a manifest whose library is missing', { VK_DRIVER_FILES: noLib }, /VK_DRIVER_FILES: the driver library '\/nonexistent\/libvulkan_fake.so'/],
  ];
  for (const [name, env, message] of cases) {
    it(`${name}: --backend webgpu exits 1 naming it, --backend auto says it and runs on the CPU; no native output`, () => {
      const gpu = run(env, 'webgpu');
      expect(gpu.status, gpu.stderr).toBe(1);
      expect(gpu.stderr).toMatch(message);
      expect(gpu.stderr).not.toMatch(/^Warning:|loader_icd_scan|vkCreateInstance|\.cpp:\d+/m);
      const auto = run(env, 'auto');
      expect(auto.status, auto.stderr).toBe(0);
      // (the tiny run's own R-hat and ESS warnings follow)
      const lines = auto.stderr.trim().split('\n');
      expect(lines.filter((l) => /adapter|VK_/.test(l)), auto.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^warning: no WebGPU adapter: /);
      expect(auto.stderr).not.toMatch(/^Warning:|loader_icd_scan|vkCreateInstance|\.cpp:\d+/m);
      expect(lines[0]).toMatch(message);
      expect(auto.stdout).toMatch(/on cpu \[/);
    });
  }
});
