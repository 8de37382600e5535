/**
 * Thumbnails for the report, from pixels the pipeline already holds (never an extra decode):
 * - picks: the written images in DIR/images, shrunk by sharp (JPEG shrink-on-load);
 * - rejection examples: small gray thumbnails taken during pass 1 from the frames in memory.
 *   Which frames get rejected is known only once the whole video is measured, so the sampler
 *   keeps an evenly spread, bounded set (capacity frames; when full, every other one is
 *   dropped and the stride doubles), and the examples are chosen from it afterwards.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

import { outputError } from '../output/atomic.js';
import { REPORT_DIR as REPORT_ASSETS_DIR } from '../output/out-dir.js';

/** Longest side of a thumbnail, pixels. */
export const THUMB_SIZE = 200;
/** Folder under DIR for everything the report page loads besides itself. */
export { REPORT_DIR as REPORT_ASSETS_DIR } from '../output/out-dir.js';

interface Thumb {
  row: number;
  frameIndex: number;
  width: number;
  height: number;
  gray: Uint8Array;
}

/** The gray frames pass 1 hands over: pixels at analysis size, row-major, `stride` bytes a row. */
export interface GrayFrameView {
  index: number;
  /** Absent when the decode made no gray plane: such frames are skipped. */
  gray?: Uint8Array;
  width: number;
  height: number;
  stride?: number;
}

export class ThumbnailSampler {
  readonly #capacity: number;
  #stride = 1;
  #thumbs: Thumb[] = [];

  constructor(capacity = 384) {
    this.#capacity = Math.max(2, capacity);
  }

  get size(): number {
    return this.#thumbs.length;
  }

  /** Offers the frames of a batch whose first frame is table row `firstRow`. */
  offer(frames: readonly GrayFrameView[], firstRow: number): void {
    for (const [k, frame] of frames.entries()) {
      const row = firstRow + k;
      if (row % this.#stride !== 0 || !frame.gray) continue;
      this.#thumbs.push({ row, frameIndex: frame.index, ...shrinkGray(frame, frame.gray) });
      if (this.#thumbs.length >= this.#capacity) {
        this.#stride *= 2;
        this.#thumbs = this.#thumbs.filter((t) => t.row % this.#stride === 0);
      }
    }
  }

  /**
   * Writes up to `perReason` examples of each rejection reason as DIR/report/rejected_<frame>.jpg
   * (spread over the rejected stretch) and returns the file names by reason. `fateOf(row)` is
   * the row's fate label ('rejected:blur', ...).
   */
  async writeExamples(dir: string, fateOf: (row: number) => string, perReason = 4): Promise<Record<string, string[]>> {
    const byReason = new Map<string, Thumb[]>();
    for (const thumb of this.#thumbs) {
      const fate = fateOf(thumb.row);
      if (!fate.startsWith('rejected:')) continue;
      const reason = fate.slice('rejected:'.length);
      let list = byReason.get(reason);
      if (!list) byReason.set(reason, (list = []));
      list.push(thumb);
    }
    const assets = join(dir, REPORT_ASSETS_DIR);
    await clearExamples(assets);
    const written: Record<string, string[]> = {};
    for (const [reason, list] of byReason) {
      const chosen = spread(list, perReason);
      written[reason] = [];
      for (const thumb of chosen) {
        const name = `rejected_${thumb.frameIndex}.jpg`;
        try {
          await sharp(thumb.gray, { raw: { width: thumb.width, height: thumb.height, channels: 1 } }).jpeg({ quality: 80 }).toFile(join(assets, name));
        } catch (err) {
          throw outputError(`Could not write ${join(assets, name)}`, err);
        }
        written[reason].push(name);
      }
    }
    return written;
  }
}

async function clearExamples(assets: string): Promise<void> {
  try {
    await mkdir(assets, { recursive: true });
    for (const name of await readdir(assets)) if (/^rejected_\d+\.jpg$/.test(name)) await rm(join(assets, name), { force: true });
  } catch (err) {
    throw outputError(`Could not prepare ${assets}`, err);
  }
}

/** `n` items evenly spread over the list (all of them when it is short). */
function spread<T>(list: readonly T[], n: number): T[] {
  if (list.length <= n) return [...list];
  return Array.from({ length: n }, (_, k) => list[Math.round(((k + 0.5) * list.length) / n - 0.5)]!);
}

/** Box-filter downscale by an integer factor to at most THUMB_SIZE on the longest side. */
function shrinkGray(frame: GrayFrameView, src: Uint8Array): { width: number; height: number; gray: Uint8Array } {
  const stride = frame.stride ?? frame.width;
  const factor = Math.max(1, Math.ceil(Math.max(frame.width, frame.height) / THUMB_SIZE));
  const width = Math.max(1, Math.floor(frame.width / factor));
  const height = Math.max(1, Math.floor(frame.height / factor));
  const out = new Uint8Array(width * height);
  const area = factor * factor;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        let p = (y * factor + dy) * stride + x * factor;
        for (let dx = 0; dx < factor; dx++) sum += src[p++]!;
      }
      out[y * width + x] = (sum / area + 0.5) | 0;
    }
  }
  return { width, height, gray: out };
}

/**
 * Thumbnails of the picks from the written images, as DIR/report/pick_<file>.jpg (the old ones
 * removed first). Returns image file -> thumbnail name; an image that cannot be read is left out.
 */
export async function writePickThumbnails(dir: string, imagesDir: string, files: readonly string[]): Promise<Record<string, string>> {
  const assets = join(dir, REPORT_ASSETS_DIR);
  try {
    await mkdir(assets, { recursive: true });
    for (const name of await readdir(assets)) if (name.startsWith('pick_')) await rm(join(assets, name), { force: true });
  } catch (err) {
    throw outputError(`Could not prepare ${assets}`, err);
  }
  const made: Array<string | undefined> = new Array(files.length);
  // Two at a time: libvips already threads inside each resize.
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const k = next++;
      const file = files[k]!;
      const name = `pick_${file.replace(/\.[a-z]+$/i, '')}.jpg`;
      try {
        await sharp(join(imagesDir, file)).resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside' }).jpeg({ quality: 80 }).toFile(join(assets, name));
        made[k] = name;
      } catch {
        // An unreadable image gets no thumbnail; the page shows its numbers only.
      }
    }
  };
  await Promise.all([worker(), worker()]);
  // In the order of the picks, so the page is the same whichever resize finished first.
  const result: Record<string, string> = {};
  files.forEach((file, k) => made[k] && (result[file] = made[k]));
  return result;
}
