/**
 * Pass 3: the chosen frames at full resolution (display rotation applied), fetched by pts with
 * seeking across gaps, handed to the image writer as packed RGB.
 */
import { openVideo } from '../decode.js';
import type { ResolvedExtractOptions } from './options.js';
import { keyframeBefore } from './measure.js';
import type { ProgressReporter } from './progress.js';

export interface FullFrame {
  ptsSec: number;
  rgb: Buffer;
  width: number;
  height: number;
  release(): void;
}

/** Calls `write` for each chosen frame in time order; `write` may keep the frame until it releases it. */
export async function fetchFullFrames(
  input: string,
  ptsList: readonly number[],
  options: ResolvedExtractOptions,
  progress: ProgressReporter,
  keyframes: Float64Array,
  write: (frame: FullFrame) => Promise<void>,
): Promise<number> {
  if (ptsList.length === 0) return 0;
  progress.stage('write', ptsList.length);
  const wantedPts = [...ptsList].sort((a, b) => a - b);
  const decoder = await openVideo(input, {
    analysisSize: 'source',
    gray: false,
    rgb: true,
    threads: options.threads,
    batchSize: 4,
    poolSize: 12,
    sequenceFps: options.sequenceFps,
    wantedPts,
    wantedKeyframePts: keyframeBefore(keyframes, wantedPts),
  });
  let fetched = 0;
  try {
    for await (const batch of decoder.batches({ signal: options.signal })) {
      for (const frame of batch.frames) {
        await write({ ptsSec: frame.ptsSec, rgb: frame.rgb!, width: frame.width, height: frame.height, release: () => frame.release() });
        fetched++;
        progress.update(fetched, ptsList.length);
      }
    }
  } finally {
    await decoder.close();
  }
  return fetched;
}
