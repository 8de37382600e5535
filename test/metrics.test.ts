import sharp from 'sharp';
import { describe, expect, it, test } from 'vitest';

import { isFramesiftError } from '../src/errors.js';
import {
  FAST_METRICS,
  hammingDistance,
  measureFrames,
  METRIC_FIELDS,
  METRIC_NAMES,
  metricMask,
  type FrameMetricsBatch,
  type NumericField,
} from '../src/core/metrics.js';
import { native } from '../src/core/native.js';
import * as S from './helpers/synthetic-images.js';

const W = 256;
const H = 256;

function values(result: FrameMetricsBatch, field: NumericField): number[] {
  const array = result[field];
  if (!array) throw new Error(`missing field ${field}`);
  return Array.from(array);
}

function expectStrictlyDecreasing(series: number[], label: string): void {
  for (let i = 1; i < series.length; i++) expect(series[i], `${label}: ${series.join(', ')}`).toBeLessThan(series[i - 1]);
}

/** Angle difference modulo 180 degrees (directions, not orientations with a sign). */
function directionError(a: number, b: number): number {
  const d = Math.abs(a - b) % 180;
  return Math.min(d, 180 - d);
}

async function expectInvalidArg(promise: Promise<unknown>, message?: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isFramesiftError(err, 'ERR_FRAMESIFT_INVALID_ARG'), String(err)).toBe(true);
  if (message) expect((err as Error).message).toMatch(message);
}

/**
 * A grid of separated squares: every square corner is an L-corner (FAST-9 does not fire on the
 * X-junctions of a plain checkerboard: no 9 contiguous circle pixels differ). Slightly blurred
 * like any camera image: on perfectly sharp synthetic corners FAST's non-maximum suppression
 * (strictly greater than every neighbour) finds plateaus of equal scores and keeps none.
 */
function squares(width: number, height: number, cell: number, size: number): S.GrayImage {
  const rects = [];
  for (let y = 0; y + cell <= height; y += cell)
    for (let x = 0; x + cell <= width; x += cell) rects.push({ x: x + (cell - size) / 2, y: y + (cell - size) / 2, w: size, h: size });
  return S.gaussianBlur(S.withRects(S.flat(width, height, 30), rects, 220), 0.7);
}

/** White 8x8 squares centred in the given cells of the 8x8 coverage grid (blurred as above). */
function coverageLayout(width: number, height: number, cells: Array<[number, number]>): S.GrayImage {
  const cw = width / 8;
  const ch = height / 8;
  const rects = cells.map(([cx, cy]) => ({ x: Math.round(cx * cw + cw / 2 - 4), y: Math.round(cy * ch + ch / 2 - 4), w: 8, h: 8 }));
  return S.gaussianBlur(S.withRects(S.flat(width, height, 20), rects, 235), 0.7);
}

async function jpegRoundTrip(img: S.GrayImage, quality: number): Promise<S.GrayImage> {
  const raw = { width: img.width, height: img.height, channels: 1 as const };
  const jpeg = await sharp(img.data, { raw }).jpeg({ quality }).toBuffer();
  const decoded = await sharp(jpeg).extractChannel(0).raw().toBuffer();
  return { data: new Uint8Array(decoded), width: img.width, height: img.height };
}

describe('sharpness and blur', () => {
  const sigmas = [0, 0.5, 1, 2, 4];
  // Broadband textures: blur changes the shape of their spectrum, so every measure must fall.
  const broadband: Record<string, S.GrayImage> = {
    checkerboard: S.checkerboard(W, H, 16, 40, 215),
    noise: S.noiseTexture(W, H, 1, 40, 215),
    valueNoise: S.valueNoise(W, H, 3),
  };

  for (const [name, texture] of Object.entries(broadband)) {
    test(`sharpness and the FFT ratio fall strictly with Gaussian blur on ${name}`, async () => {
      const m = await measureFrames(
        sigmas.map((s) => S.gaussianBlur(texture, s)),
        { metrics: ['sharpness', 'fft'], threads: 2 },
      );
      for (const field of ['laplacianVariance', 'tenengrad', 'gradientP90', 'fftHighRatio'] as const)
        expectStrictlyDecreasing(values(m, field), `${name} ${field}`);
      for (const field of ['laplacianScore', 'tenengradScore', 'gradientP90Score', 'fftScore'] as const)
        for (const v of values(m, field)) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
    });
  }

  test('sharpness falls strictly with blur on a sinusoid grating', async () => {
    // (A single-frequency grating keeps its spectral shape under blur, so the FFT ratio is not
    // meaningful on it; the gradient measures still fall.)
    const grating = S.grating(W, H, 9, 30);
    const m = await measureFrames(sigmas.map((s) => S.gaussianBlur(grating, s)), { metrics: ['sharpness'] });
    for (const field of ['laplacianVariance', 'tenengrad', 'gradientP90'] as const) expectStrictlyDecreasing(values(m, field), `grating ${field}`);
  });

  for (const [name, texture] of Object.entries({ noise: S.noiseTexture(W, H, 2, 40, 215), valueNoise: S.valueNoise(W, H, 4) })) {
    test(`a linear motion blur is found with its direction within 15 degrees on ${name}`, async () => {
      const angles = [0, 30, 60, 90, 135, 160];
      const m = await measureFrames([texture, ...angles.map((a) => S.motionBlur(texture, 12, a))], { metrics: ['motionBlur'] });
      const direction = values(m, 'blurDirection');
      const anisotropy = values(m, 'blurAnisotropy');
      angles.forEach((angle, i) => {
        expect(directionError(direction[i + 1], angle), `angle ${angle} measured ${direction[i + 1]}`).toBeLessThanOrEqual(15);
        expect(anisotropy[i + 1]).toBeGreaterThan(anisotropy[0] + 0.2);
      });
      expect(values(m, 'motionBlurScore')[0]).toBeGreaterThan(0.9);
    });
  }
});

describe('noise', () => {
  const images: Record<string, S.GrayImage> = {
    smooth: S.fromFunction(W, H, (x, y) => 128 + 50 * Math.sin(x / 40) * Math.cos(y / 55)),
    checkerboard: S.checkerboard(W, H, 16, 60, 190),
    valueNoise: S.valueNoise(W, H, 5, 64, 7, 128, 120),
  };
  for (const [name, image] of Object.entries(images)) {
    test(`noise sigma within 15% for added Gaussian noise of 5, 10, 20 on ${name}`, async () => {
      const sigmas = [5, 10, 20];
      const m = await measureFrames(sigmas.map((s, i) => S.addNoise(image, s, 100 + i)), { metrics: ['noise'] });
      values(m, 'noiseSigma').forEach((estimate, i) => {
        expect(Math.abs(estimate - sigmas[i]) / sigmas[i], `sigma ${sigmas[i]} estimated ${estimate}`).toBeLessThanOrEqual(0.15);
      });
      const scores = values(m, 'noiseScore');
      expectStrictlyDecreasing(scores, `${name} noiseScore`);
    });
  }
});

describe('exposure', () => {
  test('clipping fractions are exact on a constructed image', async () => {
    const width = 100;
    const height = 100;
    const data = new Uint8Array(width * height).fill(128);
    // 1234 clipped low (0 and the threshold 4), 567 clipped high (251 and 255), and values
    // just inside the thresholds that must not count (5 and 250).
    for (let i = 0; i < 1234; i++) data[i] = i % 2 ? 0 : 4;
    for (let i = 0; i < 567; i++) data[2000 + i] = i % 2 ? 255 : 251;
    for (let i = 0; i < 300; i++) data[3000 + i] = i % 2 ? 5 : 250;
    const m = await measureFrames([{ data, width, height }], { metrics: ['exposure'] });
    expect(m.clippedLow![0]).toBe(1234 / 10000);
    expect(m.clippedHigh![0]).toBe(567 / 10000);
    const flat = await measureFrames([S.flat(64, 64, 77)], { metrics: ['exposure'] });
    expect(flat.brightnessMean![0]).toBe(77);
    expect(flat.dynamicRange![0]).toBe(0);
    expect(flat.histogramEntropy![0]).toBe(0);
  });

  test('the exposure score is lower for under- and over-exposed versions of an image', async () => {
    const base = S.valueNoise(W, H, 6, 64, 7, 120, 180);
    const under = S.adjust(base, 0.3);
    const over = S.adjust(base, 1.6, 60);
    const m = await measureFrames([base, under, over], { metrics: ['exposure'] });
    const [good, dark, bright] = values(m, 'exposureScore');
    expect(dark).toBeLessThan(good);
    expect(bright).toBeLessThan(good);
    expect(values(m, 'clippedHigh')[2]).toBeGreaterThan(0.05);
    for (const v of values(m, 'exposureScore')) expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1);
  });
});

describe('features and structure', () => {
  const detectors = ['harris', 'fast', 'orb', 'sift', 'coverage', 'edges', 'lines'] as const;

  test('no corners, features, edges or lines on a flat image', async () => {
    const m = await measureFrames([S.flat(W, H, 128)], { metrics: [...detectors] });
    for (const field of ['harrisCount', 'fastCount', 'orbCount', 'siftCount', 'coverage', 'edgeDensity', 'lineCount'] as const)
      expect(m[field]![0], field).toBe(0);
  });

  test('many corners on a checkerboard, many keypoints on a grid of squares', async () => {
    const checker = S.checkerboard(W, H, 16);
    const grid = squares(W, H, 32, 16);
    const m = await measureFrames([checker, grid], { metrics: [...detectors] });
    // 15 x 15 interior checkerboard corners, each counted once.
    expect(m.harrisCount![0]).toBe(225);
    expect(m.orbCount![0]).toBeGreaterThan(200);
    expect(m.siftCount![0]).toBeGreaterThan(200);
    // 8 x 8 squares with 4 corners each.
    expect(m.harrisCount![1]).toBe(256);
    expect(m.fastCount![1]).toBeGreaterThanOrEqual(256);
    expect(m.orbCount![1]).toBeGreaterThan(200);
    expect(m.coverage![1]).toBe(1);
    expect(m.edgeDensity![0]).toBeGreaterThan(0.05);
    expect(m.lineCount![0]).toBeGreaterThan(10);
  });

  test('coverage is exact on constructed layouts', async () => {
    const layouts: Array<[number, number, Array<[number, number]>]> = [
      [W, H, [[0, 0]]],
      [W, H, Array.from({ length: 8 }, (_, i) => [i, i] as [number, number])],
      [W, H, [[7, 7], [3, 5], [6, 1]]],
      [320, 160, [[0, 7], [7, 0], [4, 4], [5, 4], [5, 5]]],
      [W, H, Array.from({ length: 64 }, (_, i) => [i % 8, Math.floor(i / 8)] as [number, number])],
    ];
    const m = await measureFrames(layouts.map(([w, h, cells]) => coverageLayout(w, h, cells)), { metrics: ['coverage'] });
    expect(values(m, 'coverage')).toEqual(layouts.map(([, , cells]) => cells.length / 64));
  });
});

describe('texture', () => {
  test('LBP entropy and GLCM contrast are higher on texture than on a smooth image', async () => {
    const smooth = S.fromFunction(W, H, (x) => 60 + x / 2);
    const textured = S.noiseTexture(W, H, 8);
    const m = await measureFrames([smooth, textured], { metrics: ['lbp', 'glcm'] });
    expect(m.lbpEntropy![1]).toBeGreaterThan(m.lbpEntropy![0] + 2);
    expect(m.glcmContrast![1]).toBeGreaterThan(m.glcmContrast![0]);
    expect(m.glcmHomogeneity![1]).toBeLessThan(m.glcmHomogeneity![0]);
  });
});

describe('perceptual hash', () => {
  test('identical frames hash alike, re-encoded copies are close, different scenes are far apart', async () => {
    const scenes = [
      S.valueNoise(320, 180, 11),
      S.valueNoise(320, 180, 12),
      S.valueNoise(320, 180, 13, 32),
      S.fromFunction(320, 180, (x, y) => 128 + 90 * Math.sin(x / 37 + y / 53) * Math.cos(y / 29)),
    ];
    const copies = scenes.map((s) => ({ ...s, data: s.data.slice() }));
    const jpegs = await Promise.all(scenes.map((s) => jpegRoundTrip(s, 70)));
    const m = await measureFrames([...scenes, ...copies, ...jpegs], { metrics: ['phash'] });
    const hashes = Array.from(m.phash!);
    const n = scenes.length;
    for (let i = 0; i < n; i++) {
      expect(hashes[n + i]).toBe(hashes[i]);
      expect(hammingDistance(hashes[i], hashes[2 * n + i]), `scene ${i} after JPEG`).toBeLessThanOrEqual(6);
      for (let j = i + 1; j < n; j++) expect(hammingDistance(hashes[i], hashes[j]), `scenes ${i}, ${j}`).toBeGreaterThanOrEqual(20);
    }
    expect(hammingDistance(0n, 0xffffffffffffffffn)).toBe(64);
  });
});

describe('inter-frame motion', () => {
  const big = S.valueNoise(480, 360, 21);
  const at = (dx: number, dy: number) => S.crop(big, 100 + dx, 80 + dy, 256, 192);

  test('phase correlation recovers known sub-image shifts within 0.5 px', async () => {
    const shifts: Array<[number, number]> = [[7, -4], [-20, 13], [0, 0], [31, 9]];
    for (const [dx, dy] of shifts) {
      const m = await measureFrames([at(0, 0), at(dx, dy)], { metrics: ['phaseCorrelation', 'opticalFlow', 'frameDiff'] });
      // Cropping further right shows the content moved left: current(x) = previous(x + d).
      expect(Math.abs(m.shiftX![1] + dx), `shiftX for ${dx},${dy}`).toBeLessThanOrEqual(0.5);
      expect(Math.abs(m.shiftY![1] + dy), `shiftY for ${dx},${dy}`).toBeLessThanOrEqual(0.5);
      expect(m.shiftResponse![1]).toBeGreaterThan(0.5);
      expect(Math.abs(m.flowMedian![1] - Math.hypot(dx, dy))).toBeLessThanOrEqual(1);
      expect(m.flowTracked![1]).toBeGreaterThan(0.8);
      if (dx === 0 && dy === 0) expect(m.frameDiff![1]).toBe(0);
      else expect(m.frameDiff![1]).toBeGreaterThan(1);
      // No previous frame for the first one.
      for (const field of ['shiftX', 'shiftY', 'shiftResponse', 'flowMedian', 'frameDiff'] as const) expect(m[field]![0]).toBeNaN();
    }
  });

  test('motion is continuous across batches through `previous`', async () => {
    const frames = [at(0, 0), at(3, 2), at(9, 1), at(12, -5)];
    const metrics = ['phaseCorrelation', 'opticalFlow', 'frameDiff'] as const;
    const whole = await measureFrames(frames, { metrics: [...metrics], threads: 2 });
    const first = await measureFrames(frames.slice(0, 2), { metrics: [...metrics] });
    const second = await measureFrames(frames.slice(2), { metrics: [...metrics], previous: frames[1] });
    for (const field of ['shiftX', 'shiftY', 'shiftResponse', 'flowMedian', 'flowTracked', 'frameDiff'] as const) {
      expect([...first[field]!, ...second[field]!], field).toEqual(Array.from(whole[field]!));
    }
  });
});

describe('API', () => {
  const frames = [S.valueNoise(200, 120, 31), S.noiseTexture(200, 120, 32), S.checkerboard(200, 120, 10), S.valueNoise(200, 120, 33)];

  test('results are bit-identical run to run and whatever the thread count', async () => {
    const a = await measureFrames(frames, { metrics: 'all', threads: 1 });
    const b = await measureFrames(frames, { metrics: 'all', threads: 2 });
    const c = await measureFrames(frames, { metrics: 'all', threads: 3 });
    for (const name of METRIC_NAMES)
      for (const field of METRIC_FIELDS[name]) {
        const bytes = (r: FrameMetricsBatch) => Buffer.from((r[field] as Float64Array | BigUint64Array).buffer).toString('hex');
        expect(bytes(b), field).toBe(bytes(a));
        expect(bytes(c), field).toBe(bytes(a));
      }
  });

  test('only the selected metrics run; the native field table matches the TS one', async () => {
    const fast = await measureFrames(frames);
    expect(fast.metrics).toEqual([...FAST_METRICS]);
    expect(fast.siftCount).toBeUndefined();
    expect(fast.laplacianVariance).toBeInstanceOf(Float64Array);
    expect(fast.phash).toBeInstanceOf(BigUint64Array);
    const one = await measureFrames(frames, { metrics: ['exposure'] });
    const present = Object.keys(one).filter((k) => !['count', 'metrics'].includes(k));
    expect(present.sort()).toEqual([...METRIC_FIELDS.exposure].sort());
    const nativeFields = native().metricFields;
    for (const name of METRIC_NAMES)
      for (const field of METRIC_FIELDS[name]) if (field !== 'phash') expect(nativeFields[field], field).toBe(metricMask([name]));
    expect(Object.keys(nativeFields).length).toBe(Object.values(METRIC_FIELDS).flat().length - 1);
  });

  test('a strided image measures like its packed copy; timing is opt-in', async () => {
    const img = S.valueNoise(100, 60, 41);
    const stride = 128;
    const padded = new Uint8Array(stride * 60).fill(255);
    for (let y = 0; y < 60; y++) padded.set(img.data.subarray(y * 100, (y + 1) * 100), y * stride);
    const a = await measureFrames([img], { metrics: 'all' });
    const b = await measureFrames([{ data: padded, width: 100, height: 60, stride }], { metrics: 'all', timing: true });
    for (const field of Object.values(METRIC_FIELDS).flat()) expect(b[field], field).toEqual(a[field]);
    expect(a.cpuMs).toBeUndefined();
    expect(b.cpuMs![0]).toBeGreaterThan(0);
    const empty = await measureFrames([], { metrics: 'all' });
    expect(empty.count).toBe(0);
    expect(empty.laplacianVariance).toEqual(new Float64Array(0));
  });

  test('bad input rejects with ERR_FRAMESIFT_INVALID_ARG and does not crash', async () => {
    const good = S.flat(32, 32, 100);
    await expectInvalidArg(measureFrames([{ data: new Uint8Array(100), width: 32, height: 32 }]), /frames\[0\]/);
    await expectInvalidArg(measureFrames([good, { data: new Uint8Array(32 * 32 + 1), width: 32, height: 32 }]), /frames\[1\]/);
    await expectInvalidArg(measureFrames([{ data: new Uint8Array(0), width: 0, height: 0 }]));
    await expectInvalidArg(measureFrames([{ data: new Uint8Array(32), width: 32, height: 0 }]));
    await expectInvalidArg(measureFrames([S.flat(8, 8, 1)]), /at least 16x16/);
    await expectInvalidArg(measureFrames([{ data: [1, 2, 3], width: 1, height: 3 } as unknown as S.GrayImage]));
    await expectInvalidArg(measureFrames([null as unknown as S.GrayImage]), /frames\[0\]/);
    await expectInvalidArg(measureFrames('frames' as unknown as S.GrayImage[]), /frames/);
    await expectInvalidArg(measureFrames([good], { metrics: ['sharpness', 'blurriness' as 'sharpness'] }), /options\.metrics\[1\]/);
    await expectInvalidArg(measureFrames([good], { metrics: 'everything' as 'all' }), /options\.metrics/);
    await expectInvalidArg(measureFrames([good], { threads: 0 }), /options\.threads/);
    await expectInvalidArg(measureFrames([good], { threads: 1.5 }), /options\.threads/);
    await expectInvalidArg(measureFrames([good], { timing: 'yes' as unknown as boolean }), /options\.timing/);
    await expectInvalidArg(measureFrames([good], { previous: { data: new Uint8Array(3), width: 32, height: 32 } }), /options\.previous/);
    // Straight to the native call: its own guards hold without the TS checks.
    // (The native call throws argument errors synchronously; the TS wrapper rejects.)
    await expectInvalidArg((async () => native().measureFrames([good], { metrics: 1 << 30, threads: 1 }))());
    await expectInvalidArg((async () => native().measureFrames([good], { metrics: 1, threads: 0 }))());
    const still = await measureFrames([good], { metrics: ['exposure'] });
    expect(still.brightnessMean![0]).toBe(100);
  });
});

describe('decoded frames', () => {
  it('measures decoder frames in place and refuses a released one', async () => {
    const { openVideo } = await import('../src/core/decode.js');
    const { fixtures } = await import('./helpers/fixtures.js');
    const decoder = await openVideo(fixtures.cfr(), { batchSize: 4 });
    for await (const batch of decoder.batches()) {
      const [a, b] = batch.frames;
      const live = await measureFrames([a!, b!], { metrics: ['sharpness', 'frameDiff'] });
      expect(live.laplacianVariance![0]).toBeGreaterThan(0);
      // The same pixels as a plain copy give the same numbers: the frame was read in place.
      const copy = await measureFrames([{ data: Buffer.from(a!.gray!), width: a!.width, height: a!.height }], { metrics: ['sharpness'] });
      expect(copy.laplacianVariance![0]).toBe(live.laplacianVariance![0]);
      b!.release();
      const err = await measureFrames([a!, b!]).catch((e: unknown) => e as { code?: string; message: string });
      expect((err as { code?: string }).code).toBe('ERR_FRAMESIFT_INVALID_ARG');
      expect((err as { message: string }).message).toContain('released');
      for (const f of batch.frames) f.release();
      break;
    }
  });
});
