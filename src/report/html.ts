/**
 * The report page as one HTML string: uPlot (npm `uplot`, 50 KB, canvas-based: draws 100k-point
 * timelines fast, and needs no build step: its IIFE file is inlined as is), its CSS, the data
 * as JSON and the page script (page.ts) inline; thumbnails are files in DIR/report/, loaded by
 * relative path. A Content-Security-Policy forbids every request but those local images, so the
 * page opens from the file system and never reaches another host.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { ReportData } from './data.js';
import { reportPage } from './page.js';

const require = createRequire(import.meta.url);
let uplotAssets: { js: string; css: string } | undefined;

function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    uplotAssets = { js, css };
  }
  return uplotAssets;
}

/** JSON safe inside a <script> element (no "</script>", no HTML comment openers). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:12px 20px;color:#222;background:#fafafa}
h1{font-size:20px;margin:8px 0}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ddd}h3{font-size:14px;margin:10px 0 4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dt{color:#666}dd{margin:0}
.warnings{color:#a40}#hover{font:12px ui-monospace,monospace;min-height:1.4em;background:#fff;border:1px solid #ddd;padding:4px 6px;margin:4px 0}
.chart{background:#fff;margin:4px 0}.chip{display:inline-block;padding:1px 8px;margin:2px 4px 2px 0;border-radius:3px;font-size:12px}
.chip.pick{color:#096;font-weight:bold}.chip.cand{color:#777}.note{color:#777;font-size:12px}
#sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:5px;font-size:12px}figure img{display:block;max-width:100%;height:auto}
figure.pick .subs{display:none;color:#555}figure.pick.open .subs{display:block}.reasons{color:#096}.explain{color:#444}
.examples{display:flex;flex-wrap:wrap;gap:8px}.examples figure{width:210px}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}th{background:#f0f0f0}
table.weak td:nth-child(3){color:#a40}.hist{display:flex;align-items:flex-end;gap:2px;height:140px;border-bottom:1px solid #999}
.hist .bar{background:#1f77b4;width:16px;position:relative}.hist .bar span{position:absolute;bottom:-16px;font-size:10px;width:100%;text-align:center}
pre{background:#fff;border:1px solid #ddd;padding:8px;overflow:auto;font-size:12px}`;

export function renderReportHtml(data: ReportData): string {
  const { js, css } = uplot();
  const csp = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' file: data:";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${css}</style>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<section id="summary"></section>
<h2>Timeline</h2>
<div id="reasons"></div>
<div id="timeline"></div>
<div id="hover">hover the timeline for a frame's numbers</div>
<h2>Picks (${data.manifest.frames.length})</h2>
<p class="note">click a card for its sub-scores</p>
<div id="sheet"></div>
<h2>Rejected frames</h2>
<div id="rejected"></div>
<h2>Sequences and links</h2>
<div id="sequences"></div>
<h2>Tracks</h2>
<div id="tracks"></div>
<h2>Run</h2>
<div id="run"></div>
<script>${js}</script>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>
(${reportPage.toString()})(uPlot, JSON.parse(document.getElementById('report-data').textContent));
</script>
</body>
</html>
`;
}
