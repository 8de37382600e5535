/**
 * The producer side: add jobs, read their state, retry, clean, cancel. A thin typed layer over
 * a BullMQ Queue; every process that shares the Redis URL (and queue name) sees the same jobs.
 */
import { Queue, type Job, type JobState } from 'bullmq';
import { Redis } from 'ioredis';

import { FramesiftError } from '../errors.js';
import { resolveExtractOptions } from '../pipeline/options.js';
import { clearCancel, requestCancel } from './cancel.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, redisConnection, type QueueLocation } from './connection.js';
import { jobErrorOf, type JobError } from './failure.js';
import { jobIdFor, type FramesiftJobData, type FramesiftJobProgress, type FramesiftJobResult } from './job.js';

export type FramesiftBullJob = Job<FramesiftJobData, FramesiftJobResult>;

export interface AddJobOptions {
  /** BullMQ priority: 1 is the highest, larger numbers wait longer. Default none (first in, first out). */
  priority?: number;
  /** Tries in all before a transient failure is final. Default 3. */
  attempts?: number;
  /** First retry delay, doubled on each further retry (ms). Default 5000. */
  backoffMs?: number;
}

export interface AddResult {
  id: string;
  /** False when a job with this id (the same input, output and options) already exists. */
  added: boolean;
}

/** A job as the CLI and the API report it. */
export interface JobView {
  id: string;
  state: JobState | 'unknown';
  input: string;
  outDir: string;
  priority: number;
  progress: FramesiftJobProgress | null;
  attemptsMade: number;
  attempts: number;
  error: JobError | null;
  result: FramesiftJobResult | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** States a job list can be asked for. */
export const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;
export type ListState = (typeof JOB_STATES)[number];
/** Jobs not started yet (the cap on queued jobs counts these). */
const QUEUED: ListState[] = ['waiting', 'prioritized', 'delayed'];

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

export class FramesiftQueue {
  readonly location: Required<QueueLocation>;
  readonly bull: Queue<FramesiftJobData, FramesiftJobResult>;
  /** Plain commands of framesift's own (cancel requests, heartbeats). */
  readonly redis: Redis;

  /**
   * `failFast`: while Redis is away, commands fail at once instead of waiting for it (a server
   * answers 503 rather than hold requests open). Either way the connections come back by themselves.
   */
  constructor(location: QueueLocation, { failFast = false }: { failFast?: boolean } = {}) {
    this.location = { redis: location.redis, queueName: location.queueName ?? DEFAULT_QUEUE_NAME, prefix: location.prefix ?? DEFAULT_PREFIX };
    const connection = { ...redisConnection(location.redis), ...(failFast ? { enableOfflineQueue: false, maxRetriesPerRequest: 0 } : {}) };
    this.bull = new Queue<FramesiftJobData, FramesiftJobResult>(this.location.queueName, { connection, prefix: this.location.prefix });
    this.redis = new Redis(connection);
    this.bull.on('error', () => undefined);
    this.redis.on('error', () => undefined);
  }

  /** True while the connection to Redis is up. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Enqueues one job. The options are checked first (ERR_FRAMESIFT_INVALID_ARG, as the CLI and
   * extractFrames check them). The id is jobIdFor(data): adding the same work again is a no-op.
   */
  async add(data: FramesiftJobData, options: AddJobOptions = {}): Promise<AddResult> {
    resolveExtractOptions({ ...data.options, outDir: data.outDir });
    const id = jobIdFor(data);
    if ((await this.redis.exists(this.bull.toKey(id))) === 1) return { id, added: false };
    await this.bull.add('extract', data, {
      jobId: id,
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 5000 },
      ...(options.priority ? { priority: options.priority } : {}),
    });
    return { id, added: true };
  }

  async get(id: string): Promise<JobView | undefined> {
    // State first, then the job's fields: these are then at least as new as the state (a
    // final 'failed' never shows the attempt count of an earlier try).
    const state = await this.bull.getJobState(id);
    const job = await this.bull.getJob(id);
    return job ? viewOf(job, state) : undefined;
  }

  /** Jobs in one state, `limit` from `start` (newest first). */
  async list(state: ListState, start = 0, limit = 50): Promise<JobView[]> {
    const jobs = await this.bull.getJobs([state], start, start + limit - 1, false);
    return jobs.filter(Boolean).map((job) => viewOf(job, state));
  }

  /** Number of jobs in each state. */
  async counts(): Promise<Record<ListState, number>> {
    return (await this.bull.getJobCounts(...JOB_STATES)) as Record<ListState, number>;
  }

  /** Jobs waiting for a worker (waiting, prioritized, delayed). */
  async queuedCount(): Promise<number> {
    return this.bull.getJobCountByTypes(...QUEUED);
  }

  /** Moves every failed job back to waiting (attempts start again). Returns how many. */
  async retryFailed(): Promise<number> {
    const failed = await this.bull.getFailedCount();
    if (failed > 0) {
      const ids = (await this.bull.getFailed(0, -1)).map((job) => job.id!);
      await clearCancel(this.redis, this.location, ids);
      await this.bull.retryJobs({ state: 'failed', count: 1000 });
    }
    return failed;
  }

  /** Removes finished jobs (completed and failed) older than `graceMs`; outputs stay. Returns how many. */
  async clean(graceMs = 0): Promise<{ completed: number; failed: number }> {
    const completed = await this.bull.clean(graceMs, 0, 'completed');
    const failed = await this.bull.clean(graceMs, 0, 'failed');
    return { completed: completed.length, failed: failed.length };
  }

  /**
   * Cancels a job: a job not started yet is removed; an active one is aborted on its worker
   * (through the job's AbortSignal; it then fails with ERR_FRAMESIFT_ABORTED, not retried); a
   * finished one has its record removed (its output stays).
   */
  async cancel(id: string): Promise<'removed' | 'cancelling' | 'not-found'> {
    const job = await this.bull.getJob(id);
    if (!job) return 'not-found';
    const state = await job.getState();
    if (state !== 'active') {
      try {
        await job.remove();
        return 'removed';
      } catch {
        // Locked: a worker took it meanwhile; cancel it there.
      }
    }
    await requestCancel(this.redis, this.location, id, job.timestamp);
    return 'cancelling';
  }

  async close(): Promise<void> {
    await this.bull.close();
    this.redis.disconnect();
  }
}

export function viewOf(job: FramesiftBullJob, state: JobState | 'unknown'): JobView {
  const progress = typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as FramesiftJobProgress) : null;
  return {
    id: job.id!,
    state,
    input: job.data.input,
    outDir: job.data.outDir,
    priority: job.opts.priority ?? 0,
    progress,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    error: state === 'failed' || job.failedReason ? jobErrorOf(job.failedReason) : null,
    result: job.returnvalue ?? null,
    createdAt: iso(job.timestamp)!,
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
  };
}

/** Opens the queue and waits until Redis answers (ERR_FRAMESIFT_QUEUE when it does not in `timeoutMs`). */
export async function createQueue(location: QueueLocation, timeoutMs = 10_000): Promise<FramesiftQueue> {
  const queue = new FramesiftQueue(location);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      queue.bull.waitUntilReady(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new FramesiftError(`Cannot reach Redis at ${location.redis} within ${timeoutMs / 1000} s`, 'ERR_FRAMESIFT_QUEUE', { input: location.redis })), timeoutMs);
      }),
    ]);
  } catch (err) {
    await queue.close().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return queue;
}
