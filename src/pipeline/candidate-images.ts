/**
 * Full-resolution images of the candidates, encoded while a pass has them decoded, so the
 * chosen ones need no further decode. They are kept in DIR/.framesift/candidates/ (one file per
 * table row) for re-selection (`framesift select`), and each chosen one is hard-linked into
 * DIR/images/ under its final name (copied where the file system cannot link): no extra disk for
 * the picks, and a later choice links other candidates without decoding anything.
 *
 * A one-pass run decodes without converting RGB (`rgbDeferred`) and holds each kept frame's
 * decoded planes in a scratch file (spill(), src/core/spill.ts) instead of encoding it: only the
 * kept frames that become candidates are converted and encoded, after the candidate stage
 * (encodeSpilled()); the others never cost an RGB conversion or a JPEG.
 */
import { copyFile, link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

import type { Frame } from '../core/decode.js';
import { FrameSpill } from '../core/spill.js';
import { invalidArg } from '../errors.js';

import { IMAGES_DIR, ImageWriter, STATE_DIR, type ImageFormat } from '../output/index.js';
import { outputError, tempPathFor } from '../output/atomic.js';

/** DIR/.framesift/candidates relative to DIR. */
export const CANDIDATES_DIR = join(STATE_DIR, 'candidates');

export class CandidateImages {
  readonly #store: string;
  readonly #imagesDir: string;
  readonly #format: ImageFormat;
  readonly #writer: ImageWriter;
  /** Keyed by FrameTable row. */
  readonly #written = new Set<number>();
  readonly #pending = new Set<Promise<void>>();
  #ready: Promise<void> | undefined;
  /** Kept frames' decoded planes (spill()), until encodeSpilled() or discardSpill(). */
  #spill: FrameSpill | undefined;

  /** `dir`: the output folder (DIR); images are linked into DIR/images. */
  constructor(dir: string, format: ImageFormat, quality: number, signal?: AbortSignal) {
    this.#store = join(dir, CANDIDATES_DIR);
    this.#imagesDir = join(dir, IMAGES_DIR);
    this.#format = format;
    this.#writer = new ImageWriter(this.#store, { format, quality, ...(signal ? { signal } : {}) });
  }

  #name(row: number): string {
    return `row_${row}.${this.#format}`;
  }

  /** The candidate images already in the store (a re-selection starts from them). */
  async adoptExisting(): Promise<number[]> {
    let names: string[] = [];
    try {
      names = await readdir(this.#store);
    } catch {
      return [];
    }
    const pattern = new RegExp(`^row_(\\d+)\\.${this.#format}$`);
    for (const name of names) {
      const match = pattern.exec(name);
      if (match) this.#written.add(Number(match[1]));
    }
    return [...this.#written].sort((a, b) => a - b);
  }

  /** DIR/.framesift and the store, made once. */
  async #prepare(): Promise<void> {
    // One level at a time, never recursive: an output folder removed under the run is an
    // error (ERR_FRAMESIFT_OUTPUT, ENOENT), not a folder made again.
    this.#ready ??= (async () => {
      for (const folder of [dirname(this.#store), this.#store]) {
        await mkdir(folder).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw outputError(`Could not create ${folder}`, err);
        });
      }
    })();
    await this.#ready;
  }

  /** Queues the encode (waiting while the writer is full); `done` runs once the pixels are no longer read. */
  async add(row: number, rgb: Uint8Array, width: number, height: number, done: () => void): Promise<void> {
    await this.#prepare();
    await this.#writer.ready();
    const job = this.#writer.write(this.#name(row), rgb, width, height).then(
      () => void this.#written.add(row),
      () => undefined, // a failed candidate is fetched again if chosen
    );
    const tracked = job.finally(() => {
      done();
      this.#pending.delete(tracked);
    });
    this.#pending.add(tracked);
  }

  /**
   * Holds a frame decoded with `rgbDeferred` as `row` without encoding it: its planes go to the
   * scratch file DIR/.framesift/spill-*.planes (unlinked at once), then the frame is released.
   */
  async spill(row: number, frame: Frame): Promise<void> {
    try {
      await this.#prepare();
      this.#spill ??= new FrameSpill(join(dirname(this.#store), `spill-${process.pid}-${randomBytes(4).toString('hex')}.planes`));
      await this.#spill.write(row, frame);
    } finally {
      frame.release();
    }
  }

  /** Rows whose planes wait in the spill. */
  isSpilled(row: number): boolean {
    return this.#spill?.has(row) ?? false;
  }

  /**
   * The gray analysis image (`width` x `height`, as decoded) of a spilled row, converted from
   * its planes as the decoder converted it: kept frames wait without a copy of it.
   */
  async spilledGray(row: number, width: number, height: number, buffer?: Uint8Array): Promise<Uint8Array> {
    if (!this.#spill) throw invalidArg('row', 'a spilled row', row);
    return this.#spill.readGray(row, width, height, buffer);
  }

  /** Bytes the spill holds (0 without one). */
  get spillBytes(): number {
    return this.#spill?.bytes ?? 0;
  }

  /**
   * Converts and encodes the spilled frames among `rows` (`workers` at a time: each converts
   * one frame off the event loop, then waits for its encode); the other kept frames are never
   * converted. The spill stays (spilledGray) until discardSpill(). Returns how many it encoded.
   */
  async encodeSpilled(rows: Iterable<number>, workers: number): Promise<number> {
    const spill = this.#spill;
    if (!spill) return 0;
    const queue = [...new Set(rows)].filter((row) => spill.has(row) && !this.#written.has(row)).sort((a, b) => a - b);
    let encoded = 0;
    const worker = async () => {
      let buffer: Uint8Array | undefined;
      for (let row = queue.shift(); row !== undefined; row = queue.shift()) {
        buffer = spill.bufferFor(row, buffer);
        const { rgb, width, height } = await spill.readRgb(row, buffer);
        // A failed candidate is fetched again if chosen, as with add().
        await this.#writer.write(this.#name(row), rgb, width, height).then(
          () => void (this.#written.add(row), encoded++),
          () => undefined,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, queue.length)) }, worker));
    return encoded;
  }

  /** Frees the spill and what it holds. */
  discardSpill(): void {
    this.#spill?.close();
    this.#spill = undefined;
  }

  async flush(): Promise<void> {
    await Promise.all(this.#pending);
  }

  has(row: number): boolean {
    return this.#written.has(row);
  }

  /** Deletes the stored images of every row but `rows` (what re-selection keeps). */
  async keepOnly(rows: Iterable<number>): Promise<void> {
    await this.flush();
    const keep = new Set(rows);
    for (const row of [...this.#written]) {
      if (keep.has(row)) continue;
      await rm(join(this.#store, this.#name(row)), { force: true });
      this.#written.delete(row);
    }
  }

  /** Deletes every stored image (a caller that will not choose again). */
  async discardRest(): Promise<void> {
    await this.keepOnly([]);
  }

  /** Puts a candidate's image in DIR/images under `finalName` (replacing a file of that name). */
  async promote(row: number, finalName: string): Promise<void> {
    const source = join(this.#store, this.#name(row));
    const target = join(this.#imagesDir, finalName);
    // Already in place (the same choice again): rename() would do nothing over a link to itself.
    const temp = tempPathFor(target);
    try {
      const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
      if (to && to.ino === from.ino && to.dev === from.dev) return;
      await link(source, temp).catch(() => copyFile(source, temp));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw outputError(`Could not write image ${target}`, err);
    }
  }
}
