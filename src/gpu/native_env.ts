/**
 * The process environment that Dawn's native code reads in Node, prepared before Dawn starts
 * so that a normal run prints nothing on stderr but FunnelWeb's own lines. Node only (Linux
 * does the work; elsewhere these are no-ops).
 *
 * - `XDG_RUNTIME_DIR`: SwiftShader's Vulkan driver probes for a Wayland display when its
 *   instance is created, and libwayland-client prints `error: XDG_RUNTIME_DIR is invalid or
 *   not set in the environment.` (once per probe) when the variable is unset, as it is in
 *   containers, CI and `sudo`/`su` shells. The fix is the one the XDG Base Directory
 *   specification describes: a private (mode 0700), user-owned runtime directory.
 * - Probing drivers that have no device is noisy: on a machine without a GPU, Mesa's
 *   hardware drivers make the Vulkan loader print `Failed to detect any valid GPUs`, and
 *   Debian 12's Mesa 22.3 lavapipe lacks a Vulkan feature that Dawn requires, so Dawn prints
 *   a multi-line warning with a source path each time it rejects it. So where there is no
 *   GPU device node ({@link hasGpuDevice}) SwiftShader is asked first, and where there is,
 *   the first probe hides lavapipe from the Vulkan loader (`VK_LOADER_DRIVERS_DISABLE`,
 *   loader >= 1.3.234); a last probe lets it through, in case a newer lavapipe is the only
 *   driver there is.
 * - `FUNNELWEB_VERBOSE=1` (the CLI's `--verbose`) leaves the Vulkan loader's drivers as
 *   they are, so native warnings come through.
 *
 * Dawn's own warnings (e.g. `vkCreateInstance: Found no drivers!` on a machine with the
 * Vulkan loader but no driver) go straight to stderr: the `webgpu` package offers no log
 * level, so they cannot be silenced from JavaScript. `requestGpu` avoids the commonest one
 * (`Couldn't load Vulkan: libvulkan.so.1`) by checking for the loader before asking Dawn.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/** Set to `1` to let native (Dawn, Vulkan loader) warnings through. */
export const VERBOSE_ENV = 'FUNNELWEB_VERBOSE';

/** Whether native warnings are wanted (`FUNNELWEB_VERBOSE=1`). */
export function nativeVerbose(): boolean {
  return process.env[VERBOSE_ENV] === '1';
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Makes `XDG_RUNTIME_DIR` name an existing absolute directory: keeps a valid one, else
 * creates `<tmpdir>/funnelweb-runtime-<uid>` (mode 0700; reused only when this user owns
 * it and nobody else can enter it, else a fresh `mkdtemp` directory) and sets it for this
 * process (and so for Dawn, which reads the C environment). Returns the directory, or
 * undefined where there is nothing to do (not Linux) or it cannot be created.
 */
export function ensureRuntimeDir(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const current = process.env.XDG_RUNTIME_DIR;
  if (current && isAbsolute(current) && isDirectory(current)) return current;
  const uid = process.getuid?.() ?? -1;
  let dir = join(tmpdir(), `funnelweb-runtime-${uid}`);
  try {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) dir = mkdtempSync(join(tmpdir(), 'funnelweb-runtime-'));
  } catch {
    return undefined;
  }
  process.env.XDG_RUNTIME_DIR = dir;
  return dir;
}

/** The Vulkan loader's soname, which Dawn loads with dlopen. */
export const VULKAN_LOADER = 'libvulkan.so.1';

/** Library directories searched besides the dynamic linker's cache (Debian multiarch, Fedora, others). */
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib', '/usr/local/lib'];

/**
 * True when the Vulkan loader is certainly not installed (Linux with glibc): not in the
 * dynamic linker's cache, not in `LD_LIBRARY_PATH` or the usual library directories. False
 * when it is there or when that cannot be told (no linker cache), so Dawn is asked anyway.
 * The paths are parameters for tests.
 */
export function vulkanLoaderMissing(linkerCache = '/etc/ld.so.cache', libraryDirs: readonly string[] = LIBRARY_DIRS): boolean {
  if (process.platform !== 'linux') return false;
  let cache: Buffer;
  try {
    cache = readFileSync(linkerCache);
  } catch {
    return false;
  }
  if (cache.includes(VULKAN_LOADER)) return false;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...libraryDirs];
  return !dirs.some((d) => existsSync(join(d, VULKAN_LOADER)));
}

/** Device nodes of GPU drivers: DRM (Mesa, nvidia-drm), NVIDIA's own, AMD's KFD, WSL2's DirectX. */
const GPU_DEVICE_NODES = ['/dev/dri', '/dev/nvidiactl', '/dev/kfd', '/dev/dxg'];

/** Whether a GPU driver's device node exists (Linux; elsewhere, assumed true). */
export function hasGpuDevice(): boolean {
  if (process.platform !== 'linux') return true;
  return GPU_DEVICE_NODES.some((n) => existsSync(n));
}

/** Vulkan loader filter (manifest file names) for Mesa's lavapipe. */
export const LAVAPIPE_FILTER = '*lvp_icd*';

/** Environment variables by which a user picks Vulkan drivers; when any is set, FunnelWeb hides none. */
const DRIVER_CHOICE_ENV = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT', 'VK_LOADER_DRIVERS_DISABLE'];

/**
 * The driver manifests that replace the system's drivers, as the user named them
 * (`VK_DRIVER_FILES`, which the loader prefers, else the older `VK_ICD_FILENAMES`;
 * colon-separated), or undefined when neither is set.
 */
export function userDriverList(): { variable: string; files: string[] } | undefined {
  for (const variable of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES']) {
    const v = process.env[variable];
    if (v !== undefined && v !== '') return { variable, files: v.split(':').filter(Boolean) };
  }
  return undefined;
}

/**
 * What is wrong with a Vulkan ICD manifest, found before the loader reads it (the loader
 * and Dawn say it on stderr, which a normal run keeps quiet): not JSON, no
 * `ICD.library_path`, or a library path (with a '/': absolute, or relative to the manifest)
 * that does not exist. Undefined when nothing is seen wrong (a directory, or a bare library
 * name the dynamic linker searches for).
 */
export function icdManifestProblem(file: string): string | undefined {
  let text: string;
  try {
    if (lstatSync(file).isDirectory()) return undefined;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `'${file}' cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  let lib: unknown;
  try {
    lib = (JSON.parse(text) as { ICD?: { library_path?: unknown } }).ICD?.library_path;
  } catch {
    return `'${file}' is not a Vulkan ICD manifest (not JSON)`;
  }
  if (typeof lib !== 'string' || lib === '') return `'${file}' is not a Vulkan ICD manifest (no ICD.library_path)`;
  if (!lib.includes('/')) return undefined;
  const path = isAbsolute(lib) ? lib : join(dirname(file), lib);
  return existsSync(path) ? undefined : `the driver library '${path}' that '${file}' names does not exist`;
}

/** Whether the user chose Vulkan drivers through the loader's environment. */
export function userChoseDrivers(): boolean {
  return DRIVER_CHOICE_ENV.some((v) => process.env[v] !== undefined && process.env[v] !== '');
}

/**
 * Runs `probe` with lavapipe hidden from the Vulkan loader (unless verbose or the user
 * chose drivers), restoring the environment afterwards. Returns the probe's result and
 * whether anything was hidden.
 */
export async function withLavapipeHidden<T>(probe: () => Promise<T>): Promise<{ value: T; hidden: boolean }> {
  if (process.platform !== 'linux' || nativeVerbose() || userChoseDrivers()) return { value: await probe(), hidden: false };
  process.env.VK_LOADER_DRIVERS_DISABLE = LAVAPIPE_FILTER;
  try {
    return { value: await probe(), hidden: true };
  } finally {
    delete process.env.VK_LOADER_DRIVERS_DISABLE;
  }
}
