/**
 * Chosen frames as image files, via sharp: jpg (default quality 95, 4:4:4 chroma, standard Huffman tables), png
 * (lossless) or webp, with no metadata (no EXIF, GPS, ICC, XMP: sharp writes none unless
 * asked). Each file is written under a temporary name in the same folder and renamed when
 * complete. ImageWriter queues writes and runs at most `concurrency` sharp jobs at once.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

import { FramesiftError, invalidArg } from '../errors.js';
import { isTempName, outputError, tempPathFor } from './atomic.js';

export type ImageFormat = 'jpg' | 'png' | 'webp';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['jpg', 'png', 'webp'];
export const DEFAULT_QUALITY = 95;
/** Minimum zero-padding of the frame index in image names. */
export const MIN_NAME_DIGITS = 6;

export interface ImageOptions {
  /** Default 'jpg'. */
  format?: ImageFormat;
  /** 1-100 for jpg and webp (default 95); png is lossless and ignores it. */
  quality?: number;
}

export interface WrittenImage {
  /** File name inside the folder. */
  name: string;
  /** Absolute or caller-relative path of the file. */
  path: string;
  bytes: number;
  width: number;
  height: number;
}

/**
 * Digits to pad frame indices to so that, for one video, names sort in frame order:
 * at least MIN_NAME_DIGITS, more when the frame count needs them. Pass -1 (unknown) to get
 * the minimum.
 */
export function imageNameDigits(frameCount: number): number {
  if (!Number.isFinite(frameCount) || frameCount <= 1) return MIN_NAME_DIGITS;
  return Math.max(MIN_NAME_DIGITS, String(Math.ceil(frameCount) - 1).length);
}

/** `frame_000123.jpg`: carries the frame index and sorts in time order for a given `digits`. */
export function imageName(frameIndex: number, format: ImageFormat = 'jpg', digits: number = MIN_NAME_DIGITS): string {
  if (!Number.isSafeInteger(frameIndex) || frameIndex < 0) throw invalidArg('frameIndex', 'an integer >= 0', frameIndex);
  checkFormat(format);
  if (!Number.isInteger(digits) || digits < 1 || digits > 16) throw invalidArg('digits', 'an integer from 1 to 16', digits);
  return `frame_${String(frameIndex).padStart(Math.max(digits, MIN_NAME_DIGITS), '0')}.${format}`;
}

/** Resolved, validated image options. */
export function resolveImageOptions(options: ImageOptions = {}): Required<ImageOptions> {
  if (options === null || typeof options !== 'object') throw invalidArg('image options', 'an object', options);
  const format = options.format ?? 'jpg';
  checkFormat(format);
  const quality = options.quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw invalidArg('quality', 'an integer from 1 to 100', quality);
  }
  return { format, quality };
}

/**
 * Writes packed RGB24 pixels (`width * height * 3` bytes, row after row) as DIR/NAME.
 * The buffer is only read; it must stay unchanged until the promise settles.
 */
export async function writeImage(
  dir: string,
  name: string,
  rgb: Uint8Array,
  width: number,
  height: number,
  options: ImageOptions = {},
): Promise<WrittenImage> {
  const opts = resolveImageOptions(options);
  checkImageArgs(dir, name, rgb, width, height);
  return encodeToFile(join(dir, name), name, rgb, width, height, opts, () => false);
}

async function encodeToFile(
  path: string,
  name: string,
  rgb: Uint8Array,
  width: number,
  height: number,
  opts: Required<ImageOptions>,
  aborted: () => boolean,
): Promise<WrittenImage> {
  const temp = tempPathFor(path);
  try {
    const image = sharp(rgb, { raw: { width, height, channels: 3 } });
    // Explicit encoders: the temporary name has no image extension to infer the format from.
    // Standard Huffman tables, not optimised ones: the optimising pass cost 2.5-3.5x the encode
    // (1080p: 9 -> 25 ms; film grain: 18 -> 63 ms) for files 7-10% smaller, the same pixels.
    if (opts.format === 'jpg') image.jpeg({ quality: opts.quality, chromaSubsampling: '4:4:4', optimiseCoding: false });
    else if (opts.format === 'png') image.png({ compressionLevel: 6 });
    else image.webp({ quality: opts.quality });
    // Encoded in memory, written by Node: a full disk or a vanished folder then fails with
    // its errno (ENOSPC, EROFS, ENOENT), which libvips' own file writer does not report.
    const { data, info } = await image.toBuffer({ resolveWithObject: true });
    await writeFile(temp, data, { flag: 'wx' });
    if (aborted()) {
      await rm(temp, { force: true });
      throw abortedError();
    }
    await rename(temp, path);
    return { name, path, bytes: info.size, width: info.width, height: info.height };
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    if (err instanceof FramesiftError) throw err;
    throw outputError(`Could not write image ${path}`, err);
  }
}

export interface ImageWriterOptions extends ImageOptions {
  /** Sharp jobs running at once. Default 2. */
  concurrency?: number;
  /** Writes allowed in flight (queued + running) before ready() waits. Default 2 x concurrency. */
  maxPending?: number;
  /** Abort: queued writes are dropped, running ones finish and their temporary file is removed. */
  signal?: AbortSignal;
}

interface Job {
  name: string;
  rgb: Uint8Array;
  width: number;
  height: number;
  resolve: (image: WrittenImage) => void;
  reject: (err: unknown) => void;
}

/**
 * Bounded-concurrency image writer. `write()` queues an image and resolves when its file is
 * complete under its final name; `ready()` gives back-pressure (wait before decoding more
 * full-resolution frames); `flush()` waits for everything and rejects with the first error.
 * After a failure or an abort, queued and new writes are rejected.
 */
export class ImageWriter {
  readonly dir: string;
  private readonly opts: Required<ImageOptions>;
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly signal: AbortSignal | undefined;
  private readonly queue: Job[] = [];
  private running = 0;
  private failure: unknown = undefined;
  private readonly written: WrittenImage[] = [];
  private idleWaiters: Array<() => void> = [];
  private readonly onAbort = (): void => this.stop(abortedError());
  private listening = false;
  private roomWaiters: Array<() => void> = [];

  constructor(dir: string, options: ImageWriterOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('dir', 'a folder path', dir);
    this.opts = resolveImageOptions(options);
    const concurrency = options.concurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw invalidArg('concurrency', 'an integer from 1 to 64', concurrency);
    }
    const maxPending = options.maxPending ?? concurrency * 2;
    if (!Number.isInteger(maxPending) || maxPending < concurrency) {
      throw invalidArg('maxPending', `an integer >= concurrency (${concurrency})`, maxPending);
    }
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw invalidArg('signal', 'an AbortSignal', options.signal);
    }
    this.dir = dir;
    this.concurrency = concurrency;
    this.maxPending = maxPending;
    this.signal = options.signal;
  }

  /** Queued plus running writes. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  /** Images completed so far, in completion order. */
  get images(): readonly WrittenImage[] {
    return this.written;
  }

  /** Queues DIR/NAME; the buffer must stay unchanged until the returned promise settles. */
  write(name: string, rgb: Uint8Array, width: number, height: number): Promise<WrittenImage> {
    checkImageArgs(this.dir, name, rgb, width, height);
    const stopped = this.stoppedError();
    if (stopped !== undefined) return rejected(stopped);
    // Listen only while work is in flight: a long-lived signal shared by many runs must not
    // keep every writer alive.
    if (this.signal !== undefined && !this.listening) {
      this.signal.addEventListener('abort', this.onAbort, { once: true });
      this.listening = true;
    }
    const promise = new Promise<WrittenImage>((resolve, reject) => {
      this.queue.push({ name, rgb, width, height, resolve, reject });
    });
    // Callers may rely on flush() alone: a failed write must not also be an unhandled rejection.
    promise.catch(() => undefined);
    this.pump();
    return promise;
  }

  /** Resolves when fewer than maxPending writes are in flight. */
  ready(): Promise<void> {
    if (this.pending < this.maxPending || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Waits until nothing is queued or running (so no temporary file of ours remains), then
   * resolves with all images written, or rejects with the first error (ERR_FRAMESIFT_ABORTED
   * after an abort).
   */
  async flush(): Promise<WrittenImage[]> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const stopped = this.stoppedError();
    if (stopped !== undefined) throw stopped;
    return [...this.written];
  }

  private stoppedError(): unknown {
    if (this.failure !== undefined) return this.failure;
    if (this.signal?.aborted) return abortedError();
    return undefined;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      encodeToFile(join(this.dir, job.name), job.name, job.rgb, job.width, job.height, this.opts, () => this.signal?.aborted === true)
        .then(
          (image) => {
            this.written.push(image);
            job.resolve(image);
          },
          (err: unknown) => {
            this.stop(err);
            job.reject(err);
          },
        )
        .finally(() => {
          this.running--;
          this.pump();
          this.notify();
        });
    }
    this.notify();
  }

  /** First failure or abort: drop the queue; running jobs settle on their own. */
  private stop(err: unknown): void {
    if (this.failure === undefined) this.failure = err;
    for (const job of this.queue.splice(0)) job.reject(this.failure);
    this.notify();
  }

  private notify(): void {
    if (this.pending < this.maxPending || this.failure !== undefined) {
      for (const wake of this.roomWaiters.splice(0)) wake();
    }
    if (this.pending === 0) {
      if (this.listening) this.signal?.removeEventListener('abort', this.onAbort);
      this.listening = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}

function checkFormat(format: unknown): asserts format is ImageFormat {
  if (!IMAGE_FORMATS.includes(format as ImageFormat)) throw invalidArg('format', "'jpg', 'png' or 'webp'", format);
}

function checkImageArgs(dir: string, name: string, rgb: Uint8Array, width: number, height: number): void {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('dir', 'a folder path', dir);
  // Hidden names are refused except our own temporary ones (candidates awaiting selection).
  if (typeof name !== 'string' || name.length === 0 || /[/\\]/.test(name) || (name.startsWith('.') && !isTempName(name))) {
    throw invalidArg('name', 'a file name without folder separators, not hidden', name);
  }
  if (!Number.isInteger(width) || width < 1 || width > 65535) throw invalidArg('width', 'an integer from 1 to 65535', width);
  if (!Number.isInteger(height) || height < 1 || height > 65535) throw invalidArg('height', 'an integer from 1 to 65535', height);
  if (!(rgb instanceof Uint8Array)) throw invalidArg('rgb', 'a Buffer or Uint8Array of packed RGB24 pixels', typeof rgb);
  if (rgb.length !== width * height * 3) {
    throw invalidArg('rgb', `${width * height * 3} bytes (${width}x${height} packed RGB24)`, `${rgb.length} bytes`);
  }
}

function abortedError(): FramesiftError {
  return new FramesiftError('Image writing was aborted', 'ERR_FRAMESIFT_ABORTED');
}

function rejected<T>(err: unknown): Promise<T> {
  const promise = Promise.reject(err) as Promise<T>;
  promise.catch(() => undefined);
  return promise;
}
