import { parseArgs } from 'node:util';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/write.ts';
import { exactPosterior, type ExactPosterior } from '../model/posterior.ts';
import { parseParameterization } from '../model/parameterization.ts';
import { rankRows, type CompareRow, type Comparison } from '../compare/compare.ts';
import { caseFigures, type CaseFigures } from '../study/figures.ts';
import { caseKey, loadSeedData, PUBLISHED, SEED_DATA_SETS, STUDY_CASES, type SeedData } from '../study/seed.ts';
import { strongConclusion, unbalancedConclusion, weakConclusion, type CaseOutcome, type Conclusion } from '../study/conclusions.ts';
import { reportHtml } from '../report/html.ts';
import { OPTIMAL_TARGET_ACCEPTANCE_RATE } from '../adaptation/chees.ts';
import { multiRunProgressBar } from './progress.ts';
import { checkFamilyPriors, checkOutputPaths, parseSamplerOptions, SAMPLER_ARG_SPECS, samplerOptionsHelp, warmupBound, EXIT_CODES_HELP } from './options.ts';
import { runCase, slug } from './compare.ts';
import { AGAIN_TO_QUIT, handleStopSignals } from './signals.ts';
import { RunError } from '../errors.ts';

/**
 * Default size of each of the study's seven runs. Chosen so that the whole study, diagnostics
 * and report included, finishes in under 5 minutes on a 2-core machine without a GPU (WebGPU
 * on SwiftShader): 2 min 20 s to 3 min 25 s measured there while the machine was shared
 * (load average 12-24). The slowest cases are weak x centered (40-79 s) and strong x
 * non-centered (20-29 s), whose trajectories take 14-15x more leapfrog steps than the others'.
 */
export const REPRODUCE_DEFAULTS = { chains: 1024, warmup: 1000, draws: 1000 } as const;
/** Default output directory. */
export const DEFAULT_REPORT_DIR = 'funnelweb-study';

const ARG_SPECS = SAMPLER_ARG_SPECS;

const HELP = `funnelweb reproduce — run the seed study (weak, strong and unbalanced data; centered, non-centered, mixed:2,6)

Writes DIR/report.html (one self-contained page: figures, diagnostics, the study's figures beside ours,
its conclusions checked) and DIR/<data>_<param>.summary.json for each of the seven runs.

Options:
  --out DIR              output directory (default ${DEFAULT_REPORT_DIR})
${samplerOptionsHelp(REPRODUCE_DEFAULTS)}`;

/** `funnelweb reproduce`: returns the exit code. */
export async function runReproduce(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: { ...ARG_SPECS, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n${EXIT_CODES_HELP}`);
    return 0;
  }
  const opts = parseSamplerOptions(values, REPRODUCE_DEFAULTS);
  const outDir = values.out ?? DEFAULT_REPORT_DIR;
  checkOutputPaths([], [{ flag: '--out', path: outDir, kind: 'directory', into: ['report.html', ...STUDY_CASES.map((sc) => `${sc.dataSet}_${slug(sc.param)}.summary.json`)] }]);
  const seeds = new Map<string, SeedData>();
  const exacts = new Map<string, ExactPosterior>();
  for (const name of SEED_DATA_SETS) {
    const sd = await loadSeedData(name);
    // The seed data give sigma: a prior of it (--sigma-prior) is an error (exit 2).
    checkFamilyPriors(opts.priors, sd.data, 'the seed data');
    seeds.set(name, sd);
    exacts.set(name, exactPosterior(sd.data, opts.priors));
  }
  const createdOut = await mkdir(outDir, { recursive: true });

  const t0 = performance.now();
  const bar = opts.quiet ? undefined : multiRunProgressBar(STUDY_CASES.map((c) => ({ name: caseKey(c), warmup: warmupBound(opts), draws: opts.draws })));
  // SIGINT, SIGTERM, SIGHUP: the first stops the run under way and keeps the finished runs
  // (each one's summary is written as it finishes); once all seven finished, the report is
  // written first. A second exits at once.
  let current = 0;
  let writing = false;
  const stop = handleStopSignals(() =>
    writing
      ? `the files being written are finished first; ${AGAIN_TO_QUIT}`
      : `stopping run ${current + 1} of ${STUDY_CASES.length}; the finished runs' summaries are kept; ${AGAIN_TO_QUIT}`,
  );
  try {
    const cases: { key: string; dataSet: string; param: string; row: CompareRow; figures: CaseFigures; tauQ5: number; logTauQ5: number }[] = [];
    let adapter = '';
    let backend = '';
    for (let i = 0; i < STUDY_CASES.length; i++) {
      current = i;
      const sc = STUDY_CASES[i];
      const sd = seeds.get(sc.dataSet)!;
      const exact = exacts.get(sc.dataSet)!;
      const c = parseParameterization(sc.param, sd.data.labels, 'case');
      let run;
      try {
        run = await runCase(sc.param, c, sd.data, exact, opts, bar?.forRun(i), stop.signal);
      } catch (err) {
        if (!stop.signal.aborted || err instanceof RunError) throw err;
        break;
      }
      backend = run.report.device.backend;
      adapter = run.report.device.adapter;
      writing = true;
      await writeFileAtomic(join(outDir, `${sc.dataSet}_${slug(sc.param)}.summary.json`), JSON.stringify(run.report, null, 2) + '\n');
      writing = false;
      const figures = caseFigures(run.result, run.report, run.summary, run.row, exact, sd.truth, opts.priors.tau);
      cases.push({ key: caseKey(sc), dataSet: sc.dataSet, param: sc.param, row: run.row, figures, tauQ5: run.report.params.tau.q5, logTauQ5: run.report.params.log_tau.q5 });
      if (stop.signal.aborted) break;
    }
    bar?.done();
    if (cases.length < STUDY_CASES.length) {
      // Interrupted (or stopped after the run under way finished): the finished runs'
      // summaries are written; the report needs all seven.
      process.stderr.write(
        cases.length === 0
          ? `funnelweb: interrupted (${stop.received}) before any run finished: nothing written\n`
          : `interrupted: ${cases.length} of ${STUDY_CASES.length} runs finished; their summaries are in ${outDir} (no report.html: it needs all ${STUDY_CASES.length})\n`,
      );
      // The output directory made for this run goes too (while empty).
      if (cases.length === 0 && createdOut !== undefined) await rmdir(outDir).catch(() => {});
      return stop.exitCode;
    }
    writing = true;
    const wallS = (performance.now() - t0) / 1000;

    const comparisons: Record<string, Comparison> = {};
    for (const name of SEED_DATA_SETS) comparisons[name] = rankRows(cases.filter((c) => c.dataSet === name).map((c) => c.row));
    const outcome = (ds: string, param: string): CaseOutcome => {
      const c = cases.find((x) => x.dataSet === ds && x.param === param)!;
      return { row: c.row, tauQ5: c.tauQ5, logTauQ5: c.logTauQ5, zRidge: c.figures.funnel.zRidge, exactTau: exacts.get(ds)!.tau };
    };
    const conclusions: Conclusion[] = [
      weakConclusion(outcome('weak', 'centered'), outcome('weak', 'noncentered')),
      strongConclusion(outcome('strong', 'centered'), outcome('strong', 'noncentered')),
      unbalancedConclusion(outcome('unbalanced', 'centered'), outcome('unbalanced', 'noncentered'), outcome('unbalanced', 'mixed:2,6')),
    ];
    const closing = cases.map((c) => {
      const e = c.figures.diagnostics.ebfmi;
      return {
        key: c.key,
        ours: { divergences: c.row.divergences, rate: c.row.divergence_rate, ebfmiMin: e.min, ebfmiMax: e.max, stepSize: c.row.step_size, essPerS: c.row.ess_bulk_min_per_s, wallS: c.row.wall_s },
        study: PUBLISHED[c.key],
      };
    });
    const page = {
      generated: new Date().toISOString(),
      wallS,
      settings: { chains: opts.chains, warmup: opts.warmup, draws: opts.draws, seed: opts.seed, backend, adapter, targetAccept: opts.targetAccept ?? OPTIMAL_TARGET_ACCEPTANCE_RATE },
      dataSets: SEED_DATA_SETS.map((name) => {
        const sd = seeds.get(name)!;
        const y: number[][] = Array.from({ length: sd.data.K }, () => []);
        sd.data.y.forEach((v, i) => y[sd.data.group[i]].push(v));
        return { name, sigma: sd.sigma, truth: sd.truth, y };
      }),
      cases: cases.map(({ key, dataSet, param, row, figures }) => ({ key, dataSet, param, row, figures })),
      comparisons,
      closing,
      conclusions,
    };
    const htmlPath = join(outDir, 'report.html');
    await writeFileAtomic(htmlPath, await reportHtml('FunnelWeb: the seed study reproduced', page));

    const out = process.stdout;
    out.write(`FunnelWeb reproduce: ${STUDY_CASES.length} runs of ${opts.chains} chains x ${opts.draws} draws after ${opts.warmup} warmup on ${backend} [${adapter}] in ${wallS.toFixed(1)} s\n\n`);
    for (const c of closing) {
      const p = c.study;
      out.write(`${c.key.padEnd(24)} divergences ${String(c.ours.divergences).padStart(7)} (${(100 * c.ours.rate).toPrecision(2)}%; study ${p.divergences}/${p.transitions})  E-BFMI ${c.ours.ebfmiMin.toFixed(2)}-${c.ours.ebfmiMax.toFixed(2)} (study ${p.ebfmi.join('-')})  step ${c.ours.stepSize.toPrecision(3)}${p.stepSize ? ` (study ${p.stepSize.join('-')})` : ''}  min bulk-ESS/s ${Math.round(c.ours.essPerS)}\n`);
    }
    out.write('\n');
    for (const c of conclusions) out.write(`${c.supported ? 'reproduced' : 'NOT reproduced'} (${c.dataSet}): ${c.supported ? c.claim : c.study}\n  ${c.evidence}\n`);
    out.write(`\nwrote ${htmlPath}\n`);
    return stop.exitCode;
  } finally {
    bar?.done();
    stop.dispose();
  }
}
