/**
 * The describe stage: the features of the candidates a one-pass run kept (from the analysis
 * images its windows copied, on every core now that the decode is over); then pass 2 decodes the
 * candidates not described yet, seeking to each one's
 * keyframe, gray at analysis size for the features and RGB at full resolution for the images
 * (and DINO), and hands them to `Descriptions`.
 */
import { openVideo } from '../../core/decode.js';
import type { FrameTable } from '../../select/index.js';
import type { Descriptions } from '../descriptions.js';
import type { ResolvedExtractOptions } from '../options.js';
import type { ProgressReporter } from '../progress.js';
import type { VideoInfo } from '../../core/decode.js';
import { fetchPoolSizes, keyframeBefore } from '../types.js';

/**
 * Describes the candidates a one-pass run kept (their analysis images are in `descriptions`);
 * pass 2: decodes the candidates not described yet (seeking to their keyframes) and describes
 * them; then writes the candidates' descriptions into the table. Returns the frames it decoded.
 */
export async function describeCandidates(
  input: string,
  table: FrameTable,
  rows: ArrayLike<number>,
  options: ResolvedExtractOptions,
  descriptions: Descriptions,
  progress: ProgressReporter,
  keyframes: Float64Array,
  info: Pick<VideoInfo, 'displayWidth' | 'displayHeight'>,
): Promise<number> {
  // Kept by a one-pass run's windows: no decode. Their full-resolution images, held as decoded
  // planes, are converted and encoded first, then their features are extracted from their
  // analysis images: each on every core in turn, so the cores are neither oversubscribed nor
  // idle (side by side, with SIFT on half the threads, one core idled from the encodes' end to
  // the end of SIFT's current call: 1.96 -> 1.75 s on the grain clip).
  const candidates = Array.from(rows);
  try {
    await descriptions.encodeKept(candidates, options.threads);
    await descriptions.describeKept(candidates, options.threads);
  } finally {
    // Both read the kept frames' planes (the gray images for SIFT, the RGB for the encodes).
    descriptions.dropKept();
  }
  let done = 0;
  const sortedRows = candidates.filter((row) => !descriptions.has(row)).sort((a, b) => a - b);
  if (sortedRows.length > 0) {
    progress.stage('describe', sortedRows.length);
    const rowByPts = new Map<string, number>();
    for (const row of sortedRows) rowByPts.set(table.ptsSec[row]!.toFixed(4), row);
    const wantedPts = sortedRows.map((r) => table.ptsSec[r]!);
    // Gray at analysis size for the features, RGB at full resolution for the output images (and
    // DINO): small batches, since full-resolution slots are large.
    const decoder = await openVideo(input, {
      analysisSize: options.preset.analysisSize,
      gray: true,
      rgb: true,
      rgbFullResolution: true,
      fastDecode: false,
      threads: options.threads,
      ...fetchPoolSizes(info, 10), // the describe pass's bound: 10 slots at 1080p, 5 at 4K
      sequenceFps: options.sequenceFps,
      readTimeoutSec: options.readTimeoutSec,
      wantedPts,
      wantedKeyframePts: keyframeBefore(keyframes, wantedPts),
    });
    try {
      for await (const batch of decoder.batches({ signal: options.signal })) {
        await descriptions.add(batch.frames, batch.frames.map((f) => rowByPts.get(f.ptsSec.toFixed(4))));
        done += batch.frames.length;
        progress.update(done, sortedRows.length);
      }
    } finally {
      await decoder.close();
    }
  }
  descriptions.applyTo(table, candidates);
  return done;
}
