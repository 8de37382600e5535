/**
 * The candidate stage: pass 1's measurements become the selection's frame table
 * (frame-table.ts), and `findCandidates` (src/select) finds defects against the video's own
 * statistics, the motion timeline, segments, and the best few frames per segment.
 * - fast mode: the rows its single pass described are the only eligible ones;
 * - one pass (balanced, high_quality): the global rule chooses over every row, then each
 *   candidate the keep windows did not describe is replaced by the best described row of its
 *   bin (else of its segment, else up to the next candidate) that is as good by the quality the rule ranks with (at least
 *   REPLACE_QUALITY of it), keeps REPLACE_SPACING of the minimum spacing and is not a candidate already; any other candidate is left for the
 *   describe stage to decode again (the automatic second pass, counted in the manifest). So
 *   the candidates are the global rule's, or as good, whatever that rule is. A dense count
 *   (fewer than STAND_IN_MIN_CHOICE candidates per pick) gets no stand-ins: every missed
 *   candidate is decoded again.
 */
import { FramesiftError } from '../../errors.js';
import { cheapQuality, findCandidates, type CandidateStage, type FrameTable, type SelectOptions } from '../../select/index.js';
import { relativeQuality } from '../../select/score.js';
import type { Descriptions } from '../descriptions.js';
import { buildFrameTable } from '../frame-table.js';
import type { MeasureResult } from '../types.js';

/** The frame table of the measured rows; with `described`, what is described already written in (fast mode). */
export function frameTableOf(input: string, measured: MeasureResult, withModel: boolean, described?: Descriptions): FrameTable {
  if (measured.columns.length === 0) {
    throw new FramesiftError(`${input}: no frame could be analysed`, 'ERR_FRAMESIFT_DECODE', { input });
  }
  const longestSide = Math.max(measured.analysisWidth, measured.analysisHeight);
  const table = buildFrameTable(measured.columns, longestSide, withModel);
  described?.applyTo(table);
  return table;
}

/** Candidates over the table; with `eligible` rows, only the usable ones among them. */
export function candidateStage(table: FrameTable, select: SelectOptions, eligible?: Iterable<number>): CandidateStage {
  let mask: Uint8Array | undefined;
  if (eligible) {
    mask = new Uint8Array(table.length);
    for (const row of eligible) mask[row] = 1;
  }
  return findCandidates(table, select, mask);
}

/** A described row stands in for a candidate when its quality is at least this share of the candidate's. */
export const REPLACE_QUALITY = 0.95;

/** ...and is at least this share of the minimum spacing after the candidate before it. */
export const REPLACE_SPACING = 0.5;

/**
 * Stand-ins only when the rule offers at least this many candidates per target pick: with fewer,
 * the selection needs nearly every one where the rule put it (a dense count), and the missed
 * ones are decoded again instead.
 */
export const STAND_IN_MIN_CHOICE = 2;

/** Where the candidates of a one-pass run came from. */
export interface CandidateSources {
  /** Candidates of the global rule. */
  global: number;
  /** ...described in pass 1 (the keep windows had them). */
  kept: number;
  /** ...replaced by a described row of the same bin or segment (duplicates merged). */
  replaced: number;
  /** ...left to decode again (no described row near them). */
  fetched: number;
}

/**
 * The global rule's candidates, each mapped onto the described rows (see the file comment).
 * `described(row)`: whether pass 1 described it.
 */
export function resolveCandidates(table: FrameTable, stage: CandidateStage, described: (row: number) => boolean): { stage: CandidateStage; sources: CandidateSources } {
  const standIns = stage.candidates.length >= STAND_IN_MIN_CHOICE * stage.targetCount;
  const { segments, defects } = stage;
  const perSegment = stage.options.candidatesPerSegment;
  const reject = defects.reject;
  const quality = (row: number) => cheapQuality(table, row) * relativeQuality(table, defects.levels, row);
  const out = new Set<number>();
  const global = new Set(stage.candidates);
  const pts = table.ptsSec;
  // A stand-in keeps most of the rule's spacing to the candidate before it (as resolved): the
  // selection enforces the full spacing between picks, the candidates only offer them.
  const spacing = REPLACE_SPACING * stage.options.minSpacingSec;
  let previous = -Infinity;
  let previousRow = -1;
  const bestDescribed = (lo: number, hi: number, floor: number): number => {
    let best = -1;
    let bestQ = floor;
    for (let i = lo; i < hi; i++) {
      if (reject[i] || !described(i) || out.has(i) || global.has(i)) continue;
      if (pts[i]! - previous < spacing) continue;
      const q = quality(i);
      if (q >= bestQ) {
        bestQ = q;
        best = i;
      }
    }
    return best;
  };
  const sources: CandidateSources = { global: stage.candidates.length, kept: 0, replaced: 0, fetched: 0 };
  let s = 0;
  for (const [k, row] of stage.candidates.entries()) {
    if (described(row)) {
      sources.kept++;
      out.add(row);
      previousRow = row;
      previous = pts[row]!;
      continue;
    }
    while (s + 1 < segments.count && segments.start[s + 1]! <= row) s++;
    const a = segments.start[s]!;
    const len = segments.end[s]! - a;
    const bins = Math.max(1, Math.min(perSegment, len));
    const b = Math.min(bins - 1, Math.floor(((row - a) * bins) / len));
    const floor = standIns ? REPLACE_QUALITY * quality(row) : Infinity;
    let sub = bestDescribed(a + Math.floor((b * len) / bins), a + Math.floor(((b + 1) * len) / bins), floor);
    if (sub < 0) sub = bestDescribed(a, a + len, floor);
    // Else anywhere before the next candidate (spacing after the previous one still holds).
    if (sub < 0) sub = bestDescribed(previousRow + 1, k + 1 < stage.candidates.length ? stage.candidates[k + 1]! : table.length, floor);
    if (sub >= 0) {
      sources.replaced++;
      out.add(sub);
    } else {
      sources.fetched++;
      out.add(row);
    }
    previousRow = sub >= 0 ? sub : row;
    previous = pts[previousRow]!;
  }
  const candidates = Int32Array.from([...out].sort((x, y) => x - y));
  return { stage: { ...stage, candidates }, sources };
}
