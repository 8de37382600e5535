/**
 * Types of the selection stage: the per-frame table it works on (structure of arrays, one row
 * per analysed frame, so hundreds of thousands of frames stay cheap), its options and its result.
 */

/**
 * One row per analysed frame, rows in decode order. Scores are normalised to [0, 1] with
 * 1 = best. Cheap metrics (measured on every row) must be finite; the expensive ones
 * (features, coverage, DINO) are NaN where not measured — the pipeline measures them on
 * candidates only (see findCandidates()).
 */
export interface FrameTable {
  /** Number of rows. Every array below has at least this length. */
  readonly length: number;
  /** Frame index in decode order (0-based), strictly increasing. */
  index: Uint32Array;
  /** Presentation time in seconds, non-decreasing. */
  ptsSec: Float64Array;
  /** Focus score (e.g. variance of the Laplacian, normalised). */
  sharpness: Float32Array;
  /** FFT high-frequency energy ratio score (1 = crisp, 0 = blurred). */
  blur: Float32Array;
  /** Exposure score (1 = well exposed, 0 = black or blown out). */
  exposure: Float32Array;
  /** Noise score (1 = clean, 0 = very noisy). */
  noise: Float32Array;
  /** Texture score (gradient energy / local contrast). */
  texture: Float32Array;
  /** Feature-count score (SIFT/ORB keypoints, normalised); NaN where not measured. */
  features: Float32Array;
  /** Grid coverage of the keypoints (fraction of cells holding keypoints); NaN where not measured. */
  coverage: Float32Array;
  /**
   * Magnitude of the camera motion from the previous row to this one, in pixels of the analysis
   * image (not normalised: divided by motionScalePx here): how far the view moved, so that
   * motionPx / motionScalePx is the fraction of the view. The pipeline: the larger of the median
   * feature displacement and the parallax (docs/selection.md). Row 0: 0. NaN = unknown (taken
   * as the video's median motion).
   */
  motionPx: Float32Array;
  /**
   * Optional upper percentile (the pipeline: 90th) of the feature displacements, analysis
   * pixels; NaN = unknown. When present, the camera stands still only where this stays at the
   * tracking noise: no part of the view moves. Without it motionPx is used.
   */
  motionUpperPx?: Float32Array;
  /** Optional signed median displacement, analysis pixels: the drift of a slow camera accumulates. */
  motionDx?: Float32Array;
  motionDy?: Float32Array;
  /** Optional parallax: displacement a homography cannot explain, analysis pixels (reported). */
  parallaxPx?: Float32Array;
  /** Longest side of the analysis image in pixels: motionPx / motionScalePx = fraction of the view. */
  motionScalePx: number;
  /** Mean absolute luma difference to the previous row, 0..255 (row 0: 0). */
  meanAbsDiff: Float32Array;
  /** 64-bit perceptual hash (dHash/pHash), high and low 32 bits. */
  hashHi: Uint32Array;
  hashLo: Uint32Array;
  /**
   * Optional raw fine-detail energy (e.g. variance of the Laplacian), > 0, unbounded. When
   * present, defects compare its log to the local sharp level (a ratio test that does not
   * saturate like the scores) and the score prefers the locally sharpest frames.
   */
  detail?: Float32Array;
  /** Optional mean luma 0..255: exposure changes against the local level (ratio test). */
  brightness?: Float32Array;
  /** DINO dense statistics, present only with a model; NaN where not measured. */
  spatialComplexity?: Float32Array;
  semanticRichness?: Float32Array;
  /** DINO global embeddings (L2-normalised or not) by row, for the rows that have one. */
  embedding?: ReadonlyMap<number, Float32Array>;
}

export type SelectMode = 'fast' | 'balanced' | 'high_quality';

/** Weight keys of the classical score (no model). */
export type ClassicalWeightKey = 'sharpness' | 'features' | 'coverage' | 'texture' | 'exposure';
/** Weight keys of the score with a DINO model. `geometric` = mean of features and coverage. */
export type ModelWeightKey = 'spatialComplexity' | 'semanticRichness' | 'geometric' | 'texture';
export type WeightKey = ClassicalWeightKey | ModelWeightKey;
export type Weights = Partial<Record<WeightKey, number>>;

export interface SelectOptions {
  /** Exactly N picks (fewer, with a warning, when the video does not allow N). */
  count?: number;
  /** Automatic count from motion and overlap, capped at N. Exclusive with count. */
  maxFrames?: number;
  /** What the modes change: docs/selection.md. Default 'balanced'. */
  mode?: SelectMode;
  /** Target overlap of consecutive picks' views, 0..0.95. Default 0.7. */
  overlap?: number;
  /** Minimum time between consecutive picks, seconds. Default min(0.25, half the usable time per target pick). */
  minSpacingSec?: number;
  /** Maximum time between consecutive picks, seconds (stationary time not counted). Default 4. */
  maxGapSec?: number;
  /** Maximum accumulated motion between consecutive picks, fraction of the view. Default 2 * (1 - overlap). */
  maxGapMotion?: number;
  /** Score weights: non-negative, summing to 1; keys of the active score (with or without model). */
  weights?: Weights;
  /** Candidates kept per motion segment. Default by mode: fast 2, balanced 3, high_quality 6. */
  candidatesPerSegment?: number;
  /** Window of the robust (median/MAD) statistics for defect thresholds, seconds. Default 10. */
  windowSec?: number;
  /** Minimum RANSAC inliers for a consecutive pair to count as linked. Default 60. */
  minInliers?: number;
  /** Minimum parallax (pixels at analysis size) for a link not to be degenerate. Default 2. */
  minParallaxPx?: number;
  /** Upper bound on verifier calls. Default by mode: 3, 4 or 8 per target pick, plus 16. */
  maxVerifierCalls?: number;
  /** Embedding cosine at or above which consecutive picks are the same view. Default 0.98. */
  redundancyCosine?: number;
}

/** Options after defaults and validation (what the manifest reports as effective config). */
export interface ResolvedSelectOptions {
  count: number | undefined;
  maxFrames: number | undefined;
  mode: SelectMode;
  overlap: number;
  minSpacingSec: number;
  maxGapSec: number;
  maxGapMotion: number;
  weights: Weights;
  scoreKind: 'classical' | 'model';
  candidatesPerSegment: number;
  windowSec: number;
  minInliers: number;
  minParallaxPx: number;
  maxVerifierCalls: number | undefined;
  redundancyCosine: number;
  /** Bridge/move attempts per weak link. fast 1, balanced 3, high_quality 6. */
  bridgeTries: number;
}

/** Why a row was rejected before scoring. */
export type RejectReason = 'invalid' | 'exposure' | 'cut' | 'blur' | 'textureless' | 'duplicate';

/** Per-row fate codes (Selection.fate); fateLabel() turns them into words. */
export const FATE_USABLE = 0;
export const FATE_CANDIDATE = 1;
export const FATE_CHOSEN = 2;
/** Rejected rows: FATE_REJECTED_BASE + reject code (see REJECT_REASONS in defects.ts). */
export const FATE_REJECTED_BASE = 10;

/** Codes explaining a pick. */
export type PickReason =
  | 'best_in_slot' // highest score among the candidates of its stretch
  | 'coverage' // not the best of its stretch, chosen to keep spacing/gaps (the optimiser traded score for coverage)
  | 'bridge' // inserted to connect two picks that did not verify
  | 'moved' // replaced a pick to repair a weak link
  | 'replacement'; // replaced a redundant pick, in an under-covered stretch

export interface PickSubScores {
  sharpness: number;
  blur: number;
  exposure: number;
  noise: number;
  texture: number;
  features: number;
  coverage: number;
  spatialComplexity?: number;
  semanticRichness?: number;
}

export interface FramePick {
  row: number;
  frameIndex: number;
  ptsSec: number;
  /** Final score = base (weighted sub-scores) * gate. */
  score: number;
  base: number;
  gate: number;
  subScores: PickSubScores;
  reasons: PickReason[];
  /** Short sentence for the manifest. */
  explanation: string;
  /** Index into Selection.sequences. */
  sequence: number;
}

/** Verdict of the injected pair verifier (SIFT + RANSAC in the pipeline). */
export interface PairVerdict {
  inliers: number;
  /** True when the geometry is degenerate (homography-explained, pure rotation, planar). */
  degenerate?: boolean;
  /** Alternatively 0..1; >= 0.5 counts as degenerate. */
  degeneracy?: number;
  /** Median parallax of the inliers, pixels at analysis size. */
  parallaxPx: number;
}

export type PairVerifier = (a: number, b: number) => Promise<PairVerdict>;

export type LinkStatus =
  | 'ok' // verified as is
  | 'bridged' // a frame was inserted between the two picks (this link is one of the two halves)
  | 'moved' // one end was replaced
  | 'weak' // below the bar and not repairable within the constraints (kept, warned)
  | 'broken' // no inliers path found: the selection splits into separate sequences here
  | 'unverified'; // verifier budget exhausted or no verifier

export interface LinkReport {
  fromFrame: number;
  toFrame: number;
  inliers: number;
  parallaxPx: number;
  degenerate: boolean;
  status: LinkStatus;
}

export interface SequenceReport {
  firstFrame: number;
  lastFrame: number;
  picks: number;
}

export interface Selection {
  picks: FramePick[];
  /** Per row: FATE_* code; fateLabel(code) gives 'chosen' | 'candidate' | 'usable' | 'rejected:<reason>'. */
  fate: Uint8Array;
  rejectedByReason: Record<RejectReason, number>;
  links: LinkReport[];
  sequences: SequenceReport[];
  warnings: string[];
  stats: {
    rows: number;
    usable: number;
    candidates: number;
    segments: number;
    /** Picks the optimiser aimed for (count, or automatic count capped by maxFrames). */
    targetCount: number;
    /** Automatic count from accumulated motion and overlap. */
    autoCount: number;
    verifierCalls: number;
  };
  options: ResolvedSelectOptions;
}
