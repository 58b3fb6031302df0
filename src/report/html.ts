/**
 * The study report as one self-contained HTML page: uPlot's script and stylesheet, the page
 * script (`page.js`) and the figures' data are all inlined, so the page opens from file://
 * with no network.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Text safe inside a <script> or <style> element (no closing tag, no HTML comment opener). */
function inlineSafe(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1600px; padding: 0 16px 40px; color: #222; }
h1 { margin-top: 20px; } h2 { border-bottom: 2px solid #ccc; margin-top: 36px; } h3 { margin: 24px 0 8px; } h4 { margin: 16px 0 4px; }
nav a { margin-right: 14px; }
.grid { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: flex-start; }
figure.chart { margin: 0; }
figcaption, .note { color: #555; font-size: 12px; max-width: 440px; }
.note { max-width: none; }
.uplot .u-title { font-size: 13px; font-weight: 600; }
.uplot .u-legend { font-size: 11px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 12.5px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.ranking td:last-child, table.diag td:nth-child(2) { max-width: 560px; }
section.case { border-left: 4px solid #e5e5e5; padding-left: 12px; margin: 18px 0; }
ul.conclusions li { margin: 8px 0; }
li.supported b { color: #007a33; } li.unsupported b { color: #b00020; }
.evidence { color: #555; font-size: 12.5px; }
`;

/** Reads a file of an installed package (uPlot ships as a runtime dependency). */
async function packageFile(spec: string): Promise<string> {
  return readFile(require.resolve(spec), 'utf8');
}

/**
 * A report page for `data`, drawn by the page script `script` of this folder: `page.js` (the
 * study, `src/cli/reproduce.ts`), `sbc_page.js` (`src/sbc/run.ts`) or `sweep_page.js`
 * (`src/sweep/run.ts`).
 */
export async function reportHtml(title: string, data: unknown, script: 'page.js' | 'sbc_page.js' | 'sweep_page.js' = 'page.js'): Promise<string> {
  const [uplotJs, uplotCss, commonJs, pageJs] = await Promise.all([
    packageFile('uplot/dist/uPlot.iife.min.js'),
    packageFile('uplot/dist/uPlot.min.css'),
    readFile(new URL('./report_common.js', import.meta.url), 'utf8'),
    readFile(new URL(`./${script}`, import.meta.url), 'utf8'),
  ]);
  // '<' as \u003c: the JSON can then never close its <script> element.
  const json = JSON.stringify(data, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'))}</title>
<style>${inlineSafe(uplotCss)}</style>
<style>${STYLE}</style>
</head>
<body>
<main id="report"></main>
<script id="report-data" type="application/json">${json}</script>
<script>${inlineSafe(uplotJs)}</script>
<script>${inlineSafe(commonJs)}</script>
<script>${inlineSafe(pageJs)}</script>
</body>
</html>
`;
}
