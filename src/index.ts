/**
 * FunnelWeb's public API (re-exports only).
 */
// The WebGPU types (GPUDevice, ...) used by the declarations, for TypeScript users of the package.
/// <reference types="@webgpu/types" preserve="true" />
export type { HierData } from './model/data.ts';
export { groupStats, type GroupStats } from './model/suffstats.ts';
export { DEFAULT_PRIORS, parseMuPrior, parseTauPrior, parseScalePrior, formatScalePrior, type Priors, type MuPrior, type TauPrior, type ScalePrior } from './model/priors.ts';
export { InputError, OutputError, RunError, EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_SIGNAL } from './errors.ts';
export { parseParameterization, describeParameterization, type Centeredness } from './model/parameterization.ts';
export { makeModel, logDensity, logDensityGrad, constrain, unconstrain, unconstrainedNames, withCenteredness, reparameterizePositions, reparameterizationLogJacobian, type HierModel } from './model/model.ts';
export { centerednessFor, dersimonianLairdTau2, isCenterednessRule, parameterizationAdvice, type CenterednessRule } from './adaptation/centeredness.ts';
export type { CenterednessReport } from './sampler/auto_centeredness.ts';
export { exactPosterior, type ExactPosterior } from './model/posterior.ts';
export { loadData, parseCsv, parseSeedJson, resolveFamily, dataWarnings, columnTargets, parsePredictorTerms, type LoadOptions, type PredictorTerm } from './io/data.ts';
export { toInferenceData, FUNNELWEB_VERSION, MAX_PREDICTIVE_VALUES, type InferenceData, type InferenceDataOptions, type IdGroup, type IdVariable } from './io/inference_data.ts';
export { toNetcdf } from './io/netcdf.ts';
export { toZarr, type ZarrFiles } from './io/zarr.ts';
export { writeInferenceData, inferenceDataFormat } from './io/inference_data_file.ts';
export { readInferenceDataDraws } from './io/inference_data_read.ts';
export { parseCmdStanCsv, cmdstanDrawsTable, readCmdStanCsv, stanName, type CmdStanChain } from './io/cmdstan.ts';
export { parseDrawsCsv, type DrawsTable } from './io/draws_csv.ts';
export { constrainDraws, constrainedNames } from './sampler/constrain.ts';
export { sample, type SampleOptions, type SampleResult, type Progress, type BackendKind } from './sampler/sample.ts';
export { reportRun, type RunReport } from './sampler/report.ts';
export type { Backend, EnsembleStats, RecordedDraws, TransitionParams } from './sampler/backend.ts';
export { createCpuBackend } from './sampler/cpu_backend.ts';
export { createWebGpuBackend } from './sampler/gpu_backend.ts';
export { requestGpu, GpuUnavailableError, type Gpu, type AdapterDescription } from './gpu/device.ts';
export { gpuLogDensityGrad } from './gpu/logdensity.ts';
export * from './diagnostics/index.ts';
export { compareRow, rankRows, formatComparison, divergenceLogTauMedian, exactFor, CLEAN_MAX_DIVERGENCE_RATE, MAX_EXACT_DEVIATION, type CompareRow, type Comparison, type RankBy } from './compare/compare.ts';
