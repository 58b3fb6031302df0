import { clip, InputError } from '../../errors.ts';
import type { Family } from '../family.ts';
import { normal } from './normal.ts';
import { binomial } from './binomial.ts';
import { poisson } from './poisson.ts';
import { normalSigma } from './normal_sigma.ts';

/** The registered likelihood families, by `--likelihood` id; the first is the default. */
export const FAMILIES: readonly Family[] = [normal, binomial, poisson, normalSigma];

/** The default family (`normal`). */
export const DEFAULT_FAMILY: Family = FAMILIES[0];

/** The family of a `--likelihood` value (undefined: the default). */
export function familyOf(id: string | undefined, field = '--likelihood'): Family {
  if (id === undefined) return DEFAULT_FAMILY;
  const f = FAMILIES.find((x) => x.id === id);
  if (!f) throw new InputError(field, `unknown likelihood '${clip(id)}' (expected ${FAMILIES.map((x) => x.id).join(', ')})`);
  return f;
}
