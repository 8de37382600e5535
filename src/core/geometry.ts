/**
 * Geometry core: local features, pairwise matching with geometric verification, and feature
 * tracks across frames. The work runs natively (OpenCV, native/local_features.cc, matching.cc,
 * tracks.cc) off the JS thread; this module validates options and documents them.
 *
 * Memory: a FeatureSet keeps its keypoints and 8-bit descriptors natively (~290 KB for 2,000
 * SIFT features). Call dispose() (or use `using`) as soon as a set is no longer needed; the
 * garbage collector frees forgotten sets too, but later. A job in flight keeps the sets it
 * uses alive until it ends, so disposing during matchPairs() is safe.
 *
 * Threads: matchPairs() spreads pairs over `threads` native threads (default 2). SIFT
 * extraction relies on OpenCV's own parallel loops (TBB on Debian) within one frame;
 * extractFeaturesBatch() runs frames on `threads` threads (default 1) on top of that, which
 * only pays off on machines with many cores.
 */
import type {
  NativeColmapFeatures,
  NativeFeatureSet,
  NativeGrayImage,
  NativeMatchGraph,
  NativeMatchLists,
  NativePairResult,
  NativeTrackStats,
} from '../../bindings/index.js';
import { invalidArg, withCallerStack } from '../errors.js';
import { native } from './native.js';

/** Keypoints and descriptors of one image, held in native memory. */
export type FeatureSet = NativeFeatureSet & Disposable;
/** Verified matches of a matchPairs() run, held natively until buildTracks() needs them. */
export type MatchGraph = NativeMatchGraph & Disposable;
/** A gray image: a decoded frame ({gray, width, height, handle}) or plain pixels ({data, width, height, stride?}). */
export type GrayImage = NativeGrayImage;
export type PairVerification = NativePairResult;
export type TrackStats = NativeTrackStats;
export type MatchLists = NativeMatchLists;
export type ColmapFeatures = NativeColmapFeatures;

export interface FeatureOptions {
  /** 'sift' (default) or 'orb' (faster, binary descriptors, less repeatable). */
  detector?: 'sift' | 'orb';
  /** Keep at most this many features, the strongest first. Default 2000; 0 = no cap. */
  maxFeatures?: number;
  /** SIFT only: RootSIFT descriptors (Hellinger kernel). Default false. */
  rootSift?: boolean;
  /** Detect on the image resized by this factor in (0, 1]. Coordinates stay in input pixels. Default 1. */
  downscale?: number;
  /** SIFT only: contrast threshold (OpenCV default 0.04); lower finds more features in flat images. */
  contrastThreshold?: number;
  /**
   * SIFT only: remove OpenCV 4.6's shift of every keypoint by +0.25 px right and down (its
   * doubled first octave is resized centre-aligned, its keypoints mapped back by halving).
   * Default false (the other stages' coordinates, hence picks, stay as they were).
   */
  unshift?: boolean;
}

export interface BatchFeatureOptions extends FeatureOptions {
  /** Frames extracted at once (each SIFT call is already parallel inside OpenCV). Default 1. */
  threads?: number;
}

export interface MatchOptions {
  /** Lowe's ratio test: nearest / second-nearest distance must be below this. Default 0.8. */
  ratio?: number;
  /** Keep only mutual nearest neighbours. Default true. */
  mutual?: boolean;
  /** Fundamental-matrix inlier threshold in px (MAGSAC max sigma / RANSAC distance). Default 1. */
  fThresholdPx?: number;
  /** Homography inlier threshold in px. Default 3. */
  hThresholdPx?: number;
  /** Robust estimator confidence in (0, 1). Default 0.999. */
  confidence?: number;
  /** Robust estimator iteration cap. Default 5000. */
  maxIterations?: number;
  /** A pair is `verified` with at least this many F inliers (and only verified pairs feed tracks). Default 15. */
  minInliers?: number;
  /** Focal-length guess in px for triangulationAngleDeg. Default 1.2 x the longer image side. */
  focalPx?: number;
  /** SIFT: FLANN leaves checked per query (more = exacter, slower). Default 32. */
  flannChecks?: number;
  /** Pairs with fewer putative matches are not verified at all (no RANSAC; result with zero inliers). Default 0. */
  minMatches?: number;
  /**
   * SIFT: exact nearest neighbours by COLMAP's rule instead of FLANN: RootSIFT descriptors,
   * ratio test and maxAngleRad on the angle between unit descriptors, mutual check ratio-tested
   * both ways. One matrix product per pair (2,048 x 2,048 x 128: 14-40 ms on one core). Default false.
   */
  exact?: boolean;
  /** exact: the best match's largest angle in radians (COLMAP's max_distance). Default 0.7. */
  maxAngleRad?: number;
  /** Pairs processed at once on native threads. Default 2. */
  threads?: number;
  /** Keep the verified matches natively for buildTracks(). Default true. */
  keepGraph?: boolean;
  /** Return each pair's putative and inlier matches (matchIndices, inlierIndices). Default false. */
  keepMatches?: boolean;
}

export interface TrackOptions {
  /** Coverage grid columns per frame. Default 8. */
  gridCols?: number;
  /** Coverage grid rows per frame. Default 8. */
  gridRows?: number;
  /** Also return every track's observations (trackList). Default false. */
  keepTracks?: boolean;
}

export interface MatchResult {
  /** One entry per requested pair, in order. See native/matching.h for the definitions. */
  pairs: PairVerification[];
  /** The verified pairs' inlier matches, or null with keepGraph: false. */
  graph: MatchGraph | null;
}

function checkInteger(value: unknown, option: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalidArg(option, `an integer from ${min} to ${max}`, value);
}

function checkNumber(value: unknown, option: string, what: string, ok: (n: number) => boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw invalidArg(option, what, value);
}

function checkBoolean(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArg(option, 'a boolean', value);
}

function checkObject(value: unknown, option: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw invalidArg(option, 'an options object', value);
  return value as Record<string, unknown>;
}

function featureDescriptor(options: FeatureOptions | undefined, withThreads: boolean) {
  const o = checkObject(options, 'options') as FeatureOptions & { threads?: number };
  if (o.detector !== undefined && o.detector !== 'sift' && o.detector !== 'orb')
    throw invalidArg('options.detector', '"sift" or "orb"', o.detector);
  checkInteger(o.maxFeatures, 'options.maxFeatures', 0, 1_000_000);
  checkBoolean(o.rootSift, 'options.rootSift');
  checkNumber(o.downscale, 'options.downscale', 'a number in (0, 1]', (n) => n > 0 && n <= 1);
  checkNumber(o.contrastThreshold, 'options.contrastThreshold', 'a positive number', (n) => n > 0);
  if (withThreads) checkInteger(o.threads, 'options.threads', 1, 64);
  checkBoolean(o.unshift, 'options.unshift');
  if (o.rootSift && o.detector === 'orb') throw invalidArg('options.rootSift', 'false with detector "orb"', o.rootSift);
  return {
    kind: o.detector === 'orb' ? (1 as const) : (0 as const),
    maxFeatures: o.maxFeatures ?? 2000,
    rootSift: o.rootSift ?? false,
    downscale: o.downscale ?? 1,
    contrastThreshold: o.contrastThreshold ?? 0.04,
    unshift: o.unshift ?? false,
    ...(withThreads ? { threads: o.threads ?? 1 } : {}),
  };
}

let disposeInstalled = false;
/** Lets `using set = await extractFeatures(...)` dispose deterministically. */
function installDispose(): void {
  if (disposeInstalled) return;
  disposeInstalled = true;
  const addon = native();
  const symbol = (Symbol as { dispose?: symbol }).dispose;
  if (!symbol) return;
  for (const proto of [addon.FeatureSet.prototype, addon.MatchGraph.prototype] as object[]) {
    Object.defineProperty(proto, symbol, {
      value(this: { dispose(): boolean }) {
        this.dispose();
      },
      configurable: true,
    });
  }
}

/**
 * Detects and describes features on a gray image, without copying its pixels.
 * An empty or textureless image gives a set with count 0.
 */
export function extractFeatures(image: GrayImage, options?: FeatureOptions): Promise<FeatureSet> {
  const flat = featureDescriptor(options, false);
  installDispose();
  const stack = new Error();
  return withCallerStack(native().extractFeatures(image, flat), stack) as Promise<FeatureSet>;
}

/** extractFeatures() over many frames in one native job; the sets come back in order. */
export function extractFeaturesBatch(images: GrayImage[], options?: BatchFeatureOptions): Promise<FeatureSet[]> {
  if (!Array.isArray(images)) throw invalidArg('images', 'an array of images', images);
  const flat = featureDescriptor(options, true);
  installDispose();
  const stack = new Error();
  return withCallerStack(native().extractFeaturesBatch(images, flat), stack) as Promise<FeatureSet[]>;
}

/**
 * A FeatureSet again from the bytes of `set.toBuffer()` (a copy: the bytes may be reused at
 * once). Re-selection reads the candidates' saved features this way instead of decoding them.
 * Malformed bytes give ERR_FRAMESIFT_INVALID_ARG.
 */
export function featureSetFromBuffer(bytes: Uint8Array): FeatureSet {
  if (!(bytes instanceof Uint8Array)) throw invalidArg('bytes', 'a Uint8Array of saved features', bytes);
  installDispose();
  return native().featureSetFromBuffer(bytes) as FeatureSet;
}

/**
 * Pairs to verify: each index with the next `window` indices (window 1 = consecutive only),
 * as a flat [i0, j0, i1, j1, ...] list with i < j, ordered by i then j.
 */
export function schedulePairs(count: number, window = 1): Uint32Array {
  checkInteger(count, 'count', 0, 0xffffffff);
  checkInteger(window, 'window', 1, 0xffffffff);
  const out: number[] = [];
  for (let i = 0; i < count; i++) for (let j = i + 1; j <= Math.min(count - 1, i + window); j++) out.push(i, j);
  return Uint32Array.from(out);
}

function pairList(pairs: ReadonlyArray<readonly [number, number]> | Uint32Array, setCount: number): Uint32Array {
  if (pairs instanceof Uint32Array) {
    if (pairs.length % 2 !== 0) throw invalidArg('pairs', 'a Uint32Array of even length', `length ${pairs.length}`);
    for (let k = 0; k < pairs.length; k += 2)
      if (pairs[k] >= setCount || pairs[k + 1] >= setCount || pairs[k] === pairs[k + 1])
        throw invalidArg(`pairs[${k / 2}]`, `two distinct set indices below ${setCount}`, [pairs[k], pairs[k + 1]]);
    return pairs;
  }
  if (!Array.isArray(pairs)) throw invalidArg('pairs', 'an array of [i, j] pairs or a Uint32Array', pairs);
  const flat = new Uint32Array(pairs.length * 2);
  pairs.forEach((pair, k) => {
    const ok =
      Array.isArray(pair) &&
      pair.length === 2 &&
      pair.every((v) => Number.isInteger(v) && v >= 0 && v < setCount) &&
      pair[0] !== pair[1];
    if (!ok) throw invalidArg(`pairs[${k}]`, `two distinct set indices below ${setCount}`, pair);
    flat[2 * k] = pair[0];
    flat[2 * k + 1] = pair[1];
  });
  return flat;
}

/**
 * Matches and verifies pairs of feature sets in parallel, off the JS thread. Each result gives
 * the ratio-tested mutual matches, fundamental-matrix (USAC_MAGSAC, RANSAC fallback) and
 * homography inliers, the mean symmetric epipolar error of F inliers, `degeneracy` (share of
 * F inliers the homography also explains: near 1 = pure rotation or a plane), the median
 * parallax (inlier residual to the homography, px), the median raw displacement, and a
 * triangulation angle estimate atan(parallax / focal). Sets must not be disposed yet.
 */
export function matchPairs(
  sets: FeatureSet[],
  pairs: ReadonlyArray<readonly [number, number]> | Uint32Array,
  options?: MatchOptions,
): Promise<MatchResult> {
  if (!Array.isArray(sets)) throw invalidArg('sets', 'an array of FeatureSets', sets);
  const flatPairs = pairList(pairs, sets.length);
  const o = checkObject(options, 'options') as MatchOptions;
  checkNumber(o.ratio, 'options.ratio', 'a number in (0, 1]', (n) => n > 0 && n <= 1);
  checkBoolean(o.mutual, 'options.mutual');
  checkNumber(o.fThresholdPx, 'options.fThresholdPx', 'a positive number', (n) => n > 0);
  checkNumber(o.hThresholdPx, 'options.hThresholdPx', 'a positive number', (n) => n > 0);
  checkNumber(o.confidence, 'options.confidence', 'a number in (0, 1)', (n) => n > 0 && n < 1);
  checkInteger(o.maxIterations, 'options.maxIterations', 1, 1_000_000);
  checkInteger(o.minInliers, 'options.minInliers', 0, 1_000_000);
  checkNumber(o.focalPx, 'options.focalPx', 'a positive number', (n) => n > 0);
  checkInteger(o.flannChecks, 'options.flannChecks', 1, 100_000);
  checkInteger(o.minMatches, 'options.minMatches', 0, 1_000_000);
  checkBoolean(o.exact, 'options.exact');
  checkNumber(o.maxAngleRad, 'options.maxAngleRad', 'a number in (0, pi]', (n) => n > 0 && n <= Math.PI);
  checkInteger(o.threads, 'options.threads', 1, 64);
  checkBoolean(o.keepGraph, 'options.keepGraph');
  checkBoolean(o.keepMatches, 'options.keepMatches');
  installDispose();
  const stack = new Error();
  return withCallerStack(native().matchPairs(sets, flatPairs, { threads: 2, ...o }), stack) as Promise<MatchResult>;
}

/**
 * Frees what matchPairs() keeps for later jobs on the same sets (the selection's pair checks,
 * then the tracks over the picks): the FLANN indexes of the sets it matched last (up to 48, ~3 MB
 * each at 4,000 SIFT features), each built once, and the results of the last 128 pairs (a pair
 * the tracks stage matches again is not matched twice). Matching is deterministic, so either
 * gives what a new match would. A pipeline calls this when it is done matching. Returns how
 * many indexes were held.
 */
export function releaseMatchIndexes(): number {
  return native().releaseMatchIndexes();
}

/** What matchPairs() keeps between jobs: FLANN indexes and pair results (see releaseMatchIndexes). */
export function matchCacheSizes(): { indexes: number; pairs: number } {
  return native().matchCacheSizes();
}

/**
 * Builds feature tracks by union-find over the verified matches of a matchPairs() run (its
 * graph; frame f = sets[f]) or over synthetic match lists: pairs [i0,j0,...], offsets
 * (pair p's matches are matches[2*offsets[p] .. 2*offsets[p+1]) as (feature in i, feature in
 * j) pairs), optional featureCounts and keypoints for coverage. A track holding two keypoints
 * of one frame is dropped whole (counted in conflictingTracks).
 */
/** Every pair names two distinct frames below frameCount (native code indexes frames by them). */
function checkPairIndices(pairs: Uint32Array, frameCount: number): void {
  if (pairs.length % 2 !== 0) throw invalidArg('source.pairs', 'a Uint32Array of [i, j] pairs (even length)', `length ${pairs.length}`);
  for (let k = 0; k < pairs.length; k += 2) {
    const i = pairs[k]!, j = pairs[k + 1]!;
    if (i >= frameCount || j >= frameCount || i === j)
      throw invalidArg(`source.pairs[${k / 2}]`, `two distinct frame indices below frameCount (${frameCount})`, [i, j]);
  }
}

export function buildTracks(source: MatchGraph | MatchLists, options?: TrackOptions): Promise<TrackStats> {
  if (source === null || typeof source !== 'object') throw invalidArg('source', 'a MatchGraph or match lists', source);
  if (!(source instanceof (native().MatchGraph as unknown as new () => object))) {
    const lists = source as MatchLists;
    checkInteger(lists.frameCount, 'source.frameCount', 0, 10_000_000);
    for (const key of ['pairs', 'offsets', 'matches'] as const)
      if (!(lists[key] instanceof Uint32Array)) throw invalidArg(`source.${key}`, 'a Uint32Array', lists[key]);
    if (lists.featureCounts !== undefined && !(lists.featureCounts instanceof Uint32Array))
      throw invalidArg('source.featureCounts', 'a Uint32Array', lists.featureCounts);
    checkPairIndices(lists.pairs, lists.frameCount);
  }
  const o = checkObject(options, 'options') as TrackOptions;
  checkInteger(o.gridCols, 'options.gridCols', 1, 256);
  checkInteger(o.gridRows, 'options.gridRows', 1, 256);
  checkBoolean(o.keepTracks, 'options.keepTracks');
  const stack = new Error();
  return withCallerStack(native().buildTracks(source, o), stack);
}

/**
 * SIFT sets in COLMAP's database layout (see native/colmap_export.h): keypoints mapped to the
 * written images by `scales` ([scaleX, scaleY] per set: written size / feature image size),
 * descriptors L1-root normalised as COLMAP's own. ORB sets are refused.
 */
export function colmapFeatures(sets: FeatureSet[], scales: ReadonlyArray<readonly [number, number]>): Promise<ColmapFeatures[]> {
  if (!Array.isArray(sets)) throw invalidArg('sets', 'an array of FeatureSets', sets);
  if (!Array.isArray(scales) || scales.length !== sets.length) throw invalidArg('scales', `${sets.length} [scaleX, scaleY] pairs`, scales);
  const flat = new Float64Array(sets.length * 2);
  scales.forEach((pair, k) => {
    checkNumber(pair?.[0], `scales[${k}][0]`, 'a positive number', (n) => n > 0);
    checkNumber(pair?.[1], `scales[${k}][1]`, 'a positive number', (n) => n > 0);
    flat[2 * k] = pair[0];
    flat[2 * k + 1] = pair[1];
  });
  const stack = new Error();
  return withCallerStack(native().colmapFeatures(sets, flat), stack);
}
