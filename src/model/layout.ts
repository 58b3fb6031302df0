/**
 * The layout of a model's unconstrained coordinates: the globals, then one block of group
 * coordinates (z_0 .. z_{K-1}). This module is the only place where a coordinate gets an
 * index; every other layer (the sampler, the device's packing, records, constrain, writers,
 * figures, the page) asks the layout, by name, where a coordinate lives.
 *
 *   q = (mu, log_tau, z_0, ..., z_{K-1}),   D = 2 + K.
 *
 * The hierarchy's globals are mu and s = log tau; a likelihood family may add its own
 * (appended after them), and population-level predictors add one coefficient each,
 * `beta[<name>]`, last of the globals, before the groups:
 *
 *   q = (mu, log_tau[, x], beta_0, ..., beta_{P-1}, z_0, ..., z_{K-1}).
 */
export interface ModelLayout {
  /** Number of groups. */
  readonly K: number;
  /** Coordinates per position: globals + K. */
  readonly dim: number;
  /** Names of the global coordinates, in order ('mu', 'log_tau', then the family's). */
  readonly globals: readonly string[];
  /** Index of the first group coordinate (= number of globals). */
  readonly groupStart: number;
  /** Index of the named global coordinate; throws a RangeError for an unknown name. */
  global(name: GlobalName): number;
  /** Index of group k's coordinate z_k. */
  group(k: number): number;
  /** Names of every coordinate: the globals, then `z[<label>]`. */
  names(labels: readonly string[]): string[];
  /** The population-level coefficients: index of beta_0 and their number P (0: none). */
  readonly beta: { readonly start: number; readonly count: number };
}

/** The hierarchy's global coordinates (and any a family adds). */
export type GlobalName = 'mu' | 'log_tau' | (string & {});

/** The hierarchy's own globals, in order. */
const HIERARCHY_GLOBALS = ['mu', 'log_tau'] as const;

/**
 * The layout of a K-group model whose family adds the globals `extra`, with one coefficient
 * per predictor name in `predictors` (coordinate `beta[<name>]`).
 */
export function makeLayout(K: number, extra: readonly string[] = [], predictors: readonly string[] = []): ModelLayout {
  const globals = [...HIERARCHY_GLOBALS, ...extra, ...predictors.map(betaName)];
  const index = new Map(globals.map((g, i) => [g, i]));
  const groupStart = globals.length;
  return {
    K,
    dim: groupStart + K,
    globals,
    groupStart,
    global(name) {
      const i = index.get(name);
      if (i === undefined) throw new RangeError(`the model has no global coordinate '${name}' (it has ${globals.join(', ')})`);
      return i;
    },
    group: (k) => groupStart + k,
    beta: { start: HIERARCHY_GLOBALS.length + extra.length, count: predictors.length },
    names: (labels) => [...globals, ...labels.map((l) => `z[${l}]`)],
  };
}

/** Coordinate and output name of a predictor's coefficient: `beta[<name>]`. */
export function betaName(predictor: string): string {
  return `beta[${predictor}]`;
}
