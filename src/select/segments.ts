/**
 * Motion-adaptive segmentation: the timeline is cut wherever the accumulated progress (motion
 * in overlap steps, or time when the camera barely moves) reaches one unit, and at scene cuts.
 * Each segment then offers its best few usable rows as candidates, spread over the segment.
 */
export interface Segmentation {
  /** First row of each segment. */
  start: Int32Array;
  /** One past the last row of each segment. */
  end: Int32Array;
  count: number;
}

/** Segments of `unit` progress each, restarting at cut rows. */
export function segmentTimeline(progress: Float64Array, cut: Uint8Array, unit: number, length: number): Segmentation {
  const starts: number[] = [];
  if (length > 0) starts.push(0);
  let origin = 0;
  for (let i = 1; i < length; i++) {
    if (cut[i] || progress[i] - origin >= unit) {
      starts.push(i);
      origin = progress[i];
    }
  }
  const start = Int32Array.from(starts);
  const end = new Int32Array(start.length);
  for (let s = 0; s < start.length; s++) end[s] = s + 1 < start.length ? start[s + 1] : length;
  return { start, end, count: start.length };
}

/** Number of segments that hold at least one usable row. */
export function countUsableSegments(seg: Segmentation, reject: Uint8Array): number {
  let count = 0;
  for (let s = 0; s < seg.count; s++) {
    for (let i = seg.start[s]; i < seg.end[s]; i++) {
      if (!reject[i]) {
        count++;
        break;
      }
    }
  }
  return count;
}

/**
 * Up to `perSegment` candidates per segment: the segment is split into that many equal
 * sub-ranges and the best usable row of each is kept, so candidates are the best of the
 * segment yet spread through it. Consecutive candidates are at least `minSpacingSec` apart
 * (a bin's best too close to the previous candidate gives way to the bin's best clear one), so
 * any chain of candidates the optimiser builds respects the minimum spacing.
 * Returns candidate rows in increasing order.
 */
export function chooseCandidates(
  seg: Segmentation,
  reject: Uint8Array,
  quality: (row: number) => number,
  perSegment: number,
  ptsSec?: Float64Array,
  minSpacingSec = 0,
): Int32Array {
  const out: number[] = [];
  let lastPts = -Infinity;
  for (let s = 0; s < seg.count; s++) {
    const a = seg.start[s];
    const len = seg.end[s] - a;
    const bins = Math.min(perSegment, len);
    for (let b = 0; b < bins; b++) {
      const lo = a + Math.floor((b * len) / bins);
      const hi = a + Math.floor(((b + 1) * len) / bins);
      let best = -1;
      let bestQ = -Infinity;
      for (let i = lo; i < hi; i++) {
        if (reject[i]) continue;
        if (ptsSec && ptsSec[i] - lastPts < minSpacingSec) continue;
        const q = quality(i);
        if (q > bestQ) {
          bestQ = q;
          best = i;
        }
      }
      if (best >= 0) {
        out.push(best);
        if (ptsSec) lastPts = ptsSec[best];
      }
    }
  }
  return Int32Array.from(out);
}
