// FunnelWeb from a plain Node script. In a clone (after `npm ci`): node examples/quickstart.mjs
// In your own project (after `npm install funnelweb`), point loadData at your data file.
import { loadData, sample, reportRun } from 'funnelweb';

const data = await loadData('demo/data/unbalanced.json');
const result = await sample({
  data,
  parameterization: 'mixed:2,6', // or 'centered', 'noncentered', 'partial:...', or a Float64Array of c_k
  chains: 1024,
  warmup: 500,
  draws: 500,
  seed: 1,
  backend: 'auto', // WebGPU when there is an adapter, else the float64 CPU backend
  onProgress: (p) => {
    if (p.iteration === p.total) console.error(`${p.phase} done: step size ${p.stepSize.toPrecision(3)}`);
  },
});
if (result.backend.fallbackReason) console.error(`no WebGPU: ${result.backend.fallbackReason}`);

const { report } = reportRun(result);
const { mu, tau } = report.params;
console.log(`${report.device.backend} [${report.device.adapter}]: ${report.sampler.chains} chains x ${report.sampler.draws} draws`);
console.log(`mu  mean ${mu.mean.toFixed(3)} sd ${mu.sd.toFixed(3)} R-hat ${mu.rhat.toFixed(4)} bulk ESS ${mu.ess_bulk.toFixed(0)}`);
console.log(`tau mean ${tau.mean.toFixed(3)} sd ${tau.sd.toFixed(3)} R-hat ${tau.rhat.toFixed(4)} bulk ESS ${tau.ess_bulk.toFixed(0)}`);
console.log(`divergences ${report.sampler.divergences}, min bulk ESS/s ${report.throughput.ess_bulk_min_per_s.toFixed(0)}`);
// result.params['theta[2]'] is a chain-major Float32Array (chain * draws + draw);
// result.records holds log p, energy, acceptance, divergence flags and divergent positions.
