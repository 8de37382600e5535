/** Types of the native geometry module (native/geometry_binding.cc). */
import type { NativeGrayImage } from './image.js';

/** Flat, pre-validated feature options (field names match FeatureOptions in native/local_features.h). */
export interface NativeFeatureOptions {
  kind?: 0 | 1; // 0 = SIFT, 1 = ORB
  maxFeatures?: number;
  rootSift?: boolean;
  downscale?: number;
  contrastThreshold?: number;
  threads?: number;
}

/** Keypoints + descriptors held in native memory. */
export interface NativeFeatureSet {
  readonly count: number;
  readonly width: number;
  readonly height: number;
  readonly kind: 'sift' | 'orb';
  readonly rootSift: boolean;
  readonly byteLength: number;
  readonly disposed: boolean;
  keypoints(): Float32Array;
  /** The set as bytes (a copy), for featureSetFromBuffer(). */
  toBuffer(): Buffer;
  dispose(): boolean;
}

/** Verified matches of a matchPairs() run, kept natively for buildTracks(). */
export interface NativeMatchGraph {
  readonly frameCount: number;
  readonly pairCount: number;
  readonly byteLength: number;
  readonly disposed: boolean;
  dispose(): boolean;
}

/** Flat match options (field names match MatchOptions in native/matching.h). */
export interface NativeMatchOptions {
  ratio?: number;
  mutual?: boolean;
  fThresholdPx?: number;
  hThresholdPx?: number;
  confidence?: number;
  maxIterations?: number;
  minInliers?: number;
  focalPx?: number;
  flannChecks?: number;
  minMatches?: number;
  exact?: boolean;
  maxAngleRad?: number;
  threads?: number;
  keepGraph?: boolean;
  keepMatches?: boolean;
}

export interface NativePairResult {
  i: number;
  j: number;
  matches: number;
  fInliers: number;
  fInlierRatio: number;
  hInliers: number;
  hInlierRatio: number;
  degeneracy: number;
  meanEpipolarErrorPx: number;
  medianParallaxPx: number;
  medianDisplacementPx: number;
  triangulationAngleDeg: number;
  verified: boolean;
  method: 'magsac' | 'ransac' | 'none';
  F: number[] | null;
  H: number[] | null;
  /** With keepMatches: the ratio-tested mutual matches as (index in i, index in j) pairs. */
  matchIndices?: Uint32Array;
  /** With keepMatches: the F inliers among them, same layout. */
  inlierIndices?: Uint32Array;
  error?: string;
}

/** One feature set in COLMAP's database layout (native/colmap_export.h). */
export interface NativeColmapFeatures {
  /** count x 6 floats: x, y (pixel centres at +0.5), affine shape a11, a12, a21, a22 (sigma x rotation). */
  keypoints: Float32Array;
  /** count x 128 bytes, L1-root normalised, x 512, capped at 255. */
  descriptors: Uint8Array;
}

export interface NativeMatchLists {
  frameCount: number;
  pairs: Uint32Array;
  offsets: Uint32Array;
  matches: Uint32Array;
  featureCounts?: Uint32Array;
  keypoints?: (Float32Array | null | undefined)[];
  width?: number;
  height?: number;
}

export interface NativeTrackOptions {
  gridCols?: number;
  gridRows?: number;
  keepTracks?: boolean;
}

export interface NativeTrackStats {
  frameCount: number;
  tracks: number;
  tracksAtLeast2: number;
  tracksAtLeast3: number;
  conflictingTracks: number;
  observations: number;
  lengthHistogram: Uint32Array;
  perFrameTracks: Uint32Array;
  perFrameCoverage: Float32Array;
  consecutiveShared: Uint32Array;
  weakestLink: { frame: number; shared: number } | null;
  trackList?: { offsets: Uint32Array; frames: Uint32Array; features: Uint32Array };
}

export interface GeometryExports {
  FeatureSet: { prototype: NativeFeatureSet };
  MatchGraph: { prototype: NativeMatchGraph };
  extractFeatures(image: NativeGrayImage, options: NativeFeatureOptions): Promise<NativeFeatureSet>;
  extractFeaturesBatch(images: NativeGrayImage[], options: NativeFeatureOptions): Promise<NativeFeatureSet[]>;
  matchPairs(
    sets: NativeFeatureSet[],
    pairs: Uint32Array,
    options: NativeMatchOptions,
  ): Promise<{ pairs: NativePairResult[]; graph: NativeMatchGraph | null }>;
  /** Empties the FLANN index cache and the pair results that matchPairs jobs share; returns how many indexes it held. */
  releaseMatchIndexes(): number;
  /** What the matching caches hold: FLANN indexes and pair results. */
  matchCacheSizes(): { indexes: number; pairs: number };
  buildTracks(source: NativeMatchGraph | NativeMatchLists, options: NativeTrackOptions): Promise<NativeTrackStats>;
  colmapFeatures(sets: NativeFeatureSet[], scales: Float64Array): Promise<NativeColmapFeatures[]>;
  featureSetFromBuffer(bytes: Uint8Array): NativeFeatureSet;
}
