/**
 * The job queue with a real redis-server and real BullMQ workers (in processes and in this
 * one): crash recovery, failure semantics, shutdown, a Redis restart, the CLI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../src/cli/index.js';
import { createQueue, jobIdFor, runWorker, type FramesiftQueue } from '../src/queue/index.js';
import { ffmpeg } from './helpers/ffmpeg.js';
import { fixtures } from './helpers/fixtures.js';
import { bin, clipCopies, expectOneCompleteOutput, QUICK, spawnWorker, tempDir, until, workerReady } from './helpers/queue-fixtures.js';
import { RedisServer } from '../src/bench/redis-server.js';

let redis: RedisServer;
/** The default queue, as the CLI commands use it; the tests run in order on it. */
let queue: FramesiftQueue;

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  redis = await RedisServer.start();
  queue = await createQueue({ redis: redis.url });
  fixtures.cfr();
  fixtures.notVideo();
});

afterAll(async () => {
  await queue?.close();
  await redis?.dispose();
});

describe('framesift worker processes', () => {
  it('10 jobs on two workers, one SIGKILLed mid-job: all 10 complete once, one complete output each', async () => {
    const dir = tempDir('framesift-queue-kill-');
    const inputs = clipCopies(join(dir, 'in'), 10);
    const out = join(dir, 'out');
    // Jobs are added with the CLI (inputs as in batch: each gets DIR/<name>).
    const added = spawnSync(process.execPath, [bin, 'queue', 'add', ...inputs, '--redis', redis.url, '--out', out, '--mode', 'fast', '--count', '3', '--json'], { encoding: 'utf8' });
    expect(added.status, added.stderr).toBe(0);
    const jobs = JSON.parse(added.stdout).jobs as { id: string; outDir: string; added: boolean }[];
    expect(jobs.filter((j) => j.added)).toHaveLength(10);

    const victim = spawnWorker(redis.url);
    const survivor = spawnWorker(redis.url);
    try {
      await Promise.all([workerReady(victim), workerReady(survivor)]);
      // Kill the victim while it runs a job.
      const killedJob = await until('a job active on the first worker', async () => {
        const active = await queue.bull.getActive();
        return active.find((job) => job.processedBy?.includes(`-${victim.child.pid}-`));
      }, 30_000, 5);
      victim.child.kill('SIGKILL');
      await victim.exited;
      const counts = await until('all 10 jobs completed', async () => {
        const c = await queue.counts();
        return c.completed === 10 && c;
      }, 60_000, 100);
      expect(counts.failed).toBe(0);
      const retaken = await queue.get(killedJob.id!);
      expect(retaken?.state).toBe('completed');
      // Taken over from the dead worker (stalled), not retried as a failure.
      expect((await queue.bull.getJob(killedJob.id!))?.processedBy).toContain(`-${survivor.child.pid}-`);
      for (const job of jobs) {
        const view = await queue.get(job.id);
        expect(view?.result?.summary.chosen).toBe(3);
        expectOneCompleteOutput(job.outDir, job.id, 3);
      }
    } finally {
      victim.child.kill('SIGKILL');
      survivor.child.kill('SIGTERM');
      await survivor.exited;
    }
    // Adding the same inputs again queues nothing: the ids are the same.
    const again = await runCli(['queue', 'add', ...inputs, '--redis', redis.url, '--out', out, '--mode', 'fast', '--count', '3']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim().split('\n').filter((line) => line.startsWith('already queued'))).toHaveLength(10);
  });

  it('SIGTERM lets the active job finish; after --shutdown-timeout it goes back to the queue instead', async () => {
    const dir = tempDir('framesift-queue-term-');
    // 10 s in balanced mode: long enough to be mid-job when the signal arrives.
    const long = join(dir, 'long.mp4');
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', long]);
    const job = { input: long, outDir: join(dir, 'out', 'finish'), options: { mode: 'balanced' as const, count: 4 } };
    const finishing = spawnWorker(redis.url);
    let impatient: ReturnType<typeof spawnWorker> | undefined;
    try {
      await workerReady(finishing);
      const { id } = await queue.add(job);
      await until('the job to start', async () => (await queue.get(id))?.state === 'active');
      finishing.child.kill('SIGTERM');
      expect(await finishing.exited).toBe(0);
      expect(finishing.stderr()).toContain('worker stopped');
      expect((await queue.get(id))?.state).toBe('completed');
      expectOneCompleteOutput(job.outDir, id, 4);

      impatient = spawnWorker(redis.url, ['--shutdown-timeout', '0']);
      await workerReady(impatient);
      const second = { ...job, outDir: join(dir, 'out', 'requeue') };
      const { id: secondId } = await queue.add(second);
      await until('the second job to start', async () => (await queue.get(secondId))?.state === 'active');
      impatient.child.kill('SIGTERM');
      expect(await impatient.exited).toBe(0);
      const view = await queue.get(secondId);
      expect(view?.state).toBe('waiting');
      expect(view?.attemptsMade).toBe(0);
      expect(existsSync(second.outDir)).toBe(false);
      expect(await queue.cancel(secondId)).toBe('removed');
    } finally {
      finishing.child.kill('SIGKILL');
      impatient?.child.kill('SIGKILL');
    }
  });
});

describe('failure semantics (worker in this process)', () => {
  it('a corrupt input fails once with its code; an I/O failure is retried with backoff up to the attempts', async () => {
    const dir = tempDir('framesift-queue-fail-');
    const worker = await runWorker({ redis: redis.url });
    try {
      const corrupt = await queue.add({ input: fixtures.notVideo(), outDir: join(dir, 'corrupt'), options: { ...QUICK } }, { attempts: 3, backoffMs: 50 });
      // The output's parent is a file: creating the folder fails (ERR_FRAMESIFT_OUTPUT), which a retry could fix.
      writeFileSync(join(dir, 'blocker'), 'a file where a folder should be');
      const io = await queue.add({ input: fixtures.cfr(), outDir: join(dir, 'blocker', 'out'), options: { ...QUICK } }, { attempts: 2, backoffMs: 50 });
      const failed = await until('both jobs failed', async () => {
        const [a, b] = [await queue.get(corrupt.id), await queue.get(io.id)];
        return a?.state === 'failed' && b?.state === 'failed' && ([a, b] as const);
      });
      expect(failed[0].error?.code).toBe('ERR_FRAMESIFT_OPEN');
      expect(failed[0].error?.message).toContain('not-video.mp4');
      expect(failed[0].attemptsMade).toBe(1);
      expect(failed[1].error?.code).toBe('ERR_FRAMESIFT_OUTPUT');
      expect(failed[1].attemptsMade).toBe(2);
      const status = await runCli(['queue', 'status', '--redis', redis.url, '--json']);
      expect(status.code).toBe(0);
      const reported = JSON.parse(status.stdout);
      expect(reported.counts.failed).toBe(2);
      expect(reported.failed.map((j: { code: string }) => j.code).sort()).toEqual(['ERR_FRAMESIFT_OPEN', 'ERR_FRAMESIFT_OUTPUT']);

      // `queue retry` puts failed jobs back: both fail again (the corrupt one at once).
      const retry = await runCli(['queue', 'retry', '--redis', redis.url]);
      expect(retry.stdout).toContain('retried 2 failed jobs');
      await until('both failed again', async () => {
        const [a, b] = [await queue.get(corrupt.id), await queue.get(io.id)];
        return a?.state === 'failed' && b?.state === 'failed' && a.finishedAt !== failed[0].finishedAt && b.finishedAt !== failed[1].finishedAt;
      });
      const clean = await runCli(['queue', 'clean', '--redis', redis.url]);
      expect(clean.stdout).toMatch(/removed \d+ completed and 2 failed job records/);
      const after = await queue.counts();
      expect([after.failed, after.completed]).toEqual([0, 0]);
    } finally {
      await worker.close();
    }
  });

  it('an extract process killed mid-job (a native crash, an OOM kill) fails that attempt only: retried, completed', async () => {
    const dir = tempDir('framesift-queue-crash-');
    const worker = await runWorker({ redis: redis.url });
    try {
      const job = { input: fixtures.cfr(), outDir: join(dir, 'out'), options: { mode: 'balanced' as const, count: 4 } };
      const { id } = await queue.add(job, { attempts: 3, backoffMs: 50 });
      await until('the job to start', async () => (await queue.get(id))?.progress?.stage === 'measure');
      const [pid] = worker.extractPids;
      process.kill(pid!, 'SIGKILL');
      const done = await until('the job completed', async () => {
        const view = await queue.get(id);
        return view?.state === 'completed' && view;
      });
      expect(done.attemptsMade).toBe(2);
      expect(worker.extractPids).not.toContain(pid);
      expectOneCompleteOutput(job.outDir, id, 4);
    } finally {
      await worker.close();
    }
  });

  it('Redis restarts mid-run: the worker reconnects and every job completes', async () => {
    const dir = tempDir('framesift-queue-restart-');
    const worker = await runWorker({ redis: redis.url, lockDurationMs: 5000, stalledIntervalMs: 1000 });
    try {
      const inputs = clipCopies(join(dir, 'in'), 4);
      const ids = [];
      for (const [i, input] of inputs.entries()) ids.push((await queue.add({ input, outDir: join(dir, 'out', String(i)), options: { ...QUICK } })).id);
      await until('the first job completed', async () => (await queue.get(ids[0]!))?.state === 'completed');
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await redis.start();
      await until('all 4 completed after the restart', async () => (await Promise.all(ids.map((id) => queue.get(id)))).every((v) => v?.state === 'completed'), 45_000, 100);
      for (const [i, id] of ids.entries()) expectOneCompleteOutput(join(dir, 'out', String(i)), id, 3);
    } finally {
      await worker.close();
    }
  });
});

describe('framesift queue CLI', () => {
  it('bad options exit 2 with the extract grammar and queue nothing; job ids are stable hashes', async () => {
    const dir = tempDir('framesift-queue-cli-');
    const bad = await runCli(['queue', 'add', fixtures.cfr(), '--redis', redis.url, '--out', dir, '--count', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected an integer from 1 to 1000000 for count but received 0');
    const badUrl = await runCli(['queue', 'status', '--redis', 'http://x']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('for --redis');
    const missing = await runCli(['queue', 'add', join(dir, 'nothing.mp4'), '--redis', redis.url, '--out', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERR_FRAMESIFT_NOT_FOUND');
    const data = { input: '/a.mp4', outDir: '/o/a', options: { count: 3, mode: 'fast' as const } };
    expect(jobIdFor(data)).toMatch(/^[0-9a-f]{32}$/);
    expect(jobIdFor({ ...data, options: { mode: 'fast', count: 3 } })).toBe(jobIdFor(data));
    expect(jobIdFor({ ...data, options: { mode: 'fast', count: 4 } })).not.toBe(jobIdFor(data));
    expect(jobIdFor({ ...data, outDir: '/o/b' })).not.toBe(jobIdFor(data));
  });
});
