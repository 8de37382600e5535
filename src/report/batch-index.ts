/**
 * DIR/index.html of a `framesift batch` folder: the batch table (every scalar field of each
 * clip's entry in batch.json) with a link to each clip's report. Plain HTML, no script.
 */
import { escapeHtml } from './html.js';

export interface BatchClip {
  fields: Record<string, unknown>;
  /** Absolute output folder of the clip, when batch.json names one. */
  dir: string | undefined;
  /** Path of the clip's report.html relative to the batch folder, once written. */
  report?: string;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return escapeHtml(JSON.stringify(value));
  return escapeHtml(String(value));
}

export function renderBatchIndex(root: string, clips: readonly BatchClip[]): string {
  const columns: string[] = [];
  for (const clip of clips) for (const [k, v] of Object.entries(clip.fields)) if (!columns.includes(k) && (v === null || typeof v !== 'object' || Array.isArray(v) === false)) columns.push(k);
  const head = ['report', ...columns].map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const rows = clips
    .map((clip) => {
      const link = clip.report ? `<a href="${escapeHtml(clip.report.split('/').map(encodeURIComponent).join('/'))}">report</a>` : '–';
      return `<tr><td>${link}</td>${columns.map((c) => `<td>${cell(clip.fields[c])}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>framesift batch: ${escapeHtml(root)}</title>
<style>body{font:14px system-ui,sans-serif;margin:16px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;font-size:13px}th{background:#f0f0f0}</style>
</head><body>
<h1>framesift batch: ${escapeHtml(root)}</h1>
<p>${clips.length} clips, ${clips.filter((c) => c.report).length} reports</p>
<table><tr>${head}</tr>
${rows}
</table></body></html>
`;
}
