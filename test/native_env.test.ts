/**
 * The native environment prepared before Dawn starts (src/gpu/native_env.ts):
 *
 * - without XDG_RUNTIME_DIR (or with a relative or missing one) the process gets a private
 *   runtime directory under the temporary directory: it exists, is owned by this user, and
 *   has mode 0700; a valid one is kept as it is;
 * - the Vulkan loader check says "missing" only when neither the linker cache nor the
 *   library directories have libvulkan.so.1, and "not missing" when it cannot tell;
 * - the lavapipe filter is applied only during the probe, and not when the user chose
 *   drivers or asked for native warnings.
 */
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAVAPIPE_FILTER, VULKAN_LOADER, ensureRuntimeDir, vulkanLoaderMissing, withLavapipeHidden } from '../src/gpu/native_env.ts';

const linux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'funnelweb-native-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved: Record<string, string | undefined> = {};
const VARS = ['XDG_RUNTIME_DIR', 'VK_ICD_FILENAMES', 'VK_LOADER_DRIVERS_DISABLE', 'FUNNELWEB_VERBOSE', 'LD_LIBRARY_PATH'];
beforeEach(() => {
  for (const v of VARS) saved[v] = process.env[v];
});
afterEach(() => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

describe.skipIf(!linux)('runtime directory', () => {
  it.each([['unset', undefined], ['relative', 'run/user'], ['missing', '/nonexistent/funnelweb-runtime']])('%s XDG_RUNTIME_DIR: a private one is made', (_, value) => {
    if (value === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = value;
    const made = ensureRuntimeDir()!;
    expect(process.env.XDG_RUNTIME_DIR).toBe(made);
    expect(made.startsWith(tmpdir())).toBe(true);
    const st = lstatSync(made);
    expect(st.isDirectory()).toBe(true);
    expect(st.uid).toBe(process.getuid!());
    expect(st.mode & 0o777).toBe(0o700);
  });

  it('keeps a valid XDG_RUNTIME_DIR', () => {
    const mine = join(dir, 'runtime');
    mkdirSync(mine, { mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = mine;
    expect(ensureRuntimeDir()).toBe(mine);
    expect(process.env.XDG_RUNTIME_DIR).toBe(mine);
  });
});

describe.skipIf(!linux)('Vulkan loader check', () => {
  const noLib = join(dir, 'nolib');
  const withLib = join(dir, 'withlib');
  mkdirSync(noLib, { recursive: true });
  mkdirSync(withLib, { recursive: true });
  writeFileSync(join(withLib, VULKAN_LOADER), '');
  const cacheWithout = join(dir, 'ld.so.cache.without');
  const cacheWith = join(dir, 'ld.so.cache.with');
  writeFileSync(cacheWithout, 'glibc-ld.so.cache1.1 libc.so.6 /lib/x86_64-linux-gnu/libc.so.6');
  writeFileSync(cacheWith, `glibc-ld.so.cache1.1 ${VULKAN_LOADER} /usr/lib/x86_64-linux-gnu/${VULKAN_LOADER}`);

  it('is missing only when neither the cache nor a library directory has it', () => {
    delete process.env.LD_LIBRARY_PATH;
    expect(vulkanLoaderMissing(cacheWithout, [noLib])).toBe(true);
    expect(vulkanLoaderMissing(cacheWith, [noLib])).toBe(false);
    expect(vulkanLoaderMissing(cacheWithout, [noLib, withLib])).toBe(false);
    process.env.LD_LIBRARY_PATH = withLib;
    expect(vulkanLoaderMissing(cacheWithout, [noLib])).toBe(false);
  });

  it('is not missing when there is no linker cache to tell', () => {
    expect(vulkanLoaderMissing(join(dir, 'no-such-cache'), [noLib])).toBe(false);
  });
});

describe.skipIf(!linux)('lavapipe filter', () => {
  const probe = async () => process.env.VK_LOADER_DRIVERS_DISABLE;

  it('hides lavapipe during the probe only', async () => {
    delete process.env.VK_ICD_FILENAMES;
    delete process.env.VK_LOADER_DRIVERS_DISABLE;
    delete process.env.FUNNELWEB_VERBOSE;
    expect(await withLavapipeHidden(probe)).toEqual({ value: LAVAPIPE_FILTER, hidden: true });
    expect(process.env.VK_LOADER_DRIVERS_DISABLE).toBeUndefined();
  });

  it("leaves the user's driver choice and --verbose alone", async () => {
    process.env.VK_ICD_FILENAMES = '/some/icd.json';
    expect(await withLavapipeHidden(probe)).toEqual({ value: undefined, hidden: false });
    delete process.env.VK_ICD_FILENAMES;
    process.env.FUNNELWEB_VERBOSE = '1';
    expect(await withLavapipeHidden(probe)).toEqual({ value: undefined, hidden: false });
  });
});
