import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { deliveredFrameCount } from '../src/core/decode.js';
import { extractFrames, type Manifest } from '../src/extract.js';
import { reselect } from '../src/report/reselect.js';
import { loadAnalysis } from '../src/report/saved-analysis.js';
import { runCli } from './helpers/cli.js';
import { defectClip } from './helpers/fixtures.js';

const N = 8;
const WEIGHTS = { sharpness: 0.45, features: 0.15, coverage: 0.15, texture: 0.15, exposure: 0.1 };

function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `framesift-reselect-${tag}-`));
}

/** A copy of the finished run in `dir` (each test chooses again in its own). */
function copyRun(dir: string, tag: string): string {
  const copy = join(tempDir(tag), 'out');
  cpSync(dir, copy, { recursive: true });
  return copy;
}

const picks = (m: Manifest) => m.frames.map((f) => f.frameIndex);

/** What a folder's outputs say about the picks: images on disk, images.txt, the report's cards. */
function outputsOf(dir: string) {
  return {
    images: readdirSync(join(dir, 'images')).sort(),
    list: readFileSync(join(dir, 'images.txt'), 'utf8').trim().split('\n'),
    reportThumbs: readdirSync(join(dir, 'report')).filter((n) => n.startsWith('pick_')).length,
    reportFrames: JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(readFileSync(join(dir, 'report.html'), 'utf8'))![1]!).manifest.frames.length,
  };
}

async function delivered<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const before = deliveredFrameCount();
  const value = await fn();
  return [deliveredFrameCount() - before, value];
}

let clip: string;
let base: string;
let baseManifest: Manifest;

beforeAll(async () => {
  clip = await defectClip();
  base = join(tempDir('base'), 'out');
  baseManifest = await extractFrames(clip, { outDir: base, count: N });
}, 300_000);

describe('framesift select', () => {
  it('extract saves the analysis and every candidate image; the picks are links to them', async () => {
    const saved = await loadAnalysis(base);
    expect(saved.columns.length).toBe(baseManifest.counts.analysed);
    expect(saved.described.length).toBe(baseManifest.counts.candidates);
    const store = readdirSync(join(base, '.framesift', 'candidates'));
    expect(store.length).toBe(saved.described.length);
    expect(saved.fingerprint).toMatchObject({ kind: 'video', size: readFileSync(clip).length });
  });

  it('other weights, same count: the saved candidates are the fresh ones; same picks as a fresh extract, nothing decoded', async () => {
    const dir = copyRun(base, 'weights');
    const [decoded, manifest] = await delivered(() => reselect(dir, { weights: WEIGHTS }));
    const fresh = await extractFrames(clip, { outDir: join(tempDir('fresh-w'), 'out'), count: N, weights: WEIGHTS, report: false });
    expect(decoded).toBe(0);
    expect(manifest.frames.length).toBe(N);
    expect(picks(manifest)).toEqual(picks(fresh));
    expect(manifest.frames.map((f) => f.score)).toEqual(fresh.frames.map((f) => f.score));
    expect((manifest.config.select as { weights: unknown }).weights).toEqual(WEIGHTS);
  });

  it('a smaller count fits the saved candidates: exactly M, nothing decoded, outputs rewritten', async () => {
    const dir = copyRun(base, 'fit');
    const [decoded, manifest] = await delivered(() => reselect(dir, { count: 5 }));
    expect(decoded).toBe(0);
    expect(manifest.frames.length).toBe(5);
    expect(manifest.timings.describe).toBeUndefined();
    expect(manifest.decode?.framesDecoded).toEqual({ measure: 0, describe: 0 });
    // Every pick is a saved candidate, and the folder holds exactly the new choice.
    const analysis = await loadAnalysis(dir);
    const saved = new Set(analysis.described.map((d) => analysis.columns.index[d.row]));
    for (const f of picks(manifest)) expect(saved.has(f)).toBe(true);
    const names = manifest.frames.map((f) => f.file);
    expect(outputsOf(dir)).toEqual({ images: [...names].sort(), list: names, reportThumbs: 5, reportFrames: 5 });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).frames.map((f: { frameIndex: number }) => f.frameIndex)).toEqual(picks(manifest));
    // Against a fresh extract at 5 (the tolerance of docs/selection.md, "Re-selection"): the
    // saved candidates are denser than a fresh run's at 5, so picks may move, each by at most
    // half the mean spacing of picks, and the mean score stays within 5%.
    const fresh = await extractFrames(clip, { outDir: join(tempDir('fresh-5'), 'out'), count: 5, report: false });
    const halfSpacing = baseManifest.counts.analysed / 5 / 2;
    for (const f of picks(manifest)) expect(Math.min(...picks(fresh).map((g) => Math.abs(f - g)))).toBeLessThanOrEqual(halfSpacing);
    const mean = (m: Manifest) => m.frames.reduce((a, f) => a + f.score, 0) / m.frames.length;
    expect(mean(manifest)).toBeGreaterThanOrEqual(0.95 * mean(fresh));
  });

  it('a larger count decodes only the candidates that were not saved, and equals a fresh extract at that count', async () => {
    const dir = copyRun(base, 'more');
    const before = await loadAnalysis(dir);
    const [decoded, manifest] = await delivered(() => reselect(dir, { count: 14 }));
    const after = await loadAnalysis(dir);
    // Its candidates are the rule's (a one-pass extract may use stand-ins from its keep windows:
    // docs/selection.md), so it equals a two-pass extract exactly.
    const fresh = await extractFrames(clip, { outDir: join(tempDir('fresh-14'), 'out'), count: 14, twoPass: true, report: false });
    expect(manifest.frames.length).toBe(14);
    expect(picks(manifest)).toEqual(picks(fresh));
    // The new candidates were decoded once each, and saved for the next select.
    expect(decoded).toBe(after.described.length - before.described.length);
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(fresh.counts.candidates);
    expect(manifest.decode?.framesDecoded).toEqual({ measure: 0, describe: decoded });
    expect(outputsOf(dir).images.length).toBe(14);
    // Now they are saved: choosing 14 again decodes nothing.
    const [again, same] = await delivered(() => reselect(dir, { count: 14 }));
    expect(again).toBe(0);
    expect(picks(same)).toEqual(picks(fresh));
  });

  it('after a one-pass extract: other weights need no decode, a larger count decodes, both equal a fresh one-pass extract', async () => {
    // Count 4 of 150 frames keeps candidates in pass 1 (one pass); the base run's 8 is too dense for it.
    const dir = join(tempDir('one-pass'), 'out');
    const first = await extractFrames(clip, { outDir: dir, count: 4, report: false });
    expect(first.decode?.kept).toBeGreaterThan(0);
    const [none, reweighted] = await delivered(() => reselect(dir, { weights: WEIGHTS, report: false }));
    const freshWeights = await extractFrames(clip, { outDir: join(tempDir('fresh-op-w'), 'out'), count: 4, weights: WEIGHTS, report: false });
    expect(none).toBe(0);
    expect(picks(reweighted)).toEqual(picks(freshWeights));
    const [decoded, more] = await delivered(() => reselect(dir, { count: 5, report: false }));
    const fresh5 = await extractFrames(clip, { outDir: join(tempDir('fresh-op-5'), 'out'), count: 5, report: false });
    expect(fresh5.decode?.kept).toBeGreaterThan(0);
    expect(decoded).toBeGreaterThan(0);
    expect(picks(more)).toEqual(picks(fresh5));
  });

  it('a missing input is fine when nothing must be decoded, and a clear error when something must', async () => {
    const video = join(tempDir('input'), 'clip.mp4');
    copyFileSync(clip, video);
    const dir = join(tempDir('gone'), 'out');
    await extractFrames(video, { outDir: dir, count: N, report: false });
    rmSync(video);
    expect((await reselect(dir, { count: 4, report: false })).frames.length).toBe(4);
    await expect(reselect(dir, { count: 14 })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_FRAMESIFT_NOT_FOUND', message: expect.stringMatching(/clip\.mp4: the input of this run is gone .* candidates of the new selection must be decoded/) }),
    );
    // Another file under the same name.
    writeFileSync(video, readFileSync(clip).subarray(0, 50_000));
    const cli = await runCli(['select', dir, '--count', '14', '--quiet']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/clip\.mp4: the input changed since it was analysed \(its size is 50000, was \d+\).*\[ERR_FRAMESIFT_INPUT_CHANGED\]/);
    // The failed select left the previous choice in place.
    expect(readdirSync(join(dir, 'images')).length).toBe(4);
  });

  it('the CLI: exact count, usage errors, and a folder without a saved analysis', async () => {
    const dir = copyRun(base, 'cli');
    const ok = await runCli(['select', dir, '--count', '6', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ chosen: 6, decoded: false });
    const bad = await runCli(['select', dir, '--count', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected an integer from 1 to 1000000 for count but received 0');
    const both = await runCli(['select', dir, '--count', '3', '--max-frames', '5']);
    expect(both.code).toBe(2);
    const weights = await runCli(['select', dir, '--weights', 'sharpness=2']);
    expect(weights.code).toBe(2);
    const empty = tempDir('empty');
    const none = await runCli(['select', empty, '--count', '3']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/analysis\.bin: no saved analysis \(ENOENT\); select needs a folder written by framesift extract \[ERR_FRAMESIFT_SAVED_ANALYSIS\]/);
  });

  it('with a model: the saved embeddings and DINO scores choose again as a fresh extract does (fast mode)', async () => {
    const { writeTestModel, TEST_MODELS } = await import('../scripts/make-test-model.js');
    const model = await writeTestModel(join(tempDir('model'), 'dinov3.onnx'), TEST_MODELS['dinov3-f32']);
    const dir = join(tempDir('with-model'), 'out');
    await extractFrames(clip, { outDir: dir, count: 6, mode: 'fast', model, report: false });
    const weights = { spatialComplexity: 0.4, semanticRichness: 0.1, geometric: 0.4, texture: 0.1 };
    const [decoded, manifest] = await delivered(() => reselect(dir, { weights, report: false }));
    const fresh = await extractFrames(clip, { outDir: join(tempDir('fresh-model'), 'out'), count: 6, mode: 'fast', model, weights, report: false });
    expect(decoded).toBe(0);
    expect(picks(manifest)).toEqual(picks(fresh));
    expect(manifest.frames.map((f) => f.subScores.spatialComplexity)).toEqual(fresh.frames.map((f) => f.subScores.spatialComplexity));
    expect(manifest.device).toEqual(fresh.device);
  });

  it('extract --force over a run removes its saved analysis and report with it', async () => {
    const dir = copyRun(base, 'force');
    await extractFrames(clip, { outDir: dir, count: 3, force: true, report: false, mode: 'fast' });
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
    expect(existsSync(join(dir, 'report'))).toBe(false);
    const saved = await loadAnalysis(dir);
    expect(readdirSync(join(dir, '.framesift', 'candidates')).length).toBe(saved.described.length);
  });
});
