/**
 * The page's settings as URL query parameters: data choice (or the generator's parameters,
 * or short pasted data), parameterizations, compare set and sampler options. A link holds
 * the whole experiment; `history.replaceState` keeps the current settings across reloads.
 */

/** The parameterizations the page offers (`auto` where the library has it). */
export const PARAM_KINDS = ['centered', 'noncentered', 'mixed', 'partial', 'auto'] as const;
export type ParamKind = (typeof PARAM_KINDS)[number];

/** Every setting, as the form's text. */
export interface Settings {
  data: string;
  genK: string;
  genN: string;
  genSigma: string;
  genMu: string;
  genTau: string;
  genSeed: string;
  text: string;
  sigma: string;
  param: string;
  mixed: string;
  partial: string;
  compare: string;
  chains: string;
  warmup: string;
  draws: string;
  seed: string;
  backend: string;
}

/**
 * Longest pasted data kept in the URL (characters). Browsers take URLs of tens of
 * kilobytes, but links get cut by mail clients and chat; longer data stay on the page only
 * (the page says so).
 */
export const MAX_URL_TEXT = 2000;

/** URL keys: short, stable names (changing one breaks old links). */
const KEYS: Record<keyof Settings, string> = {
  data: 'data',
  genK: 'K',
  genN: 'n',
  genSigma: 'gsigma',
  genMu: 'gmu',
  genTau: 'gtau',
  genSeed: 'gseed',
  text: 'text',
  sigma: 'sigma',
  param: 'param',
  mixed: 'mixed',
  partial: 'partial',
  compare: 'compare',
  chains: 'chains',
  warmup: 'warmup',
  draws: 'draws',
  seed: 'seed',
  backend: 'backend',
};

/** Which settings matter for which data source (the others stay out of the URL). */
const GENERATOR_KEYS: readonly (keyof Settings)[] = ['genK', 'genN', 'genSigma', 'genMu', 'genTau', 'genSeed'];
const CUSTOM_KEYS: readonly (keyof Settings)[] = ['text', 'sigma'];

/** The query string of `s` (without '?'). */
export function encodeSettings(s: Settings): string {
  const q = new URLSearchParams();
  for (const key of Object.keys(KEYS) as (keyof Settings)[]) {
    if (GENERATOR_KEYS.includes(key) && s.data !== 'generated') continue;
    if (CUSTOM_KEYS.includes(key) && s.data !== 'custom') continue;
    if (key === 'text' && s.text.length > MAX_URL_TEXT) continue;
    if (key === 'partial' && s.partial === '') continue;
    q.set(KEYS[key], s[key]);
  }
  return q.toString();
}

/** The settings a query string names (absent keys are left out). */
export function decodeSettings(search: string): Partial<Settings> {
  const q = new URLSearchParams(search);
  const out: Partial<Settings> = {};
  for (const key of Object.keys(KEYS) as (keyof Settings)[]) {
    const v = q.get(KEYS[key]);
    if (v !== null) out[key] = v;
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
