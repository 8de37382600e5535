/**
 * Pass 1 as the only decode of a video. Decoding dominates the cost, and a frame decoded again
 * for its description costs the decode of its GOP prefix, so pass 1 decodes with the
 * full-resolution RGB alongside the analysis image and a `WindowKeeper` keeps, per short window,
 * the best few frames by cheap quality, encoded while decoded in the background of the decode
 * (fast: described too; balanced / high_quality: their analysis image kept, and described after
 * the candidate stage only if it is a candidate); the others go straight back to the pool.
 * - fast (planSparsePass): only a head of each GOP (keyframes only when they come often) at a
 *   sampled rate; candidates are the kept frames.
 * - balanced / high_quality (planDensePass): every frame; windows of a fraction of the minimum
 *   spacing keep a superset of what the candidate stage can choose (its rule is not assumed:
 *   stages/candidates.ts checks the global candidates against the kept ones afterwards).
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
/** The selection's upper bound on the minimum spacing of candidates (s) when the options leave it open. */
const MAX_SPACING_SEC = 0.25;
/** Memory for full-resolution frame slots of the pass. */
const POOL_BUDGET_BYTES = 384 * 2 ** 20;
/** Encodes the image writer may have in flight, each holding its frame (ImageWriter's maxPending + 1). */
const WRITER_HOLD = 5;

export interface KeepPlan {
  /** Decoder options of the pass (sampling, GOP head, RGB output, batch and pool sizes). */
  decode: DecodeOptions;
  /** Seconds of video per keep-window. */
  windowSec: number;
  keepPerWindow: number;
  /** Frames a window may hold before it is decided early (pool bound); Infinity: ranked as they come (only the best keepPerWindow stay held). */
  maxHeld: number;
  /** About how many frames the pass will deliver (for progress). */
  expectedFrames: number;
  /**
   * A window keeps its frames at least this far apart (s) from each other and from the
   * previous window's, best first, before it takes closer ones: kept frames closer than the
   * selection's minimum spacing cannot both be picked (fast mode's candidates are its kept
   * frames). Undefined: the best frames whatever their spacing.
   */
  minKeptSpacingSec?: number;
  /**
   * Keep the kept frames' gray analysis images and describe only the global rule's candidates
   * among them after the pass (Descriptions.keep / describeKept), instead of describing every
   * kept frame while decoding.
   */
  deferFeatures?: boolean;
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

export function planSparsePass(keyframeGapSec: number, info: VideoInfo, options: ResolvedExtractOptions): KeepPlan {
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
      skipNonReference: true,
      batchSize,
      poolSize: slots,
    },
    windowSec,
    keepPerWindow: Math.max(2, Math.min(maxHeld, wanted)),
    maxHeld,
    expectedFrames: Math.max(1, Math.round(spanSec * sampledShare(keyframeGapSec, head, fps))),
    minKeptSpacingSec: options.select.minSpacingSec ?? MAX_SPACING_SEC,
  };
}

/** Kept frames per candidate the stage may choose (the margin of the superset). */
export const KEEP_MARGIN = 1.5;
/**
 * Above this share of all frames kept, describing and encoding the superset costs more than
 * decoding the candidates again: the run keeps the two-pass pipeline (dense counts on short
 * videos), and the manifest says so.
 */
export const MAX_KEPT_SHARE = 0.3;
/**
 * Candidate bins per target pick by mode (segments per pick x candidates per segment of the
 * selection's defaults). Only sizes the windows: a candidate the windows missed is replaced or
 * decoded again (stages/candidates.ts), never lost.
 */
const BINS_PER_PICK: Record<string, number> = { balanced: 6, high_quality: 12 };
/**
 * balanced / high_quality: every frame decoded once, deblocked (the frames are the output
 * images too), RGB at full resolution. Windows keep their best frame each, ranked as frames
 * come so only that one is held: one window per candidate the stage may choose (at most one per
 * spacing, and so many bins per pick of the count), times KEEP_MARGIN. Quality runs in
 * stretches, so many short windows of one frame cover the candidates' bins better than fewer
 * long ones of several. Undefined when that would keep more than MAX_KEPT_SHARE of the frames.
 */
export function planDensePass(info: VideoInfo, options: ResolvedExtractOptions): KeepPlan | undefined {
  const frameRate = info.avgFrameRate > 0 ? info.avgFrameRate : 30;
  const spanSec = Math.max(1 / frameRate, (options.end ?? info.durationSec) - (options.start ?? 0));
  const frames = spanSec * frameRate;
  const target = options.select.count ?? options.select.maxFrames;
  const spacing = options.select.minSpacingSec ?? MAX_SPACING_SEC;
  const candidates = Math.min(frames, spacing > 0 ? spanSec / spacing : frames, target === undefined ? Infinity : (BINS_PER_PICK[options.mode] ?? 6) * target);
  const share = (KEEP_MARGIN * candidates) / frames;
  if (share > MAX_KEPT_SHARE) return undefined;
  const slotBytes = Math.max(1, info.displayWidth * info.displayHeight * 3 + info.outputWidth * info.outputHeight);
  const slots = Math.max(12, Math.min(24, Math.floor(POOL_BUDGET_BYTES / slotBytes)));
  const batchSize = slots >= 20 ? 4 : 2;
  // Without a model nothing reads a kept frame's RGB before the candidate stage: the frames
  // are decoded without converting it, and the kept ones' planes wait in the candidate
  // store's spill; only the candidates among them are converted and encoded (describe stage).
  const deferRgb = options.model === undefined && options.embedder === undefined;
  return {
    decode: { rgb: true, rgbFullResolution: true, ...(deferRgb ? { rgbDeferred: true } : {}), fastDecode: false, batchSize, poolSize: slots },
    // A hair under the span of 1/share frames, so timestamp rounding never merges two windows.
    windowSec: (1 / share - 0.5) / frameRate,
    keepPerWindow: 1,
    maxHeld: Infinity,
    expectedFrames: Math.max(1, Math.round(frames)),
    // The windows keep KEEP_MARGIN x the bins, the rule takes fewer (about 4-5 per pick for 6
    // bins): SIFT after the rule describes only those.
    deferFeatures: true,
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

/** Best first; the earlier row wins a tie. */
const better = (a: Held, b: Held) => b.quality - a.quality || a.row - b.row;

/**
 * `ranked` (best first) reordered so that the first `keep` are, best first, frames at least
 * `spacing` s from each other and from `lastKeptSec`; the closer ones follow in their order
 * (taken only when too few are spaced).
 */
function spacedFirst(ranked: Held[], spacing: number | undefined, lastKeptSec: number, keep: number): Held[] {
  if (spacing === undefined || spacing <= 0) return ranked;
  const spaced: Held[] = [];
  const close: Held[] = [];
  for (const h of ranked) {
    const t = h.frame.ptsSec;
    const clear = spaced.length < keep && Math.abs(t - lastKeptSec) >= spacing && spaced.every((s) => Math.abs(t - s.frame.ptsSec) >= spacing);
    (clear ? spaced : close).push(h);
  }
  return [...spaced, ...close];
}

/**
 * Keeps the best frames of each window, describes them in the background of the decode (one
 * window's description in flight at a time), releases the rest.
 */
export class WindowKeeper {
  /** Rows kept (described and encoded). */
  readonly kept: number[] = [];
  readonly #plan: KeepPlan;
  readonly #descriptions: Descriptions;
  readonly #quality: RowQuality;
  #held: Held[] = [];
  #windowStart = 0;
  /** The last frame taken: the caller measures the next batch's motion against it. */
  #reference: Frame | undefined;
  /** Frames dropped from the window while they were the reference: released at the next take. */
  #dropped: Frame[] = [];
  /** Time of the last frame a window kept (minKeptSpacingSec). */
  #lastKeptSec = -Infinity;
  #describing: Promise<void> = Promise.resolve();
  /** The first describe failure: thrown by the next take() or finish(). */
  #failure: unknown;

  readonly #threads: number | undefined;

  /** `threads`: for the features of the kept frames (default: the descriptions' own). */
  constructor(plan: KeepPlan, descriptions: Descriptions, analysisLongestSide: number, threads?: number) {
    this.#plan = plan;
    this.#threads = threads;
    this.#descriptions = descriptions;
    this.#quality = new RowQuality(analysisLongestSide);
  }

  /**
   * Takes over measured frames (rows firstRow...). The last one stays valid until the next call
   * at least, so the caller may still measure motion against it.
   */
  async take(frames: readonly Frame[], firstRow: number, columns: MeasureColumns): Promise<void> {
    // The previous batch's last frame served as its motion reference: it may go now.
    for (const f of this.#dropped) f.release();
    this.#dropped = [];
    this.#reference = frames.at(-1);
    const ranked = this.#plan.maxHeld === Infinity;
    for (const [k, frame] of frames.entries()) {
      const full = this.#held.length >= this.#plan.maxHeld;
      if (this.#held.length > 0 && (full || frame.ptsSec >= this.#windowStart + this.#plan.windowSec)) await this.#decide();
      if (this.#held.length === 0) this.#windowStart = frame.ptsSec;
      const quality = this.#quality.of(columns, firstRow + k);
      const held: Held = { frame, row: firstRow + k, quality: Number.isFinite(quality) ? quality : -1 };
      if (!ranked) this.#held.push(held);
      else this.#rank(held);
    }
  }

  /** Ranked windows hold only their best frames: a newcomer replaces the worst, or goes. */
  #rank(held: Held): void {
    const list = this.#held;
    let at = list.length;
    while (at > 0 && better(held, list[at - 1]!) < 0) at--;
    list.splice(at, 0, held);
    if (list.length > this.#plan.keepPerWindow) this.#drop(list.pop()!.frame);
  }

  #drop(frame: Frame): void {
    // The frame taken last may still be the motion reference of the batch being measured.
    if (frame === this.#reference) this.#dropped.push(frame);
    else frame.release();
  }

  async finish(): Promise<void> {
    if (this.#held.length > 0) await this.#decide();
    await this.#describing;
    if (this.#failure) throw this.#failure;
    for (const f of this.#dropped) f.release();
    this.#dropped = [];
  }

  /** After a failure: releases what is still held, once the description in flight has settled. */
  async dispose(): Promise<void> {
    this.#failure ??= new Error('disposed');
    for (const h of this.#held) h.frame.release();
    this.#held = [];
    await this.#describing;
    for (const f of this.#dropped) f.release();
    this.#dropped = [];
  }

  async #decide(): Promise<void> {
    const held = this.#held;
    this.#held = [];
    const ranked = spacedFirst([...held].sort(better), this.#plan.minKeptSpacingSec, this.#lastKeptSec, this.#plan.keepPerWindow);
    const keep = ranked.slice(0, this.#plan.keepPerWindow).sort((a, b) => a.row - b.row);
    for (const h of ranked.slice(this.#plan.keepPerWindow)) this.#drop(h.frame);
    if (keep.length > 0) this.#lastKeptSec = keep.at(-1)!.frame.ptsSec;
    // Windows are described one after another in the background while the decode goes on; the
    // frame pool bounds how far the decode may run ahead (it waits for slots).
    this.#describing = this.#describing.then(() => this.#describe(keep));
    if (this.#failure) throw this.#failure;
  }

  async #describe(keep: Held[]): Promise<void> {
    if (this.#failure) {
      for (const h of keep) h.frame.release();
      return;
    }
    try {
      const frames = keep.map((h) => h.frame);
      const rows = keep.map((h) => h.row);
      if (this.#plan.deferFeatures) await this.#descriptions.keep(frames, rows);
      else await this.#descriptions.add(frames, rows, this.#threads);
      for (const h of keep) this.kept.push(h.row);
    } catch (err) {
      for (const h of keep) h.frame.release();
      this.#failure ??= err;
    }
  }
}

/**
 * The rows a one-pass run with `plan` keeps, replayed from pass 1's columns alone (the keeper
 * ranks by them; no frame, nothing described): re-selection finds the candidates a fresh
 * one-pass extract with other options would have (src/report/reselect.ts).
 */
export async function replayKeeper(plan: KeepPlan, columns: MeasureColumns, analysisLongestSide: number): Promise<Set<number>> {
  const recorder = { add: async () => undefined, keep: async () => undefined } as unknown as Descriptions;
  const keeper = new WindowKeeper(plan, recorder, analysisLongestSide);
  const batch = 64;
  for (let first = 0; first < columns.length; first += batch) {
    const frames = Array.from({ length: Math.min(batch, columns.length - first) }, (_, k) => ({ ptsSec: columns.ptsSec[first + k]!, release: () => undefined }) as unknown as Frame);
    await keeper.take(frames, first, columns);
  }
  await keeper.finish();
  return new Set(keeper.kept);
}
