/**
 * Describing candidates: local features at analysis size (SIFT or ORB, kept in native memory for
 * the link checks and tracks), with a model DINO embeddings and dense statistics, and the
 * full-resolution image encoded while the frame is decoded, so a chosen one needs no further
 * decode. `Descriptions` does it for frames handed to it (fast mode's single pass hands them
 * over during pass 1); `describeCandidates` decodes the candidates not described yet (pass 2).
 */
import { openVideo, type Frame } from '../decode.js';
import type { Embedder } from '../embed/index.js';
import { extractFeaturesBatch, type FeatureSet } from '../geometry.js';
import type { FrameTable } from '../select/index.js';
import type { CandidateImages } from './candidate-images.js';
import type { ResolvedExtractOptions } from './options.js';
import { keyframeBefore } from './measure.js';
import type { ProgressReporter } from './progress.js';

/** Coverage grid for keypoints (the same 8x8 grid as the cheap coverage metric). */
const GRID = 8;

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

interface RowScores {
  features: number;
  coverage: number;
  spatialComplexity?: number;
  semanticRichness?: number;
}

export interface DescribeContext {
  detector: 'sift' | 'orb';
  maxFeatures: number;
  threads: number;
  embedder: Embedder | undefined;
  images: CandidateImages;
}

/** What describing found, by FrameTable row; owns the native feature sets until dispose(). */
export class Descriptions {
  /** Table row -> its local features. */
  readonly features = new Map<number, FeatureSet>();
  /** Table row -> L2-normalised embedding (with a model). */
  readonly embeddings = new Map<number, Float32Array>();
  readonly #scores = new Map<number, RowScores>();
  readonly #context: DescribeContext;

  constructor(context: DescribeContext) {
    this.#context = context;
  }

  has(row: number): boolean {
    return this.features.has(row);
  }

  get size(): number {
    return this.features.size;
  }

  /**
   * Describes `frames` (gray at analysis size, RGB at full resolution) as the rows `rows` and
   * takes them over: each is released once its image is encoded. A frame whose row is
   * undefined is only released.
   */
  async add(frames: Frame[], rows: ReadonlyArray<number | undefined>): Promise<void> {
    const ctx = this.#context;
    const sets = await extractFeaturesBatch(frames, { detector: ctx.detector, maxFeatures: ctx.maxFeatures, threads: Math.min(2, ctx.threads) });
    const vectors = ctx.embedder ? await ctx.embedder.embed(frames.map((f) => ({ rgb: f.rgb!, width: f.rgbWidth, height: f.rgbHeight }))) : undefined;
    for (const [k, frame] of frames.entries()) {
      const row = rows[k];
      const set = sets[k]!;
      if (row === undefined || this.features.has(row)) {
        set.dispose();
        frame.release();
        continue;
      }
      this.features.set(row, set);
      const scores: RowScores = { features: featureScore(set.count, frame.width, frame.height), coverage: gridCoverage(set.keypoints(), frame.width, frame.height) };
      const v = vectors?.[k];
      if (v) {
        this.embeddings.set(row, v.embedding);
        if (v.stats) {
          scores.spatialComplexity = v.stats.spatialComplexity.score;
          scores.semanticRichness = v.stats.semanticRichness.score;
        }
      }
      this.#scores.set(row, scores);
      // The frame goes back to the pool once its full-resolution image is encoded.
      await ctx.images.add(row, frame.rgb!, frame.rgbWidth, frame.rgbHeight, () => frame.release());
    }
  }

  /** Writes the described rows' measured columns into the table (features replace the cheap keypoint evidence). */
  applyTo(table: FrameTable): void {
    for (const [row, s] of this.#scores) {
      table.features[row] = s.features;
      table.coverage[row] = s.coverage;
      if (table.spatialComplexity && s.spatialComplexity !== undefined) table.spatialComplexity[row] = s.spatialComplexity;
      if (table.semanticRichness && s.semanticRichness !== undefined) table.semanticRichness[row] = s.semanticRichness;
    }
    if (this.#context.embedder) (table as { embedding?: ReadonlyMap<number, Float32Array> }).embedding = this.embeddings;
  }

  dispose(): void {
    for (const set of this.features.values()) set.dispose();
    this.features.clear();
  }
}

/**
 * Pass 2: decodes the candidates not described yet (seeking to their keyframes) and describes
 * them; then writes every description into the table.
 */
export async function describeCandidates(
  input: string,
  table: FrameTable,
  rows: ArrayLike<number>,
  options: ResolvedExtractOptions,
  descriptions: Descriptions,
  progress: ProgressReporter,
  keyframes: Float64Array,
): Promise<void> {
  const sortedRows = Array.from(rows).filter((row) => !descriptions.has(row)).sort((a, b) => a - b);
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
      batchSize: 4,
      poolSize: 10, // 10 full-resolution RGB slots: ~250 MB at 4K, the describe pass's bound
      sequenceFps: options.sequenceFps,
      wantedPts,
      wantedKeyframePts: keyframeBefore(keyframes, wantedPts),
    });
    try {
      let done = 0;
      for await (const batch of decoder.batches({ signal: options.signal })) {
        await descriptions.add(batch.frames, batch.frames.map((f) => rowByPts.get(f.ptsSec.toFixed(4))));
        done += batch.frames.length;
        progress.update(done, sortedRows.length);
      }
    } finally {
      await decoder.close();
    }
  }
  descriptions.applyTo(table);
}
