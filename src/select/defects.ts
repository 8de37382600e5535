/**
 * Defect rejection with thresholds relative to the video itself: a row is rejected when it is
 * far below the robust level (median, MAD) of its neighbourhood — so a uniformly soft, dark or
 * plain video keeps its frames — plus absolute floors that apply only below the video's level.
 */
import type { FrameTable, RejectReason, ResolvedSelectOptions } from './types.js';
import { globalRobust, hamming64, medianStepSec, slidingQuantile, slidingRobust, type RobustLevel } from './stats.js';
import { viewMotion } from './motion.js';

/** Reject codes: index into REJECT_REASONS (0 = not rejected). */
export const REJECT_REASONS: readonly ('' | RejectReason)[] = [
  '',
  'invalid',
  'exposure',
  'cut',
  'blur',
  'textureless',
  'duplicate',
];
export const REJECT = { none: 0, invalid: 1, exposure: 2, cut: 3, blur: 4, textureless: 5, duplicate: 6 } as const;

/** Thresholds (robust z = drop below the median / robust sigma). Documented in docs/selection.md. */
export const DEFECT_THRESHOLDS = Object.freeze({
  /** Robust z below the local level for blur, exposure and texture defects. */
  z: 3.5,
  /** Minimum drop below the local median (score units) so that tiny spreads do not reject. */
  minDropBlur: 0.08,
  minDropExposure: 0.15,
  minDropTexture: 0.1,
  /** Exposure score below which a frame is black/blown out, if also below the video's level. */
  exposureFloor: 0.15,
  /** Texture/feature scores below which a frame is plain, if also far below the local level. */
  textureFloor: 0.12,
  featuresFloor: 0.12,
  /** A frame under this fraction of the local texture median is plain even above the floors. */
  textureRatio: 0.35,
  /**
   * Raw detail (table.detail, e.g. Laplacian variance) under this fraction of the local sharp
   * level (upper quartile of the window: the good frames' level even when defects fill much
   * of it) is blur or defocus. A ratio, so a uniformly soft video keeps its frames.
   */
  detailRatio: 0.3,
  /** The FFT-ratio test counts only with detail under this fraction of the sharp level (when detail is known). */
  fftConfirmRatio: 0.45,
  /** Quantile of the window that stands for its sharp level. */
  detailQuantile: 0.75,
  /** Mean luma (table.brightness) off the local median by more than this factor, either way, is an exposure change. */
  brightnessRatio: 1.25,
  /**
   * Transition frames: rows within this time of a defect run (blur, exposure, textureless) of at
   * least guardMinRows rows share its reason — the onset of a focus hunt, an exposure ramp, a
   * swing towards a plain wall is partly affected before the thresholds catch it.
   */
  guardSec: 0.15,
  guardMinRows: 3,
  /**
   * Ramps: before the guard, a defect run extends for up to rampSec over rows that are partly
   * affected (hysteresis): brightness off by more than rampBrightnessRatio, or detail under
   * rampDetailRatio, of the window's level and also of the usable rows just beyond the ramp
   * (the rampReferenceSec past it on that side, when there are any): a plainer stretch beside a
   * defect is not a ramp.
   */
  rampSec: 0.3,
  rampReferenceSec: 0.5,
  rampBrightnessRatio: 1.12,
  rampDetailRatio: 0.6,
  /** Scene cut: meanAbsDiff robust z and hash distance to the previous row. */
  cutZ: 8,
  cutMinDiff: 12,
  cutHamming: 14,
  /**
   * Stationary: on every row of the run no tracked feature moves beyond the tracking noise (the
   * upper percentile of the displacements, motionUpperPx, under stillUpperPx at a 640-pixel
   * analysis size, in proportion above it) ...
   */
  stillUpperPx: 0.25,
  /** ... the view has not drifted from the run's first frame (accumulated signed median displacement) ... */
  stillDriftPx: 1,
  /** ... and the hash stays within this distance of the run's first frame ... */
  stillHamming: 8,
  /** ... for at least this long. */
  stillMinSec: 0.3,
});

export interface DefectResult {
  /** Per row: REJECT code (0 = usable). */
  reject: Uint8Array;
  /** Per row: 1 where a new shot starts (scene cut). */
  cut: Uint8Array;
  /** Per row: 1 where the camera stands still (stationary run) or a cut starts: no motion accumulates. */
  frozen: Uint8Array;
  /** Per row: motion as a fraction of the view (see viewMotion). */
  motion: Float32Array;
  counts: Record<RejectReason, number>;
  /** Local levels for scores relative to the neighbourhood (see relativeQuality in score.ts). */
  levels: LocalLevels;
}

export interface LocalLevels {
  /** log(detail) of the local sharp level (upper quartile); undefined without table.detail. */
  logDetail: Float32Array | undefined;
  /** Local median of the noisiness -log(noise score) (noise sigma / 8 for the pipeline's scores). */
  noisiness: Float32Array;
}

function below(x: number, level: RobustLevel, i: number, minDrop: number, z: number): boolean {
  const drop = level.median[i] - x;
  return drop > minDrop && drop > z * level.sigma[i];
}

/** Rejects defect rows; see DEFECT_THRESHOLDS. O(n) plus the sliding statistics. */
export function detectDefects(table: FrameTable, options: Pick<ResolvedSelectOptions, 'windowSec'>): DefectResult {
  const n = table.length;
  const t = DEFECT_THRESHOLDS;
  const reject = new Uint8Array(n);
  const cut = new Uint8Array(n);
  const frozen = new Uint8Array(n);
  const windowRows = Math.max(5, Math.round(options.windowSec / medianStepSec(table.ptsSec, n)));
  const local = (values: ArrayLike<number>) => slidingRobust(values, n, windowRows);

  for (let i = 0; i < n; i++) {
    if (
      !Number.isFinite(table.sharpness[i]) ||
      !Number.isFinite(table.blur[i]) ||
      !Number.isFinite(table.exposure[i]) ||
      !Number.isFinite(table.texture[i]) ||
      !Number.isFinite(table.ptsSec[i])
    ) {
      reject[i] = REJECT.invalid;
    }
  }

  // Exposure: far below the local level, or under the floor while below the video's level.
  const exposure = local(table.exposure);
  const exposureGlobal = globalRobust(table.exposure, n);
  for (let i = 0; i < n; i++) {
    if (reject[i]) continue;
    const x = table.exposure[i];
    if (
      below(x, exposure, i, t.minDropExposure, t.z) ||
      (x < t.exposureFloor && exposureGlobal.median - x > t.minDropExposure)
    ) {
      reject[i] = REJECT.exposure;
    }
  }

  // Exposure changes against the local level (auto-exposure swings, a lamp, a window).
  let logB: Float64Array | undefined;
  let logBLevel: Float32Array | undefined;
  if (table.brightness) {
    logB = new Float64Array(n);
    for (let i = 0; i < n; i++) logB[i] = Math.log(Math.max(1, table.brightness[i]));
    const level = local(logB);
    logBLevel = level.median;
    const limit = Math.log(t.brightnessRatio);
    for (let i = 0; i < n; i++) {
      if (!reject[i] && Number.isFinite(logB[i]) && Math.abs(logB[i] - level.median[i]) > limit) reject[i] = REJECT.exposure;
    }
  }

  // Scene cuts: a spike of the frame difference with a changed hash. The first frame of a new
  // shot is rejected (transition frames are often blended) and no motion accumulates across it.
  const diff = local(table.meanAbsDiff);
  for (let i = 1; i < n; i++) {
    const d = table.meanAbsDiff[i];
    const jump = d - diff.median[i];
    if (
      jump > t.cutMinDiff &&
      jump > t.cutZ * Math.max(diff.sigma[i], 0.5) &&
      hamming64(table.hashHi[i], table.hashLo[i], table.hashHi[i - 1], table.hashLo[i - 1]) >= t.cutHamming
    ) {
      cut[i] = 1;
      frozen[i] = 1;
      if (!reject[i]) reject[i] = REJECT.cut;
    }
  }

  // Blur and defocus by ratio: detail far under the local sharp level.
  let logD: Float64Array | undefined;
  let logDetailLevel: Float32Array | undefined;
  if (table.detail) {
    logD = new Float64Array(n);
    for (let i = 0; i < n; i++) logD[i] = Math.log(Math.max(1e-3, table.detail[i]));
    logDetailLevel = slidingQuantile(logD, n, windowRows, t.detailQuantile);
    const limit = Math.log(t.detailRatio);
    for (let i = 0; i < n; i++) {
      if (!reject[i] && Number.isFinite(logD[i]) && logD[i] - logDetailLevel[i] < limit) reject[i] = REJECT.blur;
    }
  }

  // Blur and defocus: sharpness or the FFT ratio far below the local level. The FFT ratio
  // depends on the content (fine textures, sensor noise), so with raw detail it needs a
  // confirming loss of detail.
  const sharp = local(table.sharpness);
  const fft = local(table.blur);
  const confirm = Math.log(t.fftConfirmRatio);
  for (let i = 0; i < n; i++) {
    if (reject[i]) continue;
    const fftLow = below(table.blur[i], fft, i, t.minDropBlur, t.z) && (!logD || !logDetailLevel || logD[i] - logDetailLevel[i] < confirm);
    if (below(table.sharpness[i], sharp, i, t.minDropBlur, t.z) || fftLow) reject[i] = REJECT.blur;
  }

  // Textureless: far below the local level and (under an absolute floor or a fraction of the level).
  const texture = local(table.texture);
  const features = local(table.features);
  for (let i = 0; i < n; i++) {
    if (reject[i]) continue;
    const tx = table.texture[i];
    const ft = table.features[i];
    const hasFeatures = Number.isFinite(ft);
    const relTexture = below(tx, texture, i, t.minDropTexture, t.z);
    const relFeatures = hasFeatures && Number.isFinite(features.median[i]) && below(ft, features, i, t.minDropTexture, t.z);
    const lowTexture = tx < t.textureFloor || tx < t.textureRatio * texture.median[i];
    const lowFeatures = hasFeatures && (ft < t.featuresFloor || ft < t.textureRatio * features.median[i]);
    if ((relTexture && lowTexture) || (relFeatures && lowFeatures)) reject[i] = REJECT.textureless;
  }

  const rampB = Math.log(t.rampBrightnessRatio);
  const rampD = Math.log(t.rampDetailRatio);
  const medianOf = (values: Float64Array, rows: readonly number[]) => {
    const sorted = rows.map((r) => values[r]!).filter(Number.isFinite).sort((a, b) => a - b);
    return sorted.length ? sorted[sorted.length >> 1]! : NaN;
  };
  // Off the window's level and, where there are usable rows beyond the ramp, off theirs too
  // (their levels computed once per side of a run).
  const partlyAgainst = (reference: readonly number[]) => {
    const refB = logB && reference.length ? medianOf(logB, reference) : undefined;
    const refD = logD && reference.length ? medianOf(logD, reference) : undefined;
    const offB = (x: number, level: number) => Math.abs(x - level) > rampB;
    const offD = (x: number, level: number) => x - level < rampD;
    return (r: number) =>
      (logB !== undefined && logBLevel !== undefined && offB(logB[r]!, logBLevel[r]!) && (refB === undefined || offB(logB[r]!, refB))) ||
      (logD !== undefined && logDetailLevel !== undefined && offD(logD[r]!, logDetailLevel[r]!) && (refD === undefined || offD(logD[r]!, refD)));
  };
  guardDefectRuns(table, reject, t.guardMinRows, t.guardSec, t.rampSec, partlyAgainst, t.rampReferenceSec);

  // Stationary camera: runs of rows where nothing in the view moves, with the same hash as the
  // run's first frame, keep one representative (the sharpest usable) and reject the rest as
  // duplicates. A small global shift is not enough: a camera circling what it keeps in view
  // moves the background and the parallax while the dominant shift stays near zero.
  const { motion } = viewMotion(table);
  const still = stillRows(table);
  const noiseScale = Math.max(1, table.motionScalePx / 640);
  const driftLimit = t.stillDriftPx * noiseScale;
  let i = 1;
  while (i < n) {
    if (cut[i] || !still[i]) {
      i++;
      continue;
    }
    const anchor = i - 1; // the frame where the camera stopped
    let end = i;
    let driftX = 0;
    let driftY = 0;
    while (end < n && !cut[end] && still[end] && hamming64(table.hashHi[end], table.hashLo[end], table.hashHi[anchor], table.hashLo[anchor]) <= t.stillHamming) {
      driftX += table.motionDx?.[end] ?? 0;
      driftY += table.motionDy?.[end] ?? 0;
      if (Math.hypot(driftX, driftY) > driftLimit) break; // a slow, steady camera: not standing still
      end++;
    }
    // rows anchor..end-1 show one view
    if (end - i > 0 && table.ptsSec[end - 1] - table.ptsSec[anchor] >= t.stillMinSec) {
      let best = -1;
      for (let r = anchor; r < end; r++) {
        if (reject[r]) continue;
        if (best < 0 || table.sharpness[r] + table.blur[r] > table.sharpness[best] + table.blur[best]) best = r;
      }
      for (let r = anchor; r < end; r++) {
        if (r > anchor) frozen[r] = 1;
        if (!reject[r] && r !== best) reject[r] = REJECT.duplicate;
      }
    }
    i = Math.max(end, i + 1);
  }

  const counts = { invalid: 0, exposure: 0, cut: 0, blur: 0, textureless: 0, duplicate: 0 } as Record<RejectReason, number>;
  for (let r = 0; r < n; r++) if (reject[r]) counts[REJECT_REASONS[reject[r]] as RejectReason]++;
  const noisiness = new Float64Array(n);
  for (let i = 0; i < n; i++) noisiness[i] = -Math.log(Math.min(1, Math.max(1e-6, table.noise[i])));
  const levels = { logDetail: logDetailLevel, noisiness: local(noisiness).median };
  return { reject, cut, frozen, motion, counts, levels };
}

const isQualityDefect = (code: number) => code === REJECT.exposure || code === REJECT.blur || code === REJECT.textureless;

/**
 * Widens each run of at least `minRows` quality-defect rows (blur, exposure, textureless, in any
 * mix): first over up to `rampSec` of rows that are partly affected (the predicate that
 * `partlyAgainst` gives for the usable rows of the `referenceSec` beyond the ramp on that side),
 * then over `guardSec` of any usable rows; the added rows take the reason of the run's nearest row.
 */
/**
 * Fewest rows a guard band takes on each side of a defect run, as long as they lie within
 * GUARD_SIDE_MAX_SEC of it: 3 rows at 10 fps; none beyond the guard time for rows as sparse as
 * fast mode's samples, where one row is already farther from the defect than a swing lasts.
 */
export const GUARD_SIDE_ROWS = 3;
const GUARD_SIDE_MAX_SEC = 0.35;

export function guardDefectRuns(
  table: FrameTable,
  reject: Uint8Array,
  minRows: number,
  guardSec: number,
  rampSec = 0,
  partlyAgainst: (reference: readonly number[]) => (row: number) => boolean = () => () => false,
  referenceSec = 0,
): void {
  const n = table.length;
  const pts = table.ptsSec;
  const marks: Array<[number, number]> = [];
  const inGuard = (rows: number, sec: number) => sec <= guardSec || (rows <= GUARD_SIDE_ROWS && sec <= GUARD_SIDE_MAX_SEC);
  let i = 0;
  while (i < n) {
    if (!isQualityDefect(reject[i])) {
      i++;
      continue;
    }
    let end = i;
    while (end < n && isQualityDefect(reject[end])) end++;
    if (end - i >= minRows) {
      // Usable rows beyond the ramp zone on each side: what the ramp rows are compared with.
      const before: number[] = [];
      for (let r = i - 1; r >= 0 && pts[i] - pts[r] <= rampSec + referenceSec; r--) if (!reject[r] && pts[i] - pts[r] > rampSec) before.push(r);
      const after: number[] = [];
      for (let r = end; r < n && pts[r] - pts[end - 1] <= rampSec + referenceSec; r++) if (!reject[r] && pts[r] - pts[end - 1] > rampSec) after.push(r);
      let lo = i;
      const partlyBefore = partlyAgainst(before);
      const partlyAfter = partlyAgainst(after);
      while (lo > 0 && !reject[lo - 1] && pts[i] - pts[lo - 1] <= rampSec && partlyBefore(lo - 1)) lo--;
      let hi = end - 1;
      while (hi + 1 < n && !reject[hi + 1] && pts[hi + 1] - pts[end - 1] <= rampSec && partlyAfter(hi + 1)) hi++;
      // The guard starts beyond cut rows flanking the run: a swing into a defect (a glance at a
      // plain wall) reads as a cut on its way in and out, and the row just outside the swing is
      // still part of it. Without this the guard stopped at the cut rows and that row was taken.
      let glo = lo;
      while (glo > 0 && reject[glo - 1] === REJECT.cut) glo--;
      let ghi = hi;
      while (ghi + 1 < n && reject[ghi + 1] === REJECT.cut) ghi++;
      // At least GUARD_SIDE_ROWS on each side: at 10 fps 0.15 s is a single row, and a swing
      // or a focus hunt still spans two or three (sweep_10fps: the view turns 3 rows before its
      // texture drops); at 24 fps and up 0.15 s is already 3 rows or more.
      for (let r = glo - 1; r >= 0 && inGuard(glo - r, pts[glo] - pts[r]) && !reject[r]; r--) marks.push([r, reject[i]]);
      for (let r = ghi + 1; r < n && inGuard(r - ghi, pts[r] - pts[ghi]) && !reject[r]; r++) marks.push([r, reject[end - 1]]);
      for (let r = lo; r < i; r++) marks.push([r, reject[i]]);
      for (let r = end; r <= hi; r++) marks.push([r, reject[end - 1]]);
    }
    i = end;
  }
  for (const [row, code] of marks) if (!reject[row]) reject[row] = code;
}

/**
 * Per row: 1 where no part of the view moves beyond the tracking noise (see stillUpperPx);
 * unknown motion (NaN: too plain to track) is not still. Without motionUpperPx (a table made
 * by hand), motionPx stands for it.
 */
function stillRows(table: FrameTable): Uint8Array {
  const n = table.length;
  const limit = DEFECT_THRESHOLDS.stillUpperPx * Math.max(1, table.motionScalePx / 640);
  const upper = table.motionUpperPx ?? table.motionPx;
  const still = new Uint8Array(n);
  for (let i = 1; i < n; i++) still[i] = upper[i]! <= limit && table.motionPx[i]! <= limit ? 1 : 0;
  return still;
}
