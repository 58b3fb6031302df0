/**
 * The page's settings as URL query parameters: data choice (or the generator's parameters,
 * or short pasted data), likelihood, parameterizations, compare set and sampler options. A
 * link holds the whole experiment; `history.replaceState` keeps the current settings across
 * reloads.
 *
 * The likelihood family's columns have keys of their own, made from the column's name, so a
 * new family's columns travel without an edit here: the generator's value of column `c` is
 * `g<c>` (`gsigma`, `gtrials`), and so is the true value of a family global of natural-scale
 * name `c` (unknown sigma: `gsigma`); the pasted data's fallback value of `c` is `<c>` (`sigma`).
 * Both are the keys that links made before families existed use for sigma.
 *
 * The predictors (`pred`) travel with pasted data and the radon set, the column mapping
 * (`cols`) with pasted data.
 */

/** The parameterizations the page offers (`auto` where the library has it). */
export const PARAM_KINDS = ['centered', 'noncentered', 'mixed', 'partial', 'auto'] as const;
export type ParamKind = (typeof PARAM_KINDS)[number];

/** Every setting, as the form's text. */
export interface Settings {
  data: string;
  likelihood: string;
  genK: string;
  genN: string;
  genMu: string;
  genTau: string;
  genSeed: string;
  /**
   * The generator's value of each of the family's columns, by column name, and the true value
   * of each of its globals, by natural-scale name (`sigma`: the same key, `gsigma`, whether
   * sigma is a known column or an unknown parameter).
   */
  genColumns: Record<string, string>;
  text: string;
  /** The value of each column the pasted data may leave out (empty: none), by column name. */
  fallback: Record<string, string>;
  param: string;
  mixed: string;
  partial: string;
  compare: string;
  chains: string;
  warmup: string;
  draws: string;
  seed: string;
  backend: string;
  /** The predictors (`x1,x2,x1:x2`) of pasted data and the radon set; blank: none. */
  predictors?: string;
  /** The column mapping of pasted data (`y=log_radon,group=county_idx`); blank: none. */
  columns?: string;
}

/** The settings with one text value each (the columns' maps apart). */
type Scalar = Exclude<keyof Settings, 'genColumns' | 'fallback'>;

/**
 * Longest pasted data kept in the URL (characters). Browsers take URLs of tens of
 * kilobytes, but links get cut by mail clients and chat; longer data stay on the page only
 * (the page says so).
 */
export const MAX_URL_TEXT = 2000;

/** URL keys: short, stable names (changing one breaks old links). */
const KEYS: Record<Scalar, string> = {
  data: 'data',
  likelihood: 'lik',
  genK: 'K',
  genN: 'n',
  genMu: 'gmu',
  genTau: 'gtau',
  genSeed: 'gseed',
  text: 'text',
  param: 'param',
  mixed: 'mixed',
  partial: 'partial',
  compare: 'compare',
  chains: 'chains',
  warmup: 'warmup',
  draws: 'draws',
  seed: 'seed',
  backend: 'backend',
  predictors: 'pred',
  columns: 'cols',
};

/** The URL key of the generator's value of column `name`. */
const genKey = (name: string) => `g${name}`;

/** Which settings matter for which data source (the others stay out of the URL). */
const GENERATOR_KEYS: readonly Scalar[] = ['genK', 'genN', 'genMu', 'genTau', 'genSeed'];
const CUSTOM_KEYS: readonly Scalar[] = ['text', 'columns'];
/** Sources that take predictors (`data_source.ts` takesPredictors). */
const PREDICTOR_SOURCES = ['custom', 'radon'];
/** Sources whose likelihood the form chooses (the bundled sets fix theirs). */
const CHOSEN_LIKELIHOOD = ['generated', 'custom'];

/** The query string of `s` (without '?'). */
export function encodeSettings(s: Settings): string {
  const q = new URLSearchParams();
  for (const key of Object.keys(KEYS) as Scalar[]) {
    if (GENERATOR_KEYS.includes(key) && s.data !== 'generated') continue;
    if (CUSTOM_KEYS.includes(key) && s.data !== 'custom') continue;
    if (key === 'likelihood' && !CHOSEN_LIKELIHOOD.includes(s.data)) continue;
    if (key === 'text' && s.text.length > MAX_URL_TEXT) continue;
    if (key === 'partial' && s.partial === '') continue;
    // The radon set's predictors are kept even when blank (it starts with two of its own).
    if (key === 'predictors' && (!PREDICTOR_SOURCES.includes(s.data) || s.predictors === undefined || (s.predictors === '' && s.data !== 'radon'))) continue;
    if (key === 'columns' && !s.columns) continue;
    const value = s[key];
    if (value === undefined) continue;
    q.set(KEYS[key], value);
    if (key === 'genSeed') for (const [name, v] of Object.entries(s.genColumns)) q.set(genKey(name), v);
    if (key === 'text') for (const [name, v] of Object.entries(s.fallback)) if (v !== '') q.set(name, v);
  }
  return q.toString();
}

/**
 * The settings a query string names (absent keys are left out). A key that is no setting's
 * is a column's: `g<c>` the generator's value of column c, any other the pasted data's
 * fallback value (the form reads only its family's columns).
 */
export function decodeSettings(search: string): Partial<Settings> {
  const q = new URLSearchParams(search);
  const out: Partial<Settings> = {};
  const known = new Set(Object.values(KEYS));
  for (const key of Object.keys(KEYS) as Scalar[]) {
    const v = q.get(KEYS[key]);
    if (v !== null) out[key] = v;
  }
  for (const [k, v] of q) {
    if (known.has(k) || k === '') continue;
    if (k.startsWith('g') && k.length > 1) (out.genColumns ??= {})[k.slice(1)] = v;
    else (out.fallback ??= {})[k] = v;
  }
  return out;
}

export function readUrlSettings(search: string): Partial<Settings> {
  return decodeSettings(search);
}

export function writeUrlSettings(s: Settings): void {
  const query = encodeSettings(s);
  if (location.search.slice(1) !== query) history.replaceState(null, '', `${location.pathname}?${query}${location.hash}`);
}
