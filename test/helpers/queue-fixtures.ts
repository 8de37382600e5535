/** Shared by the queue and API tests: inputs, worker processes, waiting, and checking outputs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'vitest';

import { fixtures } from './fixtures.js';

export const bin = join(import.meta.dirname, '..', '..', 'bin', 'framesift.js');

/** The job options of the tests: tiny and quick. */
export const QUICK = { mode: 'fast', count: 3 } as const;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `n` copies of the 3 s 320x240 clip in `dir` (distinct inputs, so distinct jobs). */
export function clipCopies(dir: string, n: number, prefix = 'clip'): string[] {
  mkdirSync(dir, { recursive: true });
  const source = fixtures.cfr();
  return Array.from({ length: n }, (_, i) => {
    const path = join(dir, `${prefix}${String(i).padStart(2, '0')}.mp4`);
    copyFileSync(source, path);
    return path;
  });
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `framesift worker` as its own process (MALLOC_ARENA_MAX set: no launcher process in between). */
export function spawnWorker(redis: string, args: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, [bin, 'worker', '--redis', redis, '--lock-duration', '2', '--stalled-interval', '0.5', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MALLOC_ARENA_MAX: '2', FRAMESIFT_LOG_LEVEL: 'info' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

export async function workerReady(worker: WorkerProcess): Promise<void> {
  await until('the worker to start', async () => worker.stderr().includes('ready') || worker.child.exitCode !== null, 30_000);
  if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.stderr()}`);
}

/** One complete output of job `jobId` in `dir` with `frames` images, and no temporary folder beside it. */
export function expectOneCompleteOutput(dir: string, jobId: string, frames: number): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  expect(manifest.frames.length).toBe(frames);
  expect(readdirSync(join(dir, 'images')).sort()).toEqual(manifest.frames.map((f: { file: string }) => f.file).sort());
  expect(manifest.config.outDir).toBe(dir);
  expect(JSON.parse(readFileSync(join(dir, '.framesift-job.json'), 'utf8')).jobId).toBe(jobId);
  const parent = join(dir, '..');
  expect(readdirSync(parent).filter((name) => name.includes('framesift-tmp'))).toEqual([]);
  expect(existsSync(join(dir, 'images'))).toBe(true);
}
