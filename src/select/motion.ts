/** Camera motion as a fraction of the view, and the accumulated-motion timeline built on it. */
import { globalRobust } from './stats.js';
import type { FrameTable } from './types.js';

/** A single step larger than half the view is a bad estimate (or a cut), not motion to accumulate. */
const MAX_STEP = 0.5;

/**
 * Per row: motionPx / motionScalePx clamped to [0, 0.5]; unknown (NaN) motion is taken as
 * the video's median motion. Row 0 is 0.
 */
export function viewMotion(table: FrameTable): { motion: Float32Array; median: number } {
  const n = table.length;
  const motion = new Float32Array(n);
  const scale = table.motionScalePx > 0 ? table.motionScalePx : 1;
  for (let i = 0; i < n; i++) motion[i] = table.motionPx[i] / scale;
  const { median } = globalRobust(motion, n);
  const fallback = Number.isFinite(median) ? median : 0;
  for (let i = 0; i < n; i++) {
    const m = motion[i];
    motion[i] = i === 0 ? 0 : Number.isFinite(m) ? Math.min(MAX_STEP, Math.max(0, m)) : fallback;
  }
  return { motion, median: fallback };
}

/**
 * The timeline the optimiser spaces picks on. Stationary rows and cut rows add neither motion
 * nor time: a pause is not a gap to fill, and motion across a cut is meaningless.
 */
export interface Timeline {
  /** Accumulated motion up to each row, fractions of the view. */
  cumMotion: Float64Array;
  /** Accumulated moving time up to each row, seconds. */
  activeSec: Float64Array;
  /**
   * Progress: per row max(motion / (1 - overlap), dt / (maxGapSec / 2)), accumulated. One unit
   * is one overlap step of the view (or half the time gap when the camera barely moves).
   */
  progress: Float64Array;
}

export function buildTimeline(
  table: FrameTable,
  motion: Float32Array,
  frozen: Uint8Array,
  overlap: number,
  maxGapSec: number,
): Timeline {
  const n = table.length;
  const cumMotion = new Float64Array(n);
  const activeSec = new Float64Array(n);
  const progress = new Float64Array(n);
  const step = Math.max(1e-3, 1 - overlap);
  const timeUnit = maxGapSec / 2;
  for (let i = 1; i < n; i++) {
    let m = 0;
    let dt = 0;
    if (!frozen[i]) {
      m = motion[i];
      dt = Math.max(0, table.ptsSec[i] - table.ptsSec[i - 1]);
    }
    cumMotion[i] = cumMotion[i - 1] + m;
    activeSec[i] = activeSec[i - 1] + dt;
    progress[i] = progress[i - 1] + Math.max(m / step, dt / timeUnit);
  }
  return { cumMotion, activeSec, progress };
}
