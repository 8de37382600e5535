/**
 * The select stage: the composite score, the DP optimiser under spacing/gap constraints,
 * redundancy and connectivity (src/select), with the SfM pair verifier it calls for consecutive
 * picks: SIFT matching + RANSAC over the described candidates (cached by the selection).
 */
import { matchPairs } from '../../core/geometry.js';
import { selectFrames, type CandidateStage, type FrameTable, type PairVerifier, type SelectOptions, type Selection } from '../../select/index.js';
import type { Descriptions } from '../descriptions.js';

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

/** Chooses the frames among the stage's candidates. */
export function selectStage(table: FrameTable, candidates: CandidateStage, select: SelectOptions, descriptions: Descriptions): Promise<Selection> {
  return selectFrames(table, select, makeVerifier(table, descriptions), candidates);
}
