/**
 * The candidate stage: pass 1's measurements become the selection's frame table
 * (frame-table.ts), and `findCandidates` (src/select) finds defects against the video's own
 * statistics, the motion timeline, segments, and the best few frames per segment. Rows
 * described during pass 1 (fast mode's single pass) are the only eligible ones.
 */
import { FramesiftError } from '../../errors.js';
import { findCandidates, type CandidateStage, type FrameTable, type SelectOptions } from '../../select/index.js';
import type { Descriptions } from '../descriptions.js';
import { buildFrameTable } from '../frame-table.js';
import type { MeasureResult } from '../types.js';

/** The frame table of the measured rows, with what is described already written in. */
export function frameTableOf(input: string, measured: MeasureResult, descriptions: Descriptions, withModel: boolean): FrameTable {
  if (measured.columns.length === 0) {
    throw new FramesiftError(`${input}: no frame could be analysed`, 'ERR_FRAMESIFT_DECODE', { input });
  }
  const longestSide = Math.max(measured.analysisWidth, measured.analysisHeight);
  const table = buildFrameTable(measured.columns, longestSide, withModel);
  descriptions.applyTo(table);
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
