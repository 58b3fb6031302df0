/**
 * Worker of `readNetcdf` (netcdf_read.ts): reads netCDF-4 files with h5wasm off
 * the calling thread, so that a damaged file on which HDF5 loops forever can be stopped.
 * Posts `{ ready }` once h5wasm is loaded, then answers each `{ id, bytes, groups, source }`
 * with the groups read, or the InputError (field, reason and HDF5's own text) or other
 * error raised.
 * Started by netcdf_read.ts; never imported by library code.
 */
import { parentPort } from 'node:worker_threads';
import { InputError } from '../errors.ts';
import { readNetcdfBytes } from './netcdf_read.ts';

interface Job {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly groups: readonly string[];
  readonly source: string;
}

const port = parentPort!;
port.on('message', (job: Job) => {
  // HDF5's text about a damaged file goes back with the error (the caller shows it with --verbose).
  let hdf5: string | undefined;
  readNetcdfBytes(job.bytes, job.groups, job.source, (text) => (hdf5 = text)).then(
    (out) => {
      // Moved, not copied, where an array owns its whole buffer (never a view of h5wasm's memory).
      const buffers = [...out.values()]
        .flatMap((g) => g.vars.map((v) => v.values))
        .filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer)
        .map((a) => a.buffer as ArrayBuffer);
      port.postMessage({ id: job.id, out }, [...new Set(buffers)]);
    },
    (err: unknown) => {
      if (err instanceof InputError) port.postMessage({ id: job.id, inputError: { field: err.field, reason: err.message.slice(err.field.length + 2) }, hdf5 });
      else port.postMessage({ id: job.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    },
  );
});
const h5 = await import('h5wasm');
await h5.ready;
port.postMessage({ ready: true });
