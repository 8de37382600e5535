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
 * sub-ranges (bins) and each bin offers one usable row, so candidates are spread through it.
 * Consecutive candidates are at least `minSpacingSec` apart, so any chain the optimiser builds
 * respects the minimum spacing.
 *
 * Which row a bin offers is decided best-first over the whole video (non-maximum suppression):
 * a bin takes its best row unless a better row of a neighbouring bin already sits within the
 * spacing, then its best row clear of the others. Deciding in time order instead (each bin's
 * best clear of the previous candidate) lets the first frame of each bin win whenever bins are
 * shorter than the spacing: a 10 fps clip then gets a fixed lattice of every third frame,
 * whatever the sharpness, and its sharp frames between the lattice points are never offered.
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
  const length = seg.count > 0 ? seg.end[seg.count - 1] : 0;
  // Bin of every row, and each usable row's quality.
  const binOf = new Int32Array(length).fill(-1);
  const q = new Float64Array(length);
  let bins = 0;
  for (let s = 0; s < seg.count; s++) {
    const a = seg.start[s];
    const len = seg.end[s] - a;
    const k = Math.min(perSegment, len);
    for (let b = 0; b < k; b++, bins++) {
      const lo = a + Math.floor((b * len) / k);
      const hi = a + Math.floor(((b + 1) * len) / k);
      for (let i = lo; i < hi; i++) binOf[i] = bins;
    }
  }
  const order: number[] = [];
  for (let i = 0; i < length; i++) {
    if (reject[i]) continue;
    q[i] = quality(i);
    order.push(i);
  }
  order.sort((x, y) => q[y] - q[x] || x - y);
  const taken = new Uint8Array(bins);
  const chosen = new Uint8Array(length);
  const clear = (row: number): boolean => {
    if (!ptsSec || minSpacingSec <= 0) return true;
    for (let j = row - 1; j >= 0 && ptsSec[row] - ptsSec[j] < minSpacingSec; j--) if (chosen[j]) return false;
    for (let j = row + 1; j < length && ptsSec[j] - ptsSec[row] < minSpacingSec; j++) if (chosen[j]) return false;
    return true;
  };
  // Two rounds: the first lets no bin take a row that a better row nearby blocks; the second
  // gives the bins left empty their best row still clear of all the others.
  for (let round = 0; round < 2; round++) {
    const blocked = new Uint8Array(bins);
    for (const row of order) {
      const bin = binOf[row];
      if (taken[bin] || blocked[bin]) continue;
      if (clear(row)) {
        chosen[row] = 1;
        taken[bin] = 1;
      } else if (round === 0) {
        blocked[bin] = 1;
      }
    }
  }
  const out: number[] = [];
  for (let i = 0; i < length; i++) if (chosen[i]) out.push(i);
  return Int32Array.from(out);
}
