/** Shared benchmark plumbing: generated workloads, timing statistics, the machine's description. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

import { packageRoot } from '../bindings/index.js';

export const ffmpegPath: string = ffmpegInstaller.path;
export const workDir = join(packageRoot(), 'bench', '.work');

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

/** Runs `fn` once to warm up, then `runs` times; returns seconds per run. */
export async function measure(runs: number, fn: () => Promise<void> | void): Promise<Stats> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push((performance.now() - started) / 1000);
  }
  return stats(times);
}

/** A clip of fixed synthetic content, generated once into bench/.work/. */
export function generatedClip(name: string, args: string[]): string {
  mkdirSync(workDir, { recursive: true });
  const path = join(workDir, name);
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

/** Seconds for the ffmpeg binary to decode `path` to null with `threads` threads. */
export function ffmpegDecodeSeconds(path: string, threads: number, extraInput: string[] = []): number {
  const started = performance.now();
  const run = spawnSync(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-threads', String(threads), ...extraInput, '-i', path, '-an', '-f', 'null', '-']);
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr}`);
  return (performance.now() - started) / 1000;
}

export function machine(): Record<string, unknown> {
  return { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: `${process.platform}-${process.arch}` };
}

export function fmt(s: Stats, unit = 's', digits = 3): string {
  return `median ${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}, n=${s.runs.length})`;
}
