/**
 * One (K, chains) cell of the families table (test/bench/families.ts), every family in one
 * process on one device so that their timings are comparable on a busy machine: each family
 * gets its own WebGPU backend (K groups of its data from test/family_data.ts, noncentered),
 * then `rounds` rounds of `iters` transitions of L leapfrog steps run family after family
 * (the order rotated each round), and each family keeps its best round. Prints one JSON line
 * with, per family:
 *   compile_s      creating the backend (every pipeline compiled, buffers allocated);
 *   warmup_first_s, warmup_iter_s   the first and the second warmup iteration (L steps and
 *                  the ensemble statistics read back; the first includes its pipelines' first use);
 *   grad_per_s     gradient evaluations per second while sampling, best round;
 *   divergent      fraction of divergent transitions (their remaining steps are not
 *                  computed, so a divergent cell's rate is not the kernel's: the step size
 *                  below keeps every cell at 0);
 *   kernel         'baked', or the wide kernel's form / threads per chain.
 *
 *   npx tsx test/bench/family_probe.ts K chains L iters rounds [registers|stream|-] family[,family...]
 *
 * A family is a registered id (src/model/families) or `id=path.wgsl`: that family with its
 * WGSL `lik` replaced by the file's, to measure a variant of a likelihood kernel against the
 * registered one in the same process.
 */
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FAMILIES, DEFAULT_FAMILY, familyOf } from '../../src/model/families/index.ts';
import type { Family } from '../../src/model/family.ts';
import { makeModel } from '../../src/model/model.ts';
import { parseParameterization } from '../../src/model/parameterization.ts';
import { createWebGpuBackend } from '../../src/sampler/gpu_backend.ts';
import type { Backend } from '../../src/sampler/backend.ts';
import { initialPositions, keyFromSeed } from '../../src/sampler/rng.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { familyData } from '../family_data.ts';
import { peakRssMb } from './synthetic.ts';

/**
 * Fixed step size (no adaptation: the kernel's cost is the figure), stable for every family
 * up to K = 10,000 from the starts below: mu's curvature is the sum of the groups' Fisher
 * information (binomial at p = 1/2 with up to 150 trials a group: under 37.5 a group, so
 * under 375,000 at K = 10,000, and eps sqrt(375,000) = 1.2 < 2).
 */
const STEP_SIZE = 0.002;

const [K, chains, L, iters, rounds] = process.argv.slice(2, 7).map(Number);
const form = process.argv[7] && process.argv[7] !== '-' ? (process.argv[7] as 'registers' | 'stream') : undefined;
const specs = (process.argv[8] ?? FAMILIES.map((f) => f.id).join(',')).split(',');

/** A registered family, or a variant of one whose WGSL `lik` is another file. */
function familyOfSpec(spec: string): Family {
  const [id, path] = spec.split('=');
  const base = familyOf(id);
  if (!path) return base;
  const variant: Family = { ...base, id: `${id}=${basename(path)}`, shader: pathToFileURL(path) };
  // Registered for this process only, so that the model (familyOf(data.likelihood)) finds it.
  (FAMILIES as Family[]).push(variant);
  return variant;
}

interface Cell {
  readonly id: string;
  readonly backend: Backend;
  readonly out: Record<string, unknown>;
  best: number;
  readonly invMass: Float64Array;
}

const out: Record<string, unknown> = { K, chains, L, iters, rounds, ...(form && { form }) };
try {
  const gpu = await requestGpu();
  const cells: Cell[] = [];
  for (const spec of specs) {
    const family = familyOfSpec(spec);
    const { data: d } = familyData(familyOf(spec.split('=')[0]), K);
    const data = family === DEFAULT_FAMILY ? d : { ...d, likelihood: family.id };
    const model = makeModel(data, parseParameterization('noncentered', data.labels));
    const t0 = performance.now();
    const backend = await createWebGpuBackend(model, chains, 1, gpu, { wideKernel: form });
    const o: Record<string, unknown> = { compile_s: (performance.now() - t0) / 1000 };
    const info = backend as unknown as { wideLayout: { kind: string; tpc: number } | null };
    o.kernel = info.wideLayout ? `${info.wideLayout.kind}/${info.wideLayout.tpc}` : 'baked';
    // Starts at mu = 0, tau = 1, z on (-1, 1): theta near the data's, for every family.
    const { layout } = model;
    const invMass = new Float64Array(layout.dim).fill(1);
    const init = initialPositions(keyFromSeed(1), chains, K, undefined, layout.groupStart);
    for (let c = 0; c < chains; c++) {
      const row = c * layout.dim;
      init[row + layout.global('mu')] = 0;
      init[row + layout.global('log_tau')] = 0;
      for (let k = 0; k < K; k++) init[row + layout.group(k)] *= 0.5;
    }
    await backend.init(init);
    const warm: number[] = [];
    for (let it = 0; it < 2; it++) {
      const tw = performance.now();
      backend.step({ iteration: it, stepSize: STEP_SIZE, numSteps: L, invMass });
      await backend.ensembleStats();
      warm.push((performance.now() - tw) / 1000);
    }
    [o.warmup_first_s, o.warmup_iter_s] = warm;
    // One untimed sampling transition (the sampling pipeline's first use).
    backend.beginSampling(1 + rounds * iters, 0);
    backend.step({ iteration: 2, stepSize: STEP_SIZE, numSteps: L, invMass });
    await backend.sync();
    cells.push({ id: family.id, backend, out: o, best: 0, invMass });
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[(i + r) % cells.length];
      const t1 = performance.now();
      for (let n = 0; n < iters; n++) cell.backend.step({ iteration: 3 + r * iters + n, stepSize: STEP_SIZE, numSteps: L, invMass: cell.invMass });
      await cell.backend.sync();
      cell.best = Math.max(cell.best, (chains * L * iters) / ((performance.now() - t1) / 1000));
    }
  }
  const families: Record<string, unknown> = {};
  for (const cell of cells) {
    const { totals } = await cell.backend.collect();
    const transitions = chains * (1 + rounds * iters);
    // Steps a divergent chain skipped are not gradient evaluations: scale the best round by
    // the fraction computed.
    cell.out.grad_per_s = (cell.best * totals.gradientEvals) / (transitions * L);
    cell.out.divergent = totals.divergences / transitions;
    families[cell.id] = cell.out;
    cell.backend.destroy();
  }
  out.families = families;
  gpu.device.destroy();
} catch (err) {
  out.error = (err as Error).message.split('\n')[0];
}
out.max_rss_mb = peakRssMb();
console.log(JSON.stringify(out));
process.exit(0);
