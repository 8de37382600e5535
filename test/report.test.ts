import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { extractFrames, type Manifest } from '../src/extract.js';
import sharp from 'sharp';

import { isMotionColumn, parseAnalysisCsv } from '../src/report/data.js';
import { ThumbnailSampler } from '../src/report/thumbnails.js';
import { launchBrowser } from './helpers/browser.js';
import { runCli } from './helpers/cli.js';
import { defectClip } from './helpers/fixtures.js';

const artifacts = join(import.meta.dirname, '.artifacts');

let clip: string;
let dir: string;
let manifest: Manifest;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  clip = await defectClip();
  dir = join(mkdtempSync(join(tmpdir(), 'framesift-report-')), 'out');
  manifest = await extractFrames(clip, { outDir: dir, count: 10 });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens DIR/report.html; returns what the page did (requests, console errors) and the page. */
async function openReport(reportDir: string, page = 'report.html') {
  const tab = await browser.context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  tab.on('request', (r) => requests.push(r.url()));
  tab.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  tab.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await tab.goto(pathToFileURL(join(reportDir, page)).href);
  return { tab, requests, errors };
}

describe('report.html of an extract', () => {
  it('loads from the file system with no console error and no request outside the run folder', async () => {
    const { tab, requests, errors } = await openReport(dir);
    await tab.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    await tab.waitForLoadState('load');
    expect(errors).toEqual([]);
    const base = pathToFileURL(dir).href + '/';
    expect(requests.filter((url) => !url.startsWith(base))).toEqual([]);
    // Every thumbnail of the contact sheet is there and decoded.
    const thumbs = await tab.$$eval('#sheet img.thumb', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(thumbs.length).toBe(manifest.frames.length);
    expect(thumbs.every((w) => w > 0)).toBe(true);
    expect(await tab.$$eval('#sheet figure.pick', (f) => f.length)).toBe(manifest.frames.length);

    // The timeline is drawn: one mark per pick on each chart, and ink on the canvas.
    const charts = await tab.$$eval('.chart', (els) => els.map((e) => ({ name: (e as HTMLElement).dataset.chart, picks: Number((e.querySelector('.uplot') as HTMLElement | null)?.dataset.pickMarks) })));
    expect(charts.map((c) => c.name)).toEqual(['quality', 'motion']);
    for (const c of charts) expect(c.picks).toBe(manifest.frames.length);
    const inked = await tab.$eval('.chart[data-chart="quality"] canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let p = 0; p < pixels.length; p += 4) if (pixels[p + 3]! > 0 && (pixels[p]! < 200 || pixels[p + 1]! < 200 || pixels[p + 2]! < 200)) ink++;
      return ink / (pixels.length / 4);
    });
    expect(inked).toBeGreaterThan(0.02);

    // Hovering the timeline shows that frame's numbers.
    const box = (await tab.$('.chart[data-chart="quality"] .u-over'))!;
    const rect = (await box.boundingBox())!;
    await tab.mouse.move(rect.x + rect.width / 2, rect.y + rect.height / 2);
    expect(await tab.textContent('#hover')).toMatch(/^frame \d+ · t [\d.]+ s · \S+ · sharpness [\d.]+/);

    mkdirSync(artifacts, { recursive: true });
    await tab.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
    // The top of the page (summary and timeline), small enough for the README (docs/report.jpg).
    await tab.screenshot({ path: join(artifacts, 'report-top.jpg'), type: 'jpeg', quality: 55, clip: { x: 0, y: 0, width: 1280, height: 1000 } });
    await tab.close();
  });

  it('shows each rejection reason with its count and examples that were rejected for it', async () => {
    const csv = parseAnalysisCsv(readFileSync(join(dir, 'analysis.csv'), 'utf8'));
    const fateOfFrame = new Map<number, string>();
    const frames = csv.numbers.get('frameIndex')!;
    for (let r = 0; r < csv.rows; r++) fateOfFrame.set(frames[r]!, csv.fate[r]!);
    const { tab } = await openReport(dir);
    await tab.waitForSelector('body[data-ready="1"]');
    const shown = await tab.$$eval('#rejected .reason', (boxes) =>
      boxes.map((b) => ({ title: b.querySelector('h3')!.textContent!, frames: [...b.querySelectorAll('img')].map((i) => Number(i.getAttribute('alt')!.split(' ')[1])) })),
    );
    await tab.close();
    const expected = Object.entries(manifest.rejected.byReason).filter(([, n]) => n > 0);
    expect(shown.map((s) => s.title).sort()).toEqual(expected.map(([r, n]) => `${r}: ${n} frame${n === 1 ? '' : 's'}`).sort());
    // The clip (dark stretch, still stretch, a cut) has fewer frames than the sampler keeps, so
    // every reason has examples, each one a frame rejected for that reason, at most 4.
    expect(expected.map(([r]) => r)).toEqual(expect.arrayContaining(['exposure', 'duplicate', 'cut']));
    for (const [reason, count] of expected) {
      const box = shown.find((s) => s.title.startsWith(`${reason}:`))!;
      expect(box.frames.length).toBe(Math.min(4, count));
      for (const f of box.frames) expect(fateOfFrame.get(f)).toBe(`rejected:${reason}`);
    }
  });

  it('plots the motion columns of analysis.csv by name', () => {
    const header = parseAnalysisCsv(readFileSync(join(dir, 'analysis.csv'), 'utf8')).header;
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);
    const motion = data.timeline.series.filter((s: { chart: string }) => s.chart === 'motion').map((s: { name: string }) => s.name);
    expect(motion).toEqual(header.filter(isMotionColumn));
    expect(motion).toContain('motion');
    expect(isMotionColumn('motionBlurScore')).toBe(false);
    expect(isMotionColumn('parallaxPx')).toBe(true);
    expect(data.timeline.series.filter((s: { chart: string }) => s.chart === 'quality').map((s: { name: string }) => s.name)).toEqual(['sharpness', 'exposure', 'score']);
  });

  it('framesift report DIR writes the same page again', async () => {
    const before = readFileSync(join(dir, 'report.html'), 'utf8');
    rmSync(join(dir, 'report.html'));
    const result = await runCli(['report', dir]);
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, 'report.html'), 'utf8') === before).toBe(true);
    expect(readdirSync(join(dir, 'report')).filter((n) => n.startsWith('pick_')).length).toBe(manifest.frames.length);
  });

  it('framesift report on a folder that is no run fails with a clear error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'framesift-report-empty-'));
    const result = await runCli(['report', empty]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('neither a framesift run');
    expect(result.stderr).toContain('ERR_FRAMESIFT_NOT_FOUND');
  });

  it('a batch folder gets an index page linking each clip report', async () => {
    const batchDir = mkdtempSync(join(tmpdir(), 'framesift-report-batch-'));
    writeFileSync(join(batchDir, 'batch.json'), JSON.stringify({
        // The shape `framesift batch` writes (BatchSummary): the clips are its `jobs`.
        outDir: batchDir,
        jobs: [
          { id: 1, input: clip, name: 'defects', outDir: dir, state: 'done', frames: manifest.frames.length, error: null },
          { id: 2, input: 'missing.mp4', name: 'missing', outDir: join(batchDir, 'nope'), state: 'failed', frames: null, error: { code: 'ERR_FRAMESIFT_NOT_FOUND', message: 'missing.mp4: no such file' } },
        ],
        counts: { done: 1, failed: 1 },
      }));
    const result = await runCli(['report', batchDir]);
    expect(result.code).toBe(0);
    const { tab, errors } = await openReport(batchDir, 'index.html');
    const links = await tab.$$eval('a', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    const rows = await tab.$$eval('tr', (trs) => trs.length);
    await tab.close();
    expect(errors).toEqual([]);
    expect(rows).toBe(3);
    expect(links).toEqual([pathToFileURL(join(dir, 'report.html')).href]);
  });
});

describe('extract --no-report', () => {
  it('writes no report', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-noreport-')), 'out');
    const result = await runCli(['extract', clip, '-o', out, '--count', '4', '--no-report', '--quiet', '--mode', 'fast']);
    expect(result.code).toBe(0);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(false);
    expect(existsSync(join(out, 'report'))).toBe(false);
  });
});

describe('pass-1 thumbnail sample', () => {
  it('stays bounded and evenly spread, and shrinks the frames it keeps', async () => {
    const sampler = new ThumbnailSampler(16);
    const width = 640;
    const height = 360;
    for (let first = 0; first < 100; first += 7) {
      const frames = Array.from({ length: Math.min(7, 100 - first) }, (_, k) => ({ index: 1000 + first + k, width, height, gray: new Uint8Array(width * height).fill((first + k) * 2) }));
      sampler.offer(frames, first);
    }
    // 100 rows into 16 places: the stride doubled to 8, so rows 0, 8, ..., 96 are kept.
    expect(sampler.size).toBe(13);
    const dir = mkdtempSync(join(tmpdir(), 'framesift-thumbs-'));
    const written = await sampler.writeExamples(dir, (row) => (row >= 40 && row < 70 ? 'rejected:blur' : row === 3 ? 'rejected:cut' : 'usable'), 2);
    // Rows 40, 48, 56, 64 were rejected for blur: two of them, spread; row 3 fell between samples.
    expect(written).toEqual({ blur: ['rejected_1048.jpg', 'rejected_1064.jpg'] });
    const { data, info } = await sharp(join(dir, 'report', 'rejected_1048.jpg')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([160, 90]);
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    expect(Math.abs(mean - 96)).toBeLessThan(2);
  });
});
