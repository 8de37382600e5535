import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import { extractFrames, type Manifest } from '../src/extract.js';
import { validateManifest } from '../src/output/index.js';
import { runCli } from './helpers/cli.js';
import { ffmpeg } from './helpers/ffmpeg.js';
import { DEFECT_CLIP, defectClip, fixtures } from './helpers/fixtures.js';

const frameOf = (t: number) => Math.round(t * DEFECT_CLIP.fps);
const inRange = (f: number, [a, b]: [number, number]) => f >= frameOf(a) && f <= frameOf(b);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'framesift-extract-'));
}

/** Resolves shortly after a run has created DIR/images (its analysis is under way). */
function analysisUnderWay(dir: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(join(dir, 'images'))) {
        clearInterval(poll);
        setTimeout(resolve, 300);
      }
    }, 20);
  });
}

let clip: string;
let manifest: Manifest;
let outDir: string;

beforeAll(async () => {
  clip = await defectClip();
  outDir = join(tempDir(), 'out');
  manifest = await extractFrames(clip, { outDir, count: 12 });
}, 300_000);

describe('extract on a clip with known defects', () => {
  it('honours --count and never picks a defect', () => {
    expect(manifest.frames.length).toBe(12);
    const picks = manifest.frames.map((f) => f.frameIndex);
    expect(picks.filter((f) => inRange(f, DEFECT_CLIP.blur))).toEqual([]);
    expect(picks.filter((f) => inRange(f, DEFECT_CLIP.dark))).toEqual([]);
    expect(picks.filter((f) => inRange(f, DEFECT_CLIP.still)).length).toBeLessThanOrEqual(1);
    expect(manifest.counts.analysed).toBe(DEFECT_CLIP.fps * DEFECT_CLIP.seconds);
    // Both sides of the cut are used, and the cut is reported as a split.
    expect(picks.some((f) => f >= frameOf(DEFECT_CLIP.cutAt))).toBe(true);
    expect(picks.some((f) => f < frameOf(DEFECT_CLIP.cutAt))).toBe(true);
  });

  it('rejects the defect frames with their reasons', () => {
    expect(manifest.rejected.byReason.blur! + manifest.rejected.byReason.exposure!).toBeGreaterThanOrEqual(10);
    const csv = readFileSync(join(outDir, 'analysis.csv'), 'utf8').trim().split('\n');
    expect(csv.length - 1).toBe(manifest.counts.analysed);
    const header = csv[0]!.split(',');
    const fate = header.indexOf('fate');
    const darkFates = csv.slice(1 + frameOf(4.1), 1 + frameOf(4.5)).map((row) => row.split(',')[fate]);
    expect(darkFates.every((f) => f!.startsWith('rejected:'))).toBe(true);
  });

  it('writes a valid manifest, complete images and COLMAP lists', async () => {
    const onDisk = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
    expect(validateManifest(onDisk).errors).toEqual([]);
    const files = readdirSync(join(outDir, 'images')).sort();
    expect(files).toEqual(manifest.frames.map((f) => f.file));
    for (const file of files) {
      const meta = await sharp(join(outDir, 'images', file)).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([DEFECT_CLIP.width, DEFECT_CLIP.height, 'jpeg']);
      expect(meta.exif).toBeUndefined();
      const stats = await sharp(join(outDir, 'images', file)).stats(); // decodes the whole image
      expect(stats.channels.length).toBe(3);
    }
    expect(readFileSync(join(outDir, 'images.txt'), 'utf8').trim().split('\n')).toEqual(files);
    const pairs = readFileSync(join(outDir, 'pairs.txt'), 'utf8').trim().split('\n').map((l) => l.split(' '));
    for (const [a, b] of pairs) expect(files.includes(a!) && files.includes(b!) && a !== b).toBe(true);
    expect(pairs.length).toBeGreaterThanOrEqual(files.length - 1);
  });

  it('full-resolution images equal the source frames', async () => {
    const { referenceRgb, psnr } = await import('./helpers/ffmpeg.js');
    const reference = referenceRgb(clip, DEFECT_CLIP.width, DEFECT_CLIP.height);
    for (const frame of [manifest.frames[0]!, manifest.frames.at(-1)!]) {
      const rgb = await sharp(join(outDir, 'images', frame.file)).removeAlpha().raw().toBuffer();
      // JPEG q95 of a busy texture: close to the source frame, far from its neighbours.
      const own = psnr(rgb, reference[frame.frameIndex]!);
      expect(own).toBeGreaterThan(32);
      expect(own).toBeGreaterThan(psnr(rgb, reference[frame.frameIndex + (frame.frameIndex > 0 ? -1 : 1)]!) + 3);
    }
  });
});

describe('fast mode', () => {
  it('plans the GOP head and the frame memory from the keyframe gap and the frame size', async () => {
    const { gopHead, planSparsePass, MAX_SKIPPED_SEC } = await import('../src/pipeline/single-pass.js');
    const { resolveExtractOptions } = await import('../src/pipeline/options.js');
    expect(gopHead(0.5)).toBe(0); // keyframes every half second: keyframes only
    expect(gopHead(2)).toBeCloseTo(0.6, 6); // 30% of a 2 s GOP
    expect(gopHead(10)).toBeCloseTo(10 - MAX_SKIPPED_SEC, 6); // never more than 1.5 s skipped
    expect(gopHead(Infinity)).toBeUndefined(); // one GOP: every frame at the sampled rate
    const options = resolveExtractOptions({ outDir: '/tmp/x', mode: 'fast', count: 40 });
    // A dense count needs more samples: a larger share of each GOP, a faster rate.
    expect(gopHead(2, 2, 6)).toBeCloseTo(2 / 3, 6); // 2 samples/s at 6 fps: a third of each GOP
    expect(gopHead(0.5, 6, 6)).toBeUndefined(); // keyframes (2/s) too few for 6/s: every frame at 6 fps
    expect(gopHead(0.5, 1, 6)).toBe(0);
    const info = (w: number, h: number, durationSec = 60) => ({ displayWidth: w, displayHeight: h, durationSec, avgFrameRate: 30 }) as Parameters<typeof planSparsePass>[1];
    const dense = planSparsePass(2.6, info(1280, 720, 18), options); // 40 picks in 18 s
    expect(dense.decode.gopHeadSec).toBeUndefined();
    expect(dense.decode.fps).toBeCloseTo((3 * 40) / 18, 6);
    const hd = planSparsePass(2, info(1920, 1080), options);
    const uhd = planSparsePass(2, info(3840, 2160), options);
    for (const plan of [hd, uhd]) {
      // Frames held by the keeper, two batches in flight and the writer's fit in the pool.
      expect(plan.maxHeld + 2 * plan.decode.batchSize! + 5).toBeLessThanOrEqual(plan.decode.poolSize!);
      expect(plan.decode.poolSize! * 3840 * 2160 * 3).toBeLessThanOrEqual(plan === uhd ? 400 * 2 ** 20 : Infinity);
    }
    expect(hd.keepPerWindow).toBe(3); // 2 kept per pick: 80 over 30 windows of 2 s
    expect(hd.expectedFrames).toBe(150); // 5 samples (0 to 4/6 s) in each of 30 two-second GOP heads
    expect(hd.decode).toMatchObject({ fps: 6, gopHeadSec: expect.closeTo(2 / 3, 6), gopMaxSkipSec: MAX_SKIPPED_SEC, fastDecode: false, skipNonReference: true, rgbFullResolution: true });
  });

  it('one pass over the GOP heads: exact count, no defect, images equal the source frames', async () => {
    const dir = join(tempDir(), 'o');
    const stages = new Set<string>();
    const m = await extractFrames(clip, { outDir: dir, count: 6, mode: 'fast', onProgress: (p) => stages.add(p.stage) });
    expect(m.frames.length).toBe(6);
    expect(stages.has('describe')).toBe(false); // no second decode
    const picks = m.frames.map((f) => f.frameIndex);
    expect(picks.filter((f) => inRange(f, DEFECT_CLIP.blur) || inRange(f, DEFECT_CLIP.dark))).toEqual([]);
    expect(picks.filter((f) => inRange(f, DEFECT_CLIP.still)).length).toBeLessThanOrEqual(1);
    // Keyframes at 0, 2 (the blur) and 8 s (the cut): sampled at 6 fps, the 6 s GOP decoded up
    // to 1.5 s before its end, the short ones whole.
    const csv = readFileSync(join(dir, 'analysis.csv'), 'utf8').trim().split('\n').slice(1);
    const analysed = csv.map((row) => Number(row.split(',')[0]));
    expect(analysed.length).toBe(m.counts.analysed);
    expect(analysed.length).toBeLessThanOrEqual(DEFECT_CLIP.seconds * 6 + 3);
    expect(analysed.filter((f) => f > frameOf(6.5) + 1 && f < frameOf(8))).toEqual([]);
    expect(analysed.some((f) => f >= frameOf(6))).toBe(true);
    expect(analysed).toContain(frameOf(8));
    const { referenceRgb, psnr } = await import('./helpers/ffmpeg.js');
    const reference = referenceRgb(clip, DEFECT_CLIP.width, DEFECT_CLIP.height);
    for (const frame of m.frames) {
      const rgb = await sharp(join(dir, 'images', frame.file)).removeAlpha().raw().toBuffer();
      const own = psnr(rgb, reference[frame.frameIndex]!);
      expect(own).toBeGreaterThan(40); // JPEG q95 of the exact frame (deblocked: not an analysis-grade decode)
      if (inRange(frame.frameIndex, DEFECT_CLIP.still)) continue; // neighbours there are the same view
      expect(own).toBeGreaterThan(psnr(rgb, reference[frame.frameIndex + (frame.frameIndex > 0 ? -1 : 1)]!) + 10);
    }
    expect(readdirSync(join(dir, 'images')).filter((f) => f.includes('framesift-tmp') || f.startsWith('.candidate'))).toEqual([]);
  });
});

describe('fast mode, interrupted', () => {
  it('an abort during the single pass leaves no partial files and no frame held', async () => {
    const dir = join(tempDir(), 'o');
    const controller = new AbortController();
    let seen = 0;
    const run = extractFrames(clip, {
      outDir: dir,
      count: 6,
      mode: 'fast',
      signal: controller.signal,
      onProgress: (p) => {
        // Abort once some windows were kept (images encoding) and more frames are in flight.
        if (p.stage === 'measure' && (seen = p.done) >= 20) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_ABORTED' });
    expect(seen).toBeGreaterThanOrEqual(20);
    const left = readdirSync(dir, { recursive: true }).map(String);
    expect(left.filter((f) => f.includes('framesift-tmp') || f.includes('.candidate'))).toEqual([]);
    expect(left).not.toContain('manifest.json');
    // The same folder runs again at once (nothing left locked or half-written).
    const again = await extractFrames(clip, { outDir: dir, count: 6, mode: 'fast', force: true });
    expect(again.frames.length).toBe(6);
  });
});

describe('extract behaviour', () => {
  it('keeps the event loop responsive and reports progress', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const stages = new Set<string>();
    const started = performance.now();
    await extractFrames(clip, { outDir: join(tempDir(), 'o'), count: 6, mode: 'fast', onProgress: (p) => stages.add(p.stage) });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan((performance.now() - started) / 100);
    expect([...stages]).toEqual(expect.arrayContaining(['measure', 'select', 'write', 'done']));
  });

  it('an interrupted run leaves no partial files', async () => {
    const dir = join(tempDir(), 'o');
    const controller = new AbortController();
    const run = extractFrames(clip, {
      outDir: dir,
      count: 12,
      signal: controller.signal,
      onProgress: (p) => {
        // Stop while the full-resolution frames are being fetched and written.
        if (p.stage === 'write') setTimeout(() => controller.abort(), 5);
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_ABORTED' });
    const left = readdirSync(dir, { recursive: true }).map(String);
    expect(left.filter((f) => f.includes('framesift-tmp'))).toEqual([]);
    expect(left).not.toContain('manifest.json');
    for (const f of left.filter((name) => name.endsWith('.jpg'))) await sharp(join(dir, f)).stats(); // only complete images
  });

  it('refuses a non-empty output folder without --force', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(extractFrames(clip, { outDir: dir, count: 4 })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_OUTPUT' });
    const forced = await extractFrames(clip, { outDir: dir, count: 4, force: true, mode: 'fast' });
    expect(forced.frames.length).toBe(4);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
  });
});

describe('extract with a model', () => {
  it('adds DINO scores, reports the provider, and falls back from cuda to CPU with a warning', async () => {
    const { writeTestModel, TEST_MODELS } = await import('../scripts/make-test-model.js');
    const model = await writeTestModel(join(tempDir(), 'dinov3.onnx'), TEST_MODELS['dinov3-f32']);
    const m = await extractFrames(clip, { outDir: join(tempDir(), 'o'), count: 6, mode: 'fast', model, device: 'cuda' });
    expect(m.frames.length).toBe(6);
    expect(m.device).toMatchObject({ provider: 'cpu', requested: 'cuda' });
    expect(m.warnings.some((w) => w.includes('cuda'))).toBe(true);
    expect(m.frames.every((f) => typeof f.subScores.spatialComplexity === 'number')).toBe(true);
    expect((m.config as { select: { scoreKind: string } }).select.scoreKind).toBe('model');
    await expect(
      extractFrames(clip, { outDir: join(tempDir(), 'o'), count: 6, model, device: 'cuda', strictDevice: true }),
    ).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_PROVIDER' });
    await expect(extractFrames(clip, { outDir: join(tempDir(), 'o'), count: 6, model: fixtures.notVideo() })).rejects.toMatchObject({
      code: 'ERR_FRAMESIFT_MODEL',
    });
  });
});

describe('extract CLI', () => {
  it('exit 0 and a JSON summary', async () => {
    const dir = join(tempDir(), 'o');
    const r = await runCli(['extract', clip, '-o', dir, '-n', '5', '--mode', 'fast', '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.chosen).toBe(5);
  });

  it.each([
    [['extract', 'x.mp4'], 'out'],
    [['extract', 'x.mp4', '-o', '/tmp/x', '--count', '0'], 'count'],
    [['extract', 'x.mp4', '-o', '/tmp/x', '--mode', 'turbo'], 'mode'],
    [['extract', 'x.mp4', '-o', '/tmp/x', '--weights', 'sharpness=0.9,features=0.5'], 'weights'],
    [['extract', 'x.mp4', '-o', '/tmp/x', '--count', '3', '--max-frames', '4'], 'count'],
  ])('bad options exit 2: %j', async (args, mention) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr.toLowerCase()).toContain(mention);
  });

  it('Ctrl-C stops the CLI cleanly with status 130', async () => {
    const { spawn } = await import('node:child_process');
    const dir = join(tempDir(), 'o');
    const bin = join(import.meta.dirname, '..', 'bin', 'framesift.js');
    const child = spawn(process.execPath, [bin, 'extract', clip, '-o', dir, '-n', '10', '--mode', 'high_quality'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await analysisUnderWay(dir);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted');
    const left = readdirSync(dir, { recursive: true }).map(String);
    expect(left.filter((f) => f.includes('framesift-tmp'))).toEqual([]);
    expect(left).not.toContain('manifest.json');
  });

  it('Ctrl-C from a terminal (to the launcher and its worker at once) still stops cleanly', async () => {
    const { spawn } = await import('node:child_process');
    const dir = join(tempDir(), 'o');
    const bin = join(import.meta.dirname, '..', 'bin', 'framesift.js');
    const env = { ...process.env };
    delete env.MALLOC_ARENA_MAX; // the launcher starts a worker process with it
    const child = spawn(process.execPath, [bin, 'extract', clip, '-o', dir, '-n', '10', '--mode', 'high_quality'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await analysisUnderWay(dir);
    process.kill(-child.pid!, 'SIGINT'); // the whole process group, as a terminal does
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('stopping cleanly');
    expect(stderr).not.toContain('quitting now'); // one Ctrl-C, seen once
    const left = readdirSync(dir, { recursive: true }).map(String);
    expect(left.filter((f) => f.includes('framesift-tmp'))).toEqual([]);
  });

  it('the launcher passes output and exit statuses through (0, 1, 2)', async () => {
    const { spawnSync } = await import('node:child_process');
    const bin = join(import.meta.dirname, '..', 'bin', 'framesift.js');
    const env = { ...process.env };
    delete env.MALLOC_ARENA_MAX;
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
    const ok = run(['probe', clip, '--json']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).width).toBe(DEFECT_CLIP.width);
    const bad = run(['probe', fixtures.notVideo()]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('ERR_FRAMESIFT_OPEN');
    expect(run(['extract', clip]).status).toBe(2);
  });

  it('a corrupt input exits 1 with its error code', async () => {
    const r = await runCli(['extract', fixtures.notVideo(), '-o', join(tempDir(), 'o'), '-n', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_FRAMESIFT_OPEN');
    expect(r.stderr).toContain('not-video.mp4');
  });

  it('a config file with flags overriding it', async () => {
    const dir = tempDir();
    const config = join(dir, 'cfg.yaml');
    writeFileSync(config, 'count: 3\nmode: fast\nformat: png\n');
    const r = await runCli(['extract', clip, '-o', join(dir, 'o'), '--config', config, '--count', '4', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).chosen).toBe(4);
    expect(readdirSync(join(dir, 'o', 'images')).every((f) => f.endsWith('.png'))).toBe(true);
  });
});

describe('analysis.csv of a video longer than one CSV chunk', () => {
  it('has every frame once, in order, each row with its own fate (chunks of CSV_CHUNK_ROWS rows)', async () => {
    const { CSV_CHUNK_ROWS } = await import('../src/pipeline/stages/write.js');
    const dir = tempDir();
    const video = join(dir, 'long.mp4');
    const frames = Math.round(CSV_CHUNK_ROWS * 1.5);
    ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=160x90:rate=60`, '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', video]);
    const m = await extractFrames(video, { outDir: join(dir, 'out'), count: 20 });
    const lines = readFileSync(join(dir, 'out', 'analysis.csv'), 'utf8').trim().split('\n');
    const header = lines[0]!.split(',');
    const rows = lines.slice(1).map((line) => line.split(','));
    expect(rows.length).toBe(frames);
    expect(rows.every((r) => r.length === header.length)).toBe(true);
    const at = (name: string) => header.indexOf(name);
    expect(rows.map((r) => Number(r[at('frameIndex')]))).toEqual(Array.from({ length: frames }, (_, k) => k));
    expect(rows.every((r, k) => Math.abs(Number(r[at('ptsSec')]) - k / 60) < 1e-5)).toBe(true);
    // The fate column comes from the same offsets as the rows: the chosen rows are the picks.
    const chosen = rows.flatMap((r, k) => (r[at('fate')] === 'chosen' ? [k] : []));
    expect(chosen).toEqual(m.frames.map((f) => f.frameIndex));
    expect(chosen.some((k) => k >= CSV_CHUNK_ROWS) && chosen.some((k) => k < CSV_CHUNK_ROWS)).toBe(true);
  }, 120_000);
});
