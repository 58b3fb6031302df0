/**
 * The library features the page uses through one door each:
 *
 * - `writeInferenceDataNc`: the InferenceData netCDF-4 writer of `funnelweb sample --out
 *   run.nc` (`toInferenceData` + `toNetcdf`, src/io/), returning the file's bytes.
 * - `compareRow` / `rankRuns`: the comparison of `funnelweb compare` (src/compare/compare.ts):
 *   a row per run, the winner and a verdict per row.
 *
 * Used in the sampling worker (sampler_worker.ts) and the page (main.ts).
 */
import type { HierData } from '../src/model/data.ts';
import { toInferenceData } from '../src/io/inference_data.ts';
import { toNetcdf } from '../src/io/netcdf.ts';
import type { SampleResult } from '../src/sampler/sample.ts';
export { compareRow, divergenceLogTauMedian, rankRows as rankRuns, type CompareRow, type Comparison } from '../src/compare/compare.ts';

/** Writes a run as InferenceData (netCDF-4/HDF5, the CLI's `--out run.nc`): the file's bytes. */
export function writeInferenceDataNc(result: SampleResult, data: HierData, seed: number): Promise<Uint8Array> {
  return toNetcdf(toInferenceData(result, data, { seed }));
}

export const NC_EXPORT_AVAILABLE = true;
