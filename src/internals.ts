/**
 * `framesift/internals`: the stages of extract over the native addon, for programs that want
 * their own pipeline. Not covered by semver: names and options follow the pipeline's needs.
 */
export { measureFrames, METRIC_NAMES, FAST_METRICS, SCORES, type MeasureOptions, type FrameMetricsBatch, type MetricName } from './core/metrics.js';
export { extractFeatures, extractFeaturesBatch, featureSetFromBuffer, matchPairs, buildTracks, schedulePairs, type FeatureSet, type PairVerification, type TrackStats } from './core/geometry.js';
export { Embedder, type EmbedderOptions, type FrameEmbedding } from './embed/index.js';
export { selectFrames, findCandidates, createFrameTable, type FrameTable, type Selection, type SelectOptions } from './select/index.js';
