/**
 * The floor of an extract run, part by part (issue 12): the addon's decode alone at analysis
 * grade (what the two-pass pass 1 decodes), at one-pass grade (deblocked, each frame's decoded
 * planes held in its slot for the RGB of the kept ones, as pass 1 does: `rgbDeferred`), the same
 * with pass 1's metrics, and the two costs per candidate: SIFT at the mode's analysis size and
 * settings, and the full-resolution image (RGB conversion from the held planes + JPEG as
 * extract writes it), each timed as wall and process CPU. bench/extract.ts alternates them with
 * the ffmpeg reference and the whole extract (whose manifest `cpuTimings` give the later stages).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openVideo, type DecodeOptions, type Frame } from '../core/decode.js';
import { extractFeaturesBatch } from '../core/geometry.js';
import { measureFrames } from '../core/metrics.js';
import { FrameSpill } from '../core/spill.js';
import { ImageWriter } from '../output/index.js';
import { MODE_PRESETS, resolveExtractOptions } from '../pipeline/options.js';
import type { ExtractMode } from './schema.js';
import { estimateKeyframeGap, PASS1_METRICS } from '../pipeline/stages/measure.js';
import { planSparsePass } from '../pipeline/single-pass.js';
import { cost, type Cost } from './common.js';
import { pass1DecoderThreads } from '../pipeline/types.js';

export type FloorPart = 'decode (analysis grade)' | 'decode (one-pass grade)' | '+ metrics (pass 1 without keeping)';
export const FLOOR_PARTS: readonly FloorPart[] = ['decode (analysis grade)', 'decode (one-pass grade)', '+ metrics (pass 1 without keeping)'];
/** Costs of `n` candidates (n = the frames the extract run described). */
export type CandidatePart = 'SIFT of the candidates' | 'RGB + JPEG of the candidates';
export const CANDIDATE_PARTS: readonly CandidatePart[] = ['SIFT of the candidates', 'RGB + JPEG of the candidates'];

/** Decoder options of `part` for `mode`'s preset, as pass 1 opens the video. */
function decodeOptionsOf(part: FloorPart, mode: ExtractMode, threads: number): DecodeOptions {
  const analysis = { analysisSize: MODE_PRESETS[mode].analysisSize, gray: true, threads: pass1DecoderThreads(threads), batchSize: 4 };
  // One pass decodes deblocked (its frames are the output images), holding each frame's planes.
  if (part === 'decode (analysis grade)') return { ...analysis, fastDecode: true, batchSize: 16 };
  return { ...analysis, rgb: true, rgbFullResolution: true, rgbDeferred: true, fastDecode: false, poolSize: 24 };
}

/** One run of `part` over the whole of `path` (every frame, as balanced and high_quality decode). */
export function floorPart(path: string, part: FloorPart, mode: ExtractMode, threads: number): Promise<Cost> {
  return cost(() => decodeThrough(path, decodeOptionsOf(part, mode, threads), part === '+ metrics (pass 1 without keeping)', threads));
}

/** Decodes all `path` delivers with `options`, with pass 1's metrics and motion on each batch when `metrics`, keeping nothing. */
async function decodeThrough(path: string, options: DecodeOptions, metrics: boolean, threads: number): Promise<void> {
  const decoder = await openVideo(path, options);
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
}

/** fast mode's floor part: its own sampling plan's decode alone. */
export const FAST_HEADS_PART = 'decode of the GOP heads (its sampling plan)';

/**
 * fast mode's pass without its ORB, keeping or encodes: the GOP heads its plan samples
 * (planSparsePass for `count` picks), decoded deblocked with their full-resolution RGB as pass 1
 * opens them, `withMetrics` with pass 1's metrics and camera motion. With the ORB and the
 * RGB + JPEG of its kept frames (candidatePart), fast's floor.
 */
export async function fastHeadsPart(path: string, count: number, threads: number, withMetrics = false): Promise<Cost> {
  const dir = mkdtempSync(join(tmpdir(), 'framesift-floor-'));
  try {
    const options = resolveExtractOptions({ outDir: dir, mode: 'fast', count, threads });
    const base: DecodeOptions = { analysisSize: options.preset.analysisSize, gray: true, fastDecode: true, threads: pass1DecoderThreads(threads), batchSize: options.batchSize };
    const probing = await openVideo(path, base);
    const info = probing.info;
    const gap = await estimateKeyframeGap(path, base, probing);
    await probing.close();
    const plan = planSparsePass(gap, info, options);
    return await cost(() => decodeThrough(path, { ...base, ...plan.decode }, withMetrics, threads));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `part` for `n` frames of `path` (every `stride`-th frame from the start, as the candidates
 * spread over the video; the decode that reaches them is not timed): SIFT with the mode's
 * detector settings on all `threads`, or the RGB conversion + JPEG (extract's format and
 * quality) with `threads` encodes at a time.
 */
export async function candidatePart(path: string, part: CandidatePart, mode: ExtractMode, n: number, threads: number): Promise<Cost> {
  const preset = MODE_PRESETS[mode];
  const sift = part === 'SIFT of the candidates';
  const decoder = await openVideo(path, { ...decodeOptionsOf('decode (one-pass grade)', mode, threads), rgb: !sift, rgbDeferred: !sift, poolSize: 8 });
  const frames = Math.max(1, decoder.info.frameCount > 0 ? decoder.info.frameCount : Math.round(decoder.info.durationSec * decoder.info.avgFrameRate));
  const stride = Math.max(1, Math.floor(frames / Math.max(1, n)));
  const dir = mkdtempSync(join(tmpdir(), 'framesift-floor-'));
  const spill = sift ? undefined : new FrameSpill(join(dir, 'spill.planes'));
  const gray: Array<{ data: Uint8Array; width: number; height: number }> = [];
  try {
    let index = 0;
    for await (const batch of decoder.batches({ closeOnExit: false })) {
      for (const f of batch.frames) {
        const held = index++ % stride === 0 && gray.length + (spill?.keys.length ?? 0) < n;
        if (held && spill) await spill.write(index, f);
        else if (held) gray.push({ data: Uint8Array.prototype.slice.call(f.gray!, 0, f.width * f.height), width: f.width, height: f.height });
        f.release();
      }
    }
    await decoder.close();
    if (sift) return await cost(() => extractFeaturesBatch(gray, { detector: preset.detector, maxFeatures: preset.maxFeatures, threads }));
    const { format, quality } = resolveExtractOptions({ outDir: dir });
    const writer = new ImageWriter(dir, { format, quality, concurrency: threads });
    const keys = spill!.keys;
    return await cost(async () => {
      await Promise.all(
        Array.from({ length: threads }, async (_, w) => {
          let buffer: Uint8Array | undefined;
          for (let k = w; k < keys.length; k += threads) {
            buffer = spill!.bufferFor(keys[k]!, buffer);
            const { rgb, width, height } = await spill!.readRgb(keys[k]!, buffer);
            await writer.write(`c${k}.${format}`, rgb, width, height);
          }
        }),
      );
    });
  } finally {
    await decoder.close();
    spill?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
