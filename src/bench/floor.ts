/**
 * The floor of an extract run, part by part (issue 12): the addon's decode alone at analysis
 * grade (what the two-pass pass 1 decodes), at one-pass grade (deblocked, with the
 * full-resolution RGB the kept frames are encoded from), and the same with pass 1's metrics, each
 * timed as wall and process CPU. bench/extract.ts alternates them with the ffmpeg reference and
 * the whole extract (whose manifest `cpuTimings` give the later stages).
 */
import { openVideo, type DecodeOptions, type Frame } from '../core/decode.js';
import { measureFrames } from '../core/metrics.js';
import { MODE_PRESETS } from '../pipeline/options.js';
import type { ExtractMode } from './schema.js';
import { PASS1_METRICS } from '../pipeline/stages/measure.js';
import { cost, type Cost } from './common.js';

export type FloorPart = 'decode (analysis grade)' | 'decode (one-pass grade)' | '+ metrics (pass 1 without keeping)';
export const FLOOR_PARTS: readonly FloorPart[] = ['decode (analysis grade)', 'decode (one-pass grade)', '+ metrics (pass 1 without keeping)'];

/** Decoder options of `part` for `mode`'s preset, as pass 1 opens the video. */
function decodeOptionsOf(part: FloorPart, mode: ExtractMode, threads: number): DecodeOptions {
  const analysis = { analysisSize: MODE_PRESETS[mode].analysisSize, gray: true, threads, batchSize: 4 };
  // One pass decodes deblocked (its frames are the output images) with RGB at full resolution.
  if (part === 'decode (analysis grade)') return { ...analysis, fastDecode: true, batchSize: 16 };
  return { ...analysis, rgb: true, rgbFullResolution: true, fastDecode: false, poolSize: 24 };
}

/** One run of `part` over the whole of `path` (every frame, as balanced and high_quality decode). */
export function floorPart(path: string, part: FloorPart, mode: ExtractMode, threads: number): Promise<Cost> {
  return cost(async () => {
    const decoder = await openVideo(path, decodeOptionsOf(part, mode, threads));
    const metrics = part === '+ metrics (pass 1 without keeping)';
    let previous: Frame | null = null;
    try {
      for await (const batch of decoder.batches({ closeOnExit: false })) {
        if (metrics) await measureFrames(batch.frames, { metrics: PASS1_METRICS, threads, previous });
        previous?.release();
        previous = batch.frames.at(-1)!;
        for (const frame of batch.frames) if (frame !== previous) frame.release();
      }
    } finally {
      previous?.release();
      await decoder.close();
    }
  });
}
