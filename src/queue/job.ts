/**
 * What a queue job carries and returns (typed for the library), and its id: a hash of the
 * input, the output folder and the options, so adding the same work twice queues it once.
 */
import { createHash } from 'node:crypto';

import type { ExtractOptions } from '../index.js';
import { stableJson } from '../jobs/fingerprint.js';
import type { RunSummary } from '../output/summary.js';

/** ExtractOptions that travel through Redis (JSON): no output folder, signal or callbacks. */
export type JobOptions = Omit<ExtractOptions, 'outDir' | 'signal' | 'onProgress' | 'logger'>;

export interface FramesiftJobData {
  /** Absolute path (or URL) as every worker sees it: workers share the storage. */
  input: string;
  /** Absolute output folder; written atomically (a temporary sibling renamed into place). */
  outDir: string;
  options: JobOptions;
}

export interface FramesiftJobResult {
  outDir: string;
  manifestPath: string;
  summary: RunSummary & {
    /** Seconds of video analysed (the probe's duration; 0 for image folders). */
    videoSec: number;
    /** Wall-clock seconds of the job on the worker. */
    jobSec: number;
    /** videoSec / jobSec: above 1 is faster than real time. */
    realtimeFactor: number;
    peakRssMB: number;
  };
}

/** Progress as stored on the job (BullMQ's job.progress). */
export interface FramesiftJobProgress {
  stage: string;
  done: number;
  total: number;
  etaSec?: number;
  /** done / total over the whole job, 0..1 (stages weighted as extract reports them). */
  fraction: number;
}

/** The job's id: 32 hex digits of SHA-256 over input, output folder and options. */
export function jobIdFor(data: FramesiftJobData): string {
  return createHash('sha256').update(stableJson([data.input, data.outDir, data.options])).digest('hex').slice(0, 32);
}
