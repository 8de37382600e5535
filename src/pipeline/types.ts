/**
 * The types the pipeline's stages hand each other, in one module so no stage imports another:
 * pass 1's per-frame columns and result, the keyframe lookup later passes seek by, and the `VideoAnalysis` between the analysis half (measure,
 * candidates, describe) and the choice half (select, tracks, write).
 */
import type { Frame, VideoInfo } from '../core/decode.js';
import type { FrameMetricsBatch } from '../core/metrics.js';
import type { Manifest, OutputDir } from '../output/index.js';
import type { CandidateStage, FrameTable } from '../select/index.js';
import type { CandidateImages } from './candidate-images.js';
import type { Descriptions } from './descriptions.js';
import type { ResolvedExtractOptions } from './options.js';

/** Memory for the full-resolution frame slots of a pass that decodes a few chosen frames (describe's pass 2, write's fetch). */
const FETCH_POOL_BUDGET_BYTES = 128 * 2 ** 20;

/**
 * Frame threads of pass 1's decode for `threads` cores: two more than the cores. One more is
 * libavcodec's own automatic count (the ffmpeg binary's), so that a thread waiting for its
 * reference frame leaves no core idle (bench60 at high_quality: 1.89 -> 1.95 cores busy); pass
 * 1's metrics share the cores and wait for each batch, and a second spare thread fills those
 * waits too (decode + metrics of the 1080p grain clip, 6 runs alternating: 11.3 -> 11.1 s
 * median, bench60 2 runs: 30.0 -> 29.3 s). One core, one thread.
 */
export function pass1DecoderThreads(threads: number): number {
  return threads > 1 ? threads + 2 : 1;
}

/**
 * Batch and pool sizes for decoding chosen frames at full resolution in RGB: up to `maxSlots`
 * slots within FETCH_POOL_BUDGET_BYTES (4K: 5 slots of 25 MB instead of 10-12, ~250 MB more at
 * the peak of a long 4K clip), and at least two batches' worth, so the decode never waits on
 * one held batch.
 */
export function fetchPoolSizes(info: Pick<VideoInfo, 'displayWidth' | 'displayHeight'>, maxSlots: number): { batchSize: number; poolSize: number } {
  const slotBytes = Math.max(1, info.displayWidth * info.displayHeight * 3);
  const poolSize = Math.max(4, Math.min(maxSlots, Math.floor(FETCH_POOL_BUDGET_BYTES / slotBytes)));
  return { batchSize: poolSize >= 8 ? 4 : 2, poolSize };
}

/** Growable structure-of-arrays store of per-frame measurements. */
export class MeasureColumns {
  length = 0;
  index = new Float64Array(1024);
  ptsSec = new Float64Array(1024);
  keyframe = new Uint8Array(1024);
  hashHi = new Uint32Array(1024);
  hashLo = new Uint32Array(1024);
  readonly fields: Record<string, Float32Array> = {};

  constructor(readonly fieldNames: readonly string[]) {
    for (const name of fieldNames) this.fields[name] = new Float32Array(1024);
  }

  #grow(needed: number): void {
    if (needed <= this.index.length) return;
    const size = Math.max(needed, this.index.length * 2);
    const grow = <T extends Float64Array | Float32Array | Uint32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.index = grow(this.index);
    this.ptsSec = grow(this.ptsSec);
    this.keyframe = grow(this.keyframe);
    this.hashHi = grow(this.hashHi);
    this.hashLo = grow(this.hashLo);
    for (const name of this.fieldNames) this.fields[name] = grow(this.fields[name]!);
  }

  append(frames: readonly Frame[], metrics: FrameMetricsBatch): void {
    const start = this.length;
    this.#grow(start + frames.length);
    frames.forEach((frame, k) => {
      const row = start + k;
      this.index[row] = frame.index;
      this.ptsSec[row] = frame.ptsSec;
      this.keyframe[row] = frame.keyframe ? 1 : 0;
      const hash = metrics.phash?.[k] ?? 0n;
      this.hashHi[row] = Number(hash >> 32n);
      this.hashLo[row] = Number(hash & 0xffffffffn);
    });
    for (const name of this.fieldNames) {
      const source = (metrics as unknown as Record<string, Float64Array | undefined>)[name];
      const target = this.fields[name]!;
      for (let k = 0; k < frames.length; k++) target[start + k] = source ? source[k]! : NaN;
    }
    this.length += frames.length;
  }
}

export interface MeasureResult {
  info: VideoInfo;
  columns: MeasureColumns;
  analysisWidth: number;
  analysisHeight: number;
  warnings: string[];
  decodeStats: { framesLost: number; corruptFrames: number; truncated: boolean };
  /** Keyframe times seen by pass 1: later passes seek to them (see keyframeBefore()). */
  keyframeTimes: Float64Array;
  /** Fast mode's single pass: the rows described and encoded during the pass (candidates come from them). */
  kept?: number[];
  /** balanced / high_quality: why pass 1 kept nothing and the candidates are decoded in a second pass. */
  fallback?: 'dense-count' | 'image-sequence';
}

/** For each time, the latest keyframe at or before it (binary search); 0 when none is known. */
export function keyframeBefore(keyframes: Float64Array, times: readonly number[]): number[] {
  return times.map((t) => {
    let lo = 0;
    let hi = keyframes.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (keyframes[mid]! <= t + 1e-6) {
        best = keyframes[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return Math.min(best, t);
  });
}

/** The model's device as the manifest records it (null: no model). */
export type DeviceReport = Manifest['device'];

/** How the frames were decoded, as the manifest records it. */
export type DecodeReport = NonNullable<Manifest['decode']>;

/**
 * The analysis half's result (analyseVideo): everything measured and described about one video,
 * from which the choice half (chooseFrames) picks frames. It owns native feature sets and the
 * candidates' images in DIR/.framesift/candidates/ (candidate-images.ts).
 */
export interface VideoAnalysis {
  readonly input: string;
  /** Options the analysis ran with (mode preset, analysis size, the candidate stage's select options). */
  readonly options: ResolvedExtractOptions;
  /** The prepared output folder; candidate images are encoded into its images/ under temporary names. */
  readonly out: OutputDir;
  /** Probe information of the input. */
  readonly info: VideoInfo;
  /** Pass 1's measurements, one row per analysed frame. */
  readonly columns: MeasureColumns;
  /** The selection's frame table over those rows (descriptions applied). */
  readonly table: FrameTable;
  /** Defects, timeline, segments and candidate rows of the candidate stage. */
  readonly candidates: CandidateStage;
  /** Features (and embeddings) of the described rows. */
  readonly descriptions: Descriptions;
  /** Full-resolution images of the described rows. */
  readonly images: CandidateImages;
  /** Keyframe times seen by pass 1 (a fetch seeks by them). */
  readonly keyframeTimes: Float64Array;
  /** Fast mode's single pass: the rows described during pass 1 (the only eligible candidates). */
  readonly kept?: readonly number[];
  readonly device: DeviceReport;
  readonly decode: DecodeReport;
  readonly warnings: readonly string[];
  /** Seconds per analysis stage. */
  readonly timings: Readonly<Record<string, number>>;
  /** Process CPU seconds per analysis stage (every thread). */
  readonly cpuTimings?: Readonly<Record<string, number>>;
  /** Peak resident memory during the analysis, MiB. */
  readonly peakRssMB: number;
  /** Frees the native feature sets (the images stay until chooseFrames or the folder's clean-up). */
  dispose(): void;
}
