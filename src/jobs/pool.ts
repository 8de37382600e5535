/**
 * The batch's workers: one forked Node process per slot, each running one job at a time and
 * reused for the next (start-up and the model load are paid once per worker, not per clip).
 * Processes rather than worker threads: a segfault or an OOM kill ends the whole process it
 * happens in, so only a process boundary lets the batch survive it, count it against that one
 * job and go on (measured in docs/benchmarks.md, "Batch").
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, freemem } from 'node:os';
import { fileURLToPath } from 'node:url';

import { FramesiftError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JobRequest, ParentMessage, WorkerMessage, WorkerResult } from './protocol.js';

export type JobOutcome =
  | { kind: 'done'; result: WorkerResult }
  | { kind: 'failed'; code: string; message: string }
  /** The process died under the job (native crash, OOM kill, kill -9). */
  | { kind: 'crashed'; how: string };

export interface WorkerProgress {
  stage: string;
  done: number;
  total: number;
}

/** Peak memory of one balanced 1080p extract plus headroom (docs/benchmarks.md). */
const JOB_MEMORY = 700 * 2 ** 20;

/** As many jobs as cores, fewer when free memory would not hold them. */
export function defaultJobs(extraPerJobBytes = 0): number {
  const byMemory = Math.floor((freemem() * 0.8) / (JOB_MEMORY + extraPerJobBytes));
  return Math.max(1, Math.min(availableParallelism(), byMemory));
}

/** Native threads per job so that jobs x threads fills the cores without oversubscribing them. */
export function threadsPerJob(jobs: number): number {
  return Math.max(1, Math.floor(availableParallelism() / jobs));
}

function workerEntry(): { path: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  // Under the tests the sources run as TypeScript: the worker needs the same loader.
  if (self.endsWith('.ts')) return { path: self.replace(/pool\.ts$/, 'worker.ts'), execArgv: ['--import', 'tsx'] };
  return { path: self.replace(/pool\.js$/, 'worker.js'), execArgv: [] };
}

export class WorkerProcess {
  readonly slot: number;
  #child: ChildProcess | undefined;
  #ready: Promise<void> | undefined;
  #job: { jobId: number; settle: (outcome: JobOutcome) => void; onProgress: (p: WorkerProgress) => void } | undefined;
  #logger: Logger;

  constructor(slot: number, logger: Logger) {
    this.slot = slot;
    this.#logger = logger;
  }

  /** The process id of the worker now (it starts on first use and after a crash). */
  async start(): Promise<number> {
    if (!this.#child) this.#spawn();
    await this.#ready;
    return this.#child!.pid!;
  }

  #spawn(): void {
    const entry = workerEntry();
    const env: NodeJS.ProcessEnv = { ...process.env, FRAMESIFT_LOG_LEVEL: this.#logger.level ?? 'warn' };
    // glibc: 2 malloc arenas (see bin/framesift.js); must be set before the process starts.
    env.MALLOC_ARENA_MAX ??= '2';
    const child = fork(entry.path, [], { execArgv: entry.execArgv, env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    this.#child = child;
    this.#ready = new Promise<void>((resolve, reject) => {
      const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new FramesiftError(`batch worker exited while starting (${signal ?? `code ${code}`})`, 'ERR_FRAMESIFT_INTERNAL'));
      child.once('exit', onEarlyExit);
      child.once('error', reject);
      child.once('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          child.off('exit', onEarlyExit);
          resolve();
        }
      });
    });
    this.#ready.catch(() => undefined);
    child.on('message', (m: WorkerMessage) => {
      const job = this.#job;
      if (!job || m.type === 'ready' || m.jobId !== job.jobId) return;
      if (m.type === 'progress') job.onProgress({ stage: m.stage, done: m.done, total: m.total });
      else if (m.type === 'done') job.settle({ kind: 'done', result: m.result });
      else if (m.type === 'failed') job.settle({ kind: 'failed', code: m.code, message: m.message });
    });
    child.on('exit', (code, signal) => {
      // How each worker ended (a signal here means it did not wait for the supervisor).
      this.#logger.info({ worker: this.slot, pid: child.pid, code, signal }, 'worker exited');
      if (this.#child === child) this.#child = undefined;
      this.#job?.settle({ kind: 'crashed', how: signal ? `killed by ${signal}` : `exited with code ${code}` });
    });
  }

  /** Runs one job; resolves with its outcome (never rejects once the worker has started). */
  async run(jobId: number, request: JobRequest, onProgress: (p: WorkerProgress) => void, signal?: AbortSignal): Promise<JobOutcome> {
    await this.start();
    const child = this.#child!;
    const onAbort = () => this.abort();
    try {
      return await new Promise<JobOutcome>((resolve) => {
        this.#job = {
          jobId,
          onProgress,
          settle: (outcome) => {
            this.#job = undefined;
            resolve(outcome);
          },
        };
        const message: ParentMessage = { type: 'run', jobId, request };
        child.send(message);
        // Stopped before or while the job runs: the worker ends it cleanly (its extract aborts).
        if (signal?.aborted) this.abort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Asks the running job to stop cleanly (its extract removes its partial files). */
  abort(): void {
    if (this.#job && this.#child?.connected) this.#child.send({ type: 'abort', jobId: this.#job.jobId } satisfies ParentMessage);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Ends the worker process and waits for it. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.exitCode === null && child.signalCode === null) {
      child.disconnect?.();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  }
}
