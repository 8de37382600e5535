import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { decodeFrames, type Frame, openVideo, probe } from '../src/core/decode.js';
import { ffmpeg, frameTypes, packets, psnr, referenceGray, showinfo } from './helpers/ffmpeg.js';
import { fixtures, fixturesDir } from './helpers/fixtures.js';

async function collect(input: string, options: Parameters<typeof openVideo>[1] = {}): Promise<{ frames: Array<Omit<Frame, 'release'> & { copy?: Buffer }>; stats: unknown }> {
  const decoder = await openVideo(input, options);
  const frames: Array<Omit<Frame, 'release'> & { copy?: Buffer }> = [];
  for await (const batch of decoder.batches()) {
    for (const f of batch.frames) {
      frames.push({ index: f.index, ptsSec: f.ptsSec, keyframe: f.keyframe, width: f.width, height: f.height, handle: undefined, released: true, copy: f.gray ? Buffer.from(f.gray) : undefined });
      f.release();
    }
  }
  return { frames, stats: decoder.stats };
}

async function expectCode(promise: Promise<unknown>, code: string, inputPart?: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e as { code?: string; message: string; input?: string },
  );
  expect(err, `expected ${code}`).toBeDefined();
  expect(err!.code).toBe(code);
  if (inputPart) expect(err!.message).toContain(inputPart);
}

describe('probe', () => {
  it('reports container and stream facts', async () => {
    const info = await probe(fixtures.cfr());
    expect(info).toMatchObject({ codec: 'h264', width: 320, height: 240, rotation: 0, pixelFormat: 'yuv420p', bitDepth: 8, frameCount: 90, variableFrameRate: false, isImageSequence: false });
    expect(info.container).toContain('mp4');
    expect(info.avgFrameRate).toBeCloseTo(30, 6);
    expect(info.realFrameRate).toBeCloseTo(30, 6);
    expect(info.durationSec).toBeCloseTo(3, 2);
    expect(info.outputWidth).toBe(320); // never upscaled past the default 640
  });

  it('flags variable frame rate', async () => {
    expect((await probe(fixtures.vfr())).variableFrameRate).toBe(true);
  });

  it('reports a non-zero stream start', async () => {
    const info = await probe(fixtures.offset());
    expect(info.startTimeSec).toBeGreaterThan(10);
  });
});

describe('frames and timestamps', () => {
  it('decodes exactly the frames the encoder wrote, with ffmpeg pts and key flags', async () => {
    const reference = showinfo(fixtures.cfr());
    const { frames } = await collect(fixtures.cfr());
    expect(frames.length).toBe(90);
    expect(reference.length).toBe(90);
    frames.forEach((f, i) => {
      expect(f.index).toBe(i);
      expect(f.ptsSec).toBeCloseTo(reference[i]!.ptsSec, 4);
      expect(f.keyframe).toBe(reference[i]!.keyframe);
    });
  });

  it('gives VFR timestamps as ffmpeg does', async () => {
    const reference = showinfo(fixtures.vfr());
    const { frames } = await collect(fixtures.vfr());
    expect(frames.map((f) => f.ptsSec.toFixed(4))).toEqual(reference.map((r) => r.ptsSec.toFixed(4)));
    // 30 fps, then 10 fps, then 30 fps: the gaps are really variable.
    const gaps = frames.slice(1).map((f, i) => f.ptsSec - frames[i]!.ptsSec);
    expect(Math.max(...gaps)).toBeCloseTo(0.1, 3);
    expect(Math.min(...gaps)).toBeCloseTo(1 / 30, 3);
  });

  it('measures pts from the container start when timestamps start late', async () => {
    const reference = showinfo(fixtures.offset());
    const { frames } = await collect(fixtures.offset());
    expect(frames.length).toBe(50);
    expect(frames.map((f) => f.ptsSec.toFixed(3))).toEqual(reference.map((r) => r.ptsSec.toFixed(3)));
  });

  it('keyframes only returns exactly the keyframes, with their indices', async () => {
    const reference = showinfo(fixtures.cfr());
    const keyIndices = reference.flatMap((r, i) => (r.keyframe ? [i] : []));
    const { frames } = await collect(fixtures.cfr(), { sampling: 'keyframes' });
    expect(frames.map((f) => f.index)).toEqual(keyIndices);
    expect(frames.map((f) => f.ptsSec.toFixed(4))).toEqual(keyIndices.map((i) => reference[i]!.ptsSec.toFixed(4)));
    expect(frames.every((f) => f.keyframe)).toBe(true);
  });

  it('samples a target rate by time, also on VFR input', async () => {
    for (const [input, fps] of [[fixtures.cfr(), 7], [fixtures.vfr(), 4]] as const) {
      const reference = showinfo(input);
      const expected: number[] = [];
      let target = 0;
      reference.forEach((r, i) => {
        if (r.ptsSec < target - 1e-3) return;
        expected.push(i);
        while (target <= r.ptsSec + 1e-3) target += 1 / fps;
      });
      const { frames } = await collect(input, { sampling: 'fps', fps });
      expect(frames.map((f) => f.index)).toEqual(expected);
    }
  });

  it('decodes a time range and seeks', async () => {
    const { frames } = await collect(fixtures.cfr(), { start: 1, end: 2 });
    expect(frames[0]!.ptsSec).toBeCloseTo(1, 4);
    expect(frames[0]!.index).toBe(30);
    expect(frames.at(-1)!.ptsSec).toBeCloseTo(2, 4);
    expect(frames.length).toBe(31);

    const decoder = await openVideo(fixtures.cfr());
    await decoder.seek(2.5);
    const seen: number[] = [];
    for await (const batch of decoder.batches()) for (const f of batch.frames) (seen.push(f.index), f.release());
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => 75 + i));
  });
});

describe('fetching chosen frames', () => {
  it('delivers exactly the wanted frames, at full resolution, seeking across gaps', async () => {
    for (const input of [fixtures.cfr(), fixtures.vfr()]) {
      const reference = showinfo(input);
      const picks = [0, 3, 4, 40, reference.length - 1];
      const wantedPts = picks.map((i) => reference[i]!.ptsSec);
      const full = referenceGray(input, 320, 240);
      const { frames } = await collect(input, { wantedPts, analysisSize: 'source' });
      expect(frames.map((f) => f.ptsSec.toFixed(4))).toEqual(wantedPts.map((p) => p.toFixed(4)));
      frames.forEach((f, k) => expect(psnr(f.copy!, full[picks[k]!]!)).toBeGreaterThan(45));
    }
  });
});

describe('URLs', () => {
  it('decodes from an http URL served on loopback', async () => {
    const { createServer } = await import('node:http');
    const { readFileSync } = await import('node:fs');
    const data = readFileSync(fixtures.cfr());
    const server = createServer((req, res) => {
      // Range support lets libavformat seek like on a file.
      const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const end = range && range[2] ? Number(range[2]) : data.length - 1;
      res.writeHead(range ? 206 : 200, {
        'Content-Type': 'video/mp4',
        'Accept-Ranges': 'bytes',
        'Content-Length': end - start + 1,
        ...(range ? { 'Content-Range': `bytes ${start}-${end}/${data.length}` } : {}),
      });
      res.end(data.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const url = `http://127.0.0.1:${port}/cfr.mp4`;
      expect((await probe(url)).frameCount).toBe(90);
      const { frames } = await collect(url);
      expect(frames.length).toBe(90);
      await expectCode(openVideo(`http://127.0.0.1:${port}/missing.mp4`.replace(String(port), '1')), 'ERR_FRAMESIFT_OPEN');
    } finally {
      server.close();
    }
  });
});

describe('keyframe-aware fetching', () => {
  it('reports keyframe times and fetches by seeking to each frame\'s keyframe', async () => {
    const reference = showinfo(fixtures.cfr());
    const decoder = await openVideo(fixtures.cfr(), { sampling: 'keyframes', analysisSize: 64 });
    for await (const batch of decoder.batches({ closeOnExit: false })) batch.frames.forEach((f) => f.release());
    const keyframes = Array.from(decoder.keyframeTimes());
    await decoder.close();
    expect(keyframes.map((t) => t.toFixed(4))).toEqual(reference.filter((r) => r.keyframe).map((r) => r.ptsSec.toFixed(4)));
    const picks = [5, 44, 47, 80];
    const wantedPts = picks.map((i) => reference[i]!.ptsSec);
    const wantedKeyframePts = wantedPts.map((t) => Math.max(...keyframes.filter((k) => k <= t + 1e-6)));
    const full = referenceGray(fixtures.cfr(), 320, 240);
    const { frames, stats } = await collect(fixtures.cfr(), { wantedPts, wantedKeyframePts, analysisSize: 'source' });
    expect(frames.map((f) => f.ptsSec.toFixed(4))).toEqual(wantedPts.map((p) => p.toFixed(4)));
    frames.forEach((f, k) => expect(psnr(f.copy!, full[picks[k]!]!)).toBeGreaterThan(45));
    // Seeking skipped the GOPs without a wanted frame: far fewer packets than the 90 frames.
    expect((stats as { packetsRead: number }).packetsRead).toBeLessThan(70);
  });
});

describe('pixels', () => {
  it('gray frames match the ffmpeg binary at analysis size and at source size', async () => {
    for (const [size, w, h] of [[160, 160, 120], ['source', 320, 240]] as const) {
      const reference = referenceGray(fixtures.cfr(), w, h);
      const { frames } = await collect(fixtures.cfr(), { analysisSize: size });
      expect(frames.length).toBe(reference.length);
      for (let i = 0; i < frames.length; i++) {
        expect(frames[i]!.width).toBe(w);
        expect(psnr(frames[i]!.copy!, reference[i]!)).toBeGreaterThan(45);
      }
    }
  });

  it.each([90, 180, 270] as const)('applies a %i degree display rotation like ffmpeg', async (degrees) => {
    const input = fixtures.rotated(degrees);
    const info = await probe(input, { analysisSize: 'source' });
    const quarter = info.rotation === 90 || info.rotation === 270;
    expect(info.rotation === 0).toBe(false);
    expect([info.displayWidth, info.displayHeight]).toEqual(quarter ? [240, 320] : [320, 240]);
    const reference = referenceGray(input, info.displayWidth, info.displayHeight); // ffmpeg autorotates
    const { frames } = await collect(input, { analysisSize: 'source' });
    expect(frames[0]!.width).toBe(info.displayWidth);
    expect(frames[0]!.height).toBe(info.displayHeight);
    for (const i of [0, 45, 89]) expect(psnr(frames[i]!.copy!, reference[i]!)).toBeGreaterThan(45);
  });

  it.each(['yuv420p', 'yuv422p', 'yuv444p', 'nv12', 'yuv420p10le'] as const)('decodes %s', async (format) => {
    const input = fixtures.pixelFormat(format);
    const info = await probe(input);
    expect(info.pixelFormat).toBe(format);
    expect(info.bitDepth).toBe(format.includes('10') ? 10 : 8);
    const reference = referenceGray(input, 64, 48);
    const { frames } = await collect(input);
    expect(frames.length).toBe(30);
    for (let i = 0; i < 30; i += 7) expect(psnr(frames[i]!.copy!, reference[i]!)).toBeGreaterThan(45);
  });

  it('produces RGB24 alongside gray', async () => {
    const decoder = await openVideo(fixtures.cfr(), { rgb: true, analysisSize: 160 });
    for await (const batch of decoder.batches()) {
      const f = batch.frames[0]!;
      expect(f.rgb!.length).toBe(160 * 120 * 3);
      expect(f.gray!.length).toBe(160 * 120);
      // Luma from RGB agrees with the gray plane (BT.601, loose: scaling happened per plane).
      let diff = 0;
      for (let p = 0; p < 160 * 120; p++) {
        const y = 0.299 * f.rgb![3 * p]! + 0.587 * f.rgb![3 * p + 1]! + 0.114 * f.rgb![3 * p + 2]!;
        diff += Math.abs(y - f.gray![p]!);
      }
      expect(diff / (160 * 120)).toBeLessThan(20);
      for (const fr of batch.frames) fr.release();
      break;
    }
  });
});

describe('image sequences', () => {
  const dir = join(fixturesDir, 'sequence');
  async function makeSequence(): Promise<void> {
    if (readdirSafe(dir).length === 12) return;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    ffmpeg(['-i', fixtures.cfr(), '-frames:v', '11', '-start_number', '1', join(dir, 'frame%d.png')]);
    // A portrait phone photo stored landscape with EXIF orientation 6 (rotate 90 clockwise).
    await sharp(join(dir, 'frame1.png')).jpeg().withMetadata({ orientation: 6 }).toFile(join(dir, 'frame12.jpg'));
    renameSync(join(dir, 'frame11.png'), join(dir, 'notes.txt.png.bak')); // ignored: not an image name
  }

  it('reads a folder in numeric name order and applies EXIF orientation', async () => {
    await makeSequence();
    const info = await probe(dir);
    expect(info).toMatchObject({ isImageSequence: true, frameCount: 11, width: 320, height: 240 });
    const { frames } = await collect(dir, { analysisSize: 'source', sequenceFps: 10 });
    expect(frames.length).toBe(11);
    expect(frames.map((f) => f.index)).toEqual([...Array(11).keys()]);
    expect(frames[3]!.ptsSec).toBeCloseTo(0.3, 9);
    // frame1..frame10 are the first ten video frames in order, frame12 the rotated photo.
    const reference = referenceGray(fixtures.cfr(), 320, 240);
    for (let i = 0; i < 10; i++) expect(psnr(frames[i]!.copy!, reference[i]!)).toBeGreaterThan(40);
    expect([frames[10]!.width, frames[10]!.height]).toEqual([240, 320]);
  });

  it("reads the first image's EXIF 35 mm-equivalent focal length; none stated is 0", async () => {
    const exifDir = join(fixturesDir, 'sequence-focal');
    rmSync(exifDir, { recursive: true, force: true });
    mkdirSync(exifDir, { recursive: true });
    for (const k of [1, 2]) await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 90 * k, g: 60, b: 30 } } }).jpeg().withExif({ IFD2: { FocalLengthIn35mmFilm: '28', FocalLength: '4.2' } }).toFile(join(exifDir, `f${k}.jpg`));
    expect((await probe(exifDir)).focalLength35mm).toBe(28);
    expect((await probe(join(dir, 'frame1*.png'))).focalLength35mm).toBe(0);
    expect((await probe(fixtures.cfr())).focalLength35mm).toBe(0);
  });

  it('accepts a glob pattern', async () => {
    await makeSequence();
    const { frames } = await collect(join(dir, 'frame1*.png'));
    expect(frames.length).toBe(2); // frame1.png, frame10.png
  });
});

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

describe('frame pool, iteration and the event loop', () => {
  it('hands out native memory and waits for releases when the pool is full', async () => {
    const decoder = await openVideo(fixtures.cfr(), { batchSize: 4, poolSize: 4 });
    // Every batch is held 30 ms before its release: a bounded pool of 4 cannot hand out a
    // new frame meanwhile, so no more than 4 frames are ever live (an unbounded pool: 8+).
    let live = 0;
    let maxLive = 0;
    let frames = 0;
    let batches = 0;
    for await (const batch of decoder.batches()) {
      batches++;
      frames += batch.frames.length;
      live += batch.frames.length;
      maxLive = Math.max(maxLive, live);
      const held = batch.frames;
      setTimeout(() => {
        held.forEach((f) => f.release());
        live -= held.length;
      }, 30);
    }
    expect(frames).toBe(90);
    expect(batches).toBe(Math.ceil(90 / 4));
    expect(maxLive).toBe(4);
  });

  it('releases slots on release() and refuses double iteration', async () => {
    const decoder = await openVideo(fixtures.cfr(), { batchSize: 2, poolSize: 6 });
    const iterator = decoder.batches({ closeOnExit: false });
    const first = await iterator.next();
    const frames = (first.value as { frames: Frame[] }).frames;
    await expectCode(decoder.batches().next(), 'ERR_FRAMESIFT_BUSY');
    for (const f of frames) f.release();
    frames[0]!.release(); // twice is harmless
    await iterator.return(undefined);
    await decoder.close();
  });

  it('closes the decoder when a for-await loop exits early', async () => {
    const decoder = await openVideo(fixtures.cfr(), { batchSize: 2 });
    for await (const batch of decoder.batches()) {
      batch.frames.forEach((f) => f.release());
      break;
    }
    await expectCode(decoder.seek(0), 'ERR_FRAMESIFT_CLOSED');
  });

  it('honours an AbortSignal', async () => {
    const controller = new AbortController();
    let seen = 0;
    const run = (async () => {
      for await (const batch of decodeFrames(fixtures.cfr(), { batchSize: 4, signal: controller.signal })) {
        seen += batch.frames.length;
        batch.frames.forEach((f) => f.release());
        if (seen >= 8) controller.abort();
      }
    })();
    await expectCode(run, 'ERR_FRAMESIFT_ABORTED');
    expect(seen).toBeLessThan(90);
  });

  it('keeps the event loop responsive during a large decode', async () => {
    const input = fixtures.big(); // generated synchronously: before the clock starts
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = performance.now();
    let frames = 0;
    // Batches of 60 full-HD frames: decoding one takes well over a second, so a decoder that
    // blocked the JS thread would leave a gap of that size.
    for await (const batch of decodeFrames(input, { analysisSize: 'source', rgb: true, batchSize: 60 })) {
      frames += batch.frames.length;
      batch.frames.forEach((f) => f.release());
    }
    clearInterval(timer);
    const elapsed = performance.now() - started;
    expect(frames).toBe(120);
    // A free loop ticks all along; bounds are loose because CI machines are busy.
    expect(ticks).toBeGreaterThan(elapsed / 400);
    expect(maxGap).toBeLessThan(400);
  });

  it('does not grow memory over 200 open/decode/close cycles', async () => {
    // Each cycle fills ~24 slots of 320x240 and a codec context: a leak of either per cycle
    // would add hundreds of MB over 200 cycles.
    const input = fixtures.cfr();
    const cycle = async () => {
      for await (const batch of decodeFrames(input, { batchSize: 8, end: 0.5, analysisSize: 'source', rgb: true })) batch.frames.forEach((f) => f.release());
    };
    for (let i = 0; i < 20; i++) await cycle(); // warm up allocators
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 200; i++) await cycle();
    gc?.();
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(40 * 1024 * 1024);
  }, 120_000);

  it('loads and decodes in a worker thread', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.addon);
      const d = new addon.Decoder();
      d.open({ input: workerData.input, files: [], sequenceFps: 1, analysisSize: 64, gray: true, rgb: false, sampling: 'all', fps: 0, start: 0, end: -1, threads: 1, maxPixels: 1e8, applyRotation: true, poolSize: 4 })
        .then(() => d.read(4)).then((r) => { parentPort.postMessage(r.frames.length); return d.close(); })
        .catch((e) => parentPort.postMessage('error ' + e.message));`;
    const addon = join(fixturesDir, '..', '..', 'build', 'Release', 'framesift.node');
    const worker = new Worker(script, { eval: true, workerData: { addon, input: fixtures.cfr() } });
    const message = await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(message).toBe(4);
  });
});

describe('bad input', () => {
  it('missing file', () => expectCode(openVideo('/nonexistent/clip.mp4'), 'ERR_FRAMESIFT_NOT_FOUND', 'clip.mp4'));
  it('not a video', () => expectCode(openVideo(fixtures.notVideo()), 'ERR_FRAMESIFT_OPEN', 'not-video.mp4'));
  it('zero-byte file', () => expectCode(openVideo(fixtures.empty()), 'ERR_FRAMESIFT_OPEN', 'empty.mp4'));
  it('truncated file without its index', () => expectCode(openVideo(fixtures.truncatedNoIndex()), 'ERR_FRAMESIFT_OPEN', 'truncated-noindex.mp4'));
  it('unsupported codec', () => expectCode(openVideo(fixtures.unsupportedCodec()), 'ERR_FRAMESIFT_UNSUPPORTED', 'unsupported.mkv'));
  it('absurd dimensions are refused before allocation, by a configurable limit', async () => {
    await expectCode(openVideo(fixtures.absurdSize()), 'ERR_FRAMESIFT_TOO_LARGE', 'absurd.y4m');
    await expectCode(openVideo(fixtures.cfr(), { maxPixels: 320 * 239 }), 'ERR_FRAMESIFT_TOO_LARGE');
  });
  it('absurd options', async () => {
    await expectCode(openVideo(fixtures.cfr(), { analysisSize: 0 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(openVideo(fixtures.cfr(), { sampling: 'fps', fps: -5 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(openVideo(fixtures.cfr(), { sampling: 'fps' }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(openVideo(fixtures.cfr(), { start: 3, end: 1 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(openVideo(fixtures.cfr(), { batchSize: 0 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(openVideo(fixtures.cfr(), { threads: -1 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(openVideo(fixtures.cfr(), { sampling: 'sometimes' as 'all' }), 'ERR_FRAMESIFT_INVALID_ARG');
  });
  it('a truncated stream delivers its frames, then reports ERR_FRAMESIFT_TRUNCATED', async () => {
    const decoder = await openVideo(fixtures.truncated());
    let frames = 0;
    const run = (async () => {
      for await (const batch of decoder.batches()) {
        frames += batch.frames.length;
        batch.frames.forEach((f) => f.release());
      }
    })();
    await expectCode(run, 'ERR_FRAMESIFT_TRUNCATED', 'truncated.mp4');
    expect(frames).toBeGreaterThan(30);
    expect(frames).toBeLessThan(90);
  });
  it('damage in the middle: decoding goes on and counts the lost frames', async () => {
    const { frames, stats } = await collect(fixtures.corruptMiddle());
    const s = stats as { framesLost: number; corruptFrames: number; decodeErrors: number };
    expect(frames.length + s.framesLost).toBe(90);
    expect(s.framesLost + s.corruptFrames).toBeGreaterThan(0);
    expect(frames.length).toBeGreaterThan(60);
  });
});

describe('analysis-grade decoding', () => {
  it('fastDecode gives every frame, close to the reference decode', async () => {
    const reference = referenceGray(fixtures.cfr(), 160, 120);
    const { frames } = await collect(fixtures.cfr(), { fastDecode: true, analysisSize: 160 });
    expect(frames.length).toBe(90);
    for (const i of [0, 30, 89]) expect(psnr(frames[i]!.copy!, reference[i]!)).toBeGreaterThan(30);
  });
});

describe('GOP-head sampling', () => {
  /**
   * The frames a decode-order run of `head` seconds after each keyframe yields, by the packet
   * list; with `maxSkip`, a GOP's head grows to leave at most that much undecoded (its length
   * as the index gives it: the next keyframe's dts, or the end of the stream).
   */
  function expectedHeadFrames(path: string, head: number, fps: number, maxSkip?: number): number[] {
    const list = packets(path);
    const end = Math.max(...list.map((p) => p.ptsSec)) + 1 / fps;
    const out: number[] = [];
    let open = false;
    let key = 0;
    let length = head;
    for (const [k, p] of list.entries()) {
      if (p.keyframe) {
        [open, key] = [true, p.ptsSec];
        const next = list.slice(k + 1).find((q) => q.keyframe);
        length = maxSkip === undefined ? head : Math.max(head, (next ? next.dtsSec : end) - key - maxSkip);
      } else if (!open) continue;
      else if (p.ptsSec > key + length + 1e-3) {
        open = false;
        continue;
      } else if (p.ptsSec < key - 1e-3) continue;
      out.push(Math.round(p.ptsSec * fps));
    }
    return out.sort((a, b) => a - b);
  }

  it('decodes only the head of each GOP, exact in index and pixels', async () => {
    const clip = fixtures.cfr(); // 30 fps, a keyframe every 15 frames, B-frames
    const expected = expectedHeadFrames(clip, 0.2, 30);
    const { frames, stats } = await collect(clip, { gopHeadSec: 0.2 });
    expect(frames.map((f) => f.index)).toEqual(expected);
    for (const key of [0, 15, 30, 45, 60, 75]) expect(expected).toContain(key);
    expect(expected.every((i) => i % 15 <= 6)).toBe(true); // nothing past the head
    expect(frames.length).toBeLessThan(90 * 0.5);
    expect((stats as { framesDecoded: number; framesLost: number }).framesDecoded).toBe(frames.length);
    expect((stats as { framesLost: number }).framesLost).toBe(0);
    const full = referenceGray(clip, 320, 240);
    for (const f of frames) expect(psnr(f.copy!, full[f.index]!)).toBeGreaterThan(45);
  });

  it('0 s is keyframes only, and it composes with a sampled rate', async () => {
    const clip = fixtures.cfr();
    expect((await collect(clip, { gopHeadSec: 0 })).frames.map((f) => f.index)).toEqual([0, 15, 30, 45, 60, 75]);
    const sampled = (await collect(clip, { gopHeadSec: 0.2, sampling: 'fps', fps: 10 })).frames.map((f) => f.index);
    const head = expectedHeadFrames(clip, 0.2, 30);
    expect(sampled.length).toBeLessThan(head.length);
    expect(sampled.every((i) => head.includes(i))).toBe(true);
    for (let k = 1; k < sampled.length; k++) expect(sampled[k]! - sampled[k - 1]!).toBeGreaterThanOrEqual(3); // 10 fps of a 30 fps clip
  });

  it('grows the head of a long GOP so that no long stretch is skipped', async () => {
    const clip = fixtures.irregularGop(); // GOPs of 0.5, 2.5 and 1 s
    const plain = (await collect(clip, { gopHeadSec: 0.2, analysisSize: 64 })).frames.map((f) => f.index);
    expect(plain).toEqual(expectedHeadFrames(clip, 0.2, 30));
    const grown = (await collect(clip, { gopHeadSec: 0.2, gopMaxSkipSec: 0.5, analysisSize: 64 })).frames.map((f) => f.index);
    expect(grown).toEqual(expectedHeadFrames(clip, 0.2, 30, 0.5));
    // The 2.5 s GOP is decoded to within ~0.5 s of its end, the short ones keep the plain head.
    expect(grown.filter((i) => i >= 15 && i < 90).length).toBeGreaterThan(50);
    expect(grown.filter((i) => i < 15)).toEqual(plain.filter((i) => i < 15));
    for (let k = 1; k < grown.length; k++) expect(grown[k]! - grown[k - 1]!).toBeLessThanOrEqual(0.5 * 30 + 3);
  });

  it('composes with skipping non-reference frames (fast mode): the I and P frames of each head, exact', async () => {
    const clip = fixtures.cfr();
    const types = frameTypes(clip);
    const head = expectedHeadFrames(clip, 0.2, 30);
    const { frames, stats } = await collect(clip, { gopHeadSec: 0.2, skipNonReference: true });
    const indices = frames.map((f) => f.index);
    // Every reference frame of each head, none of the head's non-reference B-frames past them.
    expect(indices).toEqual(head.filter((i) => types[i] !== 'B' || indices.includes(i)));
    for (const i of head) if (types[i] !== 'B') expect(indices).toContain(i);
    expect(indices.length).toBeLessThan(head.length);
    expect((stats as { framesLost: number }).framesLost).toBe(0);
    const full = referenceGray(clip, 320, 240);
    for (const f of frames) expect(psnr(f.copy!, full[f.index]!)).toBeGreaterThan(45);
  });

  it('rejects a negative head', async () => {
    await expect(openVideo(fixtures.cfr(), { gopHeadSec: -1 })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    await expect(openVideo(fixtures.cfr(), { gopHeadSec: 0.2, gopMaxSkipSec: -2 })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
  });
});

describe('keyframes from the container index', () => {
  it('lists every keyframe of an mp4 without decoding, as the decode finds them; nothing for TS or Matroska cues', async () => {
    const { estimateKeyframeGap } = await import('../src/pipeline/stages/measure.js');
    for (const clip of [fixtures.cfr(), fixtures.irregularGop()]) {
      const decoded = (await collect(clip, { sampling: 'keyframes' })).frames.map((f) => f.ptsSec);
      const d = await openVideo(clip);
      const indexed = Array.from(d.indexedKeyframeTimes(100));
      expect(indexed.length).toBe(decoded.length);
      // Decode times in the index: one constant offset (the B-frame delay) from presentation times.
      for (const [k, t] of indexed.entries()) expect(t - indexed[0]!).toBeCloseTo(decoded[k]! - decoded[0]!, 6);
      expect(Array.from(d.indexedKeyframeTimes(2))).toEqual(indexed.slice(0, 2));
      expect(await estimateKeyframeGap(clip, {}, d)).toBeCloseTo(await estimateKeyframeGap(clip, {}), 9);
      expect(() => d.indexedKeyframeTimes(0)).toThrow(expect.objectContaining({ code: 'ERR_FRAMESIFT_INVALID_ARG' }));
      await d.close();
    }
    const ts = await openVideo(fixtures.offset()); // MPEG-TS: no index
    expect(ts.indexedKeyframeTimes(8).length).toBe(0);
    await ts.close();
  });
});

describe('skipping non-reference frames', () => {
  it('decodes a subset, exact in index and pixels, with every I and P frame', async () => {
    const types = frameTypes(fixtures.cfr());
    const { frames, stats } = await collect(fixtures.cfr(), { skipNonReference: true });
    expect((stats as { framesLost: number }).framesLost).toBe(0); // dropped on purpose, not lost
    const indices = frames.map((f) => f.index);
    expect(indices.length).toBeLessThan(types.length * 0.8); // the fixture's B-frames are mostly non-reference
    expect(indices).toEqual([...new Set(indices)].sort((a, b) => a - b));
    for (const [i, t] of types.entries()) if (t !== 'B') expect(indices).toContain(i);
    const full = referenceGray(fixtures.cfr(), 320, 240);
    for (const f of frames) expect(psnr(f.copy!, full[f.index]!)).toBeGreaterThan(45);
  });
});
