/**
 * A small InferenceData (2 chains x 6 draws, 3 groups with string labels) built by hand and
 * written with the project's own writers, for the reader tests: what the file holds is
 * known exactly, so a reader's answer can be compared with it value by value.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { IdVariable, InferenceData } from '../src/io/inference_data.ts';
import type { DrawsTable } from '../src/io/draws_csv.ts';
import { toNetcdf } from '../src/io/netcdf.ts';
import { toZarr } from '../src/io/zarr.ts';

export const CHAINS = 2;
export const DRAWS = 6;
export const LABELS = ['a', 'bb', 'ccc'];

function seq(n: number, f: (i: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => f(i));
}

/** The InferenceData: posterior mu, tau, theta[group]; sample_stats energy, diverging, acceptance_rate. */
export function smallIdata(): InferenceData {
  const n = CHAINS * DRAWS;
  const K = LABELS.length;
  const coords = (extra: IdVariable[] = []): IdVariable[] => [
    { name: 'chain', dims: ['chain'], data: BigInt64Array.from({ length: CHAINS }, (_, i) => BigInt(i)) },
    { name: 'draw', dims: ['draw'], data: BigInt64Array.from({ length: DRAWS }, (_, i) => BigInt(i)) },
    ...extra,
  ];
  return {
    attrs: { created_at: '2026-01-01T00:00:00Z' },
    groups: [
      {
        name: 'posterior',
        dims: { chain: CHAINS, draw: DRAWS, group: K },
        attrs: {},
        variables: [
          ...coords([{ name: 'group', dims: ['group'], data: LABELS }]),
          { name: 'mu', dims: ['chain', 'draw'], data: seq(n, (i) => Math.sin(i + 1) * 3 + 0.5) },
          { name: 'tau', dims: ['chain', 'draw'], data: seq(n, (i) => 1 + ((i * 7) % 5) / 3) },
          { name: 'theta', dims: ['chain', 'draw', 'group'], data: seq(n * K, (i) => Math.cos(i * 0.7) * 2 - 1) },
        ],
      },
      {
        name: 'sample_stats',
        dims: { chain: CHAINS, draw: DRAWS },
        attrs: {},
        variables: [
          ...coords(),
          { name: 'energy', dims: ['chain', 'draw'], data: seq(n, (i) => 10 + ((i * 13) % 7)) },
          { name: 'diverging', dims: ['chain', 'draw'], data: Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0)), bool: true },
          { name: 'acceptance_rate', dims: ['chain', 'draw'], data: seq(n, (i) => 0.5 + (i % 4) / 10) },
        ],
      },
    ],
  };
}

/** The DrawsTable a correct reader returns for `smallIdata()`. */
export function expectedDraws(): DrawsTable {
  const g = smallIdata();
  const post = g.groups[0].variables;
  const stats = g.groups[1].variables;
  const v = (vs: readonly IdVariable[], name: string) => vs.find((x) => x.name === name)!.data as Float64Array;
  const n = CHAINS * DRAWS;
  const theta = v(post, 'theta');
  const params: Record<string, Float64Array> = { mu: v(post, 'mu'), tau: v(post, 'tau') };
  LABELS.forEach((l, k) => (params[`theta[${l}]`] = seq(n, (i) => theta[i * LABELS.length + k])));
  return {
    chains: CHAINS,
    draws: DRAWS,
    chainIds: Array.from({ length: CHAINS }, (_, i) => i),
    params,
    energy: v(stats, 'energy'),
    divergent: v(stats, 'diverging') as unknown as Uint8Array,
    acceptProb: v(stats, 'acceptance_rate'),
  };
}

/** Writes the Zarr store under `dir` (a `.zarr` directory); returns its files by key. */
export function writeZarrStore(dir: string, files = toZarr(smallIdata())): Map<string, Uint8Array> {
  for (const [key, bytes] of files) {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), bytes);
  }
  return files;
}

/** The netCDF-4 bytes of `smallIdata()`. */
export function netcdfBytes(): Promise<Uint8Array> {
  return toNetcdf(smallIdata());
}
