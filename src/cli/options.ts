import { accessSync, constants as fsConstants, existsSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { clip, InputError } from '../errors.ts';
import { formatScalePrior, parseMuPrior, parseScalePrior, parseTauPrior, DEFAULT_BETA_PRIOR, DEFAULT_PRIORS, type Priors, type ScalePrior } from '../model/priors.ts';
import { familyGlobals, type Family, type FamilyGlobal } from '../model/family.ts';
import { DEFAULT_FAMILY, FAMILIES } from '../model/families/index.ts';
import { MAX_PREDICTORS, type HierData } from '../model/data.ts';
import { boundedText, checkColumnMap, columnProblem, columnTargets, parsePredictorTerms, type LoadOptions } from '../io/data.ts';
import { DEFAULT_CHAINS, DEFAULT_CHAINS_SOFTWARE, DEFAULT_DRAWS, DEFAULT_WARMUP, DEFAULT_WARMUP_MAX, type BackendKind } from '../sampler/sample.ts';
import { MIN_TARGET_DRAWS } from '../sampler/target_ess.ts';

/**
 * The likelihoods `--likelihood` chooses: the registered families that stand for no other.
 * A family with `replaces` (the normal likelihood with sigma unknown) is what its family
 * means when the data lack the column (`io/data.ts` resolveFamily), not a choice of its own.
 */
export const LIKELIHOOD_CHOICES: readonly Family[] = FAMILIES.filter((f) => f.replaces === undefined);

/** The family `family` stands for where the data lack a column (`Family.replaces`), in words: "the normal likelihood without a 'sigma' column or --sigma". */
function familyInWords(family: Family): string {
  const r = family.replaces;
  if (!r) return `the ${family.id} likelihood`;
  const option = FAMILIES.find((f) => f.id === r.family)?.columns.find((c) => c.name === r.whenMissing)?.option;
  return `the ${r.family} likelihood without a '${r.whenMissing}' column${option ? ` or ${option}` : ''}`;
}

/** A family global's prior option (`FamilyGlobal.prior.option`, e.g. `--sigma-prior`), with its global and family. */
export interface FamilyPriorOption {
  readonly option: string;
  readonly global: FamilyGlobal;
  readonly family: Family;
}

/** The prior options of every registered family's globals, in registry order. */
export const FAMILY_PRIOR_OPTIONS: readonly FamilyPriorOption[] = FAMILIES.flatMap((family) => familyGlobals(family).map((global) => ({ option: global.prior.option, global, family })));

/** The distinct prior option flags (`--sigma-prior`). */
const FAMILY_PRIOR_FLAGS: readonly string[] = [...new Set(FAMILY_PRIOR_OPTIONS.map((o) => o.option))];

/** The text form of a ScalePrior option (`parseScalePrior`). */
const SCALE_PRIOR_FORMS = 'halfnormal:S|halfcauchy:S|exponential:R';

/**
 * The CLI options that give one value to every observation of a likelihood family's column
 * when the data file has no such column (`--sigma`), from the registry: each family column's
 * `option`, in registry order, each once.
 */
export const COLUMN_OPTIONS: readonly string[] = [...new Set(FAMILIES.flatMap((f) => f.columns.flatMap((c) => (c.option ? [c.option] : []))))];

/**
 * The data options of `sample` and `compare` as `node:util` `parseArgs` option specs:
 * `--likelihood`, the column options (`COLUMN_OPTIONS`), `--columns`, `--predictors` and
 * `--beta-prior` (the predictors' coefficients' prior: only where there are data).
 */
export const DATA_ARG_SPECS: Readonly<Record<string, { readonly type: 'string' }>> = {
  likelihood: { type: 'string' },
  ...Object.fromEntries(COLUMN_OPTIONS.map((flag) => [flag.replace(/^--/, ''), { type: 'string' } as const])),
  columns: { type: 'string' },
  predictors: { type: 'string' },
  'beta-prior': { type: 'string' },
};

/** Help lines of `--likelihood` and the column options, generated from the registered families. */
export function dataOptionsHelp(): string {
  const pad = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width));
  const idWidth = Math.max(...LIKELIHOOD_CHOICES.map((f) => f.id.length)) + 2;
  const indent = ' '.repeat(27 + idWidth);
  const lines = [`  --likelihood ID        the observation model of y given its group's theta (default ${DEFAULT_FAMILY.id}):`];
  for (const f of LIKELIHOOD_CHOICES) {
    lines.push(`                           ${pad(f.id, idWidth)}${f.formula}`);
    const cols = f.columns.map((c) => {
      const from = [c.option ? `or ${c.option} for every observation` : '', c.value !== undefined ? `${c.value} where the data has no ${c.name} column` : ''].filter(Boolean).join('; ');
      return `column ${c.name}: ${c.help}${from ? `; ${from}` : ''}`;
    });
    for (const c of cols) lines.push(`${indent}${c}`);
    lines.push(`${indent}y: ${f.yInteger ? 'a whole number >= 0 (a count)' : 'any finite number'}${f.outcome ? `; reports ${f.outcome.name}[<group>], the ${f.outcome.help}` : ''}`);
    // The families that stand for this one where a column is missing (normal without sigma).
    for (const r of FAMILIES.filter((x) => x.replaces?.family === f.id)) {
      const globals = familyGlobals(r);
      const option = f.columns.find((c) => c.name === r.replaces!.whenMissing)?.option;
      lines.push(`${indent}without a '${r.replaces!.whenMissing}' column${option ? ` (and no ${option})` : ''}: ${r.formula}`);
      if (globals.length > 0) {
        lines.push(`${indent}  reports ${globals.map((g) => `${g.constrained.name} (the ${g.constrained.help}) and ${g.name}`).join(', ')}; prior ${globals.map((g) => g.prior.option).join(', ')}`);
      }
    }
  }
  for (const flag of COLUMN_OPTIONS) {
    for (const f of FAMILIES) {
      const c = f.columns.find((x) => x.option === flag);
      if (!c) continue;
      // Where neither gives the column, a family may stand for this one (sigma unknown: a parameter).
      const r = FAMILIES.find((x) => x.replaces?.family === f.id && x.replaces.whenMissing === c.name);
      const priors = r ? familyGlobals(r).map((g) => g.prior.option) : [];
      const neither = r ? `; with neither, ${c.name} is a parameter${priors.length ? ` (${priors.join(', ')})` : ''}` : '';
      lines.push(`  ${pad(`${flag} ${c.name.charAt(0).toUpperCase()}`, 23)}${f.id} likelihood: the ${c.name} of every observation when the data has no '${c.name}' column${neither}`);
    }
  }
  const familyColumns = [...new Set(LIKELIHOOD_CHOICES.flatMap((f) => f.columns.map((c) => c.name)))];
  lines.push(
    `  --columns T=NAME,...   the data's names of FunnelWeb's columns (CSV header or JSON key): y, group and the`,
    `                         likelihood's (${familyColumns.join(', ')}), e.g. y=log_radon,group=county_idx`,
    `                         A .json file with --columns (or with a group key and no idx) is read as named arrays,`,
    `                         as Stan and posteriordb write data: arrays of N are columns, other keys (N, J, ...) are`,
    `                         ignored. Its group column holds labels: one group per distinct value, in numeric order`,
    `                         (Stan's 1..J; groups without data are not made). Without a group column each`,
    `                         observation is its own group, labelled 1..N (Stan's 1-based row numbers)`,
    `  --predictors A,B,A:B   population-level predictors: eta_i = theta[g_i] + x_i . beta; each a column of the data`,
    `                         (a CSV column, a JSON array of N) or a product of columns (a:b; a:a a square), used as`,
    `                         given (not centred); at most ${MAX_PREDICTORS}; none constant (mu is the intercept)`,
    `  --beta-prior normal:LOC,SCALE  prior of each coefficient beta (default normal:${DEFAULT_BETA_PRIOR.loc},${DEFAULT_BETA_PRIOR.scale}); only with --predictors`,
  );
  return lines.join('\n') + '\n';
}

/** What the --data line of a help text says of the CSV's columns. */
export const DATA_COLUMNS_HELP = `group, y and the likelihood's columns: ${LIKELIHOOD_CHOICES.map((f) => `${f.id} ${f.columns.map((c) => (c.required && c.value === undefined && c.option === undefined ? c.name : `[${c.name}]`)).join(',') || '-'}`).join('; ')}`;

/**
 * The sampler options that `sample`, `compare` and `reproduce` share, as `node:util`
 * `parseArgs` option specs (each command adds its own; `sample` and `compare` also
 * `DATA_ARG_SPECS`).
 */
export const SAMPLER_ARG_SPECS = {
  'mu-prior': { type: 'string' },
  'tau-prior': { type: 'string' },
  chains: { type: 'string' },
  warmup: { type: 'string' },
  draws: { type: 'string' },
  'target-ess': { type: 'string' },
  seed: { type: 'string' },
  'target-accept': { type: 'string' },
  backend: { type: 'string' },
  metric: { type: 'string' },
  superchains: { type: 'string' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  // The family globals' prior options (`FAMILY_PRIOR_OPTIONS`: --sigma-prior).
  ...(Object.fromEntries(FAMILY_PRIOR_FLAGS.map((flag) => [flag.replace(/^--/, ''), { type: 'string' }])) as Readonly<Record<string, { readonly type: 'string' }>>),
} as const;

/** Help lines of the shared options (defaults may differ per command). */
export function samplerOptionsHelp(
  defaults: { chains: number | 'adapter'; warmup: number | 'auto'; draws: number; targetEss?: number } = { chains: DEFAULT_CHAINS, warmup: DEFAULT_WARMUP, draws: DEFAULT_DRAWS },
): string {
  const chains = defaults.chains === 'adapter' ? `${DEFAULT_CHAINS} on a GPU, ${DEFAULT_CHAINS_SOFTWARE} on a software adapter or --backend cpu` : defaults.chains;
  const draws =
    defaults.targetEss !== undefined
      ? `default: until --target-ess ${defaults.targetEss}, at most ${defaults.draws}; given: exactly N, or at most N with --target-ess`
      : `default ${defaults.draws}; with --target-ess, the most draws per chain`;
  const target = defaults.targetEss !== undefined ? `default ${defaults.targetEss} when --draws is not given` : 'default: off, all --draws are made';
  return `  --mu-prior normal:LOC,SCALE          (default normal:0,5)
  --tau-prior halfnormal:S|halfcauchy:S (default halfnormal:5)
${familyPriorsHelp()}  --chains N             (default ${chains})
  --warmup N|auto[:MAX]  warmup iterations, or auto: stop when the step size and trajectory length have
                         settled and the chains have mixed (checked every 50 iterations), at most MAX
                         (default ${defaults.warmup}${defaults.warmup === 'auto' ? `, MAX ${DEFAULT_WARMUP_MAX}` : ''})
  --draws N              (${draws})
  --target-ess N         end sampling once every parameter's bulk ESS, estimated from the draws so far,
                         reaches N and its R-hat is below 1.009 (checked from ${MIN_TARGET_DRAWS} draws on;
                         ${target})
  --seed N               (default 1)
  --target-accept A      dual-averaging target of the harmonic-mean acceptance (default 0.651)
  --backend B            auto | webgpu | cpu (default auto: WebGPU, else CPU)
  --metric M             unit | diag (diagonal metric from cross-chain variances; default unit, diag with --predictors)
  --superchains M        group chains into M superchains sharing a start (adds nested R-hat)
  --quiet                no progress bar
  --verbose              let native warnings (Dawn, the Vulkan loader and drivers) through to stderr
`;
}

/** Help lines of the family globals' prior options (`--sigma-prior`), with their defaults. */
function familyPriorsHelp(): string {
  return FAMILY_PRIOR_OPTIONS.map(
    ({ option, global: g, family }) =>
      `  ${option} ${SCALE_PRIOR_FORMS} (default ${formatScalePrior(g.prior.default)})\n` +
      `                         prior of ${g.constrained.name}, the ${g.constrained.help}, for ${familyInWords(family)}\n`,
  ).join('');
}

/** The shared sampler options, validated. */
export interface SamplerOptions {
  /** The likelihood family (`--likelihood`; default normal). */
  family: Family;
  /** Values of the family's column options given (`{ '--sigma': 10 }`), for `loadData`'s `options`. */
  columnOptions: Record<string, number>;
  /** `--predictors`, split at commas and trimmed, for `loadData`'s `predictors`; absent when not given. */
  predictors?: readonly string[];
  /** `--columns`: FunnelWeb's column name -> the data's, for `loadData`'s `columns`; absent when not given. */
  columns?: Readonly<Record<string, string>>;
  priors: Priors;
  chains: number;
  /** Warmup iterations, or `auto` (stop when adaptation has settled and the chains have mixed, at most `warmupMax`). */
  warmup: number | 'auto';
  /** Cap of the automatic warmup (`--warmup auto:MAX`; absent: the default cap). */
  warmupMax?: number;
  draws: number;
  /** `--target-ess`: end sampling once the estimated min bulk ESS reaches it; absent: all draws. */
  targetEss?: number;
  seed: number;
  targetAccept?: number;
  backend: BackendKind;
  /** `--metric`: diag or unit; undefined: the sampler's default (`sample`: diag with predictors, else unit). */
  adaptMetric: boolean | undefined;
  superchains?: number;
  quiet: boolean;
  verbose: boolean;
}

/** A flag's integer value (>= min), or its default when absent. */
export function intOption(flag: string, text: string | undefined, dflt: number, min: number): number {
  if (text === undefined) return dflt;
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw new InputError(flag, `must be an integer >= ${min}, got '${clip(text)}'`);
  return v;
}

/** `--warmup`: N, `auto` or `auto:MAX`. */
export function parseWarmup(text: string | undefined, dflt: number | 'auto'): { warmup: number | 'auto'; warmupMax?: number } {
  if (text === undefined) return { warmup: dflt };
  if (text === 'auto') return { warmup: 'auto' };
  if (text.startsWith('auto:')) return { warmup: 'auto', warmupMax: intOption('--warmup', text.slice(5), DEFAULT_WARMUP_MAX, 0) };
  if (!/^\s*\d+\s*$/.test(text)) throw new InputError('--warmup', `must be an integer >= 0, auto or auto:MAX, got '${clip(text)}'`);
  return { warmup: intOption('--warmup', text, 0, 0) };
}

/** The most warmup iterations a run may take: N, or the automatic warmup's cap (for progress bars). */
export function warmupBound(opts: Pick<SamplerOptions, 'warmup' | 'warmupMax'>): number {
  return opts.warmup === 'auto' ? (opts.warmupMax ?? DEFAULT_WARMUP_MAX) : opts.warmup;
}

/** An output file path with the given extension whose directory exists (checked before any work). */
export function outputPath(flag: string, path: string | undefined, ext: string): string | undefined {
  if (path === undefined) return undefined;
  if (!path.endsWith(ext)) throw new InputError(flag, `must name a ${ext} file, got '${clip(path)}'`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new InputError(flag, `directory '${clip(dir)}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new InputError(flag, `'${clip(dir)}' is not a directory`);
  return path;
}

/**
 * Validates the shared sampler options of a `parseArgs` result (before any work, so bad
 * input never leaves an output file behind). `defaults` lets a command pick its own sizes.
 */
export function parseSamplerOptions(
  values: { [K in keyof typeof SAMPLER_ARG_SPECS]?: (typeof SAMPLER_ARG_SPECS)[K]['type'] extends 'boolean' ? boolean : string } & { readonly [data: string]: unknown },
  defaults: { chains: number; warmup: number | 'auto'; draws: number } = { chains: DEFAULT_CHAINS, warmup: DEFAULT_WARMUP, draws: DEFAULT_DRAWS },
): SamplerOptions {
  const { family, columnOptions, predictors, columns } = parseDataOptions(values);
  const chains = intOption('--chains', values.chains, defaults.chains, 1);
  const { warmup, warmupMax } = parseWarmup(values.warmup, defaults.warmup);
  const draws = intOption('--draws', values.draws, defaults.draws, 1);
  let targetEss: number | undefined;
  if (values['target-ess'] !== undefined) {
    targetEss = Number(values['target-ess']);
    if (String(values['target-ess']).trim() === '' || !(Number.isFinite(targetEss) && targetEss > 0)) {
      throw new InputError('--target-ess', `must be a number > 0, got '${clip(String(values['target-ess']))}'`);
    }
  }
  const seed = intOption('--seed', values.seed, 1, 0);
  if (seed > Number.MAX_SAFE_INTEGER) throw new InputError('--seed', 'must be below 2^53');
  let targetAccept: number | undefined;
  if (values['target-accept'] !== undefined) {
    targetAccept = Number(values['target-accept']);
    if (!(targetAccept > 0 && targetAccept < 1)) throw new InputError('--target-accept', `must be a number in (0, 1), got '${clip(String(values['target-accept']))}'`);
  }
  const backend = (values.backend ?? 'auto') as BackendKind;
  if (!['auto', 'webgpu', 'cpu'].includes(backend)) throw new InputError('--backend', `must be auto, webgpu or cpu, got '${clip(String(values.backend))}'`);
  const metricKind = values.metric;
  if (metricKind !== undefined && metricKind !== 'unit' && metricKind !== 'diag') throw new InputError('--metric', `must be unit or diag, got '${clip(String(values.metric))}'`);
  const superchains = values.superchains === undefined ? undefined : intOption('--superchains', values.superchains, 1, 1);
  if (superchains !== undefined && chains % superchains !== 0) throw new InputError('--superchains', `${superchains} must divide --chains ${chains}`);
  const familyPriors = parseFamilyPriors(values, family, columnOptions);
  const beta = parseBetaPrior(values['beta-prior'], predictors);
  const priors: Priors = {
    mu: values['mu-prior'] !== undefined ? parseMuPrior(values['mu-prior']) : DEFAULT_PRIORS.mu,
    tau: values['tau-prior'] !== undefined ? parseTauPrior(values['tau-prior']) : DEFAULT_PRIORS.tau,
    ...(familyPriors && { family: familyPriors }),
    ...(beta && { beta }),
  };
  return { family, columnOptions, ...(predictors && { predictors }), ...(columns && { columns }), priors, chains, warmup, warmupMax, draws, ...(targetEss !== undefined && { targetEss }), seed, targetAccept, backend, adaptMetric: metricKind === undefined ? undefined : metricKind === 'diag', superchains, quiet: values.quiet === true, verbose: values.verbose === true };
}

/**
 * The family globals' prior options given (`--sigma-prior`), parsed (`parseScalePrior`) into
 * `Priors.family` by the global's name (`log_sigma`); undefined when none is given.
 *
 * @throws InputError naming the option: a malformed prior, or one for a global that the
 *   likelihood cannot have: `family` has no such global and no family that stands for it
 *   has (binomial), or the column whose absence makes it a parameter is given by an option
 *   (`--sigma` with `--sigma-prior`). Whether the data file has that column is known once
 *   it is read: `checkFamilyPriors`.
 */
export function parseFamilyPriors(values: { readonly [flag: string]: unknown }, family: Family, columnOptions: Readonly<Record<string, number>>): Record<string, ScalePrior> | undefined {
  const out: Record<string, ScalePrior> = {};
  for (const flag of FAMILY_PRIOR_FLAGS) {
    const text = values[flag.replace(/^--/, '')];
    if (typeof text !== 'string') continue;
    const prior = parseScalePrior(text, flag);
    const owners = FAMILY_PRIOR_OPTIONS.filter((o) => o.option === flag);
    // The families the data may turn out to be of: `family`, or one that stands for it when a column is missing.
    const usable = owners.filter((o) => o.family.id === family.id || o.family.replaces?.family === family.id);
    if (usable.length === 0) {
      throw new InputError(flag, `the ${family.id} likelihood has no ${owners[0].global.constrained.name} parameter: ${flag} is for ${owners.map((o) => familyInWords(o.family)).join(', ')}`);
    }
    // The column that would make it a parameter by its absence, given by its option (--sigma).
    const blocked = usable.filter((o) => {
      const r = o.family.replaces;
      if (!r || r.family !== family.id) return false;
      const option = family.columns.find((c) => c.name === r.whenMissing)?.option;
      return option !== undefined && columnOptions[option] !== undefined;
    });
    if (blocked.length === usable.length) {
      const o = blocked[0];
      const option = family.columns.find((c) => c.name === o.family.replaces!.whenMissing)!.option!;
      throw new InputError(flag, `${option} gives ${o.family.replaces!.whenMissing}, so ${o.global.constrained.name} is known and has no prior: ${flag} is for ${familyInWords(o.family)}`);
    }
    for (const o of usable) out[o.global.name] = prior;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Checks the family globals' priors given (`Priors.family`, from `parseFamilyPriors`)
 * against the family the data turned out to be of (`HierData.likelihood`): a prior of a
 * global that family does not have (`--sigma-prior` with normal data that have a sigma
 * column) is an error naming its option. Called after the data are read, before any work.
 *
 * @throws InputError naming the option (exit 2).
 */
export function checkFamilyPriors(priors: Priors, data: HierData, source = 'the data'): void {
  if (!priors.family) return;
  const family = FAMILIES.find((f) => f.id === (data.likelihood ?? DEFAULT_FAMILY.id));
  const have = new Set(family ? familyGlobals(family).map((g) => g.name) : []);
  for (const name of Object.keys(priors.family)) {
    if (have.has(name)) continue;
    const o = FAMILY_PRIOR_OPTIONS.find((x) => x.global.name === name);
    if (!o) throw new RangeError(`a prior for '${name}', which no registered family has`);
    const r = o.family.replaces;
    throw new InputError(
      o.option,
      r && family?.id === r.family
        ? `${source} give ${r.whenMissing} (a '${r.whenMissing}' column), so ${o.global.constrained.name} is known and has no prior: ${o.option} is for ${familyInWords(o.family)}`
        : `the ${family?.id ?? data.likelihood} likelihood has no ${o.global.constrained.name} parameter: ${o.option} is for ${familyInWords(o.family)}`,
    );
  }
}

/**
 * `--beta-prior normal:LOC,SCALE` (`parseMuPrior`): the prior of every predictor's
 * coefficient; undefined when not given (the model's default, `DEFAULT_BETA_PRIOR`).
 *
 * @throws InputError naming `--beta-prior`: given without `--predictors`, or malformed.
 */
export function parseBetaPrior(text: unknown, predictors: readonly string[] | undefined): Priors['beta'] {
  if (text === undefined) return undefined;
  if (!predictors || predictors.length === 0) {
    throw new InputError('--beta-prior', 'is the prior of the predictors\' coefficients beta, and there are none: it is only meaningful with --predictors');
  }
  return parseMuPrior(String(text), '--beta-prior');
}

/**
 * `--predictors A,B,A:B`: the names, split at commas and trimmed (each checked by
 * `parsePredictorTerms`: none empty, none twice, at most MAX_PREDICTORS).
 *
 * @throws InputError naming `--predictors`.
 */
export function parsePredictorsOption(text: string): string[] {
  if (text.trim() === '') throw new InputError('--predictors', 'empty: name one or more of the data\'s columns, e.g. --predictors x1,x2,x1:x2');
  return parsePredictorTerms(text.split(',')).map((t) => t.name);
}

/**
 * `--columns T=NAME,...`: FunnelWeb's column name -> the data's (`y=log_radon,group=county_idx`),
 * names trimmed, checked against `family` (`checkColumnMap`).
 *
 * @throws InputError naming `--columns`: malformed text (an entry without `=`, an empty side),
 *   a column mapped twice, an unknown column (the likelihood's listed), one name of the data
 *   for two columns.
 */
export function parseColumnsOption(text: string, family: Family): Record<string, string> {
  const form = `expected T=NAME pairs separated by commas, T one of ${columnTargets(family).join(', ')} (e.g. y=log_radon,group=county_idx)`;
  if (text.trim() === '') throw new InputError('--columns', `empty: ${form}`);
  const map: Record<string, string> = {};
  for (const part of text.split(',')) {
    const m = /^([^=]*)=([^=]*)$/.exec(part.trim());
    if (!m || m[1].trim() === '' || m[2].trim() === '') throw new InputError('--columns', `'${clip(part.trim())}': ${form}`);
    const target = m[1].trim();
    if (Object.prototype.hasOwnProperty.call(map, target)) throw new InputError('--columns', `'${clip(target)}' is mapped twice`);
    map[target] = m[2].trim();
  }
  checkColumnMap(family, map);
  return map;
}

/**
 * `loadData`'s options from the parsed data options: the family, its column options, the
 * predictors and the column mapping (the last two only where given).
 */
export function dataLoadOptions(opts: Pick<SamplerOptions, 'family' | 'columnOptions' | 'predictors' | 'columns'>): LoadOptions {
  return { family: opts.family, options: opts.columnOptions, ...(opts.predictors && { predictors: opts.predictors }), ...(opts.columns && { columns: opts.columns }) };
}

/**
 * `--likelihood`, the column options, `--predictors` and `--columns` (`DATA_ARG_SPECS`) of a
 * `parseArgs` result: the family, the value of each column option given (checked against the
 * family's column), the predictors' names and the column mapping (each absent when not given).
 *
 * @throws InputError naming the flag: an unknown likelihood, a column option that the
 *   family has no column for (`--sigma` with binomial), a value out of the column's bounds,
 *   malformed `--predictors` or `--columns`.
 */
export function parseDataOptions(values: { readonly [flag: string]: unknown }): {
  family: Family;
  columnOptions: Record<string, number>;
  predictors?: readonly string[];
  columns?: Readonly<Record<string, string>>;
} {
  const family = likelihoodOf(values.likelihood);
  const columnOptions: Record<string, number> = {};
  for (const flag of COLUMN_OPTIONS) {
    const text = values[flag.replace(/^--/, '')];
    if (typeof text !== 'string') continue;
    const spec = family.columns.find((c) => c.option === flag);
    if (!spec) {
      const owners = FAMILIES.filter((f) => f.columns.some((c) => c.option === flag)).map((f) => f.id);
      const cols = family.columns.map((c) => c.name);
      throw new InputError(
        flag,
        `the ${family.id} likelihood has no column that ${flag} gives (${flag} is for the ${owners.join(', ')} likelihood); its columns: ${cols.length ? cols.join(', ') : 'none besides group and y'}`,
      );
    }
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || columnProblem(spec, v)) throw new InputError(flag, `must be a ${boundedText(spec)}, got '${clip(text)}'`);
    columnOptions[flag] = v;
  }
  const predictors = typeof values.predictors === 'string' ? parsePredictorsOption(values.predictors) : undefined;
  const columns = typeof values.columns === 'string' ? parseColumnsOption(values.columns, family) : undefined;
  return { family, columnOptions, ...(predictors && { predictors }), ...(columns && { columns }) };
}

/**
 * The family of a `--likelihood` value (absent: the default): one of `LIKELIHOOD_CHOICES`.
 *
 * @throws InputError naming `--likelihood`: an unknown id, or one that stands for another
 *   family where a column is missing (`Family.replaces`), which the data choose, not the flag.
 */
export function likelihoodOf(id: unknown): Family {
  if (id === undefined) return DEFAULT_FAMILY;
  const text = String(id).trim();
  const f = LIKELIHOOD_CHOICES.find((x) => x.id === text);
  if (f) return f;
  const stands = FAMILIES.find((x) => x.id === text && x.replaces);
  const why = stands ? `: '${stands.id}' is what --likelihood ${stands.replaces!.family} means where the data have no '${stands.replaces!.whenMissing}' column` : '';
  throw new InputError('--likelihood', `unknown likelihood '${clip(text)}' (expected ${LIKELIHOOD_CHOICES.map((x) => x.id).join(', ')})${why}`);
}

/** A path a command reads, and the flag that named it (`--data`; `input` for a positional). */
export interface InputPath {
  readonly flag: string;
  readonly path: string;
}

/** A path a command writes, and the flag that named it. */
export interface OutputPathSpec {
  readonly flag: string;
  readonly path: string;
  /**
   * `file`: a file written whole (.json, .csv, .nc). `directory`: without `into`, a
   * directory written whole and replaced (a .zarr store; its parent must exist); with
   * `into`, a directory the command creates when missing (with its parents) and writes
   * the named files into (compare and reproduce `--out DIR`).
   */
  readonly kind: 'file' | 'directory';
  /** For a `directory` written into: the names of the files the command writes there. */
  readonly into?: readonly string[];
}

/** "read-only file system: EROFS" for a failed fs call. */
function causeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOENT: 'does not exist',
    ENOTDIR: 'a part of the path is not a directory',
    ELOOP: 'too many levels of symbolic links',
    ENAMETOOLONG: 'the name is too long',
  };
  return typeof code === 'string' ? `${words[code] ?? 'system error'}: ${code}` : String(err);
}

/** fs.statSync, or undefined where nothing is (or a symbolic link leads nowhere). */
function statOrNone(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw err;
  }
}

/** `path` with every symbolic link in its existing part resolved (the missing rest appended). */
function realish(abs: string): string {
  const rest: string[] = [];
  let head = abs;
  for (;;) {
    try {
      return join(realpathSync(head), ...rest);
    } catch {
      const parent = dirname(head);
      if (parent === head) return abs;
      rest.unshift(basename(head));
      head = parent;
    }
  }
}

/** The ways of naming one thing on the disk: real paths (with and without a final link followed) and device:inode. */
interface Identity {
  readonly paths: readonly string[];
  readonly inode?: string;
}

function identityOf(path: string): Identity {
  const abs = resolve(path.replace(/(.)\/+$/, '$1'));
  const st = statOrNone(abs);
  const paths = [...new Set([join(realish(dirname(abs)), basename(abs)), realish(abs)])];
  return { paths, inode: st ? `${st.dev}:${st.ino}` : undefined };
}

function sameThing(a: Identity, b: Identity): boolean {
  return (a.inode !== undefined && a.inode === b.inode) || a.paths.some((p) => b.paths.includes(p));
}

/** Whether `inner` lies inside the directory `outer`. */
function inside(inner: Identity, outer: Identity): boolean {
  return inner.paths.some((p) => outer.paths.some((q) => p.startsWith(q.endsWith(sep) ? q : q + sep)));
}

/** Checks that a directory exists and may be written in (a read-only mount fails here even for root). */
function checkWritableDir(flag: string, dir: string): void {
  const st = statOrNone(dir);
  if (!st) throw new InputError(flag, `directory '${clip(dir)}' does not exist`);
  if (!st.isDirectory()) throw new InputError(flag, `'${clip(dir)}' is not a directory`);
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (err) {
    throw new InputError(flag, `cannot write in directory '${clip(dir)}' (${causeOf(err)})`);
  }
}

/** Whether a directory is empty or a Zarr store (its root has .zgroup or .zmetadata): one that a new store may replace. */
function isEmptyOrZarrStore(dir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  return names.length === 0 || names.includes('.zgroup') || names.includes('.zmetadata');
}

/**
 * Checks a command's output paths before any work, so that no run is lost to an output it
 * cannot write and no output overwrites an input:
 *
 * - the directory an output goes in exists (for a directory written into, its nearest
 *   existing ancestor) and is writable (`access(W_OK)`: a read-only file system is caught
 *   even for root, whom permission bits do not stop);
 * - an existing output is of the kind wanted: a file where a file is written (not a
 *   directory, not a device or pipe), a directory where a directory is;
 * - no output is, contains or lies inside an input, and no two outputs are or contain one
 *   another: paths are compared with symbolic links resolved (`realpath` of the existing
 *   part, with and without the final link followed) and by device and inode for those that
 *   exist (hard links, case-insensitive file systems).
 *
 * @throws InputError naming the output's flag (exit 2).
 */
export function checkOutputPaths(inputs: readonly InputPath[], outputs: readonly OutputPathSpec[]): void {
  const written: { flag: string; path: string; id: Identity; dir: boolean }[] = [];
  for (const o of outputs) {
    if (o.path.trim() === '') throw new InputError(o.flag, 'empty path');
    const abs = resolve(o.path.replace(/(.)\/+$/, '$1'));
    const st = statOrNone(abs);
    if (o.kind === 'file') {
      if (st?.isDirectory()) throw new InputError(o.flag, `'${clip(o.path)}' is a directory, not a file`);
      if (st && !st.isFile()) throw new InputError(o.flag, `'${clip(o.path)}' is not a regular file`);
      checkWritableDir(o.flag, dirname(abs));
      written.push({ flag: o.flag, path: o.path, id: identityOf(abs), dir: false });
    } else if (o.into === undefined) {
      if (st && !st.isDirectory()) throw new InputError(o.flag, `'${clip(o.path)}' is a file, not a directory`);
      // The directory is replaced whole: only an earlier store (or nothing) may be there.
      if (st && !isEmptyOrZarrStore(abs)) {
        throw new InputError(o.flag, `'${clip(o.path)}' is a directory that holds other files than a Zarr store: writing the store would replace it and them (name another, or remove it)`);
      }
      checkWritableDir(o.flag, dirname(abs));
      written.push({ flag: o.flag, path: o.path, id: identityOf(abs), dir: true });
    } else {
      if (st && !st.isDirectory()) throw new InputError(o.flag, `'${clip(o.path)}' is a file, not a directory`);
      let dir = abs;
      while (!statOrNone(dir) && dirname(dir) !== dir) dir = dirname(dir);
      checkWritableDir(o.flag, dir);
      for (const name of o.into) {
        const file = join(abs, name);
        const fst = statOrNone(file);
        if (fst?.isDirectory()) throw new InputError(o.flag, `'${clip(join(o.path, name))}' is a directory, not a file`);
        if (fst && !fst.isFile()) throw new InputError(o.flag, `'${clip(join(o.path, name))}' is not a regular file`);
        written.push({ flag: o.flag, path: join(o.path, name), id: identityOf(file), dir: false });
      }
    }
  }
  const ins = inputs.map((i) => ({ ...i, id: identityOf(i.path) }));
  for (const w of written) {
    for (const i of ins) {
      const what = `${i.flag === 'input' ? 'the input' : `the ${i.flag} input`} '${clip(i.path)}'`;
      if (sameThing(w.id, i.id)) throw new InputError(w.flag, `'${clip(w.path)}' is ${what}: writing it would overwrite the input`);
      if (inside(w.id, i.id)) throw new InputError(w.flag, `'${clip(w.path)}' lies inside ${what}: writing it would change the input`);
      if (w.dir && inside(i.id, w.id)) throw new InputError(w.flag, `'${clip(w.path)}' holds ${what}: replacing it would delete the input`);
    }
  }
  for (let a = 0; a < written.length; a++) {
    for (let b = 0; b < a; b++) {
      const [x, y] = [written[a], written[b]];
      const names = x.flag === y.flag ? x.flag : `${y.flag} and ${x.flag}`;
      if (sameThing(x.id, y.id)) throw new InputError(x.flag, `${names} name the same file '${clip(x.path)}'${x.path !== y.path ? ` (as '${clip(y.path)}')` : ''}: one would overwrite the other`);
      if ((y.dir && inside(x.id, y.id)) || (x.dir && inside(y.id, x.id))) {
        throw new InputError(x.flag, `'${clip(x.path)}' and '${clip(y.path)}' (${y.flag}) lie one inside the other: one would replace the other`);
      }
    }
  }
}

/** The exit codes, as `--help` and the README list them. */
export const EXIT_CODES_HELP = `Exit codes:
  0    finished; every output written
  1    the run failed: an output could not be written (disk full, I/O error), the GPU device was
       lost, no WebGPU adapter for --backend webgpu, or no chain moved from its start
  2    bad input: a flag, a data file or an output path (checked before any work; nothing written)
  130  interrupted by Ctrl-C (SIGINT); 143 by SIGTERM; 129 by SIGHUP. sample keeps the draws so far,
       compare and reproduce every finished run
`;
