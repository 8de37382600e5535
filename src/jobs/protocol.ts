/** Messages between the batch supervisor and its worker processes (JSON over the IPC channel). */
import type { ExtractOptions } from '../extract.js';
import type { Stage } from '../pipeline/progress.js';

/** ExtractOptions that cross a process boundary: no signal, callbacks, logger or Embedder. */
export type PlainExtractOptions = Omit<ExtractOptions, 'signal' | 'onProgress' | 'logger' | 'embedder'>;

export type ParentMessage =
  | { type: 'run'; jobId: number; input: string; options: PlainExtractOptions }
  | { type: 'abort'; jobId: number };

export interface WorkerResult {
  seconds: number;
  mediaSeconds: number;
  frames: number;
  analysed: number;
  /** Frames not rejected as defects: the most a count can get from this clip. */
  capacity: number;
  warnings: string[];
  peakRssMB: number;
}

export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; jobId: number; stage: Stage; done: number; total: number }
  | { type: 'done'; jobId: number; result: WorkerResult }
  | { type: 'failed'; jobId: number; code: string; message: string };
