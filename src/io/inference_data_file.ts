/**
 * Node side of InferenceData output: picks the format from the extension (`.nc` →
 * netCDF-4/HDF5, `.zarr` → Zarr v2 directory) and writes atomically. The formats
 * themselves are built in memory by `netcdf.ts` and `zarr.ts`.
 */
import type { InferenceData } from './inference_data.ts';
import { toNetcdf } from './netcdf.ts';
import { toZarr } from './zarr.ts';
import { writeDirAtomic, writeFileAtomic } from './write.ts';

export type InferenceDataFormat = 'netcdf' | 'zarr';

/** The format named by a path's extension, or undefined (`.nc`, `.zarr`, with an optional trailing '/'). */
export function inferenceDataFormat(path: string): InferenceDataFormat | undefined {
  const p = path.replace(/\/+$/, '');
  if (/\.nc$/.test(p)) return 'netcdf';
  if (/\.zarr$/.test(p)) return 'zarr';
  return undefined;
}

/** Writes `idata` to `path` (`.nc` file or `.zarr` directory); nothing half-written on error. */
export async function writeInferenceData(path: string, idata: InferenceData): Promise<void> {
  const format = inferenceDataFormat(path);
  const target = path.replace(/\/+$/, '');
  if (format === 'netcdf') await writeFileAtomic(target, await toNetcdf(idata));
  else if (format === 'zarr') await writeDirAtomic(target, toZarr(idata));
  else throw new Error(`'${path}' is neither .nc nor .zarr`);
}
