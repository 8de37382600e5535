/**
 * `extract --colmap`: framesift's own features and verified matches of the picks as a COLMAP
 * database (DIR/colmap/database.db, src/output/colmap-db.ts), so that `colmap mapper` needs
 * no extraction or matching step.
 *
 * - Features: by default (`colmapFeatures: 'full'`) SIFT found anew on every written image
 *   at full size, DATABASE_FEATURES of them with COLMAP's contrast threshold, as COLMAP's own
 *   extraction would find them, without OpenCV's +0.25 px keypoint shift (FeatureOptions
 *   unshift: a quarter pixel against the fixed principal point cost a third of the rotation
 *   accuracy); with 'analysis' the picks' SIFT sets from the describe stage
 *   (found at analysis size) mapped to the written images' pixels (their real size, read from
 *   each file's header), sparse or ORB sets found anew.
 * - Matches: for every pair of pairs.txt and the loop candidates, the putative and F-inlier
 *   matches, by the exact matcher (COLMAP's brute-force rule: matchPairs' exact) on
 *   every pair; with `matcher: 'flann'` the tracks stage's matches are reused where they exist.
 * - Geometry: F and H mapped from analysis to written-image pixels in COLMAP's convention
 *   (pixel centres at +0.5): x_colmap = T x, T = [s 0 s/2; 0 s s/2; 0 0 1] per axis, so
 *   F' = T2^-T F T1^-1 and H' = T2 H T1^-1. The configuration follows COLMAP's own rule for
 *   cameras without a prior focal length: PLANAR_OR_PANORAMIC when the homography explains
 *   more than 0.8 of the F inliers' count, else UNCALIBRATED.
 * - Cameras: one per image size (one per video), SIMPLE_RADIAL (colmapCamera): the input's
 *   35 mm-equivalent focal length when it states one (prior_focal_length on), else COLMAP's
 *   default guess with the prior off.
 */
import { join, relative } from 'node:path';

import sharp from 'sharp';

import { FramesiftError } from '../../errors.js';
import { colmapFeatures, extractFeaturesBatch, matchPairs, type FeatureOptions, type FeatureSet, type PairVerification } from '../../core/geometry.js';
import { uniquePairs } from '../../output/colmap.js';
import { COLMAP_DATABASE_FILE, COLMAP_DIR, KEYPOINT_COLS, invert3, transpose3, writeColmapDatabase, type ColmapCamera, type ColmapDatabaseSummary, type ColmapPair, type TwoViewConfig } from '../../output/colmap-db.js';
import type { ManifestColmap } from '../../output/manifest.js';
import type { PipelineRun } from '../run.js';
import type { VideoAnalysis } from '../types.js';
import type { WrittenOutputs } from './write.js';

/** COLMAP's max_H_inlier_ratio: above it a pair counts as planar or panoramic. */
const MAX_H_INLIER_RATIO = 0.8;
/** COLMAP's two-view max_error (px): a putative match within it of the pair's F counts as an inlier. */
const COLMAP_MAX_ERROR_PX = 4;
/** An analysis set with fewer features than this share of the mode's count is found again at full size. */
const SPARSE_SHARE = 0.6;
/**
 * OpenCV contrast threshold for SIFT found again: 0.015 / 3 layers = 0.005, under COLMAP's
 * peak_threshold 0.0067 because OpenCV's SIFT finds fewer features than COLMAP's at the same
 * threshold (meshflow_shaky5, 640x360: 1,460 per image at 0.02 against COLMAP's 1,604; 1,537
 * at 0.015). Images with more than DATABASE_FEATURES keep the strongest: the same set at
 * either threshold (OpenCV's default 0.04 finds half as many on smooth footage).
 */
export const FULL_CONTRAST_THRESHOLD = 0.015;
/**
 * SIFT features per written image found anew, the strongest kept. COLMAP's own extraction
 * with sfm_eval.py's 2,048 keeps about 3,100 on dev_orbit at 960 px (its cap counts locations,
 * a second orientation is a second feature, and it keeps whole scale levels from the coarsest
 * down). OpenCV's features at that count gave 1.4x COLMAP's rotation error there; 4,096 give
 * its error and 1.3x its points, for 1.8x the matching (docs/quality.md, issue 18). Keeping
 * the coarsest levels first, as COLMAP does, was no better at either count.
 */
export const DATABASE_FEATURES = 4096;

/** COLMAP's default focal-length guess, in units of the longer image side. */
const DEFAULT_FOCAL_FACTOR = 1.2;
/** The long side of a 35 mm film frame, the unit of 35 mm-equivalent focal lengths. */
const FILM_LONG_SIDE_MM = 36;

export interface ColmapExportInput {
  outDir: string;
  imagesDir: string;
  /** Written picks, in time order: file name in imagesDir and the describe stage's feature set (if any). */
  images: Array<{ name: string; features: FeatureSet | undefined }>;
  /** Pairs to store (pairs.txt), as indices into `images`. */
  pairs: Array<[number, number]>;
  /** Pairs matched already (matchPairs with keepMatches, indices into `images`), keyed "i,j". */
  matched: ReadonlyMap<string, PairVerification>;
  /** 'analysis': the describe stage's SIFT where there is one; 'full': SIFT found anew on every written image. */
  source: ColmapFeatureSource;
  /** The mode's feature count: an analysis set under SPARSE_SHARE of it is found again. */
  maxFeatures: number;
  /** Features per image found anew. Default DATABASE_FEATURES. */
  fullFeatures?: number;
  /** OpenCV contrast threshold of the SIFT found anew. Default FULL_CONTRAST_THRESHOLD. */
  contrastThreshold?: number;
  /** Remove OpenCV's +0.25 px keypoint shift from the SIFT found anew (FeatureOptions.unshift). Default true. */
  unshift?: boolean;
  /** The input's 35 mm-equivalent focal length in mm (VideoInfo.focalLength35mm), 0 when it states none. */
  focalLength35mm?: number;
  /** Native threads for matching. */
  threads: number;
  /** 'exact': every pair matched again by COLMAP's brute-force rule (matchPairs' exact); 'flann': the tracks stage's matches reused. Default 'exact'. */
  matcher?: 'exact' | 'flann';
  /** F threshold (px) of the verification here. Default COLMAP_MAX_ERROR_PX when every set is found at full size, else matchPairs' 1 (analysis pixels). */
  fThresholdPx?: number;
  /** Putative matches a loop candidate needs before RANSAC. Default LOOP_MIN_MATCHES. */
  loopMinMatches?: number;
  /** FLANN leaves checked per query for the pairs matched here (matchPairs' default 32). */
  flannChecks?: number;
  signal?: AbortSignal;
}

export interface ColmapExport extends ColmapDatabaseSummary {
  /** Verified pairs beyond pairs.txt (loop candidates). */
  loopPairs: number;
  /** Feature source: 'analysis' (the describe stage's SIFT, scaled) or 'full' (found anew on the written images). */
  features: 'analysis' | 'full' | 'mixed';
  camera: { model: ColmapCamera['model']; width: number; height: number; focalPx: number; priorFocalLength: boolean };
  seconds: number;
}

export type ColmapFeatureSource = 'analysis' | 'full';

/** Putative matches a loop candidate needs before RANSAC: COLMAP's 15-inlier minimum (fewer can never verify). */
const LOOP_MIN_MATCHES = 15;
/** Up to this many images every pair is a loop candidate (COLMAP's exhaustive matcher's domain). */
const EXHAUSTIVE_UP_TO = 60;
/** Beyond it: every pair among this many evenly spread images, plus offsets 4, 8, 16, ... */
const LOOP_GRID = 40;

/**
 * Pairs beyond the tracks stage's window worth trying for loop closures and long tracks: all of
 * them for a small count (matching is cheap here: about 30 ms a pair on one core against
 * COLMAP's brute-force CPU matcher's seconds); for more images a grid among every s-th image
 * and the quadratic offsets of COLMAP's sequential matcher, O(n log n + 800).
 */
export function loopCandidates(count: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (count <= EXHAUSTIVE_UP_TO) {
    for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) out.push([i, j]);
    return out;
  }
  const seen = new Set<string>();
  const add = (i: number, j: number) => {
    const key = pairKey(i, j);
    if (j < count && !seen.has(key)) {
      seen.add(key);
      out.push([i, j]);
    }
  };
  const stride = Math.ceil(count / LOOP_GRID);
  for (let i = 0; i < count; i += stride) for (let j = i + stride; j < count; j += stride) add(i, j);
  for (let i = 0; i < count; i++) for (let offset = 4; i + offset < count; offset *= 2) add(i, i + offset);
  return out;
}

export const pairKey = (i: number, j: number): string => `${i},${j}`;

/** T^-1 of the analysis-to-written map of one image (row-major 3 x 3). */
function inversePixelMap(sx: number, sy: number): number[] {
  return invert3([sx, 0, sx / 2, 0, sy, sy / 2, 0, 0, 1]);
}

function multiply3(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[3 * r + c]! += a[3 * r + k]! * b[3 * k + c]!;
  return out;
}

/** Scales a matrix so its largest entry is 1 in magnitude (F and H are defined up to scale). */
function normalise(m: number[]): number[] {
  const max = Math.max(...m.map(Math.abs));
  return max > 0 ? m.map((v) => v / max) : m;
}

/**
 * The putative matches within COLMAP_MAX_ERROR_PX (Sampson distance, written-image pixels) of
 * F: COLMAP's own inlier rule. framesift's MAGSAC mask (1 px at analysis size) is stricter,
 * which keeps fewer observations per point than COLMAP's matcher would.
 */
export function sampsonInliers(matches: Uint32Array, a: Float32Array, b: Float32Array, F: ArrayLike<number>, maxErrorPx = COLMAP_MAX_ERROR_PX): Uint32Array {
  const out = new Uint32Array(matches.length);
  const limit = maxErrorPx * maxErrorPx;
  let n = 0;
  for (let k = 0; k + 1 < matches.length; k += 2) {
    const ia = matches[k]! * KEYPOINT_COLS, ib = matches[k + 1]! * KEYPOINT_COLS;
    const x1 = a[ia]!, y1 = a[ia + 1]!, x2 = b[ib]!, y2 = b[ib + 1]!;
    const l0 = F[0]! * x1 + F[1]! * y1 + F[2]!, l1 = F[3]! * x1 + F[4]! * y1 + F[5]!, l2 = F[6]! * x1 + F[7]! * y1 + F[8]!;
    const m0 = F[0]! * x2 + F[3]! * y2 + F[6]!, m1 = F[1]! * x2 + F[4]! * y2 + F[7]!;
    const e = x2 * l0 + y2 * l1 + l2;
    const denominator = l0 * l0 + l1 * l1 + m0 * m0 + m1 * m1;
    if (denominator > 0 && (e * e) / denominator <= limit) {
      out[n++] = matches[k]!;
      out[n++] = matches[k + 1]!;
    }
  }
  return out.slice(0, n);
}

async function imageSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(path).metadata();
    if (!meta.width || !meta.height) throw new Error('no image size in the header');
    return { width: meta.width, height: meta.height };
  } catch (err) {
    throw new FramesiftError(`Could not read the written image ${path}: ${(err as Error).message}`, 'ERR_FRAMESIFT_OUTPUT', { cause: err });
  }
}

/** Written images decoded at once for the batch SIFT below, per native thread (memory: a few frames each). */
const SIFT_IMAGES_PER_THREAD = 2;

/**
 * SIFT on written images at their full resolution (for picks described with ORB, or source
 * 'full'), a few at a time on `threads` native threads: the next batch decodes while the
 * current one is described.
 */
async function fullResolutionSifts(paths: string[], options: FeatureOptions, threads: number): Promise<FeatureSet[]> {
  const decode = (path: string) =>
    sharp(path).grayscale().raw().toBuffer({ resolveWithObject: true }).then(({ data, info }) => ({ data, width: info.width, height: info.height }));
  const step = Math.max(1, threads * SIFT_IMAGES_PER_THREAD);
  const out: FeatureSet[] = [];
  try {
    let next = Promise.all(paths.slice(0, step).map(decode));
    for (let k = 0; k < paths.length; k += step) {
      const images = await next;
      next = Promise.all(paths.slice(k + step, k + 2 * step).map(decode));
      // A failed decode ahead must not go unhandled while this batch runs.
      next.catch(() => undefined);
      out.push(...(await extractFeaturesBatch(images, { ...options, threads })));
    }
    return out;
  } catch (err) {
    for (const set of out) set.dispose();
    throw err;
  }
}

/**
 * One camera of the database: SIMPLE_RADIAL (COLMAP's default model), principal point at the
 * centre, k = 0. A stated 35 mm-equivalent focal length gives f = f35 / 36 mm x the longer
 * side (36 mm: the film frame's long side) with prior_focal_length on, as COLMAP's own reader
 * does with EXIF; else COLMAP's default guess, 1.2 x the longer side, with the prior off.
 */
export function colmapCamera(width: number, height: number, focalLength35mm: number): ColmapCamera {
  const longer = Math.max(width, height);
  const known = focalLength35mm > 0;
  const focal = known ? (focalLength35mm / FILM_LONG_SIDE_MM) * longer : DEFAULT_FOCAL_FACTOR * longer;
  return { model: 'SIMPLE_RADIAL', width, height, params: [focal, width / 2, height / 2, 0], priorFocalLength: known };
}

export async function writeColmapExport(input: ColmapExportInput): Promise<ColmapExport> {
  const started = performance.now();
  const paths = input.images.map((im) => join(input.imagesDir, im.name));
  const sizes = await Promise.all(paths.map(imageSize));
  const owned: FeatureSet[] = [];
  try {
    // Picks described with ORB (fast mode) or not at all get SIFT on their written image.
    // A sparse analysis set (a smooth real clip: a few hundred features at 640 px) is found
    // again at full size with COLMAP's lower contrast threshold, as COLMAP's own SIFT would.
    const reuse = input.images.map((im) =>
      input.source === 'analysis' && im.features !== undefined && im.features.kind === 'sift' && !im.features.disposed && im.features.count >= SPARSE_SHARE * input.maxFeatures,
    );
    const again = paths.filter((_, k) => !reuse[k]);
    const siftOptions: FeatureOptions = {
      detector: 'sift',
      maxFeatures: input.fullFeatures ?? DATABASE_FEATURES,
      contrastThreshold: input.contrastThreshold ?? FULL_CONTRAST_THRESHOLD,
      unshift: input.unshift ?? true,
    };
    owned.push(...(await fullResolutionSifts(again, siftOptions, input.threads)));
    let next = 0;
    const sets = input.images.map((im, k) => (reuse[k] ? im.features! : owned[next++]!));
    const reused = reuse.filter(Boolean).length;
    const scales = sets.map((set, k) => [sizes[k]!.width / set.width, sizes[k]!.height / set.height] as [number, number]);
    const features = await colmapFeatures(sets, scales);

    // Pairs the tracks stage did not match (revisits, or every pair of a recomputed image), and
    // the loop candidates beyond the window: kept only when they verify.
    const recomputed = new Set(owned);
    const listed = new Set(input.pairs.map(([i, j]) => pairKey(i, j)));
    const loops = loopCandidates(sets.length).filter(([i, j]) => !listed.has(pairKey(i, j)));
    const exact = (input.matcher ?? 'exact') === 'exact';
    // The exact matcher finds more matches than the tracks stage's FLANN search: every pair is matched again.
    const stale = ([i, j]: [number, number]) => exact || !input.matched.has(pairKey(i, j)) || recomputed.has(sets[i]!) || recomputed.has(sets[j]!);
    const results = new Map<string, PairVerification>(input.matched);
    // Features found at full size are verified with COLMAP's own max_error (written-image pixels);
    // analysis-size sets keep matchPairs' 1 px at their own scale.
    const fThresholdPx = input.fThresholdPx ?? (reused === 0 ? COLMAP_MAX_ERROR_PX : undefined);
    const common = { keepGraph: false, keepMatches: true, threads: input.threads, exact, ...(input.flannChecks ? { flannChecks: input.flannChecks } : {}), ...(fThresholdPx ? { fThresholdPx } : {}) };
    // Most loop candidates do not overlap at all: those with too few putative matches to ever
    // verify well skip RANSAC (which otherwise runs its full iteration budget on them).
    for (const [list, extra] of [[input.pairs.filter(stale), {}], [loops.filter(stale), { minMatches: input.loopMinMatches ?? LOOP_MIN_MATCHES }]] as const) {
      if (list.length === 0) continue;
      const { pairs } = await matchPairs(sets, list, { ...common, ...extra });
      for (const p of pairs) results.set(pairKey(p.i, p.j), p);
    }
    const loopsVerified = loops.filter(([i, j]) => results.get(pairKey(i, j))?.verified);

    const cameraOf = new Map<string, number>();
    const cameras: ColmapCamera[] = [];
    const imageCamera = sizes.map(({ width, height }) => {
      const key = `${width}x${height}`;
      let id = cameraOf.get(key);
      if (id === undefined) {
        id = cameras.length;
        cameraOf.set(key, id);
        cameras.push(colmapCamera(width, height, input.focalLength35mm ?? 0));
      }
      return id;
    });

    const pairs: ColmapPair[] = [];
    for (const [i, j] of [...input.pairs, ...loopsVerified]) {
      const r = results.get(pairKey(i, j));
      if (!r || !r.matchIndices) continue;
      const verified = r.verified && r.inlierIndices !== undefined && r.inlierIndices.length > 0;
      const Ti = inversePixelMap(scales[i]![0], scales[i]![1]);
      const Tj = inversePixelMap(scales[j]![0], scales[j]![1]);
      const F = r.F ? normalise(multiply3(multiply3(transpose3(Tj), r.F), Ti)) : null;
      const H = r.H ? normalise(multiply3(multiply3(invert3(Tj), r.H), Ti)) : null;
      const config: TwoViewConfig = r.fInliers > 0 && r.hInliers / r.fInliers > MAX_H_INLIER_RATIO ? 'PLANAR_OR_PANORAMIC' : 'UNCALIBRATED';
      const inliers = !verified ? new Uint32Array(0) : F ? sampsonInliers(r.matchIndices, features[i]!.keypoints, features[j]!.keypoints, F) : r.inlierIndices!;
      pairs.push({ image1: i, image2: j, matches: r.matchIndices, inliers, config, F, H, E: null });
    }

    const summary = await writeColmapDatabase(
      join(input.outDir, COLMAP_DIR, COLMAP_DATABASE_FILE),
      { cameras, images: input.images.map((im, k) => ({ name: im.name, camera: imageCamera[k]!, keypoints: features[k]!.keypoints, descriptors: features[k]!.descriptors })), pairs },
      input.signal,
    );
    const first = cameras[0]!;
    return {
      ...summary,
      loopPairs: loopsVerified.length,
      features: reused === sets.length ? 'analysis' : reused === 0 ? 'full' : 'mixed',
      camera: { model: first.model, width: first.width, height: first.height, focalPx: first.params[0]!, priorFocalLength: first.priorFocalLength },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const set of owned) set.dispose();
  }
}

/**
 * The colmap stage (after write): maps the picks to the written images and pairs.txt to
 * their indices, then writes the database.
 */
export async function colmapStage(
  analysis: VideoAnalysis,
  written: WrittenOutputs,
  features: ReadonlyArray<FeatureSet | undefined>,
  matchedPairs: readonly PairVerification[],
  run: PipelineRun,
): Promise<ManifestColmap> {
  run.checkpoint();
  run.clock.start('colmap');
  run.progress.stage('colmap', written.frames.length);
  const { out } = analysis;
  const indexOfPick: number[] = [];
  const images: ColmapExportInput['images'] = [];
  const indexOfName = new Map<string, number>();
  written.names.forEach((name, k) => {
    if (!written.written.has(name)) return void indexOfPick.push(-1);
    indexOfPick.push(images.length);
    indexOfName.set(name, images.length);
    images.push({ name, features: features[k] });
  });
  const matched = new Map<string, PairVerification>();
  for (const p of matchedPairs) {
    const i = indexOfPick[p.i] ?? -1, j = indexOfPick[p.j] ?? -1;
    if (i >= 0 && j >= 0) matched.set(pairKey(i, j), { ...p, i, j });
  }
  const pairs: Array<[number, number]> = [];
  for (const [a, b] of uniquePairs(written.pairs)) {
    const i = indexOfName.get(a), j = indexOfName.get(b);
    if (i !== undefined && j !== undefined) pairs.push(i < j ? [i, j] : [j, i]);
  }
  const { options } = analysis;
  const result = await writeColmapExport({
    outDir: out.dir,
    imagesDir: out.imagesDir,
    images,
    pairs,
    matched,
    source: options.colmapFeatures,
    maxFeatures: options.preset.maxFeatures,
    focalLength35mm: analysis.info.focalLength35mm,
    threads: Math.max(1, Math.min(64, options.threads)),
    ...(run.signal ? { signal: run.signal } : {}),
  });
  return {
    database: relative(out.dir, result.path),
    features: result.features,
    camera: result.camera,
    cameras: result.cameras,
    images: result.images,
    keypoints: result.keypoints,
    matchedPairs: result.matchedPairs,
    verifiedPairs: result.verifiedPairs,
    loopPairs: result.loopPairs,
    inlierMatches: result.inlierMatches,
    seconds: Math.round(result.seconds * 1000) / 1000,
    reconstruction: null,
  };
}
