/**
 * The pipeline of extract, in two halves with a typed boundary: analyseVideo (measure,
 * candidates, describe) -> VideoAnalysis -> chooseFrames (select, tracks, write) -> Manifest.
 */
export { analyseVideo } from './analyse.js';
export { chooseFrames, type ChoiceOptions } from './choose.js';
export { PipelineRun, StageClock, type RunOptions } from './run.js';
export { resolveExtractOptions, MODE_PRESETS, type ExtractOptions, type ResolvedExtractOptions, type ModePreset } from './options.js';
export { MeasureColumns, keyframeBefore, type MeasureResult, type VideoAnalysis, type DeviceReport } from './types.js';
export { Descriptions } from './descriptions.js';
export { CandidateImages } from './candidate-images.js';
export type { Progress, Stage } from './progress.js';
