/**
 * The frame spill (src/core/spill.ts, native/frame_spill.cc) and the deferred RGB of a one-pass
 * run: planes held in a frame's slot and in the scratch file convert to exactly the RGB the
 * decoder makes, in every pixel format and rotation; bad use fails with stable codes; and an
 * extract writes the same image bytes as an encode of the reference decode, with nothing of
 * the spill left behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { openVideo, type DecodeOptions, type Frame } from '../src/core/decode.js';
import { FrameSpill } from '../src/core/spill.js';
import { extractFrames } from '../src/extract.js';
import { ImageWriter } from '../src/output/index.js';
import { fixtures } from './helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'framesift-spill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const spillPath = () => join(dir, `spill-${files++}.planes`);

/** Every frame of `clip` decoded with `options` (full-resolution RGB), handed to `use` before release. */
async function eachFrame(clip: string, options: DecodeOptions, use: (frame: Frame, k: number) => Promise<void>): Promise<number> {
  const decoder = await openVideo(clip, { analysisSize: 64, rgb: true, rgbFullResolution: true, batchSize: 4, ...options });
  let k = 0;
  try {
    for await (const batch of decoder.batches()) {
      for (const frame of batch.frames) {
        await use(frame, k++);
        frame.release();
      }
    }
  } finally {
    await decoder.close();
  }
  return k;
}

describe('deferred RGB through the spill', () => {
  const cases: Array<[string, () => string]> = [
    ['yuv420p 320x240', () => fixtures.cfr()],
    ['rotated 90 degrees', () => fixtures.rotated(90)],
    ['rotated 270 degrees', () => fixtures.rotated(270)],
    ['yuv422p', () => fixtures.pixelFormat('yuv422p')],
    ['yuv444p', () => fixtures.pixelFormat('yuv444p')],
    ['nv12 (raw)', () => fixtures.pixelFormat('nv12')],
    ['10-bit', () => fixtures.pixelFormat('yuv420p10le')],
  ];
  it.each(cases)('gives the decoder\'s own RGB, byte for byte: %s', async (_name, clip) => {
    const reference: Buffer[] = [];
    const sizes: string[] = [];
    await eachFrame(clip(), {}, async (frame) => {
      reference.push(Buffer.from(frame.rgb!));
      sizes.push(`${frame.rgbWidth}x${frame.rgbHeight}`);
    });
    const spill = new FrameSpill(spillPath());
    let buffer: Uint8Array | undefined;
    let same = 0;
    const n = await eachFrame(clip(), { rgbDeferred: true }, async (frame, k) => {
      expect([frame.rgb, frame.rgbDeferred]).toEqual([undefined, true]);
      await spill.write(k, frame);
    });
    // Read back after the whole decode (every slot reused many times since).
    for (let k = 0; k < n; k++) {
      buffer = spill.bufferFor(k, buffer);
      const { rgb, width, height } = await spill.readRgb(k, buffer);
      expect(`${width}x${height}`).toBe(sizes[k]);
      if (Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength).equals(reference[k]!)) same++;
    }
    spill.close();
    expect(n).toBe(reference.length);
    expect(same).toBe(n);
  });

  // The analysis image of a kept frame is made again from its spilled planes when it becomes a
  // candidate (no copy held meanwhile): it must be the gray image the decoder delivered.
  it.each(cases)('gives the decoder\'s own gray analysis image, byte for byte: %s', async (_name, clip) => {
    const spill = new FrameSpill(spillPath());
    const delivered: Array<{ gray: Buffer; width: number; height: number }> = [];
    const n = await eachFrame(clip(), { rgbDeferred: true, analysisSize: 100 }, async (frame, k) => {
      delivered.push({ gray: Buffer.from(frame.gray!.subarray(0, frame.width * frame.height)), width: frame.width, height: frame.height });
      await spill.write(k, frame);
    });
    let same = 0;
    let buffer: Uint8Array | undefined;
    for (let k = 0; k < n; k++) {
      const { gray, width, height } = delivered[k]!;
      const read = await spill.readGray(k, width, height, buffer);
      buffer = new Uint8Array(read.buffer, read.byteOffset);
      expect(read.length).toBe(width * height);
      if (Buffer.from(read.buffer, read.byteOffset, read.byteLength).equals(gray)) same++;
    }
    spill.close();
    // Scaled to the analysis size (longest side 100) where the frame is larger.
    expect(Math.max(delivered[0]!.width, delivered[0]!.height)).toBeLessThanOrEqual(100);
    expect(n).toBeGreaterThan(0);
    expect(same).toBe(n);
  });

  it('writes with direct I/O where the file system takes it, buffered when FRAMESIFT_SPILL_DIRECT=off, the same bytes either way', async () => {
    const direct = new FrameSpill(spillPath());
    const saved = process.env.FRAMESIFT_SPILL_DIRECT;
    process.env.FRAMESIFT_SPILL_DIRECT = 'off';
    const buffered = new FrameSpill(spillPath());
    if (saved === undefined) delete process.env.FRAMESIFT_SPILL_DIRECT;
    else process.env.FRAMESIFT_SPILL_DIRECT = saved;
    // The test folder is on ext4 here and in CI: it takes direct I/O.
    expect([direct.direct, buffered.direct]).toEqual([true, false]);
    const n = await eachFrame(fixtures.cfr(), { rgbDeferred: true }, async (frame, k) => {
      await Promise.all([direct.write(k, frame), buffered.write(k, frame)]);
    });
    // Records start on 4 KiB pages in both.
    expect(direct.bytes % 4096).toBe(0);
    expect(direct.bytes).toBe(buffered.bytes);
    let same = 0;
    for (let k = 0; k < n; k++) {
      const a = await direct.readRgb(k, direct.bufferFor(k));
      const b = await buffered.readRgb(k, buffered.bufferFor(k));
      if (Buffer.from(a.rgb).equals(Buffer.from(b.rgb))) same++;
    }
    expect(direct.direct).toBe(true); // no write fell back
    direct.close();
    buffered.close();
    expect(n).toBeGreaterThan(0);
    expect(same).toBe(n);
  });

  it('keeps the file out of the folder (unlinked at creation) and frees it on close', async () => {
    const path = spillPath();
    const spill = new FrameSpill(path);
    expect(existsSync(path)).toBe(false);
    await eachFrame(fixtures.cfr(), { rgbDeferred: true }, async (frame, k) => {
      if (k < 3) await spill.write(k, frame);
    });
    // 320x240 at 4:2:0 with libav's padded strides: at least 1.5 bytes a pixel, under 3.
    expect(spill.bytes).toBeGreaterThanOrEqual(3 * 320 * 240 * 1.5);
    expect(spill.bytes).toBeLessThan(3 * 320 * 240 * 3);
    expect(spill.keys).toEqual([0, 1, 2]);
    spill.close();
    expect(spill.bytes).toBe(0);
    await expect(spill.readRgb(0, new Uint8Array(320 * 240 * 3 + 64))).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
  });

  it('refuses bad use with stable codes', async () => {
    const path = spillPath();
    writeFileSync(path, 'in the way');
    expect(() => new FrameSpill(path)).toThrow(expect.objectContaining({ code: 'ERR_FRAMESIFT_OUTPUT', message: expect.stringContaining(path) }));
    expect(() => new FrameSpill(join(dir, 'no-such-folder', 'x.planes'))).toThrow(expect.objectContaining({ code: 'ERR_FRAMESIFT_OUTPUT' }));
    await expect(openVideo(fixtures.cfr(), { rgbDeferred: true })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG', message: expect.stringContaining('rgbDeferred') });

    const spill = new FrameSpill(spillPath());
    // A frame with its RGB converted has no planes to hold.
    await eachFrame(fixtures.cfr(), {}, async (frame, k) => {
      if (k === 0) await expect(spill.write(0, frame)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    });
    let released: Frame | undefined;
    await eachFrame(fixtures.cfr(), { rgbDeferred: true }, async (frame, k) => {
      if (k === 0) await spill.write(0, frame);
      if (k === 1) released = frame;
    });
    // A released frame's slot may hold other pixels by now: refused natively.
    await expect(spill.write(1, released!)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG', message: expect.stringContaining('released') });
    expect(() => spill.bufferFor(7)).toThrow(expect.objectContaining({ code: 'ERR_FRAMESIFT_INVALID_ARG' }));
    await expect(spill.readRgb(0, new Uint8Array(320 * 240 * 3))).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG', message: expect.stringContaining('bytes') });
    // A gray image is a downscale of the frame: never larger, never empty.
    await expect(spill.readGray(0, 640, 480)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG', message: expect.stringContaining('320x240') });
    await expect(spill.readGray(0, 0, 10)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    await expect(spill.readGray(7, 32, 24)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    spill.close();
  });
});

describe('a one-pass extract with deferred RGB', () => {
  it('writes the images an encode of the reference decode makes, and leaves no spill', async () => {
    const clip = fixtures.cfr();
    const out = join(dir, 'extract');
    const manifest = await extractFrames(clip, { outDir: out, count: 4, mode: 'balanced' });
    expect(manifest.decode).toMatchObject({ passes: 1, framesDecoded: { measure: 90, describe: 0 } });
    expect(manifest.decode!.kept).toBeGreaterThan(manifest.decode!.described);
    // The reference: today's path, RGB converted while decoding, encoded by the same writer.
    const ref = join(dir, 'reference');
    mkdirSync(ref);
    const writer = new ImageWriter(ref, { format: 'jpg', quality: 95 });
    const byPts = new Map(manifest.frames.map((f) => [f.ptsSec.toFixed(4), f.file]));
    await eachFrame(clip, {}, async (frame) => {
      const name = byPts.get(frame.ptsSec.toFixed(4));
      if (name) await writer.write(name, frame.rgb!, frame.rgbWidth, frame.rgbHeight);
    });
    await writer.flush();
    expect(manifest.frames.length).toBe(4);
    for (const f of manifest.frames) expect(readFileSync(join(out, 'images', f.file)).equals(readFileSync(join(ref, f.file)))).toBe(true);
    // Only the candidates were encoded into the store; the spill is gone.
    const state = readdirSync(join(out, '.framesift'));
    expect(state.filter((name) => name.startsWith('spill-'))).toEqual([]);
    expect(readdirSync(join(out, '.framesift', 'candidates')).length).toBe(manifest.decode!.described);
  });
});
