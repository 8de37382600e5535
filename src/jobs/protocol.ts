/** Messages between the batch supervisor and its worker processes (JSON over the IPC channel). */
import type { ExtractOptions } from '../extract.js';
import type { Stage } from '../pipeline/progress.js';

/** ExtractOptions that cross a process boundary: no signal, callbacks, logger or Embedder. */
export type PlainExtractOptions = Omit<ExtractOptions, 'signal' | 'onProgress' | 'logger' | 'embedder'>;

/**
 * What a worker runs: a whole extract, or (phase 2 of --total-frames) a re-selection in a
 * finished job's folder from its saved analysis (reselect(), decoding only missing candidates).
 */
export type JobRequest =
  | { kind: 'extract'; input: string; options: PlainExtractOptions }
  | { kind: 'reselect'; dir: string; count: number; model: ModelOptions };

/** What picks the worker's loaded model (the same for both kinds of request). */
export type ModelOptions = Pick<ExtractOptions, 'model' | 'device' | 'strictDevice' | 'maxMemoryMB'>;

export type ParentMessage =
  | { type: 'run'; jobId: number; request: JobRequest }
  | { type: 'abort'; jobId: number };

export interface WorkerResult {
  seconds: number;
  mediaSeconds: number;
  frames: number;
  analysed: number;
  /** Frames not rejected as defects: the most a count can get from this clip. */
  capacity: number;
  /** Frames the decoder delivered during this job (0 for a re-selection from saved candidates). */
  decoded: number;
  warnings: string[];
  peakRssMB: number;
}

export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; jobId: number; stage: Stage; done: number; total: number }
  | { type: 'done'; jobId: number; result: WorkerResult }
  | { type: 'failed'; jobId: number; code: string; message: string };
