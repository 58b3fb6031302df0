/**
 * Split chains (Gelman et al. 2013; Vehtari et al. 2021): each chain's first and second
 * halves become separate chains; with an odd number of draws the middle draw is dropped
 * (`posterior:::.split_chains`). Chain order is irrelevant to every statistic computed
 * from split chains, so FunnelWeb keeps each chain's halves adjacent: split chain 2c is
 * the first half of chain c and 2c + 1 its second half. For an even number of draws this
 * is the input itself, reinterpreted; no copy is made.
 */

/** A chain-major (chains × n) float64 matrix. */
export interface ChainMatrix {
  readonly data: Float64Array;
  readonly chains: number;
  readonly n: number;
}

export function splitChains(x: Float64Array, chains: number, draws: number): ChainMatrix {
  if (draws < 2) return { data: x, chains, n: draws };
  const h = Math.floor(draws / 2);
  if (draws % 2 === 0) return { data: x, chains: 2 * chains, n: h };
  const data = new Float64Array(2 * chains * h);
  for (let c = 0; c < chains; c++) {
    const src = c * draws;
    data.set(x.subarray(src, src + h), 2 * c * h);
    data.set(x.subarray(src + draws - h, src + draws), (2 * c + 1) * h);
  }
  return { data, chains: 2 * chains, n: h };
}

/** Applies `f` elementwise into a new matrix of the same shape. */
export function mapMatrix(m: ChainMatrix, f: (v: number) => number): ChainMatrix {
  const data = new Float64Array(m.data.length);
  const src = m.data;
  for (let i = 0; i < src.length; i++) data[i] = f(src[i]);
  return { data, chains: m.chains, n: m.n };
}
