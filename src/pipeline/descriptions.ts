/**
 * What describing found, by frame-table row: local features at analysis size (SIFT or ORB, kept
 * in native memory for the link checks and tracks), with a model DINO embeddings and dense
 * statistics, and the full-resolution image encoded while the frame is decoded, so a chosen one
 * needs no further decode. Filled by whichever pass has the frames decoded (fast mode's single
 * pass, or the describe stage's pass 2), read by select and tracks.
 */
import type { Frame } from '../core/decode.js';
import { trimNativeMemory } from '../core/native-memory.js';
import { extractFeaturesBatch, featureSetFromBuffer, type FeatureSet } from '../core/geometry.js';
import type { Embedder, FrameEmbedding } from '../embed/index.js';
import type { FrameTable } from '../select/index.js';
import type { CandidateImages } from './candidate-images.js';

/**
 * Frames per native thread in one features call of describeKept: each call ends with its threads
 * waiting for its slowest frame (~50 ms on 2 threads at 640 px, 8 frames a call cost 20% more
 * than one call), and its gray images are read from the spill first: a bound on both.
 */
const DESCRIBE_CHUNK_PER_THREAD = 16;
/** Free native heap (bytes) above which describeKept gives it back between chunks (SIFT at 960 px on 2 threads reuses ~400 MB). */
const TRIM_FREE_BYTES = 512 * 2 ** 20;

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

export interface RowScores {
  features: number;
  coverage: number;
  spatialComplexity?: number;
  semanticRichness?: number;
}

/** One described row as bytes and numbers (saved for re-selection; see restore()). */
export interface SavedDescription {
  row: number;
  /** FeatureSet.toBuffer() */
  features: Uint8Array;
  scores: RowScores;
  embedding?: Float32Array;
}

export interface DescribeContext {
  detector: 'sift' | 'orb';
  maxFeatures: number;
  threads: number;
  embedder: Embedder | undefined;
  images: CandidateImages;
}

/**
 * A kept row's gray analysis image: a copy, or (frames decoded with rgbDeferred) its size only:
 * the pixels come from its planes in the candidate store's spill when it is described.
 */
interface KeptGray {
  data?: Uint8Array;
  width: number;
  height: number;
}

/** What describing found, by FrameTable row; owns the native feature sets until dispose(). */
export class Descriptions {
  /** Table row -> its local features. */
  readonly features = new Map<number, FeatureSet>();
  /** Table row -> L2-normalised embedding (with a model). */
  readonly embeddings = new Map<number, Float32Array>();
  readonly #scores = new Map<number, RowScores>();
  /**
   * Rows kept for describing later (keep()): a copy of their gray analysis image, until
   * describeKept() extracts the features of those the candidate stage needs and drops the rest.
   */
  readonly #keptGray = new Map<number, KeptGray>();
  /** Frames whose features were extracted (add() and describeKept()): the describe count. */
  described = 0;
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

  /** Described, or kept to be described without a decode (keep()). */
  isKept(row: number): boolean {
    return this.features.has(row) || this.#keptGray.has(row);
  }

  /**
   * Keeps `frames` as the rows `rows` without describing them yet (a one-pass run's keep windows:
   * features only for the candidates the global rule ends up with, see describeKept()): copies
   * the gray analysis image, embeds with a model, and encodes the full-resolution image,
   * releasing each frame once encoded; a frame decoded with `rgbDeferred` (no model) is not
   * encoded now: its planes wait in the candidate store's spill for encodeKept().
   */
  async keep(frames: Frame[], rows: readonly number[]): Promise<void> {
    const ctx = this.#context;
    const vectors = ctx.embedder ? await ctx.embedder.embed(frames.map((f) => ({ rgb: f.rgb!, width: f.rgbWidth, height: f.rgbHeight }))) : undefined;
    for (const [k, frame] of frames.entries()) {
      const row = rows[k]!;
      if (this.isKept(row)) {
        frame.release();
        continue;
      }
      const v = vectors?.[k];
      if (v) this.#setEmbedding(row, v);
      const { width, height } = frame;
      if (frame.rgbDeferred) {
        // Its gray image is made again from the spilled planes if it becomes a candidate: no
        // copy held meanwhile (360 x 0.5 MB at 960 px for N = 40, and their GC pressure).
        await ctx.images.spill(row, frame);
        this.#keptGray.set(row, { width, height });
        continue;
      }
      // One copy per kept frame (a share of the frames), so the pool slot goes back at once.
      this.#keptGray.set(row, { data: Uint8Array.prototype.slice.call(frame.gray!, 0, width * height), width, height });
      await ctx.images.add(row, frame.rgb!, frame.rgbWidth, frame.rgbHeight, () => frame.release());
    }
  }

  /**
   * Encodes the full-resolution images of the spilled kept rows among `rows`, `workers`
   * conversions + encodes at a time; the spill stays until dropKept(). Returns how many.
   */
  async encodeKept(rows: Iterable<number>, workers: number): Promise<number> {
    return this.#context.images.encodeSpilled(rows, workers);
  }

  /** Drops what keep() held of the kept rows (their gray copies, their spilled planes). */
  dropKept(): void {
    this.#keptGray.clear();
    this.#context.images.discardSpill();
  }

  /**
   * Extracts the features of the kept rows among `rows` on `threads` native threads (all cores
   * by default: the decode is over), in calls of DESCRIBE_CHUNK_PER_THREAD frames per thread, and
   * drops every other kept image. Returns how many rows it described.
   */
  async describeKept(rows: Iterable<number>, threads: number = this.#context.threads): Promise<number> {
    const ctx = this.#context;
    const wanted = [...new Set(rows)].filter((row) => this.#keptGray.has(row) && !this.features.has(row)).sort((a, b) => a - b);
    const kept = wanted.map((row) => this.#keptGray.get(row)!);
    this.#keptGray.clear();
    if (wanted.length === 0) return 0;
    const sets: FeatureSet[] = [];
    const chunk = Math.max(1, threads) * DESCRIBE_CHUNK_PER_THREAD;
    // Buffers for the spilled rows' gray images (FrameSpill.readGray makes them), reused from chunk to chunk.
    const buffers: Array<Uint8Array | undefined> = [];
    try {
      for (let at = 0; at < kept.length; at += chunk) {
        const images = await Promise.all(
          kept.slice(at, at + chunk).map(async ({ data, width, height }, k) => {
            if (data) return { data, width, height };
            const pixels = await ctx.images.spilledGray(wanted[at + k]!, width, height, buffers[k]);
            buffers[k] = new Uint8Array(pixels.buffer, pixels.byteOffset); // the whole buffer, for the next chunk
            return { data: pixels, width, height };
          }),
        );
        sets.push(...(await extractFeaturesBatch(images, { detector: ctx.detector, maxFeatures: ctx.maxFeatures, threads })));
        // The chunks' scale spaces (~50 MB per thread at 640 px) are reused by the next chunk,
        // but the feature sets kept between them fragment the arenas: give the free memory back
        // once it passes TRIM_FREE_BYTES, not after every chunk (the pages faulted in again
        // cost 15% of SIFT's CPU).
        trimNativeMemory(TRIM_FREE_BYTES);
      }
    } catch (err) {
      for (const set of sets) set.dispose();
      throw err;
    }
    this.described += sets.length;
    for (const [k, row] of wanted.entries()) {
      const set = sets[k]!;
      const { width, height } = kept[k]!;
      this.features.set(row, set);
      const embedded = this.#scores.get(row);
      this.#scores.set(row, { ...embedded, features: featureScore(set.count, width, height), coverage: gridCoverage(set.keypoints(), width, height) });
    }
    return wanted.length;
  }

  /** The embedding of a kept row; its dense statistics wait in the scores for the features. */
  #setEmbedding(row: number, v: FrameEmbedding): void {
    this.embeddings.set(row, v.embedding);
    if (v.stats) this.#scores.set(row, { features: 0, coverage: 0, spatialComplexity: v.stats.spatialComplexity.score, semanticRichness: v.stats.semanticRichness.score });
  }

  /**
   * Describes `frames` (gray at analysis size, RGB at full resolution) as the rows `rows` and
   * takes them over: each is released once its image is encoded. A frame whose row is
   * undefined is only released. `threads`: native threads for the features (default: up to 2).
   */
  async add(frames: Frame[], rows: ReadonlyArray<number | undefined>, threads = Math.min(2, this.#context.threads)): Promise<void> {
    const ctx = this.#context;
    const sets = await extractFeaturesBatch(frames, { detector: ctx.detector, maxFeatures: ctx.maxFeatures, threads });
    this.described += sets.length;
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

  /** The description of `row` as bytes, for saving (undefined when the row is not described). */
  save(row: number): SavedDescription | undefined {
    const set = this.features.get(row);
    const scores = this.#scores.get(row);
    if (!set || !scores) return undefined;
    const embedding = this.embeddings.get(row);
    return { row, features: set.toBuffer(), scores: { ...scores }, ...(embedding ? { embedding } : {}) };
  }

  /** Takes a saved description back (its features copied into a new native set). */
  restore(saved: SavedDescription): void {
    if (this.features.has(saved.row)) return;
    this.features.set(saved.row, featureSetFromBuffer(saved.features));
    this.#scores.set(saved.row, { ...saved.scores });
    if (saved.embedding) this.embeddings.set(saved.row, saved.embedding);
  }

  /**
   * Writes the described rows' measured columns into the table (features replace the cheap
   * keypoint evidence); with `rows`, only those (the candidates: the rest of what a one-pass
   * run described must not change what the candidate rule saw).
   */
  applyTo(table: FrameTable, rows?: Iterable<number>): void {
    const scores = rows ? [...rows].flatMap((row) => (this.#scores.has(row) ? [[row, this.#scores.get(row)!] as const] : [])) : this.#scores;
    for (const [row, s] of scores) {
      table.features[row] = s.features;
      table.coverage[row] = s.coverage;
      if (table.spatialComplexity && s.spatialComplexity !== undefined) table.spatialComplexity[row] = s.spatialComplexity;
      if (table.semanticRichness && s.semanticRichness !== undefined) table.semanticRichness[row] = s.semanticRichness;
    }
    // Re-selection restores embeddings without loading the model.
    if (this.#context.embedder || this.embeddings.size > 0) (table as { embedding?: ReadonlyMap<number, Float32Array> }).embedding = this.embeddings;
  }

  dispose(): void {
    for (const set of this.features.values()) set.dispose();
    this.features.clear();
    this.#keptGray.clear();
  }
}
