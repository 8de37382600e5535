/**
 * SfM checks over the described candidates: the pair verifier the selection stage calls for
 * consecutive picks (SIFT matching + RANSAC, cached by the stage), and the final match graph
 * over the picks: feature tracks for the report and the pairs worth matching (pairs.txt).
 */
import { buildTracks, matchPairs, schedulePairs, type FeatureSet, type PairVerification } from '../geometry.js';
import type { FrameTable, PairVerifier } from '../select/index.js';
import type { Descriptions } from './describe.js';

/** Share of F inliers within the homography's threshold above which a pair may be rotation-only. */
export const DEGENERATE_H_SHARE = 0.97;
/** Median residual to the homography (analysis px) below which such a pair has no usable parallax. */
export const MIN_PARALLAX_PX = 0.1;

export function makeVerifier(table: FrameTable, descriptions: Descriptions): PairVerifier {
  const rowOfFrame = new Map<number, number>();
  for (const row of descriptions.features.keys()) rowOfFrame.set(table.index[row]!, row);
  return async (a, b) => {
    const setA = descriptions.features.get(rowOfFrame.get(a) ?? -1);
    const setB = descriptions.features.get(rowOfFrame.get(b) ?? -1);
    if (!setA || !setB) return { inliers: 0, degeneracy: 1, parallaxPx: 0 };
    const { pairs } = await matchPairs([setA, setB], [[0, 1]], { keepGraph: false });
    const p = pairs[0]!;
    // Rooms are full of planes: a homography explains most inliers of a good pair too, so only
    // an H that explains nearly all of them with almost no residual means rotation-only.
    const degenerate = p.degeneracy >= DEGENERATE_H_SHARE && p.medianParallaxPx < MIN_PARALLAX_PX;
    return { inliers: p.verified ? p.fInliers : 0, degenerate, parallaxPx: p.medianParallaxPx };
  };
}

export interface TracksSummary {
  tracks2: number;
  tracks3: number;
  meanLength: number;
  histogram: number[];
  weakestLink: { fromFrame: number; toFrame: number; shared: number } | null;
}

export interface PickGraph {
  tracks: TracksSummary | null;
  /** Verified pairs among the picks (indices into `picks`). */
  verifiedPairs: Array<[number, number]>;
  /** With keepMatches: every matched pair's result with its match and inlier indices (for the COLMAP database). */
  matched: PairVerification[];
}

/** Matches each pick with its next `window` picks, verifies, and builds tracks over all of them. */
export async function pickGraph(pickRows: readonly number[], table: FrameTable, descriptions: Descriptions, window: number, keepMatches = false): Promise<PickGraph> {
  const sets: FeatureSet[] = [];
  for (const row of pickRows) {
    const set = descriptions.features.get(row);
    if (!set) return { tracks: null, verifiedPairs: [], matched: [] };
    sets.push(set);
  }
  if (sets.length < 2) return { tracks: null, verifiedPairs: [], matched: [] };
  const { pairs, graph } = await matchPairs(sets, schedulePairs(sets.length, window), { keepGraph: true, keepMatches });
  const matched = keepMatches ? pairs : [];
  try {
    const verifiedPairs = pairs.filter((p) => p.verified).map((p) => [p.i, p.j] as [number, number]);
    if (!graph) return { tracks: null, verifiedPairs, matched };
    const stats = await buildTracks(graph);
    const histogram = Array.from(stats.lengthHistogram);
    let observations = 0;
    let tracks = 0;
    histogram.forEach((count, length) => {
      if (length >= 2) {
        tracks += count;
        observations += count * length;
      }
    });
    const weak = stats.weakestLink;
    return {
      tracks: {
        tracks2: stats.tracksAtLeast2,
        tracks3: stats.tracksAtLeast3,
        meanLength: tracks ? observations / tracks : 0,
        histogram,
        weakestLink: weak ? { fromFrame: table.index[pickRows[weak.frame]!]!, toFrame: table.index[pickRows[weak.frame + 1]!]!, shared: weak.shared } : null,
      },
      verifiedPairs,
      matched,
    };
  } finally {
    graph?.dispose();
  }
}
