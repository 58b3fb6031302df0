/**
 * The work a queue hands out, as data: a job names what to compute (an SBC shard; a sweep
 * cell) and carries its inputs as the CLI would read them (a design file's text with its
 * load options, priors in their option syntax, sizes as integers), so that a worker
 * validates a job exactly as the CLI validates input and never runs anything but FunnelWeb's
 * own code. `runJob` computes a job's result, the same in any process.
 */
import { createHash } from 'node:crypto';
import { InputError, clip } from '../errors.ts';
import { familyOf } from '../model/families/index.ts';
import { parseMuPrior, parseScalePrior, parseTauPrior, type Priors } from '../model/priors.ts';
import { familyGlobals } from '../model/family.ts';
import { designOf, type DesignSpec } from '../io/design.ts';
import type { Gpu } from '../gpu/device.ts';
import { checkConfig, runShard, type FitResult, type SbcConfig, type SbcShard } from '../sbc/sbc.ts';
import { cellsOf, checkSweep, runCell, type CellResult, type SweepSpec } from '../sweep/sweep.ts';

/** An SBC run's configuration as data (`SbcConfig` with the design as a file and priors as option text). */
export interface SbcSpec {
  readonly design: DesignSpec;
  readonly params: readonly string[];
  readonly sims: number;
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly seed: number;
  /** `--mu-prior`, `--tau-prior` text of the fit (e.g. normal:0,5, halfnormal:5). */
  readonly muPrior: string;
  readonly tauPrior: string;
  /** `--sim-mu-prior`, `--sim-tau-prior` text. */
  readonly simMuPrior: string;
  readonly simTauPrior: string;
  /** `--sigma-prior`, `--sim-sigma-prior` text, for a family with a global scale (normal data without sigma); absent: its default. */
  readonly sigmaPrior?: string;
  readonly simSigmaPrior?: string;
}

export type Job =
  | { readonly kind: 'sbc-shard'; readonly spec: SbcSpec; readonly shard: SbcShard }
  | { readonly kind: 'sweep-cell'; readonly spec: SweepSpec; readonly cell: number };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function str(o: Record<string, unknown>, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new InputError(field, `must be a string, got ${clip(JSON.stringify(v) ?? 'undefined')}`);
  return v;
}

function int(o: Record<string, unknown>, key: string, field: string, min: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InputError(field, `must be an integer >= ${min}, got ${clip(JSON.stringify(v) ?? 'undefined')}`);
  return v;
}

/** Checks that `x` is an SbcSpec (from a queue: untrusted) and returns it. */
/** Checks that `d` (untrusted) is a DesignSpec, naming `field` in errors. */
function parseDesign(d: unknown, field: string): DesignSpec {
  if (!isObj(d)) throw new InputError(field, 'must be an object');
  const format = str(d, 'format', `${field}.format`);
  if (format !== 'json' && format !== 'csv') throw new InputError(`${field}.format`, `must be json or csv, got '${clip(format)}'`);
  const numbers = (v: unknown, f: string): Record<string, number> | undefined => {
    if (v === undefined) return undefined;
    if (!isObj(v) || Object.values(v).some((n) => typeof n !== 'number')) throw new InputError(f, 'must map names to numbers');
    return v as Record<string, number>;
  };
  const strings = (v: unknown, f: string): Record<string, string> | undefined => {
    if (v === undefined) return undefined;
    if (!isObj(v) || Object.values(v).some((n) => typeof n !== 'string')) throw new InputError(f, 'must map names to names');
    return v as Record<string, string>;
  };
  const options = numbers(d.options, `${field}.options`);
  const columns = strings(d.columns, `${field}.columns`);
  return {
    name: str(d, 'name', `${field}.name`),
    format,
    text: str(d, 'text', `${field}.text`),
    ...(d.likelihood !== undefined && { likelihood: str(d, 'likelihood', `${field}.likelihood`) }),
    ...(options && { options }),
    ...(columns && { columns }),
  };
}

function stringList(x: unknown, field: string, what: string): string[] {
  if (!Array.isArray(x) || x.some((p) => typeof p !== 'string')) throw new InputError(field, `must be a list of ${what}`);
  return x as string[];
}

/** Checks that `x` is an SbcSpec (from a queue: untrusted) and returns it. */
export function parseSbcSpec(x: unknown): SbcSpec {
  if (!isObj(x)) throw new InputError('job.spec', 'must be an object');
  const spec: SbcSpec = {
    design: parseDesign(x.design, 'job.spec.design'),
    params: stringList(x.params, 'job.spec.params', 'parameterizations'),
    sims: int(x, 'sims', 'job.spec.sims', 1),
    chains: int(x, 'chains', 'job.spec.chains', 1),
    warmup: int(x, 'warmup', 'job.spec.warmup', 0),
    draws: int(x, 'draws', 'job.spec.draws', 1),
    seed: int(x, 'seed', 'job.spec.seed', 0),
    muPrior: str(x, 'muPrior', 'job.spec.muPrior'),
    tauPrior: str(x, 'tauPrior', 'job.spec.tauPrior'),
    simMuPrior: str(x, 'simMuPrior', 'job.spec.simMuPrior'),
    simTauPrior: str(x, 'simTauPrior', 'job.spec.simTauPrior'),
    ...(x.sigmaPrior !== undefined && { sigmaPrior: str(x, 'sigmaPrior', 'job.spec.sigmaPrior') }),
    ...(x.simSigmaPrior !== undefined && { simSigmaPrior: str(x, 'simSigmaPrior', 'job.spec.simSigmaPrior') }),
  };
  configOf(spec);
  return spec;
}

/** Checks that `x` is a SweepSpec (untrusted) and returns it. */
export function parseSweepSpec(x: unknown): SweepSpec {
  if (!isObj(x)) throw new InputError('job.spec', 'must be an object');
  const files = x.files;
  if (!Array.isArray(files)) throw new InputError('job.spec.files', 'must be a list of data files');
  const rankBy = str(x, 'rankBy', 'job.spec.rankBy');
  if (rankBy !== 'min' && rankBy !== 'tau') throw new InputError('job.spec.rankBy', `must be min or tau, got '${clip(rankBy)}'`);
  const spec: SweepSpec = {
    ...(x.grid !== undefined && { grid: str(x, 'grid', 'job.spec.grid') }),
    files: files.map((f, i) => parseDesign(f, `job.spec.files[${i}]`)),
    params: stringList(x.params, 'job.spec.params', 'parameterizations'),
    sampler: stringList(x.sampler, 'job.spec.sampler', 'sampler flags'),
    rankBy,
  };
  checkSweep(spec);
  return spec;
}

/** The SbcConfig of a spec: the design parsed, priors parsed, everything checked (`checkConfig`). */
export function configOf(spec: SbcSpec): SbcConfig {
  const design = designOf(spec.design);
  // A prior of the family's global scale (sigma), where the design's family has one.
  const g = familyGlobals(familyOf(design.likelihood))[0];
  const scale = (text: string | undefined, flag: string) => {
    if (text === undefined) return undefined;
    if (!g) throw new InputError(flag, `the ${familyOf(design.likelihood).id} likelihood has no global scale parameter (${flag} is for normal data without a sigma column)`);
    return { [g.name]: parseScalePrior(text, flag) };
  };
  const family = scale(spec.sigmaPrior, '--sigma-prior');
  const simFamily = scale(spec.simSigmaPrior ?? spec.sigmaPrior, '--sim-sigma-prior');
  const priors: Priors = { mu: parseMuPrior(spec.muPrior, '--mu-prior'), tau: parseTauPrior(spec.tauPrior, '--tau-prior'), ...(family && { family }) };
  const cfg: SbcConfig = {
    design,
    params: spec.params,
    sims: spec.sims,
    chains: spec.chains,
    warmup: spec.warmup,
    draws: spec.draws,
    seed: spec.seed,
    priors,
    simPriors: { mu: parseMuPrior(spec.simMuPrior, '--sim-mu-prior'), tau: parseTauPrior(spec.simTauPrior, '--sim-tau-prior'), ...(simFamily && { family: simFamily }) },
  };
  checkConfig(cfg);
  return cfg;
}

/** Checks a job from a queue (untrusted data) and returns it. */
export function parseJob(x: unknown): Job {
  if (!isObj(x)) throw new InputError('job', 'must be an object');
  if (x.kind === 'sweep-cell') {
    const spec = parseSweepSpec(x.spec);
    const cell = int(x, 'cell', 'job.cell', 0);
    if (cell >= cellsOf(spec).length) throw new InputError('job.cell', `${cell} is not a data set of the sweep (it has ${cellsOf(spec).length})`);
    return { kind: 'sweep-cell', spec, cell };
  }
  if (x.kind !== 'sbc-shard') throw new InputError('job.kind', `unknown job kind ${clip(JSON.stringify(x.kind) ?? 'undefined')}`);
  const spec = parseSbcSpec(x.spec);
  const s = x.shard;
  if (!isObj(s)) throw new InputError('job.shard', 'must be an object');
  const shard: SbcShard = { param: str(s, 'param', 'job.shard.param'), first: int(s, 'first', 'job.shard.first', 0), count: int(s, 'count', 'job.shard.count', 1) };
  if (!spec.params.includes(shard.param)) throw new InputError('job.shard.param', `'${clip(shard.param)}' is not one of the run's parameterizations`);
  if (shard.first + shard.count > spec.sims) throw new InputError('job.shard', `simulations ${shard.first}..${shard.first + shard.count - 1} are beyond the run's ${spec.sims}`);
  return { kind: 'sbc-shard', spec, shard };
}

/** A stable key of a spec: the hex SHA-256 of its canonical JSON (the resume store and the queue's job ids use it). */
export function specKey(spec: SbcSpec | SweepSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/** JSON with object keys sorted (so equal specs give equal text). */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (isObj(x)) return `{${Object.keys(x).sort().filter((k) => x[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(x[k])}`).join(',')}}`;
  return JSON.stringify(x);
}

/** How a process runs jobs: its backend and device, progress and cancellation. */
export interface RunJobOptions {
  readonly backend?: 'webgpu' | 'cpu';
  readonly gpu?: Gpu;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Computes a job's result: an SBC shard's fits, or a sweep data set's ranked runs. */
export async function runJob(job: Job, o: RunJobOptions = {}): Promise<FitResult[] | CellResult> {
  if (job.kind === 'sweep-cell') return runCell(job.spec, job.cell, o);
  return runShard(configOf(job.spec), job.shard, o);
}

/** A job's name for logs: its kind and what it covers. */
export function jobLabel(job: Job): string {
  return job.kind === 'sweep-cell' ? `data set ${job.cell} of the sweep` : `${job.shard.count} fits of ${job.shard.param}`;
}
