/** Public surface of the selection stage. */
export * from './types.js';
export { findCandidates, selectFrames, fateLabel, type CandidateStage } from './select.js';
export { createFrameTable, validateFrameTable } from './table.js';
export { resolveSelectOptions, validateWeights, tableHasModel, CLASSICAL_WEIGHTS, MODEL_WEIGHTS } from './options.js';
export { detectDefects, DEFECT_THRESHOLDS, REJECT_REASONS, type DefectResult } from './defects.js';
export { scoreRow, qualityGate, baseScore, cheapQuality, GATE_KNEES } from './score.js';
export { segmentTimeline, chooseCandidates, type Segmentation } from './segments.js';
export { partitionSlots, optimiseChain, planPicks, type ChainProblem, type ChainConstraints } from './optimise.js';
export { removeRedundant, sameView, cosine } from './redundancy.js';
export { ensureConnectivity, isDegenerate } from './connectivity.js';
