/**
 * A scratch file of decoded frames' planes (native/frame_spill.h): frames decoded with
 * `rgbDeferred` wait here, out of memory (about 1.5 bytes a pixel at 4:2:0), until a later
 * stage knows which of them it needs; only those are converted to RGB, by the same conversion
 * the decoder makes, pixel for pixel. The file is unlinked as soon as it is created, so it goes
 * with close() (or the process) whatever happens; nothing of it stays on disk. It is written and
 * read with direct I/O where the file system allows (no copy into the page cache, whose kernel
 * time cost more than the writes: 0.4-2 s per GB here); `FRAMESIFT_SPILL_DIRECT=off` makes it
 * buffered.
 */
import type { NativeFrameSpill } from '../../bindings/index.js';
import { invalidArg } from '../errors.js';
import type { Frame } from './decode.js';
import { native } from './native.js';

/** Bytes past the last pixel the converter's SIMD rows may store (PixelBlock::kTail). */
const TAIL = 64;

export class FrameSpill {
  readonly path: string;
  #native: NativeFrameSpill | undefined;
  /** Caller's key (e.g. a table row) -> record id. */
  readonly #ids = new Map<number, number>();

  /**
   * Creates the file at `path` (which must not exist); throws ERR_FRAMESIFT_OUTPUT. `direct`:
   * direct I/O where the file system allows it (default: unless FRAMESIFT_SPILL_DIRECT=off).
   */
  constructor(path: string, direct = process.env.FRAMESIFT_SPILL_DIRECT !== 'off') {
    this.path = path;
    this.#native = new (native().FrameSpill)(path, direct);
  }

  #open(): NativeFrameSpill {
    if (!this.#native) throw invalidArg('spill', 'an open frame spill', 'closed');
    return this.#native;
  }

  /** Appends the planes of `frame` (decoded with rgbDeferred) under `key`; the frame stays the caller's. */
  async write(key: number, frame: Frame): Promise<void> {
    if (!frame.rgbDeferred) throw invalidArg('frame', 'a frame decoded with rgbDeferred', 'a frame with its RGB converted');
    this.#ids.set(key, await this.#open().write(frame));
  }

  has(key: number): boolean {
    return this.#ids.has(key);
  }

  get keys(): number[] {
    return [...this.#ids.keys()];
  }

  /** A buffer readRgb() can fill for `key`'s frame (its RGB24 plus the converter's tail): `reuse` when it is large enough. */
  bufferFor(key: number, reuse?: Uint8Array): Uint8Array {
    const needed = this.#open().rgbBytes(this.#id(key)).bytes + TAIL;
    return reuse && reuse.length >= needed ? reuse : Buffer.allocUnsafeSlow(needed);
  }

  /**
   * The frame's full-resolution RGB24 (rotated as the decoder would), converted off the event
   * loop into `buffer` (from bufferFor, reusable for frames of the same size); returns a view
   * of exactly its pixels.
   */
  async readRgb(key: number, buffer: Uint8Array): Promise<{ rgb: Uint8Array; width: number; height: number }> {
    const id = this.#id(key);
    const { bytes } = this.#open().rgbBytes(id);
    const { width, height } = await this.#open().readRgb(id, buffer);
    return { rgb: buffer.subarray(0, bytes), width, height };
  }

  /**
   * The frame's gray8 analysis image at `width` x `height` (its size as the decoder delivered
   * it), converted from the held planes off the event loop by the decoder's own conversion, byte
   * for byte: a kept frame needs no copy of it while it waits. `buffer` (at least width * height
   * + 64 bytes) is filled, or a new one made; returns a view of exactly its pixels.
   */
  async readGray(key: number, width: number, height: number, buffer?: Uint8Array): Promise<Uint8Array> {
    const id = this.#id(key);
    const bytes = width * height;
    const target = buffer && buffer.length >= bytes + TAIL ? buffer : Buffer.allocUnsafeSlow(bytes + TAIL);
    await this.#open().readGray(id, width, height, target);
    return target.subarray(0, bytes);
  }

  /** Bytes in the file so far. */
  get bytes(): number {
    return this.#native?.fileBytes() ?? 0;
  }

  /** Whether the file is read and written with direct I/O (false where the file system refused it). */
  get direct(): boolean {
    return this.#native?.direct() ?? false;
  }

  /** Frees the file (a job still running keeps it until it ends). */
  close(): void {
    this.#native?.close();
    this.#native = undefined;
  }

  #id(key: number): number {
    const id = this.#ids.get(key);
    if (id === undefined) throw invalidArg('key', 'a key written to this spill', key);
    return id;
  }
}
