/**
 * How to start one of the library's worker threads (Node only: worker_threads), from the
 * built package or from the TypeScript sources. The built package's workers are plain
 * JavaScript beside the module that starts them; from the sources (tests, benchmarks,
 * `npx tsx`) a `.ts` worker is loaded through tsx's loader, a development dependency.
 *
 * Import this module only from Node code; `index.ts` does not re-export it.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** Worker options for `new Worker(launch.script, { eval: launch.eval, workerData: { ...launch.data, ... } })`. */
export interface WorkerLaunch {
  readonly script: string | URL;
  readonly eval: boolean;
  /** What the worker's `workerData` must carry besides its job (the tsx bootstrap reads it). */
  readonly data: { readonly entry?: string; readonly tsxApi?: string };
}

/**
 * Loads a TypeScript worker through tsx's loader; a failure to load is posted back as
 * `{ failed }`, the message every worker of the library understands as "did not start".
 */
const TSX_BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((m) => { m.register(); return import(workerData.entry); })
  .catch((err) => parentPort.postMessage({ failed: String(err && err.stack || err) }));
`;

/** File URL of tsx's ESM API (`tsx/esm/api`, the import condition's .mjs), or null. */
function tsxApiUrl(): string | null {
  try {
    const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
    return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
  } catch {
    return null;
  }
}

/**
 * How to start the worker module `name` (no extension) that sits beside the module whose
 * `import.meta.url` is `from`: the compiled `name.js` directly when `from` is JavaScript;
 * `name.ts` through tsx when `from` is TypeScript, or null when tsx is not installed.
 */
export function workerLaunch(from: string, name: string): WorkerLaunch | null {
  if (!from.endsWith('.ts')) return { script: new URL(`./${name}.js`, from), eval: false, data: {} };
  const tsxApi = tsxApiUrl();
  if (tsxApi === null) return null;
  return { script: TSX_BOOTSTRAP, eval: true, data: { entry: new URL(`./${name}.ts`, from).href, tsxApi } };
}
