/**
 * The consumer side: a BullMQ Worker whose jobs run extractFrames in the batch's worker
 * processes (src/jobs/pool.ts: one per concurrency slot, reused, the model loaded once per
 * process; a native crash or an OOM kill ends that process and fails only the attempt, which
 * is retried). Progress goes to the job (job.updateProgress), the result is the run summary
 * and the manifest's path, the output folder is written atomically (job-output.ts). Failures: failure.ts. Cancel requests arrive
 * on the cancel channel (cancel.ts) and abort the job's AbortSignal. close() stops taking
 * jobs, lets the active ones finish, and after `shutdownTimeoutMs` aborts them and puts them
 * back in the queue for another worker.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { Redis } from 'ioredis';

import { FramesiftError, type FramesiftErrorCode } from '../errors.js';
import type { Manifest } from '../extract.js';
import { threadsPerJob, WorkerProcess, type WorkerProgress } from '../jobs/pool.js';
import { silentLogger, type Logger } from '../log.js';
import { MANIFEST_FILE } from '../output/out-dir.js';
import { runSummary } from '../output/summary.js';
import { cancelRequested, subscribeCancels, type CancelSubscription } from './cancel.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, framesiftKey, redisConnection, type QueueLocation } from './connection.js';
import { jobFailure } from './failure.js';
import { OutputTakenError, writeJobOutput } from './job-output.js';
import type { FramesiftJobData, FramesiftJobProgress, FramesiftJobResult, JobOptions } from './job.js';
import type { FramesiftBullJob } from './queue.js';

export interface RunWorkerOptions extends QueueLocation {
  /** Jobs run at once by this worker (each in its own extract process). Default 1. */
  concurrency?: number;
  /** How long a job's lock lives without renewal (ms); a dead worker's job is taken over after it. Default 30000. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (ms). Default 30000. */
  stalledIntervalMs?: number;
  /** Times a job may be taken over from a dead worker before it fails. Default 2. */
  maxStalledCount?: number;
  /** On close(): how long active jobs may run on before they are aborted and re-queued (ms). Default 60000. */
  shutdownTimeoutMs?: number;
  logger?: Logger;
}

export interface WorkerMemory {
  workerId: string;
  host: string;
  pid: number;
  rssBytes: number;
  heapUsedBytes: number;
  activeJobs: number;
  at: number;
}

/** Signal reasons: a user's cancel fails the job; a shutdown puts it back in the queue. */
const CANCELLED = 'cancelled';
const SHUTDOWN = 'shutdown';
const HEARTBEAT_MS = 5000;

/** Share of the whole job done when a stage starts (measure is most of a run). */
const STAGE_SPAN = {
  probe: [0, 0.02],
  measure: [0.02, 0.6],
  candidates: [0.6, 0.62],
  describe: [0.62, 0.85],
  select: [0.85, 0.9],
  tracks: [0.9, 0.95],
  write: [0.95, 1],
  done: [1, 1],
} as const satisfies Record<string, readonly [number, number]>;

function jobProgress(p: WorkerProgress): FramesiftJobProgress {
  const [from, to] = STAGE_SPAN[p.stage as keyof typeof STAGE_SPAN] ?? [0, 1];
  const within = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  return { stage: p.stage, done: p.done, total: p.total, fraction: from + (to - from) * within };
}

export class FramesiftWorker {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly bull: Worker<FramesiftJobData, FramesiftJobResult>;
  readonly location: Required<QueueLocation>;
  #redis: Redis;
  #cancels: CancelSubscription | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #logger: Logger;
  #shutdownTimeoutMs: number;
  #threads: number;
  #closing: Promise<void> | undefined;
  #active = 0;
  /** Extract processes not running a job now (one per concurrency slot). */
  #idle: WorkerProcess[];
  readonly #extractors: WorkerProcess[];
  #runs = 0;

  constructor(options: RunWorkerOptions) {
    this.location = { redis: options.redis, queueName: options.queueName ?? DEFAULT_QUEUE_NAME, prefix: options.prefix ?? DEFAULT_PREFIX };
    this.#logger = options.logger ?? silentLogger;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 60_000;
    const concurrency = options.concurrency ?? 1;
    // Jobs side by side share the cores instead of each taking all of them.
    this.#threads = threadsPerJob(concurrency);
    this.#extractors = Array.from({ length: concurrency }, (_, slot) => new WorkerProcess(slot, this.#logger));
    this.#idle = [...this.#extractors];
    const connection = redisConnection(options.redis);
    this.#redis = new Redis(connection);
    this.#redis.on('error', () => undefined);
    this.bull = new Worker<FramesiftJobData, FramesiftJobResult>(this.location.queueName, (job, token, signal) => this.#process(job, token, signal), {
      connection,
      prefix: this.location.prefix,
      concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
      // After Redis comes back, carry on within a second (BullMQ's default waits 15 s).
      runRetryDelay: 1000,
      autorun: false,
      name: this.id,
    });
    let redisDown = false;
    this.bull.on('error', (err) => {
      if (!redisDown) this.#logger.warn({ err: err.message }, 'queue connection trouble; retrying');
      redisDown = true;
    });
    this.bull.on('active', (job) => {
      redisDown = false;
      this.#logger.info({ job: job.id, input: job.data.input }, 'job started');
    });
    this.bull.on('completed', (job) => this.#logger.info({ job: job.id, outDir: job.data.outDir }, 'job completed'));
    this.bull.on('failed', (job, err) => this.#logger.warn({ job: job?.id, err: err.message }, 'job failed'));
  }

  /** Process ids of the extract processes running now. */
  get extractPids(): number[] {
    return this.#extractors.map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Connects, subscribes to cancel requests and starts taking jobs. */
  async start(): Promise<void> {
    this.#cancels = await subscribeCancels(this.location, (jobId) => this.bull.cancelJob(jobId, CANCELLED));
    await this.bull.waitUntilReady();
    void this.bull.run().catch((err) => this.#logger.error({ err }, 'worker stopped'));
    void this.#beat();
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /**
   * Stops taking jobs and waits for the active ones; after shutdownTimeoutMs aborts them,
   * and they go back to the queue (not counted as a failed attempt).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#heartbeat);
      const timer = setTimeout(() => this.bull.cancelAllJobs(SHUTDOWN), this.#shutdownTimeoutMs);
      try {
        await this.bull.close();
      } finally {
        clearTimeout(timer);
        await Promise.all(this.#extractors.map((p) => p.close()));
        await this.#cancels?.close();
        await this.#redis.hdel(framesiftKey(this.location, 'workers'), this.id).catch(() => undefined);
        this.#redis.disconnect();
      }
    })();
    return this.#closing;
  }

  /** extractFrames in an idle extract process; its manifest, or its failure as a FramesiftError. */
  async #extractInProcess(input: string, options: JobOptions & { outDir: string }, onProgress: (p: WorkerProgress) => void, signal: AbortSignal | undefined): Promise<Manifest> {
    const extractor = this.#idle.pop();
    if (!extractor) throw new FramesiftError('no idle extract process (more jobs than --concurrency)', 'ERR_FRAMESIFT_INTERNAL');
    try {
      const outcome = await extractor.run(++this.#runs, { kind: 'extract', input, options }, onProgress, signal);
      if (outcome.kind === 'failed') throw new FramesiftError(outcome.message, outcome.code as FramesiftErrorCode, { input });
      // A crash ends the process, not the worker: the next job starts a fresh one; this attempt is retried.
      if (outcome.kind === 'crashed') throw new FramesiftError(`${input}: the extract process died (${outcome.how})`, 'ERR_FRAMESIFT_CRASHED', { input });
      return JSON.parse(await readFile(join(options.outDir, MANIFEST_FILE), 'utf8')) as Manifest;
    } finally {
      this.#idle.push(extractor);
    }
  }

  /** Publishes this process's memory for the API's /metrics. */
  async #beat(): Promise<void> {
    const memory = process.memoryUsage();
    let childrenRss = 0;
    for (const extractor of this.#extractors) if (extractor.pid) childrenRss += await residentBytes(extractor.pid);
    const state: WorkerMemory = {
      workerId: this.id,
      host: hostname(),
      pid: process.pid,
      rssBytes: memory.rss + childrenRss,
      heapUsedBytes: memory.heapUsed,
      activeJobs: this.#active,
      at: Date.now(),
    };
    await this.#redis.hset(framesiftKey(this.location, 'workers'), this.id, JSON.stringify(state)).catch(() => undefined);
  }

  async #process(job: FramesiftBullJob, token: string | undefined, signal: AbortSignal | undefined): Promise<FramesiftJobResult> {
    this.#active++;
    try {
      return await this.#extract(job, token, signal);
    } finally {
      this.#active--;
    }
  }

  async #extract(job: FramesiftBullJob, token: string | undefined, signal: AbortSignal | undefined): Promise<FramesiftJobResult> {
    const started = performance.now();
    const { input, outDir, options } = job.data;
    if (await cancelRequested(this.#redis, this.location, job.id!, job.timestamp)) throw new UnrecoverableError(`ERR_FRAMESIFT_ABORTED: ${input}: the job was cancelled`);
    const onProgress = (p: WorkerProgress) => void job.updateProgress(jobProgress(p) as unknown as object).catch(() => undefined);
    try {
      const { force, ...extractOptions } = options;
      const output = await writeJobOutput(job.id!, input, outDir, force ?? false, (tempDir) =>
        this.#extractInProcess(input, { threads: this.#threads, ...extractOptions, outDir: tempDir }, onProgress, signal),
      );
      const jobSec = (performance.now() - started) / 1000;
      const videoSec = output.manifest.input.probe.durationSec || 0;
      return {
        outDir,
        manifestPath: output.manifestPath,
        summary: {
          ...runSummary(output.manifest, outDir),
          videoSec,
          jobSec,
          realtimeFactor: jobSec > 0 ? videoSec / jobSec : 0,
          peakRssMB: output.manifest.peakRssMB,
        },
      };
    } catch (err) {
      if (signal?.aborted && signal.reason === SHUTDOWN && token) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (signal?.aborted) throw new UnrecoverableError(`ERR_FRAMESIFT_ABORTED: ${input}: the job was cancelled`);
      throw jobFailure(err, input, err instanceof OutputTakenError);
    }
  }
}

/** Resident memory of a process (Linux /proc; 0 where it cannot be read). */
async function residentBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Starts a worker on the queue at `options.redis`; close() it to stop. */
export async function runWorker(options: RunWorkerOptions): Promise<FramesiftWorker> {
  const worker = new FramesiftWorker(options);
  await worker.start();
  return worker;
}
