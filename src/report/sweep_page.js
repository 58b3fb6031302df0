// The sweep report's page script: draws `funnelweb sweep`'s figures from the data inlined in
// <script id="report-data" type="application/json"> (the run's sweep.json), with uPlot (inlined
// too), so the page opens from file:// with no network. Plain browser JavaScript, no build step.
// A map of the winning parameterization over the grid (groups K against how weakly the data
// inform each group, sigma / (sqrt(n) tau)), each parameterization's ESS/s against the best
// one's over the same axis, and the table of every run with the reason it lost.
/* global uPlot */
(function () {
  'use strict';
  const DATA = JSON.parse(document.getElementById('report-data').textContent);
  const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'];
  const NONE = '#999999';
  const { el, chart, aligned } = window.FunnelWebReport;
  const fmt = (x, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toPrecision(digits));
  const int = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Math.round(x).toLocaleString('en-US'));
  const color = (name) => (name === null ? NONE : COLORS[DATA.sweep.params.indexOf(name) % COLORS.length]);

  const pointSeries = (label, stroke, size) => ({ label, stroke, fill: stroke, paths: () => null, points: { show: true, space: 0, size, width: 0, fill: stroke, stroke } });

  function table(head, rows) {
    return el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', /^[-\d.,%– x]+$/.test(String(c)) ? { class: 'num' } : {}, c))))));
  }

  function render() {
    const root = document.getElementById('report');
    const s = DATA.sweep;
    root.append(
      el('h1', {}, 'Parameterization sweep'),
      el('p', { class: 'note' }, `${int(s.data_sets)} data sets${s.grid ? ` (grid ${s.grid}${s.files.length ? `, and ${s.files.join(', ')}` : ''})` : ` (${s.files.join(', ')})`} x ${s.params.join(', ')}; sampler ${s.sampler.join(' ') || 'defaults'}; ranked by ${s.rank_by} bulk-ESS/s among runs with clean diagnostics (as funnelweb compare). ${s.resumed} data sets resumed; ${s.runner}; ${fmt(s.wall_s, 3)} s.`),
    );
    const grid = DATA.points.filter((p) => p.informativeness !== undefined && p.informativeness !== null);
    if (grid.length) {
      const figs = el('div', { class: 'grid' });
      root.append(el('h2', {}, 'Which parameterization wins where'), figs);
      const winners = [...s.params, null];
      const sets = winners.map((w) => {
        const ps = grid.filter((p) => p.winner === w);
        return { label: w === null ? 'no clean run' : w, color: color(w), x: ps.map((p) => Math.log10(p.informativeness)), y: ps.map((p) => Math.log10(p.K)) };
      });
      chart(
        figs,
        'winner over the grid',
        { width: 460, height: 300, scales: { x: { time: false } }, series: [{ label: 'log10 sigma/(sqrt(n) tau)' }, ...sets.map((st) => pointSeries(st.label, st.color, 12))], axes: [{ label: 'log10 sigma / (sqrt(n) tau): right = weakly informed groups', size: 34 }, { label: 'log10 K', size: 44 }] },
        aligned(sets),
        'Each point a data set, coloured by the parameterization with the highest ESS/s among clean runs (grey: none clean).',
      );
      const ratioSets = s.params.map((name) => ({
        label: name,
        color: color(name),
        x: grid.map((p) => Math.log10(p.informativeness)),
        y: grid.map((p) => {
          const best = Math.max(...Object.values(p.ess_per_s).filter((v) => v !== null && Number.isFinite(v)));
          const v = p.ess_per_s[name];
          return v !== null && v > 0 && best > 0 ? Math.log10(v / best) : null;
        }),
      }));
      chart(
        figs,
        'ESS/s against the best run of the data set',
        { width: 460, height: 300, scales: { x: { time: false } }, series: [{ label: 'log10 sigma/(sqrt(n) tau)' }, ...ratioSets.map((st) => pointSeries(st.label, st.color, 8))], axes: [{ label: 'log10 sigma / (sqrt(n) tau)', size: 34 }, { label: 'log10 (ESS/s / best ESS/s)', size: 50 }] },
        aligned(ratioSets),
        'min bulk-ESS/s of each parameterization over the best of its data set (0 = the fastest; any run, clean or not).',
      );
    }
    root.append(el('h2', {}, 'Data sets'));
    root.append(
      table(
        ['data', 'sigma/(sqrt(n) tau)', 'winner', 'x the next best', ...s.params.map((p) => `${p} ESS/s`)],
        DATA.points.map((p) => [p.data, fmt(p.informativeness, 3), p.winner === null ? 'none clean' : p.winner, fmt(p.ess_ratio, 3), ...s.params.map((name) => int(p.ess_per_s[name]))]),
      ),
    );
    root.append(el('h2', {}, 'Every run'));
    root.append(
      table(
        ['data', 'param', 'min ESS/s', 'divergences', 'max R-hat', 'E-BFMI min', 'step', 'L/draw', 'verdict'],
        DATA.cells.map((c) => [c.data, c.param, int(c.ess_bulk_min_per_s), int(c.divergences), fmt(c.rhat_max, 4), fmt(c.ebfmi_min, 2), fmt(c.step_size, 3), fmt(c.mean_leapfrog_steps, 3), c.verdict]),
      ),
    );
  }

  render();
  document.body.dataset.charts = String(window.FunnelWebReport.charts());
})();
