/**
 * The page's SBC worker: simulation-based calibration of the page's data as the design
 * (`src/sbc/`), every simulation of a parameterization in one batch (`src/batch/`), off the
 * page's thread; posts progress, stops on request, and posts each parameterization's ranks
 * and calibration.
 */
import { assemble, rankedNames, runShard, SBC_ALPHA, type FitResult, type SbcConfig } from '../src/sbc/sbc.ts';
import { ecdfBand, RANK_DRAWS } from '../src/sbc/ranks.ts';
import { DEFAULT_PRIORS } from '../src/model/priors.ts';
import type { SbcFromWorker, SbcToWorker } from './sbc_protocol.ts';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<SbcToWorker>) => void) | null;
  postMessage(message: SbcFromWorker): void;
}
const scope = self as unknown as WorkerScope;
let controller: AbortController | null = null;

scope.onmessage = async (ev) => {
  const msg = ev.data;
  if (msg.type === 'stop') {
    controller?.abort();
    return;
  }
  controller = new AbortController();
  const r = msg.request;
  const cfg: SbcConfig = { design: r.design, params: r.params, sims: r.sims, chains: r.chains, warmup: r.warmup, draws: r.draws, seed: r.seed, priors: DEFAULT_PRIORS, simPriors: DEFAULT_PRIORS };
  const t0 = performance.now();
  try {
    const fits = new Map<string, FitResult[]>();
    const per = r.warmup + r.draws;
    for (const [i, param] of r.params.entries()) {
      fits.set(
        param,
        await runShard(cfg, { param, first: 0, count: r.sims }, {
          backend: r.backend,
          signal: controller.signal,
          onProgress: (done) => scope.postMessage({ type: 'progress', done: i * per + done, total: r.params.length * per, param }),
        }),
      );
    }
    const { results, summary } = assemble(cfg, fits);
    const band = ecdfBand(r.sims, RANK_DRAWS, SBC_ALPHA);
    scope.postMessage({
      type: 'done',
      results,
      summary,
      names: rankedNames(r.design),
      band: { lower: Array.from(band.lower), upper: Array.from(band.upper) },
      rankDraws: RANK_DRAWS,
      seconds: (performance.now() - t0) / 1000,
      divergentFits: Object.fromEntries([...fits].map(([p, f]) => [p, f.filter((x) => x.divergences > 0).length])),
    });
  } catch (err) {
    if (controller.signal.aborted) scope.postMessage({ type: 'stopped' });
    else scope.postMessage({ type: 'error', message: (err as Error)?.message ?? String(err) });
  } finally {
    controller = null;
  }
};
