/**
 * Full-resolution images of the candidates, encoded while the describe pass has them decoded,
 * so the chosen ones need no third decode: they are renamed into place, the rest deleted.
 * Until then they carry temporary names, which an interrupted run's clean-up removes.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import { ImageWriter, renameIntoPlace, tempNameFor, type ImageFormat } from '../output/index.js';

export class CandidateImages {
  readonly #dir: string;
  readonly #format: ImageFormat;
  readonly #writer: ImageWriter;
  /** Keyed by FrameTable row. */
  readonly #written = new Set<number>();
  readonly #pending = new Set<Promise<void>>();

  constructor(imagesDir: string, format: ImageFormat, quality: number, signal?: AbortSignal) {
    this.#dir = imagesDir;
    this.#format = format;
    this.#writer = new ImageWriter(imagesDir, { format, quality, ...(signal ? { signal } : {}) });
  }

  #name(row: number): string {
    return tempNameFor(`candidate_${row}.${this.#format}`);
  }

  /** Queues the encode (waiting while the writer is full); `done` runs once the pixels are no longer read. */
  async add(row: number, rgb: Uint8Array, width: number, height: number, done: () => void): Promise<void> {
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

  async flush(): Promise<void> {
    await Promise.all(this.#pending);
  }

  has(row: number): boolean {
    return this.#written.has(row);
  }

  /** Moves a candidate's image to its final name. */
  async promote(row: number, finalName: string): Promise<void> {
    await renameIntoPlace(join(this.#dir, this.#name(row)), join(this.#dir, finalName));
    this.#written.delete(row);
  }

  /** Deletes the candidates that were not chosen. */
  async discardRest(): Promise<void> {
    await this.flush();
    await Promise.all([...this.#written].map((index) => rm(join(this.#dir, this.#name(index)), { force: true })));
    this.#written.clear();
  }
}
