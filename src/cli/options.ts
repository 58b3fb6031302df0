import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { parseMuPrior, parseTauPrior, DEFAULT_PRIORS, type Priors } from '../model/priors.ts';
import { DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_WARMUP, DEFAULT_WARMUP_MAX, type BackendKind } from '../sampler/sample.ts';

/**
 * The sampler options that `sample`, `compare` and `reproduce` share, as `node:util`
 * `parseArgs` option specs (each command adds its own).
 */
export const SAMPLER_ARG_SPECS = {
  sigma: { type: 'string' },
  'mu-prior': { type: 'string' },
  'tau-prior': { type: 'string' },
  chains: { type: 'string' },
  warmup: { type: 'string' },
  draws: { type: 'string' },
  seed: { type: 'string' },
  'target-accept': { type: 'string' },
  backend: { type: 'string' },
  metric: { type: 'string' },
  superchains: { type: 'string' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

/** Help lines of the shared options (defaults may differ per command). */
export function samplerOptionsHelp(defaults: { chains: number; warmup: number | 'auto'; draws: number } = { chains: DEFAULT_CHAINS, warmup: DEFAULT_WARMUP, draws: DEFAULT_DRAWS }): string {
  return `  --sigma S              measurement sd when the data has none
  --mu-prior normal:LOC,SCALE          (default normal:0,5)
  --tau-prior halfnormal:S|halfcauchy:S (default halfnormal:5)
  --chains N             (default ${defaults.chains})
  --warmup N|auto[:MAX]  warmup iterations, or auto: stop when the step size and trajectory length have
                         settled and the chains have mixed (checked every 50 iterations), at most MAX
                         (default ${defaults.warmup}${defaults.warmup === 'auto' ? `, MAX ${DEFAULT_WARMUP_MAX}` : ''})
  --draws N              (default ${defaults.draws})
  --seed N               (default 1)
  --target-accept A      dual-averaging target of the harmonic-mean acceptance (default 0.651)
  --backend B            auto | webgpu | cpu (default auto: WebGPU, else CPU)
  --metric M             unit | diag (diagonal metric from cross-chain variances; default unit)
  --superchains M        group chains into M superchains sharing a start (adds nested R-hat)
  --quiet                no progress bar
  --verbose              let native warnings (Dawn, the Vulkan loader and drivers) through to stderr
`;
}

/** The shared sampler options, validated. */
export interface SamplerOptions {
  sigma?: number;
  priors: Priors;
  chains: number;
  /** Warmup iterations, or `auto` (stop when adaptation has settled and the chains have mixed, at most `warmupMax`). */
  warmup: number | 'auto';
  /** Cap of the automatic warmup (`--warmup auto:MAX`; absent: the default cap). */
  warmupMax?: number;
  draws: number;
  seed: number;
  targetAccept?: number;
  backend: BackendKind;
  adaptMetric: boolean;
  superchains?: number;
  quiet: boolean;
  verbose: boolean;
}

/** A flag's integer value (>= min), or its default when absent. */
export function intOption(flag: string, text: string | undefined, dflt: number, min: number): number {
  if (text === undefined) return dflt;
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw new InputError(flag, `must be an integer >= ${min}, got '${text}'`);
  return v;
}

/** `--warmup`: N, `auto` or `auto:MAX`. */
export function parseWarmup(text: string | undefined, dflt: number | 'auto'): { warmup: number | 'auto'; warmupMax?: number } {
  if (text === undefined) return { warmup: dflt };
  if (text === 'auto') return { warmup: 'auto' };
  if (text.startsWith('auto:')) return { warmup: 'auto', warmupMax: intOption('--warmup', text.slice(5), DEFAULT_WARMUP_MAX, 0) };
  if (!/^\s*\d+\s*$/.test(text)) throw new InputError('--warmup', `must be an integer >= 0, auto or auto:MAX, got '${text}'`);
  return { warmup: intOption('--warmup', text, 0, 0) };
}

/** The most warmup iterations a run may take: N, or the automatic warmup's cap (for progress bars). */
export function warmupBound(opts: Pick<SamplerOptions, 'warmup' | 'warmupMax'>): number {
  return opts.warmup === 'auto' ? (opts.warmupMax ?? DEFAULT_WARMUP_MAX) : opts.warmup;
}

/** An output file path with the given extension whose directory exists (checked before any work). */
export function outputPath(flag: string, path: string | undefined, ext: string): string | undefined {
  if (path === undefined) return undefined;
  if (!path.endsWith(ext)) throw new InputError(flag, `must name a ${ext} file, got '${path}'`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(flag, `directory '${dir}' does not exist`);
  return path;
}

/**
 * Validates the shared sampler options of a `parseArgs` result (before any work, so bad
 * input never leaves an output file behind). `defaults` lets a command pick its own sizes.
 */
export function parseSamplerOptions(
  values: { [K in keyof typeof SAMPLER_ARG_SPECS]?: (typeof SAMPLER_ARG_SPECS)[K]['type'] extends 'boolean' ? boolean : string },
  defaults: { chains: number; warmup: number | 'auto'; draws: number } = { chains: DEFAULT_CHAINS, warmup: DEFAULT_WARMUP, draws: DEFAULT_DRAWS },
): SamplerOptions {
  let sigma: number | undefined;
  if (values.sigma !== undefined) {
    sigma = Number(values.sigma);
    if (values.sigma.trim() === '' || !Number.isFinite(sigma) || sigma <= 0) throw new InputError('--sigma', `must be a number > 0, got '${values.sigma}'`);
  }
  const chains = intOption('--chains', values.chains, defaults.chains, 1);
  const { warmup, warmupMax } = parseWarmup(values.warmup, defaults.warmup);
  const draws = intOption('--draws', values.draws, defaults.draws, 1);
  const seed = intOption('--seed', values.seed, 1, 0);
  if (seed > Number.MAX_SAFE_INTEGER) throw new InputError('--seed', 'must be below 2^53');
  let targetAccept: number | undefined;
  if (values['target-accept'] !== undefined) {
    targetAccept = Number(values['target-accept']);
    if (!(targetAccept > 0 && targetAccept < 1)) throw new InputError('--target-accept', `must be a number in (0, 1), got '${values['target-accept']}'`);
  }
  const backend = (values.backend ?? 'auto') as BackendKind;
  if (!['auto', 'webgpu', 'cpu'].includes(backend)) throw new InputError('--backend', `must be auto, webgpu or cpu, got '${values.backend}'`);
  const metricKind = values.metric ?? 'unit';
  if (metricKind !== 'unit' && metricKind !== 'diag') throw new InputError('--metric', `must be unit or diag, got '${values.metric}'`);
  const superchains = values.superchains === undefined ? undefined : intOption('--superchains', values.superchains, 1, 1);
  if (superchains !== undefined && chains % superchains !== 0) throw new InputError('--superchains', `${superchains} must divide --chains ${chains}`);
  const priors = {
    mu: values['mu-prior'] !== undefined ? parseMuPrior(values['mu-prior']) : DEFAULT_PRIORS.mu,
    tau: values['tau-prior'] !== undefined ? parseTauPrior(values['tau-prior']) : DEFAULT_PRIORS.tau,
  };
  return { sigma, priors, chains, warmup, warmupMax, draws, seed, targetAccept, backend, adaptMetric: metricKind === 'diag', superchains, quiet: values.quiet === true, verbose: values.verbose === true };
}
