/**
 * framesift's public API. `extractFrames` is the whole job; the stages are exported for
 * programs that want their own pipeline.
 */
export { extractFrames, type ExtractOptions, type Manifest, type Progress } from './extract.js';
export { probe, openVideo, decodeFrames, Frame, VideoDecoder, type DecodeOptions, type VideoInfo, type FrameBatch, type DecodeStats } from './core/decode.js';
export { FramesiftError, isFramesiftError, type FramesiftErrorCode } from './errors.js';
export { measureFrames, METRIC_NAMES, FAST_METRICS, SCORES, type MeasureOptions, type FrameMetricsBatch, type MetricName } from './core/metrics.js';
export { extractFeatures, extractFeaturesBatch, matchPairs, buildTracks, schedulePairs, type FeatureSet, type PairVerification, type TrackStats } from './core/geometry.js';
export { Embedder, type EmbedderOptions, type FrameEmbedding } from './embed/index.js';
export { selectFrames, findCandidates, createFrameTable, type FrameTable, type Selection, type SelectOptions } from './select/index.js';
export { validateManifest, MANIFEST_SCHEMA_PATH } from './output/index.js';
