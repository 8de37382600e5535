/**
 * bench/queue (issue 15): the queue's overhead on loopback, with a real redis-server.
 *   1. latency from enqueue to a worker starting the job (median; target < 50 ms): one job at
 *      a time into an idle worker, timed in one process (performance.now at add, at 'active');
 *   2. POST /v1/jobs throughput of `framesift serve` (its own process) under autocannon, every
 *      request a new job (target >= 500 requests/s);
 *   3. 12 short clips through 2 worker processes vs 1, alternating (report the ratio; target:
 *      2 workers no slower than 1).
 * Usage: npx tsc -p tsconfig.json && node dist/bench/queue.js [--latency-jobs 30] [--post-seconds 10] [--runs 2] [--clip-seconds 4]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import autocannon from 'autocannon';

import { packageRoot } from '../bindings/index.js';
import { ffmpegPath, fmt, stats, workDir } from '../src/bench/common.js';
import { describeMachine } from '../src/bench/machine.js';
import { RedisServer, freePort } from '../src/bench/redis-server.js';
import { createQueue, runWorker, type FramesiftQueue } from '../src/queue/index.js';

const { values } = parseArgs({
  options: {
    'latency-jobs': { type: 'string', default: '30' },
    'post-seconds': { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    'clip-seconds': { type: 'string', default: '4' },
  },
});
const bin = join(packageRoot(), 'bin', 'framesift.js');
const work = join(workDir(), 'queue');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'in'), { recursive: true });

function makeClip(path: string, seconds: number, size: string): void {
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-t', String(seconds), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', path];
  const run = spawnSync(ffmpegPath, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr}`);
}

function until(what: string, probe: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
}

function spawnCli(args: string[]): { child: ChildProcess; ready: Promise<void> } {
  const env: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: '2' };
  delete env.FRAMESIFT_API_TOKEN; // the server listens on loopback without a token
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (/ready|serving/.test(stderr)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${stderr}`)));
  });
  return { child, ready };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

const m = await describeMachine();
console.log('framesift bench queue');
console.log(`${m.cpu}, ${m.cores} cores, load ${m.loadAverage}; Node ${process.version}`);
const redis = await RedisServer.start();
const tiny = join(work, 'in', 'tiny.mp4');
makeClip(tiny, 2, '320x240');

// 1. Enqueue -> worker start, one job at a time into an idle worker.
{
  const queue = await createQueue({ redis: redis.url, queueName: 'latency' });
  const worker = await runWorker({ redis: redis.url, queueName: 'latency' });
  const startedAt = new Map<string, number>();
  worker.bull.on('active', (job) => startedAt.set(job.id!, performance.now()));
  const latencies: number[] = [];
  const n = Number(values['latency-jobs']);
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setTimeout(r, 50)); // the worker is idle, blocked on Redis
    const t0 = performance.now();
    const { id } = await queue.add({ input: tiny, outDir: join(work, 'latency', String(i)), options: { mode: 'fast', count: 3 } });
    await until('job start', async () => startedAt.has(id), 30_000);
    latencies.push(startedAt.get(id)! - t0);
    await until('job end', async () => (await queue.bull.getJobState(id)) === 'completed', 60_000);
  }
  const s = stats(latencies);
  console.log(`enqueue -> worker start        ${fmt(s, 'ms', 2)}  (target < 50 ms)`);
  await worker.close();
  await queue.close();
}

// 2. POST /v1/jobs throughput: the server in its own process, autocannon here.
{
  const port = await freePort();
  mkdirSync(join(work, 'out'), { recursive: true });
  const server = spawnCli(['serve', '--redis', redis.url, '--port', String(port), '--input-root', join(work, 'in'), '--output-root', join(work, 'out'), '--max-queued', '100000000']);
  await server.ready;
  let i = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 32,
    duration: Number(values['post-seconds']),
    requests: [
      {
        method: 'POST',
        path: '/v1/jobs',
        headers: { 'content-type': 'application/json' },
        // Every request a new job (its own output folder, so its own id).
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ input: 'tiny.mp4', options: { mode: 'fast', count: 3, outDir: `post/${i++}` } }) }),
      },
    ],
  });
  console.log(
    `POST /v1/jobs                  ${result.requests.average.toFixed(0)} requests/s (mean of ${result.duration} s, ${result.connections} connections; ` +
      `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ${result['2xx']} accepted, ${result.non2xx} other)  (target >= 500)`,
  );
  await stop(server.child);
  const queue = await createQueue({ redis: redis.url });
  await queue.bull.obliterate({ force: true });
  await queue.close();
}

// 3. 12 short clips: 2 worker processes vs 1, alternating.
{
  const clipSeconds = Number(values['clip-seconds']);
  const clips = Array.from({ length: 12 }, (_, k) => join(work, 'in', `clip${k}.mp4`));
  for (const clip of clips) makeClip(clip, clipSeconds, '640x480');
  // The default queue: the one `framesift worker` takes jobs from.
  const queue: FramesiftQueue = await createQueue({ redis: redis.url });
  const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
  const runs = Number(values.runs);
  let round = 0;
  for (let r = 0; r < runs; r++) {
    for (const workers of [1, 2] as const) {
      const procs = Array.from({ length: workers }, () => spawnCli(['worker', '--redis', redis.url]));
      await Promise.all(procs.map((p) => p.ready));
      round++;
      const t0 = performance.now();
      const ids = [];
      for (const [k, clip] of clips.entries()) ids.push((await queue.add({ input: clip, outDir: join(work, 'scale', String(round), String(k)), options: { mode: 'balanced', count: 8 } })).id);
      await until('12 clips', async () => (await queue.bull.getCompletedCount()) === 12, 600_000);
      times[workers].push((performance.now() - t0) / 1000);
      console.log(`run ${r + 1}: ${workers} worker${workers > 1 ? 's' : ''} ${times[workers].at(-1)!.toFixed(2)} s`);
      await Promise.all(procs.map((p) => stop(p.child)));
      await queue.bull.obliterate({ force: true });
    }
  }
  const ratio = stats(times[2].map((t, k) => t / times[1][k]!));
  console.log(`12 clips (${clipSeconds} s 640x480, balanced, N=8), 1 worker   ${fmt(stats(times[1]))}`);
  console.log(`12 clips, 2 workers                              ${fmt(stats(times[2]))}`);
  console.log(`ratio 2 workers / 1 worker                       ${fmt(ratio, 'x')}  (target <= 1)`);
  await queue.close();
}
await redis.dispose();
rmSync(work, { recursive: true, force: true });
