/**
 * The report page's own script. It runs in the browser, not in Node: html.ts inlines its
 * source (Function.prototype.toString) after uPlot's, so it must not use anything from its
 * module scope: only its arguments and browser globals.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { ReportData } from './data.js';

export function reportPage(uPlot: any, data: ReportData): void {
  const doc = document;
  const el = (tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement => {
    const e = doc.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const fmt = (v: unknown, digits = 3): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : v === null || v === undefined ? '–' : String(v);
  const m = data.manifest;
  const tl = data.timeline;
  const REASON_COLOURS: Record<string, string> = {
    blur: 'rgba(230,120,40,0.22)',
    exposure: 'rgba(90,90,90,0.25)',
    cut: 'rgba(200,40,40,0.30)',
    textureless: 'rgba(150,100,200,0.22)',
    duplicate: 'rgba(60,140,220,0.20)',
    invalid: 'rgba(0,0,0,0.30)',
  };
  const reasonColour = (r: string) => REASON_COLOURS[r] ?? 'rgba(180,180,0,0.25)';
  // Picks are green marks: no line is green, and the composite score is the black one.
  const LINE_COLOURS = ['#1f77b4', '#e377c2', '#222222', '#d62728', '#9467bd', '#8c564b', '#17becf', '#ff7f0e', '#7f7f7f', '#bcbd22', '#aec7e8'];
  const report: any = ((window as any).__report = { pickMarks: 0, candidateMarks: 0, charts: 0 });

  // ---- summary ----
  const summary = doc.getElementById('summary')!;
  const facts: Array<[string, string]> = [
    ['input', m.input.path],
    ['video', `${m.input.probe.width}x${m.input.probe.height} ${m.input.probe.codec}, ${fmt(m.input.probe.durationSec, 1)} s, ${fmt(m.input.probe.avgFrameRate, 2)} fps`],
    ['frames', `${m.counts.chosen} chosen of ${m.counts.analysed} analysed (${m.counts.candidates} candidates, ${m.counts.rejected} rejected)`],
    ['sequences', `${m.sequences.length}`],
    ['provider', m.device ? `${m.device.provider} (requested ${m.device.requested}${m.device.fallback ? `, fell back: ${m.device.fallback}` : ''})` : 'none (no model)'],
    ['peak memory', `${m.peakRssMB} MB`],
    ['created', `${m.createdAt} by ${m.tool.name} ${m.tool.version}`],
  ];
  const dl = el('dl');
  for (const [k, v] of facts) {
    dl.append(el('dt', {}, k), el('dd', {}, v));
  }
  summary.append(dl);
  if (m.warnings.length > 0) {
    const ul = el('ul', { class: 'warnings' });
    for (const w of m.warnings) ul.append(el('li', {}, w));
    summary.append(ul);
  }

  // ---- timeline ----
  const picksSec = m.frames.map((f) => f.ptsSec);
  const shadeAndMark = (u: any) => {
    const ctx: CanvasRenderingContext2D = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    ctx.save();
    for (const [a, b, reason] of tl.rejectedRuns) {
      const x0 = u.valToPos(a, 'x', true);
      const x1 = u.valToPos(b, 'x', true);
      ctx.fillStyle = reasonColour(reason);
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
    }
    ctx.restore();
  };
  const marks = (u: any) => {
    const ctx: CanvasRenderingContext2D = u.ctx;
    const top = u.bbox.top;
    const bottom = top + u.bbox.height;
    ctx.save();
    ctx.setLineDash([]); // uPlot leaves the last series' dash set
    ctx.strokeStyle = 'rgba(120,120,120,0.9)';
    ctx.lineWidth = 1;
    let candidates = 0;
    for (const t of tl.candidatesSec) {
      const x = Math.round(u.valToPos(t, 'x', true)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, bottom);
      ctx.lineTo(x, bottom - 8 * devicePixelRatio);
      ctx.stroke();
      candidates++;
    }
    ctx.strokeStyle = 'rgba(0,150,60,0.95)';
    ctx.fillStyle = 'rgba(0,150,60,0.95)';
    ctx.lineWidth = 2;
    let picks = 0;
    for (const t of picksSec) {
      const x = Math.round(u.valToPos(t, 'x', true));
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(x, top + 4 * devicePixelRatio, 3 * devicePixelRatio, 0, 2 * Math.PI);
      ctx.fill();
      picks++;
    }
    ctx.restore();
    // What the last draw of each chart marked (the tests read it).
    u.root.dataset.pickMarks = String(picks);
    u.root.dataset.candidateMarks = String(candidates);
    report.pickMarks = picks;
    report.candidateMarks = candidates;
  };
  const info = doc.getElementById('hover')!;
  const showRow = (idx: number | null) => {
    if (idx === null || idx === undefined || idx < 0) return;
    const parts: string[] = [`frame ${tl.frame[idx]}`, `t ${fmt(tl.t[idx], 3)} s`, tl.fates[tl.fate[idx]!]!];
    for (const s of tl.series) parts.push(`${s.name} ${fmt(s.values[idx])}`);
    info.textContent = parts.join(' · ');
  };
  const width = () => Math.max(480, (doc.getElementById('timeline')!.clientWidth || 960) - 8);
  const charts: any[] = [];
  const makeChart = (chartName: 'quality' | 'motion', label: string, height: number) => {
    const series = tl.series.filter((s) => s.chart === chartName);
    if (series.length === 0) return;
    const holder = el('div', { class: 'chart', 'data-chart': chartName });
    doc.getElementById('timeline')!.append(holder);
    const opts = {
      width: width(),
      height,
      title: label,
      cursor: { sync: { key: 'timeline' }, points: { size: 5 } },
      scales: { x: { time: false }, y: chartName === 'quality' ? { range: [0, 1] } : { auto: true } },
      axes: [{ label: 'seconds' }, { label: chartName === 'quality' ? 'score (0-1)' : 'px (analysis size)', size: 60 }],
      series: [
        { label: 't (s)', value: (_u: any, v: number) => fmt(v, 2) },
        ...series.map((s, k) => ({
          label: s.name,
          stroke: LINE_COLOURS[(k + (chartName === 'motion' ? 3 : 0)) % LINE_COLOURS.length],
          dash: s.name === 'motion' ? [6, 3] : undefined,
          width: s.name === 'score' ? 1.6 : 1,
          points: { show: false },
          spanGaps: false,
        })),
      ],
      hooks: {
        drawClear: [shadeAndMark],
        draw: [marks],
        setCursor: [(u: any) => showRow(u.cursor.idx)],
      },
    };
    charts.push(new uPlot(opts, [tl.t, ...series.map((s) => s.values)], holder));
    report.charts = charts.length;
  };
  makeChart('quality', 'Quality: sharpness, exposure, composite score', 240);
  makeChart('motion', 'Camera motion and parallax', 200);
  window.addEventListener('resize', () => charts.forEach((c) => c.setSize({ width: width(), height: c.height })));
  const legend = doc.getElementById('reasons')!;
  const reasonsSeen = [...new Set(tl.rejectedRuns.map((r) => r[2]))];
  for (const reason of reasonsSeen) {
    const chip = el('span', { class: 'chip' }, `rejected: ${reason}`);
    chip.style.background = reasonColour(reason);
    legend.append(chip);
  }
  legend.append(el('span', { class: 'chip pick' }, '| pick'), el('span', { class: 'chip cand' }, '╵ candidate'));
  if (tl.thinned > 1) legend.append(el('span', { class: 'note' }, `(1 of every ${tl.thinned} frames plotted; marks and bands use every frame)`));

  // ---- contact sheet ----
  const sheet = doc.getElementById('sheet')!;
  for (const f of m.frames) {
    const card = el('figure', { class: 'pick', 'data-frame': String(f.frameIndex) });
    const thumb = data.pickThumbs[f.file];
    if (thumb) card.append(el('img', { src: thumb, alt: f.file, loading: 'lazy', class: 'thumb' }));
    const cap = el('figcaption');
    cap.append(el('b', {}, `${f.file}`), el('span', {}, ` t ${fmt(f.ptsSec, 2)} s · score ${fmt(f.score)} · seq ${f.sequence}`));
    cap.append(el('div', { class: 'reasons' }, f.reasons.join(', ')));
    cap.append(el('div', { class: 'explain' }, f.explanation));
    card.append(cap);
    card.addEventListener('click', () => card.classList.toggle('open'));
    const subs = el('div', { class: 'subs' }, Object.entries(f.subScores).map(([k, v]) => `${k} ${fmt(v)}`).join(' · '));
    card.append(subs);
    sheet.append(card);
  }

  // ---- rejections ----
  const rejected = doc.getElementById('rejected')!;
  if (data.rejectedExamples.length === 0) rejected.append(el('p', {}, 'No frame was rejected.'));
  for (const r of data.rejectedExamples) {
    const box = el('div', { class: 'reason' });
    box.append(el('h3', {}, `${r.reason}: ${r.count} frame${r.count === 1 ? '' : 's'}`));
    const row = el('div', { class: 'examples' });
    for (const ex of r.examples) {
      const fig = el('figure');
      fig.append(el('img', { src: ex.thumb, alt: `frame ${ex.frameIndex}`, class: 'example' }), el('figcaption', {}, `frame ${ex.frameIndex} · ${fmt(ex.ptsSec, 2)} s`));
      row.append(fig);
    }
    if (r.examples.length === 0) row.append(el('p', { class: 'note' }, 'no example kept (pass 1 keeps thumbnails of a sample of frames)'));
    box.append(row);
    rejected.append(box);
  }

  // ---- sequences and links ----
  const seq = doc.getElementById('sequences')!;
  const table = (head: string[], rows: Array<Array<string | number>>, cls = '') => {
    const t = el('table', cls ? { class: cls } : {});
    const tr = el('tr');
    for (const h of head) tr.append(el('th', {}, h));
    t.append(tr);
    for (const r of rows) {
      const row = el('tr');
      for (const c of r) row.append(el('td', {}, fmt(c, 2)));
      t.append(row);
    }
    return t;
  };
  seq.append(table(['sequence', 'first frame', 'last frame', 'picks'], m.sequences.map((s) => [s.id, s.firstFrame, s.lastFrame, s.count])));
  const weak = m.links.filter((l) => l.status !== 'ok');
  const statusCount: Record<string, number> = {};
  for (const l of m.links) statusCount[l.status] = (statusCount[l.status] ?? 0) + 1;
  seq.append(el('p', {}, `${m.links.length} links: ${Object.entries(statusCount).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`));
  if (weak.length > 0) {
    seq.append(el('h3', {}, 'Links that are not plainly ok'));
    seq.append(table(['from frame', 'to frame', 'status', 'inliers', 'parallax px', 'degenerate'], weak.map((l) => [l.fromFrame, l.toFrame, l.status, l.inliers, l.parallaxPx, String(l.degenerate)]), 'weak'));
  }

  // ---- tracks histogram ----
  const tracks = doc.getElementById('tracks')!;
  if (!m.tracks) tracks.append(el('p', {}, 'No tracks were built.'));
  else {
    tracks.append(el('p', {}, `${m.tracks.tracks2} tracks seen in 2+ picks, ${m.tracks.tracks3} in 3+, mean length ${fmt(m.tracks.meanLength, 2)}`));
    const hist = m.tracks.histogram;
    const max = Math.max(1, ...hist);
    const bars = el('div', { class: 'hist' });
    hist.forEach((count, length) => {
      if (length < 2) return;
      const bar = el('div', { class: 'bar', title: `${count} tracks of length ${length}` });
      bar.style.height = `${Math.max(1, Math.round((Math.log1p(count) / Math.log1p(max)) * 120))}px`;
      bar.append(el('span', {}, String(length)));
      bars.append(bar);
    });
    tracks.append(bars, el('p', { class: 'note' }, 'tracks by length (number of picks a feature is matched across), log height; hover a bar for its count'));
  }

  // ---- timings and config ----
  const run = doc.getElementById('run')!;
  const total = Object.values(m.timings).reduce((a, b) => a + b, 0);
  run.append(table(['stage', 'seconds', 'share'], [...Object.entries(m.timings).map(([k, v]) => [k, v, `${((100 * v) / Math.max(total, 1e-9)).toFixed(1)} %`]), ['total', total, '100 %']]));
  const pre = el('pre', {}, JSON.stringify(m.config, null, 2));
  const details = el('details');
  details.append(el('summary', {}, 'effective config'), pre);
  run.append(details);
  doc.body.dataset.ready = '1';
}
