/**
 * Synthetic data of any likelihood family (`src/model/families`), like the seed study's
 * (SEED.md): true mu and tau, theta_k ~ Normal(mu, tau), and n_k observations in each of K
 * groups. Each observation's columns (normal: sigma; binomial: trials) take the values the
 * page's inputs give (initially each ColumnSpec's `example`), and y is one draw of the
 * family's observation model, `family.predict(data, i, theta_k, rng, x)`, where x is the
 * family's global parameter where it has one (the normal likelihood with unknown sigma: x =
 * log sigma), at the true value the page's input gives on its natural scale (sigma). A new
 * family is generated without an edit here. The group sizes are one fixed n, or spread log-uniformly
 * over a range [lo, hi] (the study's unbalanced set spans 1 to 1,000), so that weakly and
 * strongly informed groups sit side by side.
 *
 * Randomness is Philox4x32-10 (`src/sampler/rng.ts`) keyed by the seed, so a generator's
 * settings (and hence a shared link) always give the same data. The normal family's data
 * are those of the generator before families existed, bit for bit.
 */
import type { HierData } from '../src/model/data.ts';
import { familyGlobals, type Family, type FamilyGlobal, type Variates } from '../src/model/family.ts';
import { DEFAULT_FAMILY, familyOf } from '../src/model/families/index.ts';
import { clip, InputError } from '../src/errors.ts';
import { keyFromSeed, philox4x32, philox4x32Into, toUnit, type PhiloxKey } from '../src/sampler/rng.ts';

export interface GeneratorSettings {
  /** The likelihood family's id (`FAMILIES`). */
  readonly likelihood: string;
  /** Groups. */
  readonly K: number;
  /** Observations per group: one count, or the range [lo, hi] (log-uniform). */
  readonly nLo: number;
  readonly nHi: number;
  /** One value per column of the family (every observation gets it), by column name. */
  readonly columns: Readonly<Record<string, number>>;
  /**
   * The true value of each of the family's global parameters (`familyGlobals`) on its natural
   * scale, by its constrained name (`sigma`); empty for a family without one.
   */
  readonly globals: Readonly<Record<string, number>>;
  readonly mu: number;
  readonly tau: number;
  readonly seed: number;
}

/** The study's unbalanced design as a generator: K = 9, 1 to 1,000 per group, sigma = 10, mu = 4.5, tau = 3.5. */
export const DEFAULT_GENERATOR: GeneratorSettings = { likelihood: DEFAULT_FAMILY.id, K: 9, nLo: 1, nHi: 1000, columns: { sigma: 10 }, globals: {}, mu: 4.5, tau: 3.5, seed: 1 };

/**
 * True mu and tau offered for a family whose theta is not on y's scale (a logit, a log rate):
 * theta near 0 with a spread of one unit (as test/family_data.ts). A family with the identity
 * link takes the study's truth (mu = 4.5, tau = 3.5: DEFAULT_GENERATOR).
 */
export const LINK_SCALE_TRUTH = { mu: 0, tau: 1 } as const;

/**
 * True value offered for a family global that is a scale in y's units (`logScaleOfY`: the
 * normal likelihood's unknown sigma): the study's sigma = 10 (SEED.md, the weak and unbalanced
 * sets), so that with the default design (1 to 1,000 observations per group, tau = 3.5) the
 * groups with few observations are weakly informed and the centered form shows its funnel.
 */
export const SCALE_GLOBAL_TRUTH = 10;

/** A column's starting value in the generator: its typical value (`example`), else its default (`value`). */
export function columnStart(c: Family['columns'][number]): number {
  return Number.isFinite(c.example) ? c.example : (c.value ?? 1);
}

/**
 * A family global's true value to start the generator with (the page's input, on the
 * global's natural scale), or undefined where the generator has none to offer.
 */
export function globalStart(g: FamilyGlobal): number | undefined {
  return g.logScaleOfY ? SCALE_GLOBAL_TRUTH : undefined;
}

/**
 * The unconstrained coordinate x of a family global at its natural-scale value v (what
 * `family.predict` takes): x = log v for a global that is the log of a scale (`logScaleOfY`:
 * v = e^x, `constrained.of` = exp).
 *
 * @throws InputError naming the generator's field when v is not a valid value (a scale must
 *   be a finite number > 0), or when the generator knows no inverse of the global's map.
 */
export function globalCoordinate(g: FamilyGlobal, v: number | undefined): number {
  const field = `generator ${g.constrained.name}`;
  if (!g.logScaleOfY) throw new InputError(field, `the generator cannot set ${g.constrained.name} (no inverse of its map from ${g.name})`);
  if (v === undefined || !Number.isFinite(v) || !(v > 0)) throw new InputError(field, `must be a finite number > 0, got ${v}`);
  return Math.log(v);
}

/**
 * The generator's settings for `family`: the default design, each column at its starting
 * value, each global at its starting value (`globalStart`), and mu and tau on theta's scale.
 */
export function generatorFor(family: Family): GeneratorSettings {
  const columns = Object.fromEntries(family.columns.map((c) => [c.name, columnStart(c)]));
  const globals = Object.fromEntries(familyGlobals(family).flatMap((g) => {
    const v = globalStart(g);
    return v === undefined ? [] : [[g.constrained.name, v] as const];
  }));
  const truth = family.link === 'identity' ? { mu: DEFAULT_GENERATOR.mu, tau: DEFAULT_GENERATOR.tau } : LINK_SCALE_TRUTH;
  return { ...DEFAULT_GENERATOR, likelihood: family.id, columns, globals, ...truth };
}

/** Most observations a generated data set may hold (the page keeps them all in memory, and plots them). */
export const MAX_GENERATED_OBSERVATIONS = 1_000_000;
/** Most groups (the page draws a funnel panel per group; the sampler takes more). */
export const MAX_GENERATED_GROUPS = 1000;

/** Philox streams of the generator: counter word 2 tells them apart. */
const STREAM_SIZE = 0;
const STREAM_THETA = 1;
const STREAM_Y = 2;
/** Counter word 3 of every stream's first block; observation variates past it count up from here. */
const BLOCK0 = 0x5eed;

/** A standard normal from Philox words (Box–Muller on the first two words of counter (i, j, stream)). */
function normal(key: PhiloxKey, i: number, j: number, stream: number): number {
  const w = philox4x32([i, j, stream, BLOCK0], key);
  return Math.sqrt(-2 * Math.log(toUnit(w[0]))) * Math.cos(2 * Math.PI * toUnit(w[1]));
}

function uniform(key: PhiloxKey, i: number, stream: number): number {
  return toUnit(philox4x32([i, 0, stream, BLOCK0], key)[0]);
}

/** Variates from Philox counters, restartable at a new counter without allocating. */
export interface CounterVariates extends Variates {
  /** Starts over at counter (i, j, c2, c3) (block 0). */
  start(i: number, j: number): CounterVariates;
}

/**
 * Variates from the words of Philox blocks (i, j, c2, c3), then the same counter with word
 * `step` (2 or 3) increased by 1, 2, ... as more words are needed; a normal takes two words
 * (Box–Muller, the cosine branch), a uniform one. The first normal of block 0 is the one
 * the page drew before families existed (the generator's y, the predictive check's y_rep),
 * so a normal family's draws keep their bits.
 */
export function counterVariates(key: PhiloxKey, c2: number, c3: number, step: 2 | 3): CounterVariates {
  const words = new Uint32Array(4);
  let i = 0;
  let j = 0;
  let block = 0;
  let at = 4;
  const word = () => {
    if (at === 4) {
      philox4x32Into(i, j, step === 2 ? c2 + block : c2, step === 3 ? c3 + block : c3, key[0], key[1], words);
      block++;
      at = 0;
    }
    return words[at++];
  };
  const v: CounterVariates = {
    start(i_, j_) {
      i = i_;
      j = j_;
      block = 0;
      at = 4;
      return v;
    },
    uniform: () => toUnit(word()),
    normal: () => {
      const u1 = toUnit(word());
      const u2 = toUnit(word());
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
  };
  return v;
}

/** Checks one column value against its ColumnSpec (bounds, whole numbers). */
function checkColumn(c: Family['columns'][number], v: number | undefined): number {
  const field = `generator ${c.name}`;
  if (v === undefined || !Number.isFinite(v)) throw new InputError(field, `must be a finite number, got ${v}`);
  if (c.integer && !Number.isInteger(v)) throw new InputError(field, `must be a whole number, got ${v}`);
  if (c.exclusive ? !(v > c.min) : !(v >= c.min)) throw new InputError(field, `must be ${c.exclusive ? '>' : '>='} ${c.min}, got ${v}`);
  return v;
}

/** Checks the settings, naming the field at fault (the page shows the message); returns the family. */
export function checkGenerator(g: GeneratorSettings): Family {
  const family = familyOf(g.likelihood, 'generator likelihood');
  const int = (field: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new InputError(`generator ${field}`, `must be an integer in [${min}, ${max}], got ${v}`);
  };
  int('K', g.K, 1, MAX_GENERATED_GROUPS);
  int('observations per group', g.nLo, 0, MAX_GENERATED_OBSERVATIONS);
  int('observations per group (upper end)', g.nHi, g.nLo, MAX_GENERATED_OBSERVATIONS);
  for (const c of family.columns) checkColumn(c, g.columns[c.name]);
  const extra = Object.keys(g.columns).find((name) => !family.columns.some((c) => c.name === name));
  if (extra !== undefined) throw new InputError(`generator ${clip(extra, 40)}`, `is not a column of the ${family.id} likelihood`);
  const globals = familyGlobals(family);
  for (const gl of globals) globalCoordinate(gl, g.globals[gl.constrained.name]);
  const extraGlobal = Object.keys(g.globals).find((name) => !globals.some((gl) => gl.constrained.name === name));
  if (extraGlobal !== undefined) throw new InputError(`generator ${clip(extraGlobal, 40)}`, `is not a parameter of the ${family.id} likelihood`);
  if (!Number.isFinite(g.mu)) throw new InputError('generator mu', `must be a finite number, got ${g.mu}`);
  if (!(Number.isFinite(g.tau) && g.tau > 0)) throw new InputError('generator tau', `must be a finite number > 0, got ${g.tau}`);
  int('seed', g.seed, 0, 2 ** 32 - 1);
  return family;
}

/** Group sizes: n_k = round(exp(U(log lo', log hi'))) with lo' = max(lo, 0.5), so 0 stays possible when lo = 0. */
export function groupSizes(g: GeneratorSettings): Int32Array {
  const key = keyFromSeed(g.seed);
  const out = new Int32Array(g.K);
  if (g.nLo === g.nHi) return out.fill(g.nLo);
  const a = Math.log(Math.max(g.nLo, 0.5));
  const b = Math.log(g.nHi + 0.5);
  for (let k = 0; k < g.K; k++) out[k] = Math.min(g.nHi, Math.max(g.nLo, Math.round(Math.exp(a + (b - a) * uniform(key, k, STREAM_SIZE)))));
  return out;
}

/**
 * Generates the data set, and the true theta_k it was drawn from. The column named `sigma`
 * is HierData's own `sigma` (the normal family's known sd); every other column goes to
 * `columns`; the default family's data carry no `likelihood`, as a seed-format file's do.
 */
export function generateData(g: GeneratorSettings): { data: HierData; theta: Float64Array } {
  const family = checkGenerator(g);
  const sizes = groupSizes(g);
  const N = sizes.reduce((a, b) => a + b, 0);
  if (N > MAX_GENERATED_OBSERVATIONS) throw new InputError('generator observations per group', `${N} observations in all exceed ${MAX_GENERATED_OBSERVATIONS}`);
  if (N === 0) throw new InputError('generator observations per group', 'every group is empty: no data');
  const key = keyFromSeed(g.seed);
  const theta = Float64Array.from({ length: g.K }, (_, k) => g.mu + g.tau * normal(key, k, 0, STREAM_THETA));
  const cols: Record<string, Float64Array> = {};
  for (const c of family.columns) cols[c.name] = new Float64Array(N).fill(g.columns[c.name]);
  const { sigma = new Float64Array(0), ...columns } = cols;
  const y = new Float64Array(N);
  const group = new Int32Array(N);
  const data: HierData = {
    ...(family !== DEFAULT_FAMILY && { likelihood: family.id }),
    y,
    group,
    sigma,
    ...(Object.keys(columns).length > 0 && { columns }),
    K: g.K,
    labels: Array.from({ length: g.K }, (_, k) => String(k)),
  };
  for (let k = 0, i = 0; k < g.K; k++) {
    for (let j = 0; j < sizes[k]; j++, i++) group[i] = k;
  }
  // The family's global at its true value (at most one: MAX_FAMILY_GLOBALS), as predict takes it.
  const global = familyGlobals(family)[0];
  const x = global ? globalCoordinate(global, g.globals[global.constrained.name]) : undefined;
  // Observation j of group k: blocks (k, j, STREAM_Y, BLOCK0 + b).
  const rng = counterVariates(key, STREAM_Y, BLOCK0, 3);
  for (let k = 0, i = 0; k < g.K; k++) {
    for (let j = 0; j < sizes[k]; j++, i++) y[i] = family.predict(data, i, theta[k], rng.start(k, j), x);
  }
  return { data, theta };
}
