/** Public surface of the embedding stage (DINOv3/DINOv2 through onnxruntime-node). */
export { Embedder } from './embedder.js';
export type { EmbedderOptions, EmbedderInfo, EmbedLogger, EmbedTimings, FrameEmbedding, EmbedderEvents } from './embedder.js';
export type { DenseStats, ScoredValue, EmbeddingSource } from './dense-stats.js';
export type { ModelInfo } from './model.js';
export type { AspectRule, FrameInput, PreprocessBackend } from './preprocess.js';
export type { Device, GraphOptimization, ProviderConfig, ProviderName } from './providers.js';
export { DEVICES, COREML_FLAGS } from './providers.js';
export type { BatchResizeEvent, BatchDoneEvent } from './batcher.js';
export { isOutOfMemoryError, OOM_PATTERNS } from './memory-monitor.js';
