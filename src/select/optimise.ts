/**
 * Temporal optimiser. The candidates (sorted in time) are split into exactly N consecutive
 * non-empty slots of equal progress (accumulated motion/time), and dynamic programming over the
 * chain of slots picks one candidate per slot maximising
 *   sum(score) - sum(spacing penalty + gap penalties)
 * with a hard minimum spacing. One pick per slot is the coverage guarantee: no stretch of the
 * video loses its pick because a neighbouring stretch scored higher; within that, DP trades a
 * pick's score against its neighbours' (greedy per slot cannot: see the tests).
 */

export interface ChainProblem {
  /** Per candidate, in increasing time order. */
  progress: Float64Array;
  timeSec: Float64Array;
  activeSec: Float64Array;
  cumMotion: Float64Array;
  score: Float64Array;
}

export interface ChainConstraints {
  minSpacingSec: number;
  maxGapSec: number;
  maxGapMotion: number;
  /** Weight of the squared deviation of a gap from the slot width (spreads picks evenly). */
  spacingWeight?: number;
  /** Progress extent of the video (slot width = (to - from) / n). */
  from: number;
  to: number;
}

/** Cost of a minimum-spacing violation: larger than any achievable score, so only taken when forced. */
const SPACING_VIOLATION = 1e3;
/** Cost of a gap over maxGapSec/maxGapMotion, plus its relative excess. */
const GAP_VIOLATION = 4;
/** At most this many best candidates per slot enter the DP (keeps it O(N * 48^2)). */
const MAX_PER_SLOT = 48;

/**
 * Boundaries (candidate indices, length n + 1) of n consecutive non-empty slots: each boundary
 * is the first candidate at or after the equal-progress target, clamped so that every slot
 * keeps at least one candidate. Requires progress.length >= n >= 1.
 */
export function partitionSlots(progress: Float64Array, from: number, to: number, n: number): Int32Array {
  const m = progress.length;
  const bounds = new Int32Array(n + 1);
  bounds[n] = m;
  const width = (to - from) / n;
  let idx = 0;
  for (let k = 1; k < n; k++) {
    const target = from + k * width;
    while (idx < m && progress[idx] < target) idx++;
    bounds[k] = Math.min(Math.max(idx, bounds[k - 1] + 1), m - (n - k));
    idx = bounds[k];
  }
  return bounds;
}

export interface ChainResult {
  /** Chosen candidate indices, increasing. */
  chosen: Int32Array;
  objective: number;
  /** Consecutive pairs closer than minSpacingSec (only when unavoidable). */
  spacingViolations: number;
  /** Consecutive pairs farther apart than maxGapSec or maxGapMotion. */
  gapViolations: number;
  /** Slot boundaries (candidate indices) the picks were chosen in. */
  slots: Int32Array;
}

/** Penalty of choosing candidate j right after candidate i. */
export function transitionCost(p: ChainProblem, c: ChainConstraints, width: number, i: number, j: number): number {
  let cost = 0;
  if (p.timeSec[j] - p.timeSec[i] < c.minSpacingSec) cost += SPACING_VIOLATION;
  const gapSec = p.activeSec[j] - p.activeSec[i];
  if (gapSec > c.maxGapSec) cost += GAP_VIOLATION + (gapSec - c.maxGapSec) / c.maxGapSec;
  const gapMotion = p.cumMotion[j] - p.cumMotion[i];
  if (gapMotion > c.maxGapMotion) cost += GAP_VIOLATION + (gapMotion - c.maxGapMotion) / c.maxGapMotion;
  if (width > 0) {
    const dev = (p.progress[j] - p.progress[i] - width) / width;
    cost += (c.spacingWeight ?? 0.25) * dev * dev;
  }
  return cost;
}

function topIndices(score: Float64Array, lo: number, hi: number, keep: number): number[] {
  const idx: number[] = [];
  for (let i = lo; i < hi; i++) idx.push(i);
  if (idx.length <= keep) return idx;
  idx.sort((a, b) => score[b] - score[a]);
  return idx.slice(0, keep).sort((a, b) => a - b);
}

/** Viterbi over the slots: exactly one candidate per slot. */
export function optimiseChain(p: ChainProblem, slots: Int32Array, c: ChainConstraints): ChainResult {
  const n = slots.length - 1;
  const width = n > 0 ? (c.to - c.from) / n : 0;
  const layers: number[][] = [];
  for (let k = 0; k < n; k++) layers.push(topIndices(p.score, slots[k], slots[k + 1], MAX_PER_SLOT));
  const best: Float64Array[] = [];
  const back: Int32Array[] = [];
  for (let k = 0; k < n; k++) {
    const layer = layers[k];
    const value = new Float64Array(layer.length);
    const from = new Int32Array(layer.length).fill(-1);
    for (let b = 0; b < layer.length; b++) {
      const j = layer[b];
      if (k === 0) {
        value[b] = p.score[j];
        continue;
      }
      const prev = layers[k - 1];
      const prevValue = best[k - 1];
      let bestValue = -Infinity;
      for (let a = 0; a < prev.length; a++) {
        const v = prevValue[a] - transitionCost(p, c, width, prev[a], j);
        if (v > bestValue) {
          bestValue = v;
          from[b] = a;
        }
      }
      value[b] = bestValue + p.score[j];
    }
    best.push(value);
    back.push(from);
  }
  const chosen = new Int32Array(n);
  if (n === 0) return { chosen, objective: 0, spacingViolations: 0, gapViolations: 0, slots };
  let arg = 0;
  const last = best[n - 1];
  for (let b = 1; b < last.length; b++) if (last[b] > last[arg]) arg = b;
  const objective = last[arg];
  for (let k = n - 1; k >= 0; k--) {
    chosen[k] = layers[k][arg];
    arg = back[k][arg];
  }
  let spacingViolations = 0;
  let gapViolations = 0;
  for (let k = 1; k < n; k++) {
    const i = chosen[k - 1];
    const j = chosen[k];
    if (p.timeSec[j] - p.timeSec[i] < c.minSpacingSec) spacingViolations++;
    if (p.activeSec[j] - p.activeSec[i] > c.maxGapSec || p.cumMotion[j] - p.cumMotion[i] > c.maxGapMotion) {
      gapViolations++;
    }
  }
  return { chosen, objective, spacingViolations, gapViolations, slots };
}

/**
 * Progress with every gap between consecutive candidates (and before the first / after the
 * last, from `from` to `to`) capped at `cap`: a stretch without candidates cannot hold a pick,
 * so it should not push the slots of its neighbours together.
 */
export function compressGaps(progress: Float64Array, from: number, to: number, cap: number): { progress: Float64Array; from: number; to: number } {
  const m = progress.length;
  const out = new Float64Array(m);
  let x = 0;
  let prev = from;
  for (let k = 0; k < m; k++) {
    x += Math.min(cap, Math.max(0, progress[k] - prev));
    out[k] = x;
    prev = progress[k];
  }
  return { progress: out, from: 0, to: x + Math.min(cap, Math.max(0, to - prev)) };
}

/**
 * Chooses up to n candidates: slots (over gap-compressed progress) + DP. Fewer when there are
 * fewer candidates, or when the minimum spacing cannot be kept (the caller warns).
 * Returns candidate indices, increasing.
 */
export function planPicks(p: ChainProblem, n: number, c: ChainConstraints): ChainResult {
  const m = p.score.length;
  const target = Math.min(n, m);
  if (target === 0) {
    return { chosen: new Int32Array(0), objective: 0, spacingViolations: 0, gapViolations: 0, slots: new Int32Array(1) };
  }
  const compressed = compressGaps(p.progress, c.from, c.to, Math.max(1, (c.to - c.from) / target));
  const q: ChainProblem = { ...p, progress: compressed.progress };
  const cc: ChainConstraints = { ...c, from: compressed.from, to: compressed.to };
  const result = optimiseChain(q, partitionSlots(q.progress, cc.from, cc.to, target), cc);
  if (result.spacingViolations === 0) return result;
  // Forced violations: drop the lower-scoring pick of each too-close pair.
  const kept: number[] = [];
  for (const j of result.chosen) {
    const i = kept[kept.length - 1];
    if (i !== undefined && p.timeSec[j] - p.timeSec[i] < c.minSpacingSec) {
      if (p.score[j] > p.score[i]) kept[kept.length - 1] = j;
      continue;
    }
    kept.push(j);
  }
  return { ...result, chosen: Int32Array.from(kept), spacingViolations: 0 };
}
