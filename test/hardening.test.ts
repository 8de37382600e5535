/**
 * Hardening (issue 13): defects found in review, each with the input that showed it; the
 * leak and fd run over good and bad inputs; limits against hostile input (read timeout on a
 * stalled URL, the cap on frames decoded).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../bindings/index.js';
import { main } from '../src/cli/index.js';
import { openVideo, probe } from '../src/core/decode.js';
import { buildTracks } from '../src/core/geometry.js';
import { measureFrames } from '../src/core/metrics.js';
import { native } from '../src/core/native.js';
import { extractFrames } from '../src/extract.js';
import { fixtures } from './helpers/fixtures.js';

async function codeOf(run: () => unknown): Promise<string | undefined> {
  try {
    await run();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('buildTracks on hostile match lists', () => {
  const lists = (frameCount: number, pairs: number[], matches: number[], featureCounts?: number[]) => ({
    frameCount,
    pairs: Uint32Array.from(pairs),
    offsets: Uint32Array.of(0, matches.length / 2),
    matches: Uint32Array.from(matches),
    ...(featureCounts ? { featureCounts: Uint32Array.from(featureCounts) } : {}),
  });

  it('native: a pair index beyond frameCount is refused before anything indexes frames by it', async () => {
    // Without featureCounts the job derived counts into frames[p.j] before checking: a write
    // 2^31 elements past a 2-element vector.
    expect(await codeOf(() => native().buildTracks(lists(2, [0, 2 ** 31], [0, 0]), {}))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    expect(await codeOf(() => native().buildTracks(lists(2, [7, 1], [0, 0]), {}))).toBe('ERR_FRAMESIFT_INVALID_ARG');
  });

  it('native: a huge match index or feature count cannot make the builder allocate gigabytes', async () => {
    const before = process.memoryUsage().rss;
    // 16 bytes of matches naming feature 2^27 of each frame: 16 B per feature = 4 GB before.
    expect(await codeOf(() => native().buildTracks(lists(2, [0, 1], [2 ** 27, 2 ** 27]), {}))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    expect(await codeOf(() => native().buildTracks(lists(2, [0, 1], [0, 0], [2 ** 31, 2 ** 31 - 2]), {}))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
    // Below the cap the same lists work.
    expect((await native().buildTracks(lists(2, [0, 1], [5, 9]), {})).tracks).toBe(1);
  });

  it('the TypeScript wrapper names the bad pair in the error grammar', async () => {
    expect(() => buildTracks(lists(3, [0, 1, 2, 3], [0, 0, 1, 1]))).toThrow(
      /Expected two distinct frame indices below frameCount \(3\) for source\.pairs\[1\] but received \[2,3\]/,
    );
  });
});

describe('frame handles are type-tagged', () => {
  it('release() and native jobs refuse a handle that is not a decoded frame', async () => {
    const decoder = new (native().Decoder)();
    expect(await codeOf(() => decoder.release({} as never))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    expect(await codeOf(() => decoder.release(42 as never))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    const gray = new Uint8Array(32 * 32);
    expect(await codeOf(() => measureFrames([{ gray, width: 32, height: 32, handle: { slot: 0 } } as never]))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    // A real handle still pins: measuring a live decoded frame works, a released one is refused.
    const video = await openVideo(fixtures.cfr(), { batchSize: 2, analysisSize: 64 });
    const iterator = video.batches({ closeOnExit: false });
    const { frames } = (await iterator.next()).value!;
    expect((await measureFrames(frames)).count).toBe(2);
    const handle = frames[0]!.handle;
    frames.forEach((f) => f.release());
    expect(await codeOf(() => measureFrames([{ gray: Buffer.alloc(64 * 48), width: 64, height: 48, handle } as never]))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    await iterator.return(undefined);
    await video.close();
  });
});

describe('leak and fd run', () => {
  it('200 open/close cycles of good and bad inputs end with the same fds and < 3 MB more RSS', () => {
    const bad: Array<[string, string]> = [
      [fixtures.notVideo(), 'ERR_FRAMESIFT_OPEN'],
      [fixtures.empty(), 'ERR_FRAMESIFT_OPEN'],
      [fixtures.audioOnly(), 'ERR_FRAMESIFT_NO_VIDEO'],
      [fixtures.unsupportedCodec(), 'ERR_FRAMESIFT_UNSUPPORTED'],
      [fixtures.absurdSize(), 'ERR_FRAMESIFT_TOO_LARGE'],
      [fixtures.cfr() + '.missing', 'ERR_FRAMESIFT_NOT_FOUND'],
    ];
    // A process of its own with --expose-gc (V8's garbage must not count as growth) and the
    // CLI's MALLOC_ARENA_MAX=2 (under load glibc otherwise touches new per-thread arenas for
    // a while: allocator growth, not a leak).
    const script = join(packageRoot(), 'test', 'leak', 'open-close.mjs');
    const run = spawnSync(process.execPath, ['--expose-gc', script, join(packageRoot(), 'build', 'Release', 'framesift.node'), fixtures.cfr(), ...bad.map(([p]) => p)], {
      encoding: 'utf8',
      timeout: 50_000,
      env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { cycles: number; fds: [number, number]; rssMB: number; codes: Record<string, string> };
    expect(result.cycles).toBe(200);
    expect(result.codes).toEqual(Object.fromEntries(bad));
    expect(result.fds[1]).toBe(result.fds[0]);
    expect(result.rssMB).toBeLessThan(3);
  }, 60_000);
});

describe('limits against hostile input', () => {
  let server: Server;
  let base: string;
  const clip = () => readFileSync(fixtures.truncated().replace('truncated.mp4', 'faststart.mp4'));

  beforeAll(async () => {
    fixtures.truncated(); // makes faststart.mp4 too
    server = createServer((req, res) => {
      const data = clip();
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': String(data.length) });
      if (req.url === '/stall-header') {
        res.write(data.subarray(0, 64)); // inside the header: the open stalls
      } else {
        res.write(data.subarray(0, Math.floor(data.length / 2))); // the media data stalls
      }
      // Never ends: the connection stays open and silent.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('a URL that stalls while opening fails with ERR_FRAMESIFT_TIMEOUT after readTimeoutSec', async () => {
    const started = Date.now();
    const err = await openVideo(`${base}/stall-header`, { readTimeoutSec: 1 }).catch((e: unknown) => e as { code: string; message: string; input: string });
    expect(err).toMatchObject({ code: 'ERR_FRAMESIFT_TIMEOUT', input: `${base}/stall-header` });
    expect(err.message).toMatch(/no data for 1 s/);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('a URL that stalls mid-stream fails with ERR_FRAMESIFT_TIMEOUT after the frames it had', async () => {
    const decoder = await openVideo(`${base}/stall-media`, { readTimeoutSec: 1, batchSize: 8, analysisSize: 64 });
    let frames = 0;
    const started = Date.now();
    const err = await (async () => {
      for await (const batch of decoder.batches()) {
        frames += batch.frames.length;
        batch.frames.forEach((f) => f.release());
      }
    })().catch((e: unknown) => e as { code: string });
    expect(err).toMatchObject({ code: 'ERR_FRAMESIFT_TIMEOUT' });
    expect(frames).toBeGreaterThan(10);
    expect(frames).toBeLessThan(90);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('maxFramesDecoded caps the work of one input', async () => {
    const decoder = await openVideo(fixtures.cfr(), { maxFramesDecoded: 10, batchSize: 4, analysisSize: 64 });
    let frames = 0;
    for await (const batch of decoder.batches()) {
      frames += batch.frames.length;
      batch.frames.forEach((f) => f.release());
    }
    expect(frames).toBe(10);
    expect(decoder.stats?.capped).toBe(true);
    expect(await codeOf(() => openVideo(fixtures.cfr(), { maxFramesDecoded: 0 }))).toBe('ERR_FRAMESIFT_INVALID_ARG');
    expect(await codeOf(() => openVideo(fixtures.cfr(), { readTimeoutSec: -1 }))).toBe('ERR_FRAMESIFT_INVALID_ARG');
  });

  it('extract: a stalled URL ends the CLI with ERR_FRAMESIFT_TIMEOUT (--read-timeout), not a hang', async () => {
    const out = mkdtempSync(join(tmpdir(), 'framesift-timeout-'));
    let stderr = '';
    const started = Date.now();
    const code = await main(['extract', `${base}/stall-header`, '-o', join(out, 'o'), '--count', '3', '--read-timeout', '1', '--quiet'], {
      stdout: () => undefined,
      stderr: (t) => void (stderr += t),
    });
    rmSync(out, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(stderr).toMatch(/ERR_FRAMESIFT_TIMEOUT/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('extract: maxAnalysedFrames caps the analysis with a warning; absurd option values are refused', async () => {
    const out = mkdtempSync(join(tmpdir(), 'framesift-cap-'));
    // fast decodes only the reference frames of each GOP head (about 5 of each 15-frame GOP here).
    const manifest = await extractFrames(fixtures.cfr(), { outDir: join(out, 'o'), count: 3, mode: 'fast', maxAnalysedFrames: 10 });
    expect(manifest.counts.analysed).toBeLessThanOrEqual(10);
    expect(manifest.frames.every((f) => f.frameIndex < 45)).toBe(true);
    expect(manifest.warnings.some((w) => /stopped after 10 decoded frames \(maxAnalysedFrames\)/.test(w))).toBe(true);
    rmSync(out, { recursive: true, force: true });
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ force: 'no' }, /Expected true or false for force but received "no"/],
      [{ strictDevice: 1 }, /Expected true or false for strictDevice/],
      [{ onProgress: 5 }, /Expected a function for onProgress/],
      [{ signal: {} }, /Expected an AbortSignal for signal/],
      [{ logger: {} }, /Expected a pino-style logger/],
      [{ maxAnalysedFrames: 0 }, /Expected an integer from 1 to 1000000000 for maxAnalysedFrames but received 0/],
      [{ maxAnalysedFrames: 2.5 }, /maxAnalysedFrames/],
      [{ readTimeoutSec: -1 }, /Expected a number from 0 to 86400 for readTimeoutSec but received -1/],
    ];
    for (const [options, message] of bad) {
      const err = await extractFrames(fixtures.cfr(), { outDir: join(out, 'never'), ...options } as never).catch((e: unknown) => e as { code: string; message: string });
      expect(err, JSON.stringify(options)).toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
      expect(err.message).toMatch(message);
    }
  });
});
