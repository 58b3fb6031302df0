// The study report's page script: draws every figure of `funnelweb reproduce` from the data
// inlined in <script id="report-data" type="application/json">, with uPlot (inlined too), so
// the page opens from file:// with no network. Plain browser JavaScript, no build step.
/* global uPlot */
(function () {
  'use strict';
  const DATA = JSON.parse(document.getElementById('report-data').textContent);
  /** Okabe-Ito colours (colour-blind safe); divergences in a contrasting red. */
  const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'];
  const DIVERGENT = '#d62728';
  const CENTERED = '#E69F00';
  const NONCENTERED = '#0072B2';
  const SMALL = { width: 250, height: 180 };
  const WIDE = { width: 440, height: 230 };
  const { el, chart, aligned } = window.FunnelWebReport;
  const fmt = (x, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Math.abs(x) >= 1e4 ? Math.round(x).toLocaleString('en-US') : Number(x).toPrecision(digits));
  const int = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
  const pct = (x) => `${(100 * x).toPrecision(2)}%`;

  const pointSeries = (label, color, size = 3) => ({ label, stroke: color, fill: color, paths: () => null, points: { show: true, space: 0, size, width: 0, fill: color, stroke: color } });
  const axes = (x, y) => [{ label: x, size: 34 }, { label: y, size: 46 }];

  function scatter(parent, title, xLabel, yLabel, sets, note, size = SMALL, legend = true) {
    return chart(parent, title, { ...size, legend: { show: legend }, scales: { x: { time: false } }, series: [{ label: xLabel }, ...sets.map((s) => pointSeries(s.label, s.color, s.size))], axes: axes(xLabel, yLabel) }, aligned(sets), note);
  }

  function table(head, rows, cls) {
    const numeric = (t) => /^[-−–+\d.,%() ]+$/.test(t) || /^\d[\d,]* of /.test(t) || /^min \d/.test(t);
    return el('table', { class: cls || '' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', numeric(String(c)) ? { class: 'num' } : {}, c))))));
  }

  const jitter = (i) => ((i * 0.6180339887) % 1) * 0.5 - 0.25;

  /** Observations per group as a strip (jittered), with the true theta_k. */
  function stripPlot(parent, ds) {
    const obs = { label: 'y', color: '#333b', x: [], y: [], size: 5 };
    ds.y.forEach((ys, k) => ys.forEach((v, i) => { obs.x.push(k + jitter(i)); obs.y.push(v); }));
    const truth = { label: 'true theta_k', color: COLORS[5], x: ds.truth.theta.map((_, k) => k), y: ds.truth.theta, size: 9 };
    scatter(parent, `${ds.name}: data by group (sigma = ${ds.sigma})`, 'group', 'y', [obs, truth], `${ds.y.reduce((a, g) => a + g.length, 0)} observations; groups 0..${ds.y.length - 1} hold ${ds.y.map((g) => g.length).join(', ')}.`, WIDE);
  }

  function decimationNote(f) {
    const a = f.shown < f.total ? `${int(f.shown)} of ${int(f.total)} draws shown (evenly strided over all chains)` : `all ${int(f.total)} draws`;
    const d = f.divTotal === 0 ? 'no divergences' : f.divShown < f.divTotal ? `${int(f.divShown)} of ${int(f.divTotal)} divergences shown, where they diverged` : `${int(f.divTotal)} divergences, where they diverged`;
    return `${a}; ${d}.`;
  }

  function funnels(parent, c, which) {
    const f = c.figures.funnel;
    const grid = el('div', { class: 'grid' });
    parent.append(el('h4', {}, which === 'theta' ? 'Funnels: theta_k against log tau' : 'Funnels: z_k against log tau (the sampler\'s coordinates)'), el('p', { class: 'note' }, `Blue: draws; red: divergent transitions, at the point where they diverged. ${decimationNote(f)}${which === 'z' ? ` Share of z_k's variance fixed by (mu, tau) (near 1: theta_k pinned by its data, the draws on the curved ridge of an inverted funnel; near 0: z_k independent of tau): ${f.zRidge.map((v, k) => (v === null ? null : `z[${k}] ${fmt(v, 2)}`)).filter((x) => x !== null).join(', ')}.` : ''}`), grid);
    f.theta.forEach((th, k) => {
      const y = which === 'theta' ? th : f.z[k];
      if (y === null) return;
      const dy = which === 'theta' ? f.divTheta[k] : f.divZ[k];
      scatter(grid, `${which === 'theta' ? 'theta' : 'z'}[${k}]${which === 'z' ? ' (non-centered)' : ''}`, 'log tau', which === 'theta' ? `theta[${k}]` : `z[${k}]`, [
        { label: 'draws', color: '#0072B2', x: f.logTau, y, size: 2 },
        { label: 'divergent', color: DIVERGENT, x: f.divLogTau, y: dy, size: 5 },
      ], undefined, SMALL, false);
    });
  }

  function overlay(parent, dsName) {
    const cc = DATA.cases.find((c) => c.dataSet === dsName && c.param === 'centered');
    const nc = DATA.cases.find((c) => c.dataSet === dsName && c.param === 'noncentered');
    if (!cc || !nc) return;
    const grid = el('div', { class: 'grid' });
    parent.append(el('h3', {}, `Centered and non-centered funnels overlaid (${dsName})`), el('p', { class: 'note' }, `theta_k against log tau: orange, centered; blue (drawn over it, translucent), non-centered (${int(cc.figures.funnel.shown)} of ${int(cc.figures.funnel.total)} draws of each run, evenly strided over all chains). Where the orange cloud stops short of the blue one at small tau, the centered sampler does not reach the funnel's neck.`), grid);
    cc.figures.funnel.theta.forEach((_, k) => {
      scatter(grid, `theta[${k}]`, 'log tau', `theta[${k}]`, [
        { label: 'centered', color: CENTERED, x: cc.figures.funnel.logTau, y: cc.figures.funnel.theta[k], size: 2 },
        { label: 'non-centered', color: NONCENTERED + '88', x: nc.figures.funnel.logTau, y: nc.figures.funnel.theta[k], size: 2 },
      ], undefined, SMALL, false);
    });
  }

  function traces(parent, c) {
    const t = c.figures.trace;
    const note = `${t.chains} of ${int(DATA.settings.chains)} chains${t.shownDraws < t.draws ? `, every ${Math.ceil(t.draws / t.shownDraws)}th of ${t.draws} draws` : `, all ${t.draws} draws`}.`;
    for (const [key, label] of [['mu', 'mu'], ['logTau', 'log tau']]) {
      chart(parent, `trace of ${label}`, { ...WIDE, scales: { x: { time: false } }, series: [{ label: 'draw' }, ...t[key].map((_, i) => ({ label: `chain ${i + 1}`, stroke: COLORS[i % COLORS.length], width: 1 }))], axes: axes('draw', label) }, [t.draw, ...t[key]], note);
    }
  }

  function tauPlot(parent, c, truth) {
    const t = c.figures.tau;
    const bars = uPlot.paths.bars({ size: [1, Infinity], gap: 0 });
    chart(
      parent,
      'tau: posterior, prior, exact posterior, true value',
      {
        ...WIDE,
        scales: { x: { time: false } },
        series: [
          { label: 'tau' },
          { label: 'posterior draws', stroke: '#56B4E9', width: 0, fill: '#56B4E9aa', paths: bars, points: { show: false } },
          { label: 'exact posterior', stroke: '#009E73', width: 2, points: { show: false } },
          { label: 'prior', stroke: '#CC79A7', width: 2, dash: [6, 4], points: { show: false } },
        ],
        axes: axes('tau', 'density'),
        hooks: {
          draw: [
            (u) => {
              const x = u.valToPos(truth, 'x', true);
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = COLORS[5];
              ctx.lineWidth = 2;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = COLORS[5];
              ctx.fillText(`true tau = ${truth}`, x + 4, u.bbox.top + 12);
              ctx.restore();
            },
          ],
        },
      },
      [t.x, t.hist, t.exact, t.prior],
      `Histogram of all ${int(t.draws)} draws${t.outside ? ` (${int(t.outside)} beyond the axis)` : ''}; exact density by quadrature over tau; red line: the tau the data were simulated with.`,
    );
  }

  function ppcPlot(parent, c, ds) {
    const p = c.figures.ppc;
    // Observed y jittered within ±0.15 of the group; the intervals stand beside them at ±0.3.
    const obs = { label: 'observed y', color: '#4446', x: [], y: [], size: 3 };
    ds.y.forEach((ys, k) => ys.forEach((v, i) => { obs.x.push(k + 0.6 * jitter(i)); obs.y.push(v); }));
    const mean = { label: 'observed group mean', color: '#000', x: p.observedMean.map((_, k) => k + 0.3), y: p.observedMean, size: 7 };
    const mid = { label: 'y_rep median', color: '#0072B2', x: p.mid.map((_, k) => k - 0.3), y: p.mid, size: 7 };
    // The y scale covers the intervals too (uPlot ranges over series data only).
    const all = [...obs.y, ...p.lo, ...p.hi, ...p.meanLo, ...p.meanHi].filter((v) => v !== null && Number.isFinite(v));
    // A loop, not Math.min(...all): one argument per observation overflows the stack for large data.
    let yMin = Infinity;
    let yMax = -Infinity;
    for (const v of all) {
      if (v < yMin) yMin = v;
      if (v > yMax) yMax = v;
    }
    const pad = 0.05 * (yMax - yMin || 1);
    const yRange = [yMin - pad, yMax + pad];
    const draw = (u) => {
      const ctx = u.ctx;
      ctx.save();
      p.lo.forEach((lo, k) => {
        if (lo === null) return;
        const line = (x, a, b, color, w) => {
          ctx.strokeStyle = color;
          ctx.lineWidth = w;
          ctx.beginPath();
          ctx.moveTo(u.valToPos(x, 'x', true), u.valToPos(a, 'y', true));
          ctx.lineTo(u.valToPos(x, 'x', true), u.valToPos(b, 'y', true));
          ctx.stroke();
        };
        line(k - 0.3, lo, p.hi[k], '#0072B2', 2);
        line(k + 0.3, p.meanLo[k], p.meanHi[k], '#009E73', 4);
      });
      ctx.restore();
    };
    chart(
      parent,
      'posterior predictive check per group',
      { ...WIDE, scales: { x: { time: false }, y: { range: () => yRange } }, series: [{ label: 'group' }, ...[obs, mean, mid].map((s) => pointSeries(s.label, s.color, s.size))], axes: axes('group', 'y'), hooks: { draw: [draw] } },
      aligned([obs, mean, mid]),
      'Blue bar: 90% interval of a replicated observation y_rep; green bar: 90% interval of the replicated group mean; grey: observed y (jittered); black: observed group mean.',
    );
  }

  function acfPlot(parent, c) {
    const a = c.figures.acf;
    chart(parent, 'autocorrelation', { ...WIDE, scales: { x: { time: false }, y: { range: [-0.2, 1] } }, series: [{ label: 'lag' }, { label: 'mu', stroke: COLORS[0], width: 2 }, { label: 'tau', stroke: COLORS[1], width: 2 }], axes: axes('lag', 'autocorrelation') }, [a.lag, a.mu, a.tau], `Mean over ${a.chains} chains.`);
  }

  function diagnosticsTables(parent, c) {
    const d = c.figures.diagnostics;
    const e = d.ebfmi;
    const ebfmi = e.chains <= e.listed.length ? e.listed.map((x) => fmt(x, 2)).join(', ') : `min ${fmt(e.min, 2)}, quartiles ${fmt(e.q25, 2)} / ${fmt(e.median, 2)} / ${fmt(e.q75, 2)}, max ${fmt(e.max, 2)} (${int(e.chains)} chains; first: ${e.listed.map((x) => fmt(x, 2)).join(', ')})`;
    parent.append(
      table(
        ['divergences', 'E-BFMI per chain', 'step size', 'trajectory length', 'leapfrog steps / draw', 'min bulk-ESS/s', 'tau bulk-ESS/s', 'min tail-ESS/s', 'max R-hat', 'wall s'],
        [[`${int(d.divergences)} of ${int(d.transitions)} (${pct(d.divergences / d.transitions)})`, ebfmi, fmt(d.stepSize), fmt(d.trajectoryLength), fmt(d.leapfrog, 3), int(d.essBulkMinPerS), int(d.essBulkTauPerS), int(d.essTailMinPerS), fmt(d.rhatMax, 4), fmt(d.wallS, 3)]],
        'diag',
      ),
      table(
        ['parameter', 'mean', 'exact mean', '(mean − exact)/MCSE', 'sd', 'exact sd', 'bulk ESS', 'tail ESS', 'R-hat'],
        d.params.map((p) => [p.name, fmt(p.mean, 4), fmt(p.exactMean, 4), fmt(p.devMcse, 2), fmt(p.sd, 3), fmt(p.exactSd, 3), int(p.essBulk), int(p.essTail), fmt(p.rhat, 4)]),
        'params',
      ),
    );
  }

  function comparisonTable(parent, dsName) {
    const cmp = DATA.comparisons[dsName];
    parent.append(
      el('h3', {}, `Ranking on ${dsName}`),
      table(
        ['', 'param', 'min bulk-ESS/s', 'tau bulk-ESS/s', 'divergences', 'E-BFMI min', 'step size', 'verdict'],
        cmp.rows.map((r, i) => [i === cmp.winner ? '★ winner' : 'lost', r.name, int(r.ess_bulk_min_per_s), int(r.ess_bulk_tau_per_s), `${int(r.divergences)} (${pct(r.divergence_rate)})`, fmt(r.ebfmi_min, 2), fmt(r.step_size), cmp.verdicts[i]]),
        'ranking',
      ),
    );
  }

  function closing(parent) {
    const range = (r) => (r ? `${r[0]}–${r[1]}` : '–');
    parent.append(
      el('h2', { id: 'closing' }, 'Against the study\'s published figures'),
      el('p', { class: 'note' }, `Study: PyMC3 3.11 NUTS, 4 chains × 10,000 draws after 1,000 tuning steps, target_accept 0.95. Here: ChEES-HMC, ${int(DATA.settings.chains)} chains × ${int(DATA.settings.draws)} draws after ${int(DATA.settings.warmup)} warmup, target acceptance ${DATA.settings.targetAccept}. Absolute step sizes differ with the target acceptance; their ratios between parameterizations are what compares.`),
      table(
        ['case', 'divergences here', 'study', 'E-BFMI here (min–max)', 'study', 'step size here', 'study', 'min bulk-ESS/s here', 'wall s here', 'study s'],
        DATA.closing.map((c) => [c.key, `${int(c.ours.divergences)} (${pct(c.ours.rate)})`, `${c.study.divergences} (${pct(c.study.divergences / c.study.transitions)})`, `${fmt(c.ours.ebfmiMin, 2)}–${fmt(c.ours.ebfmiMax, 2)}`, range(c.study.ebfmi), fmt(c.ours.stepSize), range(c.study.stepSize), int(c.ours.essPerS), fmt(c.ours.wallS, 3), c.study.time_s]),
        'closing',
      ),
      el('h3', {}, 'Conclusions'),
      el(
        'ul',
        { class: 'conclusions' },
        ...DATA.conclusions.map((c) =>
          el('li', { class: c.supported ? 'supported' : 'unsupported' }, el('b', {}, c.supported ? `Reproduced (${c.dataSet}): ` : `Not reproduced here (${c.dataSet}): `), c.supported ? `${c.claim[0].toUpperCase()}${c.claim.slice(1)}.` : `the study found that ${c.study}.`, el('br'), el('span', { class: 'evidence' }, `Our figures: ${c.evidence}`)),
        ),
      ),
    );
  }

  const root = document.getElementById('report');
  const s = DATA.settings;
  root.append(
    el('h1', {}, 'FunnelWeb: the seed study reproduced'),
    el('p', {}, `Betancourt's hierarchical-modeling case study: mu ~ Normal(0, 5), tau ~ HalfNormal(5), theta_k ~ Normal(mu, tau), y ~ Normal(theta[group], sigma). ${s.chains} chains × ${s.draws} draws after ${s.warmup} warmup, seed ${s.seed}, on ${s.backend} [${s.adapter}]; ${DATA.cases.length} runs in ${fmt(DATA.wallS, 3)} s (generated ${DATA.generated}).`),
    el('nav', {}, ...DATA.dataSets.map((d) => el('a', { href: `#ds-${d.name}` }, d.name)), el('a', { href: '#closing' }, 'closing table')),
  );
  for (const ds of DATA.dataSets) {
    const sec = el('section', { id: `ds-${ds.name}` });
    root.append(sec);
    sec.append(el('h2', {}, `${ds.name} data (sigma = ${ds.sigma})`));
    stripPlot(sec, ds);
    comparisonTable(sec, ds.name);
    overlay(sec, ds.name);
    for (const c of DATA.cases.filter((x) => x.dataSet === ds.name)) {
      const cs = el('section', { class: 'case', id: `case-${c.dataSet}-${c.param}` });
      sec.append(cs);
      cs.append(el('h3', {}, `${c.dataSet} × ${c.param}`));
      diagnosticsTables(cs, c);
      const row1 = el('div', { class: 'grid' });
      cs.append(row1);
      traces(row1, c);
      tauPlot(row1, c, ds.truth.tau);
      ppcPlot(row1, c, ds);
      acfPlot(row1, c);
      funnels(cs, c, 'theta');
      if (c.figures.funnel.z.some((z) => z !== null)) funnels(cs, c, 'z');
    }
  }
  closing(root);
  document.body.dataset.charts = String(window.FunnelWebReport.charts());
})();
