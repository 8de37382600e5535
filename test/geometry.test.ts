import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { packageRoot } from '../bindings/index.js';

import { FramesiftError } from '../src/errors.js';
import {
  buildTracks,
  extractFeatures,
  extractFeaturesBatch,
  matchPairs,
  matchCacheSizes,
  releaseMatchIndexes,
  schedulePairs,
  type FeatureSet,
  type MatchLists,
} from '../src/core/geometry.js';
import { native } from '../src/core/native.js';
import { matCacheBytes, trimNativeMemory } from '../src/core/native-memory.js';
import {
  applyH,
  cloudScene,
  epipolarDistance,
  rotation,
  sparseBlobs,
  texturedImage,
  warpHomography,
  type Mat3,
} from './helpers/geometry-scenes.js';

const W = 640;
const H = 480;
// A mild perspective warp: rotation ~7 deg, scale ~0.93, shift, projective terms.
const KNOWN_H: Mat3 = [0.92, -0.12, 40, 0.1, 0.95, 10, 0.0001, 0.00005, 1];
const base = texturedImage(W, H, 1);
const warped = warpHomography(base, KNOWN_H);

async function rejectsWith(fn: () => unknown, code: string): Promise<FramesiftError> {
  const err = await (async () => fn())().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FramesiftError);
  expect((err as FramesiftError).code).toBe(code);
  return err as FramesiftError;
}

function cornerErrors(h: ArrayLike<number>): number[] {
  return [
    [0, 0],
    [W - 1, 0],
    [0, H - 1],
    [W - 1, H - 1],
  ].map(([x, y]) => {
    const [ex, ey] = applyH(KNOWN_H, x, y);
    const [gx, gy] = applyH(h, x, y);
    return Math.hypot(ex - gx, ey - gy);
  });
}

describe('features', () => {
  it('keeps keypoints natively, reports them in input pixels, and caps the count', async () => {
    const set = await extractFeatures(base, { maxFeatures: 100 });
    expect(set.kind).toBe('sift');
    expect(set.count).toBeGreaterThan(80);
    expect(set.count).toBe(100); // a hard cap, even where OpenCV keeps ties at the cut
    expect([set.width, set.height]).toEqual([W, H]);
    const xy = set.keypoints();
    expect(xy).toBeInstanceOf(Float32Array);
    expect(xy.length).toBe(2 * set.count);
    expect(set.byteLength).toBeGreaterThan(set.count * 128);

    const small = await extractFeatures(base, { downscale: 0.5, maxFeatures: 300 });
    const sxy = small.keypoints();
    let maxX = 0;
    for (let k = 0; k < sxy.length; k += 2) maxX = Math.max(maxX, sxy[k]);
    expect(maxX).toBeGreaterThan(W * 0.8); // not in half-size units
    expect(maxX).toBeLessThan(W);
    set.dispose();
    small.dispose();
  });

  // SIFT's scale space (1 MB blocks and over) is kept for the next image of the same size:
  // blocks reused dirty must give the features a fresh one gives; a stage's trim frees them.
  it('reuses the scale space of one image for the next: the same features, freed by the trim', async () => {
    const image = texturedImage(1280, 720, 11);
    expect(trimNativeMemory()).toBeTypeOf('boolean');
    expect(matCacheBytes()).toBe(0);
    const first = await extractFeatures(image, { maxFeatures: 3000 });
    const held = matCacheBytes();
    // The doubled first octave alone is 2560 x 1440 floats (14.7 MB a level).
    expect(held).toBeGreaterThan(50 * 2 ** 20);
    expect(held).toBeLessThanOrEqual(384 * 2 ** 20);
    const [again, other] = await extractFeaturesBatch([image, texturedImage(1280, 720, 12)], { threads: 2, maxFeatures: 3000 });
    expect(matCacheBytes()).toBeGreaterThanOrEqual(held); // reused, and a second thread's set
    expect(again!.toBuffer().equals(first.toBuffer())).toBe(true);
    expect(other!.toBuffer().equals(first.toBuffer())).toBe(false);
    // Within a stage (a byte count the arenas do not reach) the blocks stay; between stages they go.
    trimNativeMemory(Number.MAX_SAFE_INTEGER);
    expect(matCacheBytes()).toBeGreaterThan(0);
    trimNativeMemory();
    expect(matCacheBytes()).toBe(0);
    for (const set of [first, again!, other!]) set.dispose();
  });

  it('frees a set on dispose: later use fails with ERR_FRAMESIFT_CLOSED, never crashes', async () => {
    const set = await extractFeatures(base);
    expect(set.disposed).toBe(false);
    expect(set.dispose()).toBe(true);
    expect(set.dispose()).toBe(false);
    expect(set.disposed).toBe(true);
    expect(set.count).toBe(0);
    expect(set.byteLength).toBe(0);
    await rejectsWith(() => set.keypoints(), 'ERR_FRAMESIFT_CLOSED');
    const other = await extractFeatures(warped);
    await rejectsWith(() => matchPairs([set, other], [[0, 1]]), 'ERR_FRAMESIFT_CLOSED');
    other.dispose();
  });

  it('keeps sets alive for a running job even when they are disposed mid-flight', async () => {
    const [a, b] = await extractFeaturesBatch([base, warped], { threads: 2 });
    const pending = matchPairs([a, b], [[0, 1]]);
    a.dispose();
    b.dispose();
    const { pairs } = await pending;
    expect(pairs[0].verified).toBe(true);
  });

  it('gives empty results for empty and nearly featureless images', async () => {
    const black = { data: new Uint8Array(320 * 240), width: 320, height: 240 };
    const empty = await extractFeatures(black);
    expect(empty.count).toBe(0);
    expect(empty.keypoints().length).toBe(0);
    const few = await extractFeatures(sparseBlobs(320, 240, 1, 5));
    expect(few.count).toBeGreaterThan(0);
    expect(few.count).toBeLessThan(8);
    const few2 = await extractFeatures(sparseBlobs(320, 240, 1, 5));
    const { pairs } = await matchPairs([empty, few, few2], [
      [0, 1],
      [1, 2],
    ]);
    for (const p of pairs) {
      expect(p.fInliers).toBe(0);
      expect(p.verified).toBe(false);
      expect(p.method).toBe('none');
      expect(p.F).toBeNull();
    }
    expect(pairs[1].matches).toBeLessThan(8);
  });

  it('unshift moves every SIFT keypoint by -0.25 px and nothing else', async () => {
    const plain = await extractFeatures(base, { maxFeatures: 300 });
    const fixed = await extractFeatures(base, { maxFeatures: 300, unshift: true });
    const a = plain.keypoints(), b = fixed.keypoints();
    expect(fixed.count).toBe(plain.count);
    for (let k = 0; k < a.length; k++) expect(b[k]! - a[k]!).toBeCloseTo(-0.25, 4);
    // Detected at half size, the shift is a half-size pixel's quarter: 0.5 px of the input.
    const half = await extractFeatures(base, { maxFeatures: 300, downscale: 0.5 });
    const halfFixed = await extractFeatures(base, { maxFeatures: 300, downscale: 0.5, unshift: true });
    const c = half.keypoints(), d = halfFixed.keypoints();
    for (let k = 0; k < c.length; k++) expect(d[k]! - c[k]!).toBeCloseTo(-0.5, 3);
    expect(Buffer.from(fixed.toBuffer()).subarray(32 + 8 * fixed.count)).toEqual(Buffer.from(plain.toBuffer()).subarray(32 + 8 * plain.count));
    await rejectsWith(() => extractFeatures(base, { unshift: 1 as unknown as boolean }), 'ERR_FRAMESIFT_INVALID_ARG');
    for (const set of [plain, fixed, half, halfFixed]) set.dispose();
  });

  it('rejects bad arguments with ERR_FRAMESIFT_INVALID_ARG', async () => {
    await rejectsWith(() => extractFeatures({ data: new Uint8Array(10), width: 640, height: 480 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(() => extractFeatures(base, { downscale: 0 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(() => extractFeatures(base, { detector: 'surf' as 'sift' }), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(() => extractFeatures(base, { maxFeatures: -1 }), 'ERR_FRAMESIFT_INVALID_ARG');
    const set = await extractFeatures(sparseBlobs(160, 120, 2, 1));
    await rejectsWith(() => matchPairs([set], [[0, 1]]), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(() => matchPairs([set, set], [[0, 0]]), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(() => matchPairs([set, {} as FeatureSet], [[0, 1]]), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(() => matchPairs([set, set], [[0, 1]], { ratio: 2 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(() => matchPairs([set, set], [[0, 1]], { exact: true, maxAngleRad: 4 }), 'ERR_FRAMESIFT_INVALID_ARG');
    const FeatureSetClass = native().FeatureSet as unknown as new () => unknown;
    expect(() => new FeatureSetClass()).toThrow(/created by extractFeatures/);
  });
});

describe('matching and verification', () => {
  it('recovers a known homography: inlier ratio >= 0.9, corners within 1 px', async () => {
    const [a, b] = await extractFeaturesBatch([base, warped]);
    const { pairs, graph } = await matchPairs([a, b], [[0, 1]]);
    const p = pairs[0];
    expect(p.verified).toBe(true);
    expect(p.matches).toBeGreaterThan(100);
    expect(p.hInlierRatio).toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...cornerErrors(p.H!))).toBeLessThan(1);
    expect(p.degeneracy).toBeGreaterThan(0.9); // a plane: the homography explains everything
    expect(p.medianParallaxPx).toBeLessThan(1);
    expect(p.medianDisplacementPx).toBeGreaterThan(20);
    expect(graph!.pairCount).toBe(1);
  });

  it('recovers the homography with the exact matcher (COLMAP\'s rule) too', async () => {
    const [a, b] = await extractFeaturesBatch([base, warped]);
    const exact = (await matchPairs([a, b], [[0, 1]], { keepGraph: false, exact: true })).pairs[0];
    expect(exact.verified).toBe(true);
    expect(exact.matches).toBeGreaterThan(100);
    expect(exact.hInlierRatio).toBeGreaterThanOrEqual(0.85);
    expect(Math.max(...cornerErrors(exact.H!))).toBeLessThan(1);
  });

  it('recovers the homography with ORB, RootSIFT and downscaled detection too', async () => {
    for (const options of [{ detector: 'orb' as const }, { rootSift: true }, { downscale: 0.5 }]) {
      const [a, b] = await extractFeaturesBatch([base, warped], options);
      const p = (await matchPairs([a, b], [[0, 1]])).pairs[0];
      expect(p.verified, JSON.stringify(options)).toBe(true);
      expect(p.hInlierRatio, JSON.stringify(options)).toBeGreaterThanOrEqual(0.8);
      expect(Math.max(...cornerErrors(p.H!)), JSON.stringify(options)).toBeLessThan(options.downscale ? 2 : 1.5);
    }
  });

  it('estimates F of two views of a point cloud: < 1 px epipolar error vs the truth, low degeneracy', async () => {
    const scene = cloudScene({ seed: 7, r: rotation(0.01, -0.03, 0.01), t: [-0.6, 0.05, 0.05] });
    const sets = await extractFeaturesBatch(scene.views);
    const p = (await matchPairs(sets, [[0, 1]], { focalPx: 500 })).pairs[0];
    expect(p.verified).toBe(true);
    expect(p.method).toBe('magsac');
    expect(p.fInlierRatio).toBeGreaterThan(0.8);
    expect(p.meanEpipolarErrorPx).toBeLessThan(1);
    // Ground-truth correspondences against the estimated F, and the estimate's inliers' spread.
    let sum = 0;
    for (let k = 0; k < scene.x1.length; k++) sum += epipolarDistance(p.F!, scene.x1[k], scene.x2[k]);
    expect(scene.x1.length).toBeGreaterThan(100);
    expect(sum / scene.x1.length).toBeLessThan(1);
    expect(p.degeneracy).toBeLessThan(0.5);
    expect(p.medianParallaxPx).toBeGreaterThan(2);
    // Baseline 0.6 at depths 4..16 (median ~10): about 3.4 degrees.
    expect(p.triangulationAngleDeg).toBeGreaterThan(2);
    expect(p.triangulationAngleDeg).toBeLessThan(5);
  });

  it('flags a pure rotation as degenerate, with no parallax', async () => {
    const scene = cloudScene({ seed: 8, r: rotation(0.03, 0.07, 0.02), t: [0, 0, 0] });
    const sets = await extractFeaturesBatch(scene.views);
    const p = (await matchPairs(sets, [[0, 1]])).pairs[0];
    expect(p.fInliers).toBeGreaterThan(100);
    expect(p.degeneracy).toBeGreaterThan(0.95);
    expect(p.medianParallaxPx).toBeLessThan(0.5);
    expect(p.medianDisplacementPx).toBeGreaterThan(20);
  });

  it('finds almost no verified inliers between unrelated images', async () => {
    const sets = await extractFeaturesBatch([texturedImage(W, H, 11), texturedImage(W, H, 12)]);
    const { pairs, graph } = await matchPairs(sets, [[0, 1]]);
    expect(pairs[0].verified).toBe(false);
    expect(pairs[0].fInliers).toBeLessThan(15);
    expect(graph!.pairCount).toBe(0); // unverified pairs feed no tracks
  });

  it('runs many pairs in parallel and keeps them in order; tracks follow the verified graph', async () => {
    const h2: Mat3 = [0.97, -0.05, 15, 0.04, 0.98, 5, 0.00004, 0.00002, 1];
    const frames = [base, warpHomography(base, h2), warped, texturedImage(W, H, 99)];
    const sets = await extractFeaturesBatch(frames, { threads: 2 });
    const pairs = schedulePairs(sets.length, 2);
    const result = await matchPairs(sets, pairs, { threads: 2 });
    expect(result.pairs.map((p) => [p.i, p.j])).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    expect(result.pairs.map((p) => p.verified)).toEqual([true, true, true, false, false]);
    const stats = await buildTracks(result.graph!, { keepTracks: true });
    expect(stats.tracksAtLeast3).toBeGreaterThan(30);
    expect(stats.perFrameTracks[3]).toBe(0);
    expect(stats.weakestLink).toEqual({ frame: 2, shared: 0 });
    expect(stats.perFrameCoverage[0]).toBeGreaterThan(0.3);
    expect(stats.perFrameCoverage[3]).toBe(0);
    // Every track has at most one keypoint per frame.
    const { offsets, frames: tf } = stats.trackList!;
    for (let t = 0; t + 1 < offsets.length; t++)
      for (let m = offsets[t] + 1; m < offsets[t + 1]; m++) expect(tf[m]).toBeGreaterThan(tf[m - 1]);
    result.graph!.dispose();
    await rejectsWith(() => buildTracks(result.graph!), 'ERR_FRAMESIFT_CLOSED');
  });
});

describe('determinism', () => {
  // FLANN's randomised trees drew from the building thread's RNG and the global std::rand():
  // the same pair matched alone or after other indexes, on one thread or two, gave other trees
  // and other matches. Each build is seeded now: a pair's matches depend on its two sets only.
  it('matches a pair the same alone, after other pairs, and on other thread counts', async () => {
    const h2: Mat3 = [0.97, -0.05, 15, 0.04, 0.98, 5, 0.00004, 0.00002, 1];
    const frames = [base, warpHomography(base, h2), warped, texturedImage(W, H, 7), warpHomography(texturedImage(W, H, 7), h2)];
    const sets = await extractFeaturesBatch(frames, { threads: 2, maxFeatures: 1500 });
    const summary = (p: { matchIndices?: Uint32Array; inlierIndices?: Uint32Array; fInliers: number }) => [p.fInliers, Array.from(p.matchIndices!), Array.from(p.inlierIndices!)];
    releaseMatchIndexes(); // what the tests before left
    const alone = await matchPairs([sets[0]!, sets[2]!], [[0, 1]], { threads: 1, keepGraph: false, keepMatches: true });
    // Nothing cached: the other indexes are built first (on both threads), the RNG states moved on.
    expect(releaseMatchIndexes()).toBe(2);
    const mixed = await matchPairs(sets, [[3, 4], [1, 3], [1, 2], [0, 2]], { threads: 2, keepGraph: false, keepMatches: true });
    expect(alone.pairs[0]!.matches).toBeGreaterThan(100);
    expect(summary(mixed.pairs[3]!)).toEqual(summary(alone.pairs[0]!));
    // The five sets' FLANN indexes were kept for the later jobs; releasing frees them.
    expect(releaseMatchIndexes()).toBe(5);
    expect(releaseMatchIndexes()).toBe(0);
    const fresh = await matchPairs([sets[0]!, sets[2]!], [[0, 1]], { threads: 1, keepGraph: false, keepMatches: true });
    expect(summary(fresh.pairs[0]!)).toEqual(summary(alone.pairs[0]!));
    expect(releaseMatchIndexes()).toBe(2);
  });

  // The selection checks consecutive picks one pair a job; the tracks stage matches those pairs
  // again among its neighbours and takes their results from the cache.
  it('keeps pair results for later jobs on the same sets and options', async () => {
    const h2: Mat3 = [0.97, -0.05, 15, 0.04, 0.98, 5, 0.00004, 0.00002, 1];
    const frames = [base, warpHomography(base, h2), warped];
    const sets = await extractFeaturesBatch(frames, { threads: 2, maxFeatures: 1500 });
    releaseMatchIndexes();
    const summary = (p: { matchIndices?: Uint32Array; inlierIndices?: Uint32Array; fInliers: number; F: number[] | null }) => [p.fInliers, p.F, Array.from(p.matchIndices!), Array.from(p.inlierIndices!)];
    const first = await matchPairs(sets, [[0, 2]], { keepGraph: false, keepMatches: true });
    expect(matchCacheSizes()).toEqual({ indexes: 2, pairs: 1 });
    const later = await matchPairs(sets, [[0, 1], [0, 2], [1, 2]], { keepMatches: true });
    expect(matchCacheSizes()).toEqual({ indexes: 3, pairs: 3 });
    expect(summary(later.pairs[1]!)).toEqual(summary(first.pairs[0]!));
    // The graph built from a cached result holds its inliers like any other pair's.
    const tracks = await buildTracks(later.graph!);
    expect(tracks.tracks).toBeGreaterThan(100);
    // Other options, or the pair the other way round, are other entries.
    await matchPairs(sets, [[0, 2]], { keepGraph: false, ratio: 0.7 });
    await matchPairs(sets, [[2, 0]], { keepGraph: false });
    expect(matchCacheSizes().pairs).toBe(5);
    // A set disposed takes its pairs out of the cache.
    sets[1]!.dispose();
    expect(matchCacheSizes().pairs).toBe(3);
    later.graph!.dispose();
    expect(releaseMatchIndexes()).toBe(2);
    expect(matchCacheSizes()).toEqual({ indexes: 0, pairs: 0 });
    for (const set of sets) set.dispose();
  });
});

describe('pair scheduling', () => {
  it('pairs each index with its next k neighbours', () => {
    expect(Array.from(schedulePairs(4, 1))).toEqual([0, 1, 1, 2, 2, 3]);
    expect(Array.from(schedulePairs(4, 2))).toEqual([0, 1, 0, 2, 1, 2, 1, 3, 2, 3]);
    expect(Array.from(schedulePairs(1, 3))).toEqual([]);
    expect(() => schedulePairs(3, 0)).toThrow(FramesiftError);
  });
});

describe('tracks', () => {
  // Four frames of ten features. Tracks (frame:feature):
  //  A 0:0 1:0 2:5 3:2  (merged from three pairs, one redundant)
  //  B 0:1 1:1 2:6
  //  C 0:5 1:8 2:9 0:6  (two keypoints of frame 0: a conflict, dropped)
  //  D 0:7 1:7
  //  E 1:3 2:3 3:4      (two chains that merge through pair 1-3)
  function handBuilt(): MatchLists {
    const lists: [number, number, number[][]][] = [
      [0, 1, [[0, 0], [1, 1], [5, 8], [7, 7]]],
      [1, 2, [[0, 5], [1, 6], [8, 9]]],
      [0, 2, [[0, 5], [6, 9]]],
      [2, 3, [[5, 2], [3, 4]]],
      [1, 3, [[3, 4]]],
    ];
    const pairs: number[] = [];
    const offsets = [0];
    const matches: number[] = [];
    for (const [i, j, m] of lists) {
      pairs.push(i, j);
      for (const [a, b] of m) matches.push(a, b);
      offsets.push(matches.length / 2);
    }
    // Keypoint k sits in the left/right column by parity, top/bottom row by k >= 5 (grid 2x2).
    const xy = Float32Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? ((n / 2) % 2) * 50 + 10 : (n - 1) / 2 >= 5 ? 60 : 10));
    return {
      frameCount: 4,
      pairs: Uint32Array.from(pairs),
      offsets: Uint32Array.from(offsets),
      matches: Uint32Array.from(matches),
      featureCounts: Uint32Array.from([10, 10, 10, 10]),
      keypoints: [xy, xy, xy, xy],
      width: 100,
      height: 100,
    };
  }

  it('merges chains, drops conflicting tracks and counts exactly', async () => {
    const s = await buildTracks(handBuilt(), { gridCols: 2, gridRows: 2, keepTracks: true });
    const t = s.trackList!;
    const tracks = Array.from({ length: t.offsets.length - 1 }, (_, k) =>
      Array.from({ length: t.offsets[k + 1] - t.offsets[k] }, (_, m) => `${t.frames[t.offsets[k] + m]}:${t.features[t.offsets[k] + m]}`),
    );
    expect(tracks).toEqual([
      ['0:0', '1:0', '2:5', '3:2'],
      ['0:1', '1:1', '2:6'],
      ['0:7', '1:7'],
      ['1:3', '2:3', '3:4'],
    ]);
    expect(s.tracks).toBe(4);
    expect(s.tracksAtLeast2).toBe(4);
    expect(s.tracksAtLeast3).toBe(3);
    expect(s.conflictingTracks).toBe(1);
    expect(s.observations).toBe(12);
    expect(Array.from(s.lengthHistogram)).toEqual([0, 0, 1, 2, 1]);
    expect(Array.from(s.perFrameTracks)).toEqual([3, 4, 3, 2]);
    expect(Array.from(s.consecutiveShared)).toEqual([3, 3, 2]);
    expect(s.weakestLink).toEqual({ frame: 2, shared: 2 });
    // Frame 0: keypoints 0 (TL), 1 (TR), 7 (BR); the dropped 5 and 6 (bottom row) must not count.
    expect(Array.from(s.perFrameCoverage)).toEqual([0.75, 0.75, 0.75, 0.25]);
  });

  it('derives feature counts when none are given and reports no coverage without keypoints', async () => {
    const { keypoints, featureCounts, width, height, ...bare } = handBuilt();
    const s = await buildTracks(bare);
    expect(s.tracks).toBe(4);
    expect(Array.from(s.perFrameCoverage)).toEqual([-1, -1, -1, -1]);
    expect(s.trackList).toBeUndefined();
  });

  it('handles empty graphs and rejects out-of-range indices', async () => {
    const empty = await buildTracks({ frameCount: 3, pairs: new Uint32Array(0), offsets: Uint32Array.of(0), matches: new Uint32Array(0) });
    expect(empty.tracks).toBe(0);
    expect(Array.from(empty.consecutiveShared)).toEqual([0, 0]);
    expect(empty.weakestLink).toEqual({ frame: 0, shared: 0 });
    const none = await buildTracks({ frameCount: 0, pairs: new Uint32Array(0), offsets: Uint32Array.of(0), matches: new Uint32Array(0) });
    expect(none.weakestLink).toBeNull();
    const bad = handBuilt();
    bad.featureCounts = Uint32Array.from([10, 5, 10, 10]);
    await rejectsWith(() => buildTracks(bad), 'ERR_FRAMESIFT_INVALID_ARG');
    await rejectsWith(
      () => buildTracks({ frameCount: 2, pairs: Uint32Array.of(1, 1), offsets: Uint32Array.of(0, 0), matches: new Uint32Array(0) }),
      'ERR_FRAMESIFT_INVALID_ARG',
    );
    await rejectsWith(
      () => buildTracks({ frameCount: 2, pairs: Uint32Array.of(0, 1), offsets: Uint32Array.of(0, 3), matches: Uint32Array.of(0, 0) }),
      'ERR_FRAMESIFT_INVALID_ARG',
    );
    await rejectsWith(() => buildTracks({ frameCount: 2 } as MatchLists), 'ERR_FRAMESIFT_INVALID_ARG');
  });
});

describe('worker threads', () => {
  it('extracts, matches and builds tracks in a Worker, and survives its termination mid-job', async () => {
    // Plain JS in the worker: loads the addon directly (per-environment state, no statics).
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.addon);
      const w = 320, h = 240, data = new Uint8Array(w * h);
      let s = 7;
      for (let y = 0; y < h; y += 8) for (let x = 0; x < w; x += 8) {
        s = (s * 1103515245 + 12345) >>> 0;
        for (let yy = y; yy < y + 8; yy++) data.fill(s >>> 24, yy * w + x, yy * w + x + 8);
      }
      const shifted = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) shifted[y * w + x] = data[y * w + Math.max(0, x - 5)];
      (async () => {
        const [a, b] = await addon.extractFeaturesBatch([{ data, width: w, height: h }, { data: shifted, width: w, height: h }], {});
        const { pairs, graph } = await addon.matchPairs([a, b], Uint32Array.of(0, 1), {});
        const tracks = await addon.buildTracks(graph, {});
        parentPort.postMessage({ count: a.count, inliers: pairs[0].fInliers, tracks: tracks.tracks });
        addon.extractFeatures({ data, width: w, height: h }, {}); // left running at terminate()
      })();
    `;
    const worker = new Worker(code, { eval: true, workerData: { addon: join(packageRoot(), 'build', 'Release', 'framesift.node') } });
    const message = await new Promise<{ count: number; inliers: number; tracks: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(message.count).toBeGreaterThan(20);
    expect(message.inliers).toBeGreaterThan(15);
    expect(message.tracks).toBe(message.inliers);
    await worker.terminate();
    // The main thread's addon still works afterwards.
    expect((await extractFeatures(base, { maxFeatures: 50 })).count).toBeGreaterThan(0);
  });
});
