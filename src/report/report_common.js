// What the report pages share (page.js, sbc_page.js, sweep_page.js), inlined before each by
// src/report/html.ts: the element helper, uPlot charts counted for the page's tests
// (window.__report: charts made and draws done), and the alignment of point sets into uPlot's
// columns. Plain browser JavaScript, no build step.
/* global uPlot */
(function () {
  'use strict';
  let charts = 0;
  let drawn = 0;
  window.__report = { charts: 0, drawn: 0 };

  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  };

  /** A uPlot chart in a <figure> under `parent`, counted; its legend static unless `opts.legend` says otherwise. */
  function chart(parent, title, opts, data, note) {
    const box = el('figure', { class: 'chart' });
    parent.append(box);
    charts++;
    window.__report.charts = charts;
    const hooks = opts.hooks || {};
    hooks.draw = [...(hooks.draw || []), () => { drawn++; window.__report.drawn = drawn; }];
    const plot = new uPlot({ title, ...opts, hooks, legend: { live: false, ...(opts.legend || {}) } }, data, box);
    if (note) box.append(el('figcaption', {}, note));
    return plot;
  }

  /** Merges point sets into uPlot's aligned columns: one sorted x, one column per set with nulls elsewhere (non-finite points dropped). */
  function aligned(sets) {
    const pts = [];
    sets.forEach((s, j) => s.x.forEach((x, i) => x !== null && s.y[i] !== null && Number.isFinite(x) && Number.isFinite(s.y[i]) && pts.push([x, j, s.y[i]])));
    pts.sort((a, b) => a[0] - b[0]);
    return [pts.map((p) => p[0]), ...sets.map((_, j) => pts.map((p) => (p[1] === j ? p[2] : null)))];
  }

  window.FunnelWebReport = { el, chart, aligned, charts: () => charts };
})();
