/**
 * Pass 1: decode every analysed frame at analysis size (gray), measure the cheap metrics and
 * the motion to the previous frame natively, batch by batch, and keep one row of numbers per
 * frame (no pixels: memory grows by ~150 bytes a frame whatever the resolution).
 */
import type { Frame, VideoDecoder } from '../../core/decode.js';
import { openVideo } from '../../core/decode.js';
import { FAST_METRICS, measureFrames, METRIC_FIELDS, type MetricName } from '../../core/metrics.js';
import { isFramesiftError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Descriptions } from '../descriptions.js';
import type { ResolvedExtractOptions } from '../options.js';
import { planDensePass, planSparsePass, WindowKeeper } from '../single-pass.js';
import type { ProgressReporter } from '../progress.js';
import { MeasureColumns, pass1DecoderThreads, type MeasureResult } from '../types.js';

/** The metric groups pass 1 measures on every frame (the 'fast' preset: no SIFT/ORB/GLCM/flow). */
export const PASS1_METRICS: readonly MetricName[] = FAST_METRICS;

/** Numeric columns kept per frame (all fields of PASS1_METRICS but the hash). */
export const PASS1_FIELDS: readonly string[] = PASS1_METRICS.flatMap((m) => METRIC_FIELDS[m] as readonly string[]).filter((f) => f !== 'phash');

/**
 * Pass 1. In fast mode on a video it is the only pass (single-pass.ts): it describes the frames
 * it keeps into `descriptions`, and returns those rows in `kept`.
 */
export async function measureVideo(
  input: string,
  options: ResolvedExtractOptions,
  progress: ProgressReporter,
  logger: Logger,
  descriptions: Descriptions,
  /** Sees each batch's frames (and the table row of the first) before they are released: the report's thumbnails. */
  onFrames?: (frames: readonly Frame[], firstRow: number) => void,
): Promise<MeasureResult> {
  const { preset } = options;
  const warnings: string[] = [];
  const baseOptions = {
    analysisSize: preset.analysisSize,
    gray: true,
    fastDecode: true,
    threads: pass1DecoderThreads(options.threads),
    batchSize: options.batchSize,
    sequenceFps: options.sequenceFps,
    maxFramesDecoded: options.maxAnalysedFrames,
    readTimeoutSec: options.readTimeoutSec,
    ...(options.start !== undefined ? { start: options.start } : {}),
    ...(options.end !== undefined ? { end: options.end } : {}),
  };
  let decoder = await openVideo(input, baseOptions);
  const info = decoder.info;
  let keeper: WindowKeeper | undefined;
  let fallback: MeasureResult['fallback'];
  let expected = info.frameCount > 0 ? info.frameCount : Math.round(info.durationSec * info.avgFrameRate);
  if (preset.sampling === 'sparse' && !info.isImageSequence) {
    const keyframeGap = await estimateKeyframeGap(input, baseOptions, decoder);
    await decoder.close();
    const plan = planSparsePass(keyframeGap, info, options);
    logger.info({ keyframeGap, fps: plan.decode.fps, gopHeadSec: plan.decode.gopHeadSec, windowSec: plan.windowSec, keepPerWindow: plan.keepPerWindow }, 'fast mode sampling');
    expected = plan.expectedFrames;
    keeper = new WindowKeeper(plan, descriptions, Math.max(info.outputWidth, info.outputHeight));
    decoder = await openVideo(input, { ...baseOptions, ...plan.decode });
  } else if (options.onePass && info.isImageSequence) {
    fallback = 'image-sequence';
  } else if (options.onePass) {
    // balanced / high_quality in one decode: the kept frames are described as they come.
    const plan = planDensePass(info, options);
    logger.info(plan ? { windowSec: plan.windowSec, keepPerWindow: plan.keepPerWindow } : {}, plan ? 'one-pass keep windows' : 'two passes: the count asks for candidates in too many frames');
    if (!plan) fallback = 'dense-count';
    else {
      await decoder.close();
      keeper = new WindowKeeper(plan, descriptions, Math.max(info.outputWidth, info.outputHeight), 1);
      decoder = await openVideo(input, { ...baseOptions, ...plan.decode });
    }
  }

  const columns = new MeasureColumns(PASS1_FIELDS);
  progress.stage('measure', expected);
  let previous: Frame | null = null;
  let stats = { framesLost: 0, corruptFrames: 0, truncated: false };
  let capped = false;
  let keyframeTimes = new Float64Array(0);
  try {
    for await (const batch of decoder.batches({ signal: options.signal, closeOnExit: false })) {
      const metrics = await measureFrames(batch.frames, { metrics: PASS1_METRICS, threads: options.threads, previous });
      const firstRow = columns.length;
      columns.append(batch.frames, metrics);
      onFrames?.(batch.frames, firstRow);
      if (keeper) {
        // The keeper owns the frames now, and holds the last one until the next batch is measured.
        await keeper.take(batch.frames, firstRow, columns);
        previous = batch.frames.at(-1)!;
      } else {
        previous?.release();
        previous = batch.frames.at(-1)!;
        for (const frame of batch.frames) if (frame !== previous) frame.release();
      }
      progress.update(columns.length, expected);
    }
    await keeper?.finish();
  } catch (err) {
    // A cut-off file still yields every frame before the cut: keep that work.
    if (!isFramesiftError(err, 'ERR_FRAMESIFT_TRUNCATED')) {
      await keeper?.dispose();
      throw err;
    }
    warnings.push(`${(err as Error).message}; using the ${columns.length} frames before the cut`);
    stats.truncated = true;
    await keeper?.finish();
  } finally {
    // From the decoder's last read, not the last batch: the read that ends the pass (the cap hit
    // on frames that were decoded but not delivered, as fast mode's references) brings no frames.
    const last = decoder.stats;
    if (last) {
      stats = { framesLost: last.framesLost, corruptFrames: last.corruptFrames, truncated: stats.truncated || last.truncated };
      capped = last.capped;
    }
    if (!keeper) previous?.release();
    keyframeTimes = decoder.keyframeTimes() as Float64Array<ArrayBuffer>; // before close: later passes seek by them
    await decoder.close();
  }
  if (capped) warnings.push(`the analysis stopped after ${options.maxAnalysedFrames} decoded frames (maxAnalysedFrames); the rest of the input was not analysed`);
  if (stats.framesLost > 0) warnings.push(`${stats.framesLost} frames could not be decoded (damaged data) and were skipped`);
  progress.update(columns.length, columns.length, true);
  return {
    info,
    columns,
    analysisWidth: info.outputWidth,
    analysisHeight: info.outputHeight,
    warnings,
    decodeStats: stats,
    keyframeTimes,
    ...(keeper ? { kept: keeper.kept } : {}),
    ...(fallback ? { fallback } : {}),
  };
}

/** Mean keyframe spacing over the first keyframes: from `opened`'s container index where it lists every frame, else a keyframe-only scan. */
export async function estimateKeyframeGap(input: string, options: Parameters<typeof openVideo>[1], opened?: VideoDecoder): Promise<number> {
  // An index that lists every frame (mp4/mov) tells the keyframes for free; decoding the first 8
  // costs ~0.45 s on a 1080p clip (an eighth of fast mode's run on the grain clip). It is read
  // only for the whole video: the decode's times are presentation times, a `start` or `end`
  // would be compared with the index's decode times.
  const indexed = opened && options?.start === undefined && options?.end === undefined ? opened.indexedKeyframeTimes(KEYFRAMES_FOR_GAP) : new Float64Array(0);
  if (indexed.length > 0) return gapOf(indexed);
  const decoder = await openVideo(input, { ...options, sampling: 'keyframes', analysisSize: 64, batchSize: 8 });
  const times: number[] = [];
  for await (const batch of decoder.batches()) {
    for (const f of batch.frames) {
      times.push(f.ptsSec);
      f.release();
    }
    if (times.length >= KEYFRAMES_FOR_GAP) break; // leaving the loop closes the decoder
  }
  await decoder.close();
  return gapOf(times);
}

/** Keyframes the gap is averaged over, from the start. */
const KEYFRAMES_FOR_GAP = 8;

/** Mean gap of ascending keyframe times; Infinity for a single keyframe (one GOP). */
function gapOf(times: ArrayLike<number>): number {
  if (times.length < 2) return Infinity;
  return (times[times.length - 1]! - times[0]!) / (times.length - 1);
}
