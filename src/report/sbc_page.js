// The SBC report's page script: draws `funnelweb sbc`'s figures from the data inlined in
// <script id="report-data" type="application/json"> (the run's sbc.json), with uPlot (inlined
// too), so the page opens from file:// with no network. Plain browser JavaScript, no build step.
// Per parameterization: a summary, then for each parameter shown its rank histogram (with the
// 99% range of a bin's count under uniform ranks) and its ECDF difference F(z) - z with the
// simultaneous 95% band (Säilynoja, Bürkner & Vehtari 2022).
/* global uPlot */
(function () {
  'use strict';
  const DATA = JSON.parse(document.getElementById('report-data').textContent);
  const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'];
  const BAD = '#b00020';
  const SIZE = { width: 300, height: 190 };
  /** Rank histogram bins (of the rank_draws + 1 possible ranks). */
  const BINS = 20;
  /** Parameters drawn per parameterization beyond mu, tau and log_lik: the groups farthest from uniform. */
  const MAX_GROUPS_DRAWN = 8;
  const { el, chart: drawChart } = window.FunnelWebReport;
  const fmt = (x, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toPrecision(digits));
  const int = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));

  /** A chart without a legend (each figure's caption says what its lines are). */
  const chart = (parent, title, opts, data, note) => drawChart(parent, title, { ...opts, legend: { show: false } }, data, note);

  function table(head, rows) {
    return el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', typeof c === 'number' || /^[\d.,% –-]+$/.test(String(c)) ? { class: 'num' } : {}, c))))));
  }

  /** log of the Binomial(n, p) pmf at k. */
  function logPmf(k, n, p) {
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.log((n - i) / (k - i));
    return s + k * Math.log(p) + (n - k) * Math.log1p(-p);
  }
  /** The binomial's q-quantile (smallest k with CDF >= q). */
  function qbinom(q, n, p) {
    let c = 0;
    for (let k = 0; k <= n; k++) {
      c += Math.exp(logPmf(k, n, p));
      if (c >= q) return k;
    }
    return n;
  }

  function histogram(parent, r, L, N) {
    const counts = new Array(BINS).fill(0);
    const width = (L + 1) / BINS;
    for (const x of r.ranks) counts[Math.min(BINS - 1, Math.floor(x / width))]++;
    const p = 1 / BINS;
    const lo = qbinom(0.005, N, p);
    const hi = qbinom(0.995, N, p);
    const xs = counts.map((_, i) => i * width);
    chart(
      parent,
      `${r.parameter}: ranks`,
      {
        ...SIZE,
        scales: { x: { time: false, range: [0, L + 1] } },
        series: [
          { label: 'rank' },
          { label: 'count', stroke: r.in_band ? COLORS[0] : BAD, fill: (r.in_band ? COLORS[0] : BAD) + '55', paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
          { label: '0.5%', stroke: '#888', dash: [4, 4], width: 1, points: { show: false } },
          { label: '99.5%', stroke: '#888', dash: [4, 4], width: 1, points: { show: false } },
        ],
        axes: [{ label: 'rank', size: 30 }, { label: 'count', size: 40 }],
      },
      [[...xs, L + 1], [...counts, counts[BINS - 1]], xs.map(() => lo).concat(lo), xs.map(() => hi).concat(hi)],
      `${BINS} bins; dashed: the 0.5% and 99.5% quantiles of a bin's count under uniform ranks.`,
    );
  }

  function ecdfDiff(parent, r, L, N) {
    const hist = new Array(L + 1).fill(0);
    for (const x of r.ranks) hist[x]++;
    const z = [];
    const d = [];
    const lo = [];
    const hi = [];
    let s = 0;
    for (let i = 1; i <= L; i++) {
      s += hist[i - 1];
      const zi = i / (L + 1);
      z.push(zi);
      d.push(s / N - zi);
      lo.push(DATA.band.lower[i - 1] / N - zi);
      hi.push(DATA.band.upper[i - 1] / N - zi);
    }
    chart(
      parent,
      `${r.parameter}: ECDF difference`,
      {
        ...SIZE,
        scales: { x: { time: false, range: [0, 1] } },
        series: [
          { label: 'z' },
          { label: 'F(z) - z', stroke: r.in_band ? COLORS[0] : BAD, width: 1.5, points: { show: false } },
          { label: 'band', stroke: '#888', width: 1, points: { show: false } },
          { label: 'band', stroke: '#888', width: 1, points: { show: false } },
        ],
        axes: [{ label: 'fractional rank z', size: 30 }, { label: 'F(z) - z', size: 50 }],
      },
      [z, d, lo, hi],
      `max |F - z| ${fmt(r.ecdf_max_deviation, 2)}; ${r.in_band ? 'inside' : 'outside'} the 95% band; coverage of the central 50/90% intervals ${fmt(100 * r.coverage['0.5'], 3)}% / ${fmt(100 * r.coverage['0.9'], 3)}%.`,
    );
  }

  function render() {
    const root = document.getElementById('report');
    const s = DATA.sbc;
    root.append(
      el('h1', {}, `Simulation-based calibration: ${s.design}`),
      el(
        'p',
        { class: 'note' },
        `${int(s.sims)} simulations of ${s.likelihood} data with the design's ${int(s.groups)} groups and ${int(s.observations)} observations (y drawn anew), parameters from the priors mu ~ ${s.sim_priors.mu}, tau ~ ${s.sim_priors.tau}${s.sim_priors.sigma ? `, sigma ~ ${s.sim_priors.sigma}` : ''}; each fitted with mu ~ ${s.priors.mu}, tau ~ ${s.priors.tau}${s.priors.sigma ? `, sigma ~ ${s.priors.sigma}` : ''} by ${int(s.chains)} chains x ${int(s.draws)} draws after ${int(s.warmup)} warmup iterations. Ranks of each true value among ${s.rank_draws} thinned draws (0..${s.rank_draws}); a calibrated sampler gives uniform ranks. Seed ${s.seed}; ${s.shards} shards (${s.resumed_shards} resumed) on ${s.runner}; ${fmt(s.wall_s, 3)} s.`,
      ),
      table(
        ['parameterization', 'fits', 'divergent fits', 'divergences', 'fits with R-hat >= 1.01', `fits with ESS < ${s.rank_draws}`, 'non-finite fits', 'max R-hat', 'median min bulk ESS', 'parameters in 95% band', 'in adjusted band', 'calibrated'],
        DATA.summary.map((x) => [x.param, int(x.fits), int(x.divergent_fits), int(x.divergences), int(x.high_rhat_fits), int(x.low_ess_fits), int(x.failed_fits), fmt(x.rhat_max, 4), int(x.ess_bulk_min_median), `${x.parameters_in_band} of ${x.parameters}`, `${x.parameters_in_adjusted_band} of ${x.parameters}`, x.passed ? 'yes' : 'NO']),
      ),
      el('p', { class: 'note' }, `Every fit's ranks count, whatever its diagnostics (a fit that diverged or mixed badly is kept: dropping it would hide what SBC is for). Split R-hat of short chains runs high even for chains in their stationary distribution: about 1 + (t - 1) / draws, t the integrated autocorrelation time. "Calibrated": every parameter's rank ECDF inside its simultaneous band at level 1 - 0.05 / ${DATA.summary[0] ? DATA.summary[0].parameters : 1} (Bonferroni over the parameters).`),
    );
    const N = s.sims;
    const L = s.rank_draws;
    DATA.summary.forEach((sum, j) => {
      const rs = DATA.results.filter((r) => r.param === sum.param);
      root.append(el('h2', { style: `border-color: ${COLORS[j % COLORS.length]}` }, `${sum.param}: ${sum.passed ? 'calibrated' : 'NOT calibrated'}`));
      root.append(table(['parameter', 'in 95% band', 'max |F - z|', '50% coverage', '90% coverage', '95% coverage'], rs.map((r) => [r.parameter, r.in_band ? 'yes' : 'no', fmt(r.ecdf_max_deviation, 2), fmt(r.coverage['0.5'], 3), fmt(r.coverage['0.9'], 3), fmt(r.coverage['0.95'], 3)])));
      const main = rs.filter((r) => !r.parameter.startsWith('theta['));
      const groups = rs.filter((r) => r.parameter.startsWith('theta[')).sort((a, b) => b.ecdf_max_deviation - a.ecdf_max_deviation);
      const shown = [...main, ...groups.slice(0, MAX_GROUPS_DRAWN)];
      if (groups.length > MAX_GROUPS_DRAWN) root.append(el('p', { class: 'note' }, `Drawn: mu, tau, log_lik and the ${MAX_GROUPS_DRAWN} of ${groups.length} groups farthest from uniform.`));
      const grid = el('div', { class: 'grid' });
      root.append(grid);
      for (const r of shown) {
        histogram(grid, r, L, N);
        ecdfDiff(grid, r, L, N);
      }
    });
  }

  render();
  document.body.dataset.charts = String(window.FunnelWebReport.charts());
})();
