/**
 * Decoding video (or an image sequence) into analysis frames, streamed in batches.
 *
 * Frames live in a bounded native pool and reach JS as Buffers over native memory, without
 * a copy. Call `frame.release()` when done with a frame so its slot can be reused (a finalizer
 * returns forgotten frames eventually, but the decoder stalls until slots come back). After
 * release, a frame's Buffers may show other pixels. Decoding runs on the libuv threadpool;
 * the next batch is decoded while the caller works on the current one.
 */
import { availableParallelism } from 'node:os';

import type { NativeDecodeStats, NativeDecoder, NativeFrame, NativeProbe } from '../../bindings/index.js';
import { FramesiftError, invalidArg, withCallerStack } from '../errors.js';
import { resolveInput, type ResolvedInput } from './input.js';
import { native } from './native.js';

export type Sampling = 'all' | 'fps' | 'keyframes';

let delivered = 0;

/** Frames every decoder of this thread has delivered so far (how many decodes a run cost). */
export function deliveredFrameCount(): number {
  return delivered;
}

export interface DecodeOptions {
  /** Longest side of the analysis image in pixels (aspect kept, never upscaled), or 'source'. Default 640. */
  analysisSize?: number | 'source';
  /** Produce gray8 planes. Default true. */
  gray?: boolean;
  /** Produce packed RGB24 planes. Default false. */
  rgb?: boolean;
  /**
   * RGB at the source size (display rotation applied) while gray stays at the analysis size:
   * one decode gives both the analysis image and the output image. Default false.
   */
  rgbFullResolution?: boolean;
  /**
   * With rgb: no RGB conversion while decoding; each frame's slot holds its decoded planes
   * instead (about half the bytes at 4:2:0, a copy without arithmetic), and `frame.rgb` is
   * undefined. A FrameSpill (src/core/spill.ts) keeps the planes of the frames worth it and
   * converts those to the same RGB the decode would have made. Default false.
   */
  rgbDeferred?: boolean;
  /** 'all' frames (default), a target rate ('fps', time-based and VFR-safe), or 'keyframes' only. */
  sampling?: Sampling;
  /** Frames per second for sampling 'fps'. */
  fps?: number;
  /** Start of the time range in seconds (from the start of the container). Default 0. */
  start?: number;
  /** End of the time range in seconds, inclusive. Default: the end of the stream. */
  end?: number;
  /** Decoder threads; 0 = all cores (default). */
  threads?: number;
  /** Refuse streams with more pixels per frame than this, before allocating. Default 8192*8192. */
  maxPixels?: number;
  /** Frames per batch. Default 16. */
  batchSize?: number;
  /** Frame slots in the native pool. Default 3 * batchSize (current batch, the next, slack). */
  poolSize?: number;
  /** Apply the display rotation (display matrix, EXIF orientation). Default true. */
  applyRotation?: boolean;
  /** Frame rate assigned to an image sequence. Default 1. */
  sequenceFps?: number;
  /**
   * Analysis-grade decoding: skips H.264/HEVC deblocking and allows libavcodec's non-compliant
   * speed-ups (10-20% less CPU). Pixels differ slightly from a reference decode, which a
   * downscaled analysis image averages away; never use it for output frames. Default false.
   */
  fastDecode?: boolean;
  /**
   * Skip decoding frames that no other frame references (most B-frames): a sampled pass then
   * decodes a fraction of the stream, and what it decodes is exact. Indices come from
   * timestamps (exact for constant frame rate). Default false.
   */
  skipNonReference?: boolean;
  /**
   * GOP-head sampling (seconds >= 0): after each keyframe, decode only the frames of the next
   * `gopHeadSec` seconds and skip the rest of the GOP without decoding it. What is decoded is a
   * decode-order run from the keyframe, so its pixels are exact; decoding costs about the head's
   * share of each GOP. 0 = keyframes only. Combines with sampling 'all' or 'fps'. Indices come
   * from timestamps. Default: off.
   */
  gopHeadSec?: number;
  /**
   * With gopHeadSec: where the container's index gives a GOP's length (mp4, mkv), the head of
   * that GOP grows so that at most this many seconds of it stay undecoded, so irregular GOPs
   * (a long one after scene-cut keyframes) leave no long hole. Default: off.
   */
  gopMaxSkipSec?: number;
  /**
   * Deliver only the frames at these presentation times (seconds, as frames report them),
   * seeking across long gaps: how chosen frames are fetched at full resolution.
   */
  wantedPts?: number[];
  /**
   * One per wantedPts entry: the time of the keyframe at or before it (VideoDecoder.keyframeTimes()
   * of an earlier pass). Decoding then seeks to that keyframe whenever it lies ahead, so each
   * fetched frame costs its GOP prefix only.
   */
  wantedKeyframePts?: number[];
  /**
   * Stop after this many decoded frames (stats.capped tells): a bound on the work one input
   * can cost, whatever its header claims. Default: no cap.
   */
  maxFramesDecoded?: number;
  /**
   * URL inputs: a read that receives no byte for this many seconds fails with
   * ERR_FRAMESIFT_TIMEOUT instead of waiting on a stalled server; 0 waits forever. Default 30.
   */
  readTimeoutSec?: number;
}

export type VideoInfo = NativeProbe;
export type DecodeStats = NativeDecodeStats;

interface ResolvedOptions extends Required<Omit<DecodeOptions, 'fps' | 'end' | 'analysisSize'>> {
  /** 0 = source size. */
  analysisSize: number;
  fps: number;
  end: number;
}

export const DEFAULT_MAX_PIXELS = 8192 * 8192;
export const DEFAULT_READ_TIMEOUT_SEC = 30;

function checkNumber(name: string, value: unknown, min: number, max: number, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalidArg(name, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, value);
  }
  return value;
}

function checkAscending(name: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw invalidArg(name, 'an array of times in seconds', value);
  value.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (i > 0 && v <= value[i - 1])) {
      throw invalidArg(`${name}[${i}]`, 'ascending times >= 0', v);
    }
  });
  return value as number[];
}

function checkKeyframes(value: unknown, wanted: unknown): number[] {
  if (!Array.isArray(value) || !Array.isArray(wanted) || value.length !== wanted.length) {
    throw invalidArg('wantedKeyframePts', 'one time per wantedPts entry', value);
  }
  value.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v > (wanted[i] as number) + 1e-6) {
      throw invalidArg(`wantedKeyframePts[${i}]`, `a time at or before wantedPts[${i}]`, v);
    }
  });
  return value as number[];
}

function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidArg(name, 'a boolean', value);
  return value;
}

/** Validates options and fills defaults; throws ERR_FRAMESIFT_INVALID_ARG with the option name. */
export function resolveDecodeOptions(options: DecodeOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const o = options;
  const batchSize = o.batchSize === undefined ? 16 : checkNumber('batchSize', o.batchSize, 1, 4096, true);
  const sampling = o.sampling ?? 'all';
  if (!['all', 'fps', 'keyframes'].includes(sampling)) throw invalidArg('sampling', "'all', 'fps' or 'keyframes'", sampling);
  const fps = o.fps === undefined ? 0 : checkNumber('fps', o.fps, 1e-6, 10_000, false);
  if (sampling === 'fps' && o.fps === undefined) throw invalidArg('fps', "a rate > 0 with sampling 'fps'", o.fps);
  const start = o.start === undefined ? 0 : checkNumber('start', o.start, 0, 1e9, false);
  const end = o.end === undefined ? -1 : checkNumber('end', o.end, 0, 1e9, false);
  if (o.end !== undefined && end < start) throw invalidArg('end', `a time >= start (${start})`, end);
  const resolved: ResolvedOptions = {
    analysisSize: o.analysisSize === undefined ? 640 : o.analysisSize === 'source' ? 0 : checkNumber('analysisSize', o.analysisSize, 16, 16384, true),
    gray: o.gray === undefined ? true : checkBoolean('gray', o.gray),
    rgb: o.rgb === undefined ? false : checkBoolean('rgb', o.rgb),
    sampling,
    fps,
    start,
    end,
    threads: o.threads === undefined ? 0 : checkNumber('threads', o.threads, 0, 256, true),
    maxPixels: o.maxPixels === undefined ? DEFAULT_MAX_PIXELS : checkNumber('maxPixels', o.maxPixels, 1, 2 ** 40, true),
    batchSize,
    poolSize: o.poolSize === undefined ? 3 * batchSize : checkNumber('poolSize', o.poolSize, 1, 65536, true),
    applyRotation: o.applyRotation === undefined ? true : checkBoolean('applyRotation', o.applyRotation),
    sequenceFps: o.sequenceFps === undefined ? 1 : checkNumber('sequenceFps', o.sequenceFps, 1e-6, 10_000, false),
    wantedPts: o.wantedPts === undefined ? [] : checkAscending('wantedPts', o.wantedPts),
    wantedKeyframePts: o.wantedKeyframePts === undefined ? [] : checkKeyframes(o.wantedKeyframePts, o.wantedPts),
    skipNonReference: o.skipNonReference === undefined ? false : checkBoolean('skipNonReference', o.skipNonReference),
    gopHeadSec: o.gopHeadSec === undefined ? -1 : checkNumber('gopHeadSec', o.gopHeadSec, 0, 1e6, false),
    gopMaxSkipSec: o.gopMaxSkipSec === undefined ? -1 : checkNumber('gopMaxSkipSec', o.gopMaxSkipSec, 0, 1e6, false),
    fastDecode: o.fastDecode === undefined ? false : checkBoolean('fastDecode', o.fastDecode),
    rgbFullResolution: o.rgbFullResolution === undefined ? false : checkBoolean('rgbFullResolution', o.rgbFullResolution),
    rgbDeferred: o.rgbDeferred === undefined ? false : checkBoolean('rgbDeferred', o.rgbDeferred),
    maxFramesDecoded: o.maxFramesDecoded === undefined ? 0 : checkNumber('maxFramesDecoded', o.maxFramesDecoded, 1, 2 ** 40, true),
    readTimeoutSec: o.readTimeoutSec === undefined ? DEFAULT_READ_TIMEOUT_SEC : checkNumber('readTimeoutSec', o.readTimeoutSec, 0, 86_400, false),
  };
  if (resolved.rgbDeferred && !resolved.rgb) throw invalidArg('rgbDeferred', 'false when rgb is false (it defers the RGB conversion)', o.rgbDeferred);
  if (!resolved.gray && !resolved.rgb) throw invalidArg('gray', 'true when rgb is false (some output is needed)', o.gray);
  if (resolved.poolSize < resolved.batchSize) throw invalidArg('poolSize', `at least batchSize (${resolved.batchSize})`, resolved.poolSize);
  return resolved;
}

/** One decoded frame over native memory. */
export class Frame {
  readonly index: number;
  readonly ptsSec: number;
  readonly keyframe: boolean;
  readonly width: number;
  readonly height: number;
  /** gray8, width * height bytes (when gray output is on). */
  readonly gray?: Buffer;
  /** packed RGB24, rgbWidth * rgbHeight * 3 bytes (when rgb output is on). */
  readonly rgb?: Buffer;
  /** Size of the RGB plane: width x height unless rgbFullResolution. */
  readonly rgbWidth: number;
  readonly rgbHeight: number;
  /** Decoded with rgbDeferred: the RGB waits in the slot's planes (FrameSpill.write). */
  readonly rgbDeferred: boolean;
  /** Opaque ticket native calls use to pin the frame while they read it. */
  readonly handle: unknown;
  #owner: VideoDecoder;
  #released = false;

  constructor(raw: NativeFrame, owner: VideoDecoder) {
    this.index = raw.index;
    this.ptsSec = raw.ptsSec;
    this.keyframe = raw.keyframe;
    this.width = raw.width;
    this.height = raw.height;
    if (raw.gray) this.gray = raw.gray;
    if (raw.rgb) this.rgb = raw.rgb;
    this.rgbWidth = raw.rgbWidth ?? raw.width;
    this.rgbHeight = raw.rgbHeight ?? raw.height;
    this.rgbDeferred = raw.rgbDeferred === true;
    this.handle = raw.handle;
    this.#owner = owner;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Returns the frame's slot to the pool. Safe to call twice. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.releaseFrame(this);
  }
}

export interface FrameBatch {
  frames: Frame[];
  /** Decoder statistics so far (frames lost to damage, errors). */
  stats: DecodeStats;
}

/** An open decoder. Use `batches()` in a for-await loop; close() (or `await using`) when done. */
export class VideoDecoder {
  readonly info: VideoInfo;
  readonly options: Readonly<ResolvedOptions>;
  readonly input: string;
  #native: NativeDecoder;
  #closed = false;
  #iterating = false;
  #lastStats: DecodeStats | undefined;
  #releaseWaiters: Array<() => void> = [];

  /** Use openVideo(). */
  constructor(nativeDecoder: NativeDecoder, info: VideoInfo, options: ResolvedOptions, input: string) {
    this.#native = nativeDecoder;
    this.info = info;
    this.options = options;
    this.input = input;
  }

  get stats(): DecodeStats | undefined {
    return this.#lastStats;
  }

  /** Internal: Frame.release() lands here. */
  releaseFrame(frame: Frame): void {
    this.#native.release(frame.handle);
    const waiters = this.#releaseWaiters;
    this.#releaseWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Times of the keyframes demuxed so far, ascending (video inputs; empty for image sequences). */
  keyframeTimes(): Float64Array {
    this.#checkUsable();
    return this.#native.keyframeTimes();
  }

  /**
   * The first `max` keyframe times (s) read from the container's index, with nothing demuxed or
   * decoded; empty when the index does not list every frame (Matroska cues, TS, image sequences).
   */
  indexedKeyframeTimes(max: number): Float64Array {
    this.#checkUsable();
    return this.#native.indexedKeyframeTimes(max);
  }

  /** Restarts decoding at `seconds`; the time range end still applies. Not during batches(). */
  async seek(seconds: number): Promise<void> {
    checkNumber('seek seconds', seconds, 0, 1e9, false);
    this.#checkUsable();
    if (this.#iterating) throw new FramesiftError(`${this.input}: cannot seek while batches() is iterating`, 'ERR_FRAMESIFT_BUSY', { input: this.input });
    await withCallerStack(this.#native.seek(seconds), new Error());
  }

  /**
   * Streams the frames in batches. Honours `signal`; leaving the loop early (break, throw)
   * closes the decoder. A stream that ends before its declared length throws
   * ERR_FRAMESIFT_TRUNCATED after its last frames were delivered.
   */
  async *batches(options: { signal?: AbortSignal; closeOnExit?: boolean } = {}): AsyncGenerator<FrameBatch, void, undefined> {
    const { signal, closeOnExit = true } = options;
    this.#checkUsable();
    if (this.#iterating) throw new FramesiftError(`${this.input}: batches() is already iterating`, 'ERR_FRAMESIFT_BUSY', { input: this.input });
    this.#iterating = true;
    const batchSize = this.options.batchSize;
    // The read ahead may fail while nobody awaits it (close() during a suspended loop): it is
    // marked handled here and still awaited, with its error, by the loop.
    const readAhead = () => {
      const read = this.#native.read(batchSize);
      read.catch(() => undefined);
      return read;
    };
    let pending: Promise<Awaited<ReturnType<NativeDecoder['read']>>> | undefined = readAhead();
    try {
      for (;;) {
        const result = await pending!;
        pending = undefined;
        this.#lastStats = result.stats;
        throwIfAborted(signal, this.input);
        if (result.starved) {
          await this.#waitForRelease(signal);
          pending = readAhead();
          continue;
        }
        // Decode the next batch while the caller works on this one.
        if (!result.done) pending = readAhead();
        if (result.frames.length > 0) {
          delivered += result.frames.length;
          yield { frames: result.frames.map((raw) => new Frame(raw, this)), stats: result.stats };
        }
        if (result.done) {
          if (result.stats.truncated) {
            throw new FramesiftError(
              `${this.input}: the stream is truncated (${result.stats.lastError}); ${result.stats.framesDelivered} frames were decoded`,
              'ERR_FRAMESIFT_TRUNCATED',
              { input: this.input, cause: result.stats.lastError },
            );
          }
          return;
        }
        throwIfAborted(signal, this.input);
      }
    } finally {
      if (pending) await pending.catch(() => undefined);
      this.#iterating = false;
      if (closeOnExit) await this.close();
    }
  }

  /** Frees the decoder (waits for a running native job). Frames already handed out stay valid memory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#native.close();
    const waiters = this.#releaseWaiters;
    this.#releaseWaiters = [];
    for (const wake of waiters) wake();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkUsable(): void {
    if (this.#closed) throw new FramesiftError(`${this.input}: the decoder is closed`, 'ERR_FRAMESIFT_CLOSED', { input: this.input });
  }

  // Wakes on the next release(); polls too, since finalizers can free slots without a call.
  #waitForRelease(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(done, 20);
      const onAbort = () => {
        done();
        reject(abortError(this.input));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#releaseWaiters.push(done);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
    });
  }
}

function abortError(input: string): FramesiftError {
  return new FramesiftError(`${input}: aborted`, 'ERR_FRAMESIFT_ABORTED', { input });
}

function throwIfAborted(signal: AbortSignal | undefined, input: string): void {
  if (signal?.aborted) throw abortError(input);
}

function nativeOptions(resolved: ResolvedInput, o: ResolvedOptions) {
  return {
    input: resolved.input,
    files: resolved.kind === 'images' ? resolved.files : [],
    sequenceFps: o.sequenceFps,
    analysisSize: o.analysisSize,
    gray: o.gray,
    rgb: o.rgb,
    sampling: o.sampling,
    fps: o.fps,
    start: o.start,
    end: o.end,
    threads: o.threads === 0 ? availableParallelism() : o.threads,
    maxPixels: o.maxPixels,
    applyRotation: o.applyRotation,
    poolSize: o.poolSize,
    wantedPts: o.wantedPts,
    wantedKeyframePts: o.wantedKeyframePts,
    skipNonReference: o.skipNonReference,
    gopHeadSec: o.gopHeadSec,
    gopMaxSkipSec: o.gopMaxSkipSec,
    fastDecode: o.fastDecode,
    rgbFullResolution: o.rgbFullResolution,
    rgbDeferred: o.rgbDeferred,
    maxFramesDecoded: o.maxFramesDecoded,
    readTimeoutSec: o.readTimeoutSec,
  };
}

/** Opens a video, URL, folder of frames or glob; resolves once the stream is probed. */
export async function openVideo(input: string, options: DecodeOptions = {}): Promise<VideoDecoder> {
  const stack = new Error();
  const resolvedOptions = resolveDecodeOptions(options);
  const resolved = resolveInput(input);
  const decoder = new (native().Decoder)();
  let info: VideoInfo;
  try {
    info = await withCallerStack(decoder.open(nativeOptions(resolved, resolvedOptions)), stack);
  } catch (err) {
    await decoder.close().catch(() => undefined);
    throw err;
  }
  return new VideoDecoder(decoder, info, resolvedOptions, input);
}

/** Opens, streams every batch, and closes: `for await (const batch of decodeFrames(path)) ...`. */
export async function* decodeFrames(
  input: string,
  options: DecodeOptions & { signal?: AbortSignal } = {},
): AsyncGenerator<FrameBatch, void, undefined> {
  const { signal, ...decodeOptions } = options;
  throwIfAborted(signal, input);
  const decoder = await openVideo(input, decodeOptions);
  yield* decoder.batches({ signal });
}

/** Container and stream facts without decoding frames. */
export async function probe(input: string, options: Pick<DecodeOptions, 'maxPixels' | 'analysisSize' | 'sequenceFps'> = {}): Promise<VideoInfo> {
  const decoder = await openVideo(input, { ...options, batchSize: 1 });
  await decoder.close();
  return decoder.info;
}
