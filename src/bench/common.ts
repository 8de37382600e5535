/**
 * Shared benchmark plumbing for `framesift bench` and the scripts in bench/: timing statistics,
 * paired runs against a reference, clips generated with the bundled ffmpeg binary, and the
 * ffmpeg binary's own decode to null (the reference of the decode and extract suites).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

import { packageRoot } from '../../bindings/index.js';

export const ffmpegPath: string = ffmpegInstaller.path;

/**
 * Where generated workloads are cached: FRAMESIFT_BENCH_DIR, else bench/.work in a checkout,
 * else (an installed package, whose folder under node_modules is not the user's to fill) the
 * user's cache folder, $XDG_CACHE_HOME/framesift/bench or ~/.cache/framesift/bench.
 */
export function workDir(env: NodeJS.ProcessEnv = process.env, root: string = packageRoot()): string {
  if (env.FRAMESIFT_BENCH_DIR) return env.FRAMESIFT_BENCH_DIR;
  if (!root.split(/[\\/]/).includes('node_modules')) return join(root, 'bench', '.work');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'framesift', 'bench');
}

export interface Stats {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export function stats(runs: number[]): Stats {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)!, runs };
}

/** Applies `fn` to every run (e.g. seconds -> frames/s); min and max follow the order. */
export function mapStats(s: Stats, fn: (value: number) => number): Stats {
  return stats(s.runs.map(fn));
}

/** Seconds taken by `fn`. */
export async function seconds(fn: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** Runs `fn` once to warm up, then `runs` times; returns seconds per run. */
export async function measure(runs: number, fn: () => Promise<void> | void): Promise<Stats> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await seconds(fn));
  return stats(times);
}

export interface Paired {
  subject: Stats;
  reference: Stats;
  /** subject / reference time, per pair of runs. */
  ratio: Stats;
}

/**
 * Subject and reference alternate run by run (after one warm-up of each), so drift in the
 * load of a shared machine hits both alike; the ratio is taken per pair.
 */
export async function paired(runs: number, subject: () => Promise<unknown> | unknown, reference: () => Promise<number | void> | number | void): Promise<Paired> {
  const timed = async (fn: () => Promise<number | void> | number | void) => {
    const started = performance.now();
    const own = await fn();
    return typeof own === 'number' ? own : (performance.now() - started) / 1000;
  };
  await timed(subject as () => Promise<void>);
  await timed(reference);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await timed(subject as () => Promise<void>));
    b.push(await timed(reference));
  }
  return { subject: stats(a), reference: stats(b), ratio: stats(a.map((x, i) => x / b[i]!)) };
}

/** A clip of fixed synthetic content, generated once into the work folder. */
export function generatedClip(name: string, args: string[]): string {
  const dir = workDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp${name.slice(name.lastIndexOf('.'))}`;
  execFileSync(ffmpegPath, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args, tmp]);
  renameSync(tmp, path);
  return path;
}

/** 1080p30 H.264 of `seconds`: moving test pattern plus noise, so the decoder has real work. */
export function clip1080p(seconds: number): string {
  return generatedClip(`testsrc2-1080p30-${seconds}s.mp4`, [
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t`, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '60',
  ]);
}

/**
 * Seconds for the ffmpeg binary to decode `path` to null with `threads` threads (0 = ffmpeg's
 * default). `extraInput` goes before -i (e.g. ['-skip_frame', 'nokey'] or ['-hwaccel', 'vaapi']),
 * `extraOutput` after it (e.g. ['-frames:v', '120']).
 */
export function ffmpegDecodeSeconds(path: string, threads: number, extraInput: string[] = [], extraOutput: string[] = []): number {
  const started = performance.now();
  const run = spawnSync(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-threads', String(threads), ...extraInput, '-i', path, '-an', ...extraOutput, '-f', 'null', '-']);
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr}`);
  return (performance.now() - started) / 1000;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

export function fmt(s: Stats, unit = 's', digits = 3): string {
  return `median ${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}, n=${s.runs.length})`;
}
