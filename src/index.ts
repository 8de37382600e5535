/**
 * framesift's public API: the whole job (`extractFrames`), decoding (`probe`, `openVideo`),
 * errors, the manifest's schema, and the set-up check (`runDoctor`). The stages themselves
 * (metrics, features and matching, embeddings, selection) are in `framesift/internals`
 * (src/internals.ts) for programs that build their own pipeline; they may change in any release.
 */
export { extractFrames, type ExtractOptions, type Manifest, type Progress } from './extract.js';
export { probe, openVideo, decodeFrames, Frame, VideoDecoder, type DecodeOptions, type VideoInfo, type FrameBatch, type DecodeStats } from './core/decode.js';
export { FramesiftError, isFramesiftError, type FramesiftErrorCode } from './errors.js';
export { validateManifest, MANIFEST_SCHEMA_PATH } from './output/index.js';
export { runDoctor, type DoctorReport, type DoctorCheck, type DoctorOptions, type CheckStatus } from './doctor.js';
export { extractBatch, type BatchOptions, type BatchEvent, type BatchSummary, type JobView } from './jobs/batch.js';
export { expandInputs, type BatchInput } from './jobs/inputs.js';
export { createQueue, runWorker, jobIdFor, FramesiftQueue, FramesiftWorker, type QueueLocation, type FramesiftJobData, type FramesiftJobResult, type FramesiftJobProgress, type JobOptions, type JobView as QueueJobView, type AddJobOptions, type RunWorkerOptions } from './queue/index.js';
export { createServer, serve, type ServeOptions, type JobServer } from './serve/index.js';
export { reselect, type ReselectOptions } from './report/reselect.js';
export { writeReport, regenerateReport, type ReportResult } from './report/report.js';
