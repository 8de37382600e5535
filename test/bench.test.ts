/**
 * `framesift bench` through the CLI's main(): a --quick smoke run of every suite on the tiny
 * generated clip writes results that validate against the schema, with positive figures and
 * each suite's reference ratio; --compare prints the ratio column; an unavailable provider is
 * a skipped entry, not a crash; bad options are usage errors.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../bindings/index.js';
import { nvidiaGpus } from '../src/bench/machine.js';
import { validateResults, type BenchResults, type SuiteName } from '../src/bench/schema.js';
import { main } from '../src/cli/index.js';
import { machineHasCuda } from './helpers/gpu.js';

const dir = join(packageRoot(), 'test', '.fixtures', 'bench');
process.env.FRAMESIFT_BENCH_DIR = dir;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as BenchResults;

describe('framesift bench', () => {
  const full = join(dir, 'quick.json');
  let results: BenchResults;
  let stdout = '';

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const run = await cli(['bench', '--quick', '--runs', '1', '--threads', '1,2', '--batch-sizes', '1,2', '--modes', 'fast', '--out', full]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    stdout = run.stdout;
    results = read(full);
  }, 120_000);

  it('writes results that validate against the schema, for every suite', () => {
    expect(validateResults(results)).toEqual([]);
    expect(results.suites.map((s) => [s.suite, s.status])).toEqual(['decode', 'metrics', 'sift', 'inference', 'extract'].map((s) => [s, 'ok']));
    expect(results.workloads).toHaveLength(1);
    const w = results.workloads[0]!;
    expect([w.codec, w.width, w.height, w.frames]).toEqual(['h264', 640, 360, 60]);
    expect(w.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.versions.opencv).toMatch(/^4\./);
  });

  it('reports positive figures and each suite its reference ratio', () => {
    for (const suite of results.suites) {
      for (const f of suite.figures) {
        expect(f.value.min, `${suite.suite}: ${f.name}`).toBeGreaterThan(0);
        expect(f.value.max).toBeGreaterThanOrEqual(f.value.median);
      }
      const withRatio = suite.figures.filter((f) => f.ratio && f.reference);
      expect(withRatio.length, suite.suite).toBeGreaterThan(0);
      for (const f of withRatio) {
        expect(f.ratio!.median).toBeGreaterThan(0);
        expect(f.reference!.value.median).toBeGreaterThan(0);
      }
    }
    const names = (s: SuiteName) => results.suites.find((x) => x.suite === s)!.figures.map((f) => `${f.name} ${JSON.stringify(f.params)}`);
    // One figure per thread count, per batch size, per mode.
    expect(names('decode').filter((n) => n.startsWith('decode all frames'))).toHaveLength(2);
    expect(names('decode').some((n) => n.startsWith('decode keyframes only'))).toBe(true);
    expect(names('metrics').some((n) => n.startsWith('metrics speed-up over 1 thread'))).toBe(true);
    expect(names('sift').filter((n) => n.startsWith('match + verify pairs'))).toHaveLength(2);
    expect(names('inference')).toHaveLength(4); // 2 precisions x 2 batch sizes
    expect(names('extract')).toHaveLength(1);
    const sift = results.suites.find((s) => s.suite === 'sift')!.figures[0]!;
    expect(sift.reference!.name).toMatch(/plain C\+\+/);
    const extract = results.suites.find((s) => s.suite === 'extract')!.figures[0]!;
    expect(extract.extra!.peakRssMB).toBeGreaterThan(0);
    // GPU memory is measured where nvidia-smi lists a GPU, else skipped with its reason.
    const skipped = results.suites.flatMap((s) => s.skipped.map((p) => p.name));
    if (nvidiaGpus().gpus.length > 0) expect(skipped).not.toContain('peak GPU memory');
    else expect(skipped).toContain('peak GPU memory');
  });

  it('prints a Markdown table on stdout', () => {
    expect(stdout).toMatch(/^\| suite \| figure \| workload \|/m);
    expect(stdout).toMatch(/^\| sift \| SIFT features \| h264-360p-quick \|/m);
  });

  it('--compare prints two files side by side with the ratio column', async () => {
    // B: the same results with every figure twice as high (a machine twice as fast in frames/s).
    const b = read(full);
    for (const s of b.suites) for (const f of s.figures) f.value = { ...f.value, median: f.value.median * 2 };
    const other = join(dir, 'quick-b.json');
    writeFileSync(other, JSON.stringify(b));
    const run = await cli(['bench', '--compare', full, other]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\| ratio .*quick-b\.json\/.*quick\.json \|/);
    const decodeRow = run.stdout.split('\n').find((l) => l.startsWith('| decode | decode all frames |'))!;
    expect(decodeRow.split('|').map((c) => c.trim())[8]).toBe('2.00');
    const metricsRow = run.stdout.split('\n').find((l) => l.startsWith('| metrics | metrics (fast preset) |'))!;
    expect(metricsRow.split('|').map((c) => c.trim())[9]).toBe('0.500'); // ms/frame doubled: B is half as fast
  });

  it('an unavailable provider is a skipped entry (CUDA where it is not there); the other suites still run', async () => {
    const out = join(dir, 'cuda.json');
    const run = await cli(['bench', '--quick', '--suite', 'metrics,inference', '--device', 'cuda', '--runs', '1', '--threads', '1', '--batch-sizes', '1', '--out', out]);
    expect(run.code).toBe(0);
    const r = read(out);
    expect(validateResults(r)).toEqual([]);
    const inference = r.suites.find((s) => s.suite === 'inference')!;
    expect(r.suites.find((s) => s.suite === 'metrics')!.status).toBe('ok');
    if (machineHasCuda()) {
      // A GPU server that followed the README: CUDA is there, so nothing is skipped for it.
      expect(inference.status).toBe('ok');
      expect(inference.figures.every((f) => f.params?.device === 'cuda')).toBe(true);
      return;
    }
    expect(inference.status).toBe('skipped');
    expect(inference.reason).toBeTruthy();
    expect(inference.skipped.length).toBeGreaterThan(0);
    expect(inference.skipped.every((s) => s.params?.device === 'cuda')).toBe(true);
    expect(run.stdout).toMatch(/inference\*\* skipped: /);
  }, 60_000);

  it('rejects bad options with exit status 2', async () => {
    const bad = await cli(['bench', '--suite', 'decode,nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Expected a comma list of decode, metrics, sift, inference, extract for --suite/);
    expect((await cli(['bench', '--compare', full])).code).toBe(2);
    expect((await cli(['bench', '--compare', full, join(dir, 'missing.json')])).code).toBe(2);
  });
});

describe('the floor parts (bench/extract --floor)', () => {
  it('time the ffmpeg binary with its own CPU, and decode every frame once per part', async () => {
    const { ffmpegDecodeCost } = await import('../src/bench/common.js');
    const { FLOOR_PARTS, floorPart } = await import('../src/bench/floor.js');
    const { deliveredFrameCount } = await import('../src/core/decode.js');
    const { fixtures } = await import('./helpers/fixtures.js');
    const clip = fixtures.cfr(); // 90 frames
    const ff = ffmpegDecodeCost(clip, 1);
    // -benchmark's utime + stime: positive, and one thread cannot use more CPU than wall time.
    expect(ff.cpu).toBeGreaterThan(0);
    expect(ff.cpu).toBeLessThanOrEqual(ff.wall + 0.05);
    for (const part of FLOOR_PARTS) {
      const before = deliveredFrameCount();
      const c = await floorPart(clip, part, 'balanced', 1);
      expect(deliveredFrameCount() - before).toBe(90);
      expect(c.cpu).toBeGreaterThan(0);
    }
  });
});

describe("fast mode's floor part (bench/extract --floor)", () => {
  it('decodes what a fast extract of the same count decodes in its pass', async () => {
    const { fastHeadsPart } = await import('../src/bench/floor.js');
    const { deliveredFrameCount } = await import('../src/core/decode.js');
    const { extractFrames } = await import('../src/extract.js');
    const { ffmpeg } = await import('./helpers/ffmpeg.js');
    const dir = mkdtempSync(join(tmpdir(), 'framesift-fastfloor-'));
    const clip = join(dir, 'gops.mp4');
    // 2 s GOPs over 10 s: fast decodes only a head of each.
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=10', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', clip]);
    let before = deliveredFrameCount();
    const m = await extractFrames(clip, { outDir: join(dir, 'out'), mode: 'fast', count: 4, threads: 1 });
    const extracted = deliveredFrameCount() - before; // its keyframe scan, then its pass
    expect(m.decode.pass1).toBe('gop-heads');
    expect(m.decode.framesDecoded.measure).toBeLessThan(300 / 2);
    before = deliveredFrameCount();
    const c = await fastHeadsPart(clip, 4, 1);
    expect(deliveredFrameCount() - before).toBe(extracted);
    expect(c.cpu).toBeGreaterThan(0);
  });
});

describe('bench work folder', () => {
  it('is bench/.work in a checkout, the user cache when installed, FRAMESIFT_BENCH_DIR above both', async () => {
    const { workDir } = await import('../src/bench/common.js');
    expect(workDir({ FRAMESIFT_BENCH_DIR: '/x/bench' }, '/srv/app/node_modules/framesift')).toBe('/x/bench');
    expect(workDir({}, '/home/u/framesift')).toBe('/home/u/framesift/bench/.work');
    expect(workDir({ XDG_CACHE_HOME: '/c' }, '/srv/app/node_modules/framesift')).toBe('/c/framesift/bench');
    expect(workDir({ HOME: '/h' }, '/srv/app/node_modules/framesift')).toMatch(/\.cache\/framesift\/bench$/);
  });
});
