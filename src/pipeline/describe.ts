/**
 * Pass 2: the candidates only. Decodes them again (seeking to their keyframes), extracts SIFT
 * features at analysis size (kept in native memory for the link checks and tracks), with a
 * model DINO embeddings and dense statistics, and encodes each at full resolution so the
 * chosen ones need no further decode; fills the FrameTable's expensive columns.
 */
import { openVideo, type Frame } from '../decode.js';
import type { Embedder } from '../embed/index.js';
import { extractFeaturesBatch, type FeatureSet } from '../geometry.js';
import type { FrameTable } from '../select/index.js';
import type { CandidateImages } from './candidate-images.js';
import type { ResolvedExtractOptions } from './options.js';
import { keyframeBefore } from './measure.js';
import type { ProgressReporter } from './progress.js';

/** Coverage grid for SIFT keypoints (the same 8x8 grid as the cheap coverage metric). */
const GRID = 8;

export interface Descriptions {
  /** Table row -> its SIFT features. */
  features: Map<number, FeatureSet>;
  /** Table row -> L2-normalised embedding (with a model). */
  embeddings: Map<number, Float32Array>;
  dispose(): void;
}

/** Score of a feature count: 1 - exp(-density / 2), density = keypoints per 1000 pixels (as the metrics' siftScore). */
export function featureScore(count: number, width: number, height: number): number {
  return 1 - Math.exp(-(count / ((width * height) / 1000)) / 2);
}

export function gridCoverage(keypoints: Float32Array, width: number, height: number): number {
  const cells = new Uint8Array(GRID * GRID);
  for (let k = 0; k + 1 < keypoints.length; k += 2) {
    const cx = Math.min(GRID - 1, Math.floor((keypoints[k]! / width) * GRID));
    const cy = Math.min(GRID - 1, Math.floor((keypoints[k + 1]! / height) * GRID));
    cells[cy * GRID + cx] = 1;
  }
  return cells.reduce((a, b) => a + b, 0) / cells.length;
}

export async function describeCandidates(
  input: string,
  table: FrameTable,
  rows: ArrayLike<number>,
  options: ResolvedExtractOptions,
  embedder: Embedder | undefined,
  progress: ProgressReporter,
  keyframes: Float64Array,
  images: CandidateImages,
): Promise<Descriptions> {
  const sortedRows = Array.from(rows).sort((a, b) => a - b);
  const rowByPts = new Map<string, number>();
  for (const row of sortedRows) rowByPts.set(table.ptsSec[row]!.toFixed(4), row);
  const features = new Map<number, FeatureSet>();
  const embeddings = new Map<number, Float32Array>();
  const result: Descriptions = {
    features,
    embeddings,
    dispose() {
      for (const set of features.values()) set.dispose();
      features.clear();
    },
  };
  if (sortedRows.length === 0) return result;
  progress.stage('describe', sortedRows.length);
  const wantedPts = sortedRows.map((r) => table.ptsSec[r]!);
  // Gray at analysis size for SIFT, RGB at full resolution for the output images (and DINO):
  // small batches, since full-resolution slots are large.
  const decoder = await openVideo(input, {
    analysisSize: options.preset.analysisSize,
    gray: true,
    rgb: true,
    rgbFullResolution: true,
    fastDecode: false,
    threads: options.threads,
    batchSize: 4,
    poolSize: 10, // 10 full-resolution RGB slots: ~250 MB at 4K, the describe pass's bound
    sequenceFps: options.sequenceFps,
    wantedPts,
    wantedKeyframePts: keyframeBefore(keyframes, wantedPts),
  });
  try {
    for await (const batch of decoder.batches({ signal: options.signal })) {
      const frames: Frame[] = batch.frames;
      const sets = await extractFeaturesBatch(frames, { detector: options.preset.detector, maxFeatures: options.preset.maxFeatures, threads: Math.min(2, options.threads) });
      const vectors = embedder ? await embedder.embed(frames.map((f) => ({ rgb: f.rgb!, width: f.rgbWidth, height: f.rgbHeight }))) : undefined;
      for (const [k, frame] of frames.entries()) {
        const row = rowByPts.get(frame.ptsSec.toFixed(4));
        const set = sets[k]!;
        if (row === undefined) {
          set.dispose();
          frame.release();
          continue;
        }
        features.set(row, set);
        table.features[row] = featureScore(set.count, frame.width, frame.height);
        table.coverage[row] = gridCoverage(set.keypoints(), frame.width, frame.height);
        const v = vectors?.[k];
        if (v) {
          embeddings.set(row, v.embedding);
          if (table.spatialComplexity && v.stats) table.spatialComplexity[row] = v.stats.spatialComplexity.score;
          if (table.semanticRichness && v.stats) table.semanticRichness[row] = v.stats.semanticRichness.score;
        }
        // The frame goes back to the pool once its full-resolution image is encoded.
        await images.add(table.index[row]!, frame.rgb!, frame.rgbWidth, frame.rgbHeight, () => frame.release());
      }
      progress.update(features.size, sortedRows.length);
    }
  } catch (err) {
    result.dispose();
    throw err;
  } finally {
    await decoder.close();
  }
  if (embedder) (table as { embedding?: ReadonlyMap<number, Float32Array> }).embedding = embeddings;
  return result;
}
