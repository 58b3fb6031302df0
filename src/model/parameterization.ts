import { clip, InputError } from '../errors.ts';

/**
 * Per-group centeredness c_k in [0, 1] (Gorinova, Moore & Hoffman 2020, "Automatic
 * reparameterisation of probabilistic programs"; NumPyro's LocScaleReparam):
 *
 *   z_k ~ Normal(c_k mu, tau^{c_k}),   theta_k = mu + tau^{1 - c_k} (z_k - c_k mu).
 *
 * c_k = 1 is centered (z_k = theta_k), c_k = 0 non-centered (z_k = eta_k), and any mix
 * or fractional value is allowed.
 */
export type Centeredness = Float64Array;

/**
 * Parses a named parameterization:
 * - `centered` (all c_k = 1), `noncentered` (all c_k = 0);
 * - `mixed:G,G,...`: the listed groups centered, the others non-centered. A group is named
 *   by its label, or else by its 0-based index;
 * - `partial:c_0,...,c_{K-1}`: one centeredness in [0, 1] per group.
 */
export function parseParameterization(text: string, labels: readonly string[], field = '--param'): Centeredness {
  const K = labels.length;
  const t = text.trim();
  if (t === 'centered') return new Float64Array(K).fill(1);
  if (t === 'noncentered' || t === 'non-centered') return new Float64Array(K).fill(0);
  if (t.startsWith('mixed:')) {
    const c = new Float64Array(K);
    const names = t.slice(6).split(',').map((x) => x.trim());
    if (names.length === 0 || names.some((x) => x === '')) throw new InputError(field, `'${clip(text)}' has an empty group name`);
    for (const name of names) {
      let k = labels.indexOf(name);
      if (k < 0 && /^\d+$/.test(name)) k = Number(name);
      if (!(k >= 0 && k < K)) throw new InputError(field, `group '${clip(name)}' is neither a label nor an index in 0..${K - 1}`);
      c[k] = 1;
    }
    return c;
  }
  if (t.startsWith('partial:')) {
    const parts = t.slice(8).split(',');
    if (parts.length !== K) throw new InputError(field, `partial needs ${K} values (one per group), got ${parts.length}`);
    return Float64Array.from(parts, (p, k) => {
      const v = Number(p.trim());
      if (p.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) {
        throw new InputError(field, `centeredness of group ${k} must be a number in [0, 1], got '${clip(p)}'`);
      }
      return v;
    });
  }
  throw new InputError(field, `expected centered, noncentered, mixed:G,G,..., partial:c,c,..., auto or auto-binary, got '${clip(text)}'`);
}

/** Short human name of a centeredness vector (e.g. for tables and plots). */
export function describeParameterization(c: Centeredness): string {
  if (c.every((v) => v === 1)) return 'centered';
  if (c.every((v) => v === 0)) return 'noncentered';
  if (c.every((v) => v === 0 || v === 1)) {
    return 'mixed:' + Array.from(c).flatMap((v, k) => (v === 1 ? [k] : [])).join(',');
  }
  return 'partial:' + Array.from(c).join(',');
}
