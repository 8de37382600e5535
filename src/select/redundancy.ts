/**
 * Redundancy: consecutive picks that show the same view (embedding cosine at or above a
 * threshold when both have embeddings; else almost no motion between them and a close
 * perceptual hash) keep only the better one; the freed pick goes to the least covered stretch.
 */
import type { FrameTable } from './types.js';
import { hamming64 } from './stats.js';

/** Without embeddings: same view if the accumulated motion is under this fraction of an overlap step ... */
export const REDUNDANT_MOTION_STEPS = 0.1;
/** ... and the hashes are within this Hamming distance. */
export const REDUNDANT_HAMMING = 6;

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

export interface RedundancyContext {
  table: FrameTable;
  cumMotion: Float64Array;
  progress: Float64Array;
  /** 1 - overlap. */
  overlapStep: number;
  /**
   * Motion (fraction of the view) under which two picks without embeddings show the same view.
   * Default REDUNDANT_MOTION_STEPS x overlapStep; the selection lowers it when the count asks for
   * picks closer than that.
   */
  sameViewMotion?: number;
  cosineThreshold: number;
  minSpacingSec: number;
  scoreOf: (row: number) => number;
}

export function sameView(ctx: RedundancyContext, a: number, b: number): boolean {
  const ea = ctx.table.embedding?.get(a);
  const eb = ctx.table.embedding?.get(b);
  if (ea && eb) return cosine(ea, eb) >= ctx.cosineThreshold;
  const t = ctx.table;
  return (
    Math.abs(ctx.cumMotion[b] - ctx.cumMotion[a]) < (ctx.sameViewMotion ?? REDUNDANT_MOTION_STEPS * ctx.overlapStep) &&
    hamming64(t.hashHi[a], t.hashLo[a], t.hashHi[b], t.hashLo[b]) <= REDUNDANT_HAMMING
  );
}

export interface RedundancyResult {
  picks: number[];
  removed: number[];
  /** Rows added in under-covered stretches in place of removed picks. */
  added: number[];
}

/** Picks and candidates are rows in increasing order. */
export function removeRedundant(ctx: RedundancyContext, picks: readonly number[], candidates: Int32Array): RedundancyResult {
  const kept: number[] = [];
  const removed: number[] = [];
  for (const row of picks) {
    const prev = kept[kept.length - 1];
    if (prev !== undefined && sameView(ctx, prev, row)) {
      if (ctx.scoreOf(row) > ctx.scoreOf(prev)) {
        kept[kept.length - 1] = row;
        removed.push(prev);
      } else {
        removed.push(row);
      }
      continue;
    }
    kept.push(row);
  }
  const added: number[] = [];
  const used = new Set<number>([...kept, ...removed]);
  for (let r = 0; r < removed.length; r++) {
    const row = fillLargestGap(ctx, kept, candidates, used);
    if (row === undefined) break;
    used.add(row);
    added.push(row);
  }
  return { picks: kept, removed, added };
}

/**
 * Adds the best unused candidate in the middle of the widest progress gap between picks (or
 * before the first / after the last) that has one clear of the spacing and of the same view.
 */
function fillLargestGap(ctx: RedundancyContext, picks: number[], candidates: Int32Array, used: Set<number>): number | undefined {
  const p = ctx.progress;
  const last = ctx.table.length - 1;
  const gaps: { lo: number; hi: number; loRow: number | undefined; hiRow: number | undefined; at: number }[] = [];
  for (let k = 0; k <= picks.length; k++) {
    const loRow = k > 0 ? picks[k - 1] : undefined;
    const hiRow = k < picks.length ? picks[k] : undefined;
    const lo = loRow === undefined ? p[0] : p[loRow];
    const hi = hiRow === undefined ? p[last] : p[hiRow];
    gaps.push({ lo, hi, loRow, hiRow, at: k });
  }
  gaps.sort((a, b) => b.hi - b.lo - (a.hi - a.lo));
  const pts = ctx.table.ptsSec;
  for (const gap of gaps.slice(0, 3)) {
    const width = gap.hi - gap.lo;
    let best: number | undefined;
    for (const row of candidates) {
      if (used.has(row)) continue;
      const x = p[row];
      const edgeLo = gap.loRow === undefined ? gap.lo : gap.lo + 0.2 * width;
      const edgeHi = gap.hiRow === undefined ? gap.hi : gap.hi - 0.2 * width;
      if (x < edgeLo || x > edgeHi) continue;
      if (gap.loRow !== undefined && (pts[row] - pts[gap.loRow] < ctx.minSpacingSec || sameView(ctx, gap.loRow, row))) continue;
      if (gap.hiRow !== undefined && (pts[gap.hiRow] - pts[row] < ctx.minSpacingSec || sameView(ctx, row, gap.hiRow))) continue;
      if (best === undefined || ctx.scoreOf(row) > ctx.scoreOf(best)) best = row;
    }
    if (best !== undefined) {
      picks.splice(gap.at, 0, best);
      return best;
    }
  }
  return undefined;
}
