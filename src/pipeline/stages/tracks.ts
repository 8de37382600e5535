/**
 * The tracks stage: the match graph over the picks, each matched with its next few (window by
 * mode) and verified; union-find feature tracks for the report, and the verified pairs worth
 * matching (pairs.txt).
 */
import { buildTracks, matchPairs, schedulePairs, type FeatureSet, type PairVerification } from '../../core/geometry.js';
import type { FrameTable } from '../../select/index.js';
import type { Descriptions } from '../descriptions.js';

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
