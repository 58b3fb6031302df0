/**
 * The page's two plug points for library features that may not be in this build:
 *
 * - `writeInferenceDataNc`: the InferenceData netCDF-4 writer of `funnelweb sample --out
 *   run.nc` (a pure function of the run, returning the file's bytes). Until the library
 *   has it, it is `null` and the page's ".nc" export button says so.
 * - `rankRuns`: the comparison's rows, winner and reasons. The page's own ranking
 *   (`compare_rank.ts`) stands in for the library's comparison module.
 *
 * Both are used in the sampling worker only (sampler_worker.ts); the page reads
 * `NC_EXPORT_AVAILABLE` to label its button.
 */
import type { Summary } from '../src/diagnostics/index.ts';
import type { SampleResult } from '../src/sampler/sample.ts';
export { compareRow, rankRows as rankRuns, type CompareRow, type Ranking } from './compare_rank.ts';

/** Writes a run as InferenceData (netCDF-4/HDF5); `null` while the library has no writer. */
export const writeInferenceDataNc: ((result: SampleResult, summary: Summary) => Uint8Array | Promise<Uint8Array>) | null = null;

export const NC_EXPORT_AVAILABLE = writeInferenceDataNc !== null;
