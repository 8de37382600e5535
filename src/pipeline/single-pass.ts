/**
 * Fast mode's single pass over a video. Decoding dominates the cost of a long-GOP video, and a
 * frame late in a GOP costs the decode of every frame before it, so the pass decodes only a
 * head of each GOP (keyframes only when they come often) at a sampled rate, with the
 * full-resolution RGB alongside the analysis image. Per window of about a GOP, the best few
 * frames by cheap quality are described (features, DINO) and encoded at once; the others go
 * straight back to the pool. Candidates are then chosen among the kept frames, so no frame is
 * decoded twice.
 */
import type { DecodeOptions, Frame, VideoInfo } from '../core/decode.js';
import type { Descriptions } from './descriptions.js';
import { RowQuality } from './frame-table.js';
import type { MeasureColumns } from './types.js';
import type { ResolvedExtractOptions } from './options.js';

/** Keyframes alone stand for the video when they come at least this often (seconds)... */
export const KEYFRAMES_ONLY_MAX_GAP_SEC = 1.0;
/** Share of each GOP decoded at least... */
export const HEAD_SHARE = 0.3;
/** ...and at most this much time (s) left undecoded before the next keyframe. */
export const MAX_SKIPPED_SEC = 1.5;
/** ...and enough sampled frames for the count: this many per target pick (defects take some). */
export const SAMPLES_PER_PICK = 3;
/** Kept frames per target pick (spread over windows). */
const KEEP_PER_PICK = 2;
/** Kept frames per window when the count is automatic. */
const KEEP_AUTO = 3;
/** Memory for full-resolution frame slots of the pass. */
const POOL_BUDGET_BYTES = 384 * 2 ** 20;
/** Encodes the image writer may have in flight, each holding its frame (ImageWriter's maxPending + 1). */
const WRITER_HOLD = 5;

export interface SparsePlan {
  /** Decoder options of the pass (sampling, GOP head, RGB output, batch and pool sizes). */
  decode: DecodeOptions;
  /** Seconds of video per keep-window (about a GOP). */
  windowSec: number;
  keepPerWindow: number;
  /** Frames a window may hold before it is decided early (pool bound). */
  maxHeld: number;
  /** About how many frames the pass will deliver (for progress). */
  expectedFrames: number;
}

/**
 * GOP head (s) for a mean keyframe gap, given the samples per second the count needs (0 when
 * the count is automatic) at the sampled rate `fps`: undefined = no head (decode every frame
 * at the sampled rate).
 */
export function gopHead(keyframeGapSec: number, neededPerSec = 0, fps = Infinity): number | undefined {
  if (keyframeGapSec <= KEYFRAMES_ONLY_MAX_GAP_SEC && 1 / keyframeGapSec >= neededPerSec) return 0;
  const share = Math.max(HEAD_SHARE, neededPerSec / fps);
  if (share >= 1) return undefined;
  const head = Math.max(share * keyframeGapSec, keyframeGapSec - MAX_SKIPPED_SEC);
  return Number.isFinite(head) ? head : undefined;
}

export function planSparsePass(keyframeGapSec: number, info: VideoInfo, options: ResolvedExtractOptions): SparsePlan {
  const windowSec = Number.isFinite(keyframeGapSec) ? Math.max(keyframeGapSec, 1) : 1;
  const spanSec = Math.max(windowSec, (options.end ?? info.durationSec) - (options.start ?? 0));
  const target = options.select.count ?? options.select.maxFrames;
  // A dense count (many picks per second) samples faster and decodes more of each GOP.
  const neededPerSec = target === undefined ? 0 : (SAMPLES_PER_PICK * target) / spanSec;
  const frameRate = info.avgFrameRate > 0 ? info.avgFrameRate : Infinity;
  const fps = Math.min(frameRate, Math.max(options.preset.sparseFps, neededPerSec));
  const head = gopHead(keyframeGapSec, neededPerSec, fps);
  const slotBytes = Math.max(1, info.displayWidth * info.displayHeight * 3);
  const slots = Math.max(12, Math.min(24, Math.floor(POOL_BUDGET_BYTES / slotBytes)));
  const batchSize = slots >= 20 ? 4 : 2;
  const maxHeld = Math.max(2, slots - 2 * batchSize - WRITER_HOLD);
  const wanted = target === undefined ? KEEP_AUTO : Math.ceil((KEEP_PER_PICK * target * windowSec) / spanSec);
  return {
    decode: {
      sampling: 'fps',
      fps,
      ...(head !== undefined ? { gopHeadSec: head, gopMaxSkipSec: MAX_SKIPPED_SEC } : {}),
      rgb: true,
      rgbFullResolution: true,
      fastDecode: false, // these frames are the output images too
      batchSize,
      poolSize: slots,
    },
    windowSec,
    keepPerWindow: Math.max(2, Math.min(maxHeld, wanted)),
    maxHeld,
    expectedFrames: Math.max(1, Math.round(spanSec * sampledShare(keyframeGapSec, head, fps))),
  };
}

/** Frames per second of video the pass delivers: keyframes, a head's worth of samples per GOP, or the rate. */
function sampledShare(keyframeGapSec: number, head: number | undefined, fps: number): number {
  if (head === undefined || !Number.isFinite(keyframeGapSec)) return fps;
  if (head === 0) return Math.min(fps, 1 / keyframeGapSec);
  return Math.min(fps, (Math.floor(head * fps) + 1) / keyframeGapSec);
}

interface Held {
  frame: Frame;
  row: number;
  quality: number;
}

/** Holds each window's frames, keeps and describes the best, releases the rest. */
export class WindowKeeper {
  /** Rows kept (described and encoded). */
  readonly kept: number[] = [];
  readonly #plan: SparsePlan;
  readonly #descriptions: Descriptions;
  readonly #quality: RowQuality;
  #held: Held[] = [];
  #windowStart = 0;

  constructor(plan: SparsePlan, descriptions: Descriptions, analysisLongestSide: number) {
    this.#plan = plan;
    this.#descriptions = descriptions;
    this.#quality = new RowQuality(analysisLongestSide);
  }

  /**
   * Takes over measured frames (rows firstRow...). The last one stays held until the next call
   * at least, so the caller may still measure motion against it.
   */
  async take(frames: readonly Frame[], firstRow: number, columns: MeasureColumns): Promise<void> {
    for (const [k, frame] of frames.entries()) {
      const full = this.#held.length >= this.#plan.maxHeld;
      if (this.#held.length > 0 && (full || frame.ptsSec >= this.#windowStart + this.#plan.windowSec)) await this.#decide();
      if (this.#held.length === 0) this.#windowStart = frame.ptsSec;
      const quality = this.#quality.of(columns, firstRow + k);
      this.#held.push({ frame, row: firstRow + k, quality: Number.isFinite(quality) ? quality : -1 });
    }
  }

  async finish(): Promise<void> {
    if (this.#held.length > 0) await this.#decide();
  }

  /** Releases what is still held (after a failure). */
  dispose(): void {
    for (const h of this.#held) h.frame.release();
    this.#held = [];
  }

  async #decide(): Promise<void> {
    const held = this.#held;
    this.#held = [];
    const ranked = [...held].sort((a, b) => b.quality - a.quality || a.row - b.row);
    const keep = ranked.slice(0, this.#plan.keepPerWindow).sort((a, b) => a.row - b.row);
    for (const h of ranked.slice(this.#plan.keepPerWindow)) h.frame.release();
    try {
      await this.#descriptions.add(
        keep.map((h) => h.frame),
        keep.map((h) => h.row),
      );
    } catch (err) {
      for (const h of keep) h.frame.release();
      throw err;
    }
    for (const h of keep) this.kept.push(h.row);
  }
}
