/**
 * The pipeline's stage files: the keyframe lookup, the one-pass keep plan, the keep windows over
 * a real decode (each window keeps its best frames by cheap quality, described once), the
 * candidate resolution onto the described rows, and OpenCV's thread pool fixed at load.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { deliveredFrameCount, openVideo, probe } from '../src/core/decode.js';
import { extractFrames } from '../src/extract.js';
import { validateManifest } from '../src/output/index.js';
import { native } from '../src/core/native.js';
import { CandidateImages } from '../src/pipeline/candidate-images.js';
import { Descriptions } from '../src/pipeline/descriptions.js';
import { RowQuality } from '../src/pipeline/frame-table.js';
import { resolveExtractOptions } from '../src/pipeline/options.js';
import { ProgressReporter } from '../src/pipeline/progress.js';
import { MAX_KEPT_SHARE, planDensePass } from '../src/pipeline/single-pass.js';
import { REPLACE_QUALITY, resolveCandidates, STAND_IN_MIN_CHOICE } from '../src/pipeline/stages/candidates.js';
import { measureVideo, PASS1_METRICS } from '../src/pipeline/stages/measure.js';
import { measureFrames } from '../src/core/metrics.js';
import { fetchPoolSizes, keyframeBefore, pass1DecoderThreads } from '../src/pipeline/types.js';
import { silentLogger } from '../src/log.js';
import { cheapQuality, findCandidates } from '../src/select/index.js';
import { relativeQuality } from '../src/select/score.js';
import { synthetic } from './helpers/select-fixtures.js';
import { fixtures } from './helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'framesift-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keyframeBefore', () => {
  it('finds the latest keyframe at or before each time, 0 before the first', () => {
    const keys = Float64Array.from([0.5, 2, 4]);
    expect(keyframeBefore(keys, [0.2, 0.5, 1.9, 2, 3.99, 10])).toEqual([0, 0.5, 0.5, 2, 2, 4]);
  });
});

describe('planDensePass', () => {
  const info = { avgFrameRate: 30, durationSec: 60, displayWidth: 1920, displayHeight: 1080, outputWidth: 640, outputHeight: 360 } as Parameters<typeof planDensePass>[0];
  it('keeps one frame per KEEP_MARGIN x candidates the count allows', () => {
    const plan = planDensePass(info, resolveExtractOptions({ outDir: dir, count: 10 }))!;
    // 6 bins per pick x 10 picks = 60 candidates in 1,800 frames, x1.5: one frame in 20 (a hair under 20 frames of time).
    expect(plan.keepPerWindow).toBe(1);
    expect(plan.windowSec).toBeCloseTo(19.5 / 30, 9);
    expect(plan.decode).toMatchObject({ rgb: true, rgbFullResolution: true, fastDecode: false });
    // At most one candidate per 0.25 s: 40 picks give 240 candidates, x1.5: one frame in 5.
    expect(planDensePass(info, resolveExtractOptions({ outDir: dir, count: 40 }))!.windowSec).toBeCloseTo(4.5 / 30, 9);
  });
  it('declines (two passes) when the superset would hold more than MAX_KEPT_SHARE of the frames', () => {
    // 18 s at 30 fps with a spacing of 0.05 s and 100 picks: candidates in a third of the frames.
    const short = { ...info, durationSec: 18 };
    const options = resolveExtractOptions({ outDir: dir, count: 100, minSpacing: 0.05 });
    expect((1.5 * Math.min(540, 18 / 0.05, 600)) / 540).toBeGreaterThan(MAX_KEPT_SHARE);
    expect(planDensePass(short, options)).toBeUndefined();
  });
});

describe('one pass: keep windows over a real decode', () => {
  it('keeps exactly the best frame of each window by cheap quality, and describes only the rows asked for after the pass', async () => {
    const clip = fixtures.cfr(); // 320x240, 30 fps, 3 s
    const out = join(dir, 'keep');
    const options = resolveExtractOptions({ outDir: out, count: 2, mode: 'balanced' });
    const images = new CandidateImages(dir, 'jpg', 90);
    const descriptions = new Descriptions({ detector: 'sift', maxFeatures: 500, threads: 1, embedder: undefined, images });
    try {
      const measured = await measureVideo(clip, options, new ProgressReporter(), silentLogger, descriptions);
      await images.flush();
      const info = await probe(clip);
      const plan = planDensePass({ ...info, outputWidth: measured.analysisWidth, outputHeight: measured.analysisHeight } as never, options)!;
      expect(measured.columns.length).toBe(90);
      // Windows from the first frame of each, plan.windowSec long (5 frames here: 18 windows).
      const quality = new RowQuality(Math.max(measured.analysisWidth, measured.analysisHeight));
      const windows: number[][] = [];
      let start = -Infinity;
      for (let r = 0; r < measured.columns.length; r++) {
        if (measured.columns.ptsSec[r]! >= start + plan.windowSec) {
          windows.push([]);
          start = measured.columns.ptsSec[r]!;
        }
        windows.at(-1)!.push(r);
      }
      expect(windows.length).toBe(18);
      const expected = windows.map((rows) => rows.map((r) => ({ r, q: quality.of(measured.columns, r) })).sort((a, b) => b.q - a.q || a.r - b.r)[0]!.r);
      expect(measured.kept).toEqual(expected);
      // Not encoded during the pass: each kept frame's decoded planes wait in the spill.
      for (const row of expected) expect([images.isSpilled(row), images.has(row)]).toEqual([true, false]);
      expect(images.spillBytes).toBeGreaterThanOrEqual(expected.length * 320 * 240 * 1.5);
      // Nothing described during the pass: the kept rows wait with their analysis images.
      expect(descriptions.size).toBe(0);
      expect(descriptions.described).toBe(0);
      for (const row of expected) expect(descriptions.isKept(row)).toBe(true);
      // The candidate stage asks for some of them (and a row never kept): only those get features.
      const wanted = [expected[1]!, expected[4]!, expected[9]!];
      expect(await descriptions.describeKept([...wanted, expected[4]!, expected[1]! + 1])).toBe(3);
      expect([...descriptions.features.keys()].sort((a, b) => a - b)).toEqual(wanted);
      expect(descriptions.described).toBe(3);
      // Only those are converted and encoded; the spill stays until the kept frames are dropped.
      expect(await descriptions.encodeKept([...wanted, expected[1]! + 1], 2)).toBe(3);
      expect(expected.filter((row) => images.has(row))).toEqual(wanted);
      expect(images.isSpilled(expected[0]!)).toBe(true);
      descriptions.dropKept();
      expect([images.isSpilled(expected[0]!), images.spillBytes]).toEqual([false, 0]);
      // The rest of the kept images are dropped.
      expect(descriptions.isKept(expected[0]!)).toBe(false);
      expect(await descriptions.describeKept(expected)).toBe(0);
    } finally {
      await images.discardRest();
      descriptions.dispose();
    }
  });
});

describe('extract: decodes', () => {
  it('each frame of a video once in balanced mode; with twoPass, the candidates once more', async () => {
    const clip = fixtures.cfr(); // 90 frames
    const before = deliveredFrameCount();
    const one = await extractFrames(clip, { outDir: join(dir, 'once'), count: 4 });
    expect(deliveredFrameCount() - before).toBe(90);
    expect(one.counts).toMatchObject({ analysed: 90, chosen: 4 });
    expect(one.decode).toMatchObject({ passes: 1, pass1: 'all', framesDecoded: { measure: 90, describe: 0 }, candidates: { fetched: 0 } });
    // SIFT ran on the candidates only, not on every kept frame.
    expect(one.decode!.kept).toBeGreaterThan(one.counts.candidates);
    expect(one.decode!.described).toBe(one.counts.candidates);
    expect(Object.keys(one.cpuTimings!).sort()).toEqual(Object.keys(one.timings).sort());
    expect(validateManifest(one).errors).toEqual([]);

    const middle = deliveredFrameCount();
    const two = await extractFrames(clip, { outDir: join(dir, 'twice'), count: 4, twoPass: true });
    expect(two.decode).toMatchObject({ passes: 2, kept: 0, fallback: 'requested', framesDecoded: { measure: 90, describe: two.counts.candidates } });
    expect(deliveredFrameCount() - middle).toBe(90 + two.counts.candidates);
  });
});

describe('pass 1 motion', () => {
  it('does not depend on where the batches split the frames', async () => {
    // Images over 480 px: motion tracks on a halved copy, so the previous batch's last frame must
    // get the coverage pass's corners as when it was measured, not corners of its own. The
    // 320x240 clip's frames doubled (nearest) to 640x480.
    const decoder = await openVideo(fixtures.cfr(), { analysisSize: 320, gray: true, batchSize: 4 });
    const images: Array<{ data: Uint8Array; width: number; height: number }> = [];
    for await (const batch of decoder.batches({ closeOnExit: false })) {
      for (const f of batch.frames) {
        if (images.length < 10) {
          const data = new Uint8Array(4 * f.width * f.height);
          for (let y = 0; y < 2 * f.height; y++) for (let x = 0; x < 2 * f.width; x++) data[y * 2 * f.width + x] = f.gray![(y >> 1) * f.width + (x >> 1)]!;
          images.push({ data, width: 2 * f.width, height: 2 * f.height });
        }
        f.release();
      }
      if (images.length >= 10) break;
    }
    await decoder.close();
    const fields = ['motionMedianPx', 'motionP90Px', 'parallaxPx', 'motionTracked'] as const;
    const whole = await measureFrames(images, { metrics: PASS1_METRICS, threads: 1 });
    const head = await measureFrames(images.slice(0, 3), { metrics: PASS1_METRICS, threads: 1 });
    const tail = await measureFrames(images.slice(3), { metrics: PASS1_METRICS, threads: 2, previous: images[2]! });
    for (const field of fields) {
      const split = [...head[field]!, ...tail[field]!];
      expect(split.slice(1).every(Number.isFinite)).toBe(true); // the first frame has no previous
      expect(split).toEqual([...whole[field]!]);
    }
  });
});

describe('resolveCandidates', () => {
  const { table } = synthetic(300, { seed: 7, measured: true });
  const stage = findCandidates(table, { mode: 'balanced', count: 10 });
  const quality = (row: number) => cheapQuality(table, row) * relativeQuality(table, stage.defects.levels, row);

  it('keeps every candidate when all are described', () => {
    const { stage: out, sources } = resolveCandidates(table, stage, () => true);
    expect(Array.from(out.candidates)).toEqual(Array.from(stage.candidates));
    expect(sources).toEqual({ global: stage.candidates.length, kept: stage.candidates.length, replaced: 0, fetched: 0 });
  });

  it('decodes again what has no described row near it', () => {
    const { stage: out, sources } = resolveCandidates(table, stage, () => false);
    expect(Array.from(out.candidates)).toEqual(Array.from(stage.candidates));
    expect(sources.fetched).toBe(stage.candidates.length);
  });

  it('replaces a candidate by a described neighbour of its segment only when it is as good and keeps the spacing', () => {
    const cands = Array.from(stage.candidates);
    const spacing = stage.options.minSpacingSec;
    const pts = table.ptsSec;
    // A candidate with, in its segment, one stand-in that is as good and spaced, and one that is not.
    const cases = cands.map((c, k) => {
      const s = Array.from(stage.segments.start).findLastIndex((start) => start <= c);
      const prev = k > 0 ? pts[cands[k - 1]!]! : -Infinity;
      const next = k + 1 < cands.length ? pts[cands[k + 1]!]! : Infinity;
      const rows = Array.from({ length: stage.segments.end[s]! - stage.segments.start[s]! }, (_, i) => stage.segments.start[s]! + i).filter(
        (r) => r !== c && !stage.defects.reject[r] && !cands.includes(r),
      );
      const spaced = (r: number) => pts[r]! - prev >= spacing && next - pts[r]! >= spacing;
      const asGood = (r: number) => quality(r) >= REPLACE_QUALITY * quality(c);
      return { c, good: rows.filter((r) => asGood(r) && spaced(r)), bad: rows.filter((r) => !asGood(r) || !spaced(r)) };
    });
    const withGood = cases.find((x) => x.good.length > 0 && x.bad.length > 0);
    expect(withGood).toBeDefined();
    const { c, good, bad } = withGood!;
    const others = new Set(cands.filter((r) => r !== c));
    const replaced = resolveCandidates(table, stage, (r) => others.has(r) || r === good[0]);
    expect(replaced.sources).toMatchObject({ kept: cands.length - 1, replaced: 1, fetched: 0 });
    expect(replaced.stage.candidates.includes(good[0]!)).toBe(true);
    expect(replaced.stage.candidates.includes(c)).toBe(false);
    const fetched = resolveCandidates(table, stage, (r) => others.has(r) || r === bad[0]);
    expect(fetched.sources).toMatchObject({ replaced: 0, fetched: 1 });
    expect(fetched.stage.candidates.includes(c)).toBe(true);
    expect(fetched.stage.candidates.includes(bad[0]!)).toBe(false);
    // A dense count (fewer than STAND_IN_MIN_CHOICE candidates per pick): no stand-in at all.
    const dense = { ...stage, targetCount: Math.ceil(cands.length / STAND_IN_MIN_CHOICE) + 1 };
    const strict = resolveCandidates(table, dense, (r) => others.has(r) || r === good[0]);
    expect(strict.sources).toMatchObject({ replaced: 0, fetched: 1 });
    expect(strict.stage.candidates.includes(c)).toBe(true);
  });
});

describe('OpenCV threads', () => {
  it('are fixed to one at load, before any job, in a fresh process', () => {
    const code = "const { loadNative } = await import(process.argv[1]); console.log(loadNative().openCvThreads());";
    const printed = execFileSync(process.execPath, ['--input-type=module', '-e', code, join(process.cwd(), 'dist/bindings/index.js')], { encoding: 'utf8' });
    expect(printed.trim()).toBe('1');
    expect(native().openCvThreads()).toBe(1);
  });

  it('a features batch splits its frames over its own threads, with the same results', async () => {
    const decoder = await openVideo(fixtures.cfr(), { analysisSize: 320, batchSize: 8 });
    const frames = [];
    for await (const batch of decoder.batches()) {
      frames.push(...batch.frames);
      if (frames.length >= 8) break;
    }
    const { extractFeaturesBatch } = await import('../src/core/geometry.js');
    const one = await extractFeaturesBatch(frames, { maxFeatures: 300, threads: 1 });
    const two = await extractFeaturesBatch(frames, { maxFeatures: 300, threads: 2 });
    expect(two.map((s) => s.count)).toEqual(one.map((s) => s.count));
    expect(two.map((s) => Array.from(s.keypoints()))).toEqual(one.map((s) => Array.from(s.keypoints())));
    expect(native().openCvThreads()).toBe(1);
    for (const s of [...one, ...two]) s.dispose();
    for (const f of frames) f.release();
  });
});

describe('fetchPoolSizes (describe pass 2, write fetch)', () => {
  it('bounds the full-resolution slots by memory at 4K, keeps the cap below it, and never goes under two batches', () => {
    expect(fetchPoolSizes({ displayWidth: 1920, displayHeight: 1080 }, 10)).toEqual({ batchSize: 4, poolSize: 10 });
    expect(fetchPoolSizes({ displayWidth: 3840, displayHeight: 2160 }, 10)).toEqual({ batchSize: 2, poolSize: 5 });
    expect(fetchPoolSizes({ displayWidth: 320, displayHeight: 240 }, 12)).toEqual({ batchSize: 4, poolSize: 12 });
    const huge = fetchPoolSizes({ displayWidth: 8192, displayHeight: 8192 }, 12);
    expect(huge.poolSize).toBeGreaterThanOrEqual(2 * huge.batchSize);
  });
});

describe('pass1DecoderThreads', () => {
  it('gives pass 1 two frame threads more than the cores (the metrics share them), one on one core', () => {
    expect([1, 2, 4, 16].map(pass1DecoderThreads)).toEqual([1, 4, 6, 18]);
  });
});
