/**
 * extractBatch(): many inputs on one machine. Expands the inputs, records one job per input
 * in the store (DIR/batch.sqlite), runs them on a pool of worker processes, and yields an
 * event per change. Each job writes into DIR/.work/NAME and is renamed to DIR/NAME only when
 * complete, so no partial output ever sits under a final name; the store row then says done.
 * With totalFrames, pass 1 of every clip comes first, then the shares (budget.ts), then
 * applyShare() where a clip's share differs from its automatic count.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { FramesiftError, invalidArg } from '../errors.js';
import type { ExtractOptions } from '../extract.js';
import { silentLogger, type Logger } from '../log.js';
import { writeFileAtomic } from '../output/index.js';
import { resolveExtractOptions } from '../pipeline/options.js';
import { analysisPath } from '../report/saved-analysis.js';
import type { Stage } from '../pipeline/progress.js';
import { shareBudget } from './budget.js';
import { fingerprintInput, fingerprintOptions } from './fingerprint.js';
import { BATCH_STORE_FILE, expandInputs, type BatchInput } from './inputs.js';
import { defaultJobs, threadsPerJob, WorkerProcess } from './pool.js';
import type { JobRequest, PlainExtractOptions } from './protocol.js';
import { JobStore, type JobRow } from './store.js';

export const BATCH_REPORT_FILE = 'batch.json';
/** Jobs in progress write here; anything found in it at start is a leftover of a killed run. */
export const WORK_DIR = '.work';

export interface BatchOptions extends Omit<ExtractOptions, 'onProgress' | 'embedder' | 'signal' | 'logger'> {
  /** DIR: one sub-folder per input, batch.sqlite, batch.json. */
  outDir: string;
  /** Worker processes. Default: cores, fewer when memory is short (defaultJobs). */
  jobs?: number;
  /** Continue the batch in DIR: done jobs with unchanged input and options are kept. */
  resume?: boolean;
  /** With resume: run failed jobs again (otherwise they stay failed). */
  retryFailed?: boolean;
  /** Share N frames among all clips by need (instead of count / maxFrames per clip). */
  totalFrames?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Input expansion (strings): where `-` reads, what relative paths resolve against. */
  stdin?: NodeJS.ReadableStream;
  cwd?: string;
}

/** One job as reported (events, batch.json, the summary). */
export interface JobView {
  id: number;
  input: string;
  kind: BatchInput['kind'];
  name: string;
  outDir: string;
  state: JobRow['state'];
  attempts: number;
  frames: number | null;
  seconds: number | null;
  /** Input seconds per processing second. */
  realtimeFactor: number | null;
  error: { code: string; message: string } | null;
  /** Frames the decoder delivered in the job's extract (its pass 1 with --total-frames). */
  decoded: number | null;
  /** --total-frames: need (automatic count), share and why. */
  need: number | null;
  share: number | null;
  shareReason: string | null;
  /** --total-frames: frames decoded to bring the clip to its share (0: the saved candidates served). */
  shareDecoded: number | null;
}

export type BatchEvent =
  | { type: 'planned'; jobs: JobView[]; toRun: number; workers: number; threadsPerJob: number }
  /** Done in an earlier run with the same input and options: not run again. */
  | { type: 'kept'; job: JobView }
  /** pid: the worker process running the job. */
  | { type: 'started'; job: JobView; worker: number; pid: number; pass: 'extract' | 'share' }
  | { type: 'progress'; job: JobView; worker: number; stage: Stage; done: number; total: number }
  | { type: 'done'; job: JobView; worker: number; pass: 'extract' | 'share' }
  /** retry: the worker died and the job runs once more. */
  | { type: 'failed'; job: JobView; worker: number; retry: boolean }
  | { type: 'shares'; total: number; shares: JobView[] }
  | { type: 'finished'; summary: BatchSummary };

export interface BatchSummary {
  outDir: string;
  jobs: JobView[];
  counts: Record<JobRow['state'], number>;
  frames: number;
  /** Sum of the jobs' run times, and the batch's wall time, seconds. */
  seconds: number;
  wallSeconds: number;
  totalFrames: number | null;
  interrupted: boolean;
}

function view(row: JobRow): JobView {
  return {
    id: row.id,
    input: row.input,
    kind: row.kind,
    name: row.relName,
    outDir: row.outDir,
    state: row.state,
    attempts: row.attempts,
    frames: row.frames,
    seconds: row.seconds,
    realtimeFactor: row.seconds && row.mediaSeconds ? row.mediaSeconds / row.seconds : null,
    error: row.state === 'failed' && row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
    decoded: row.decoded,
    need: row.need,
    share: row.share,
    shareReason: row.shareReason,
    shareDecoded: row.shareDecoded,
  };
}

/** Runs the batch; events arrive as they happen. Aborting ends with 'finished' then ERR_FRAMESIFT_ABORTED. */
export async function* extractBatch(inputs: readonly (string | BatchInput)[], options: BatchOptions): AsyncGenerator<BatchEvent, void, undefined> {
  const queue: BatchEvent[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: unknown;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const emit = (event: BatchEvent) => {
    queue.push(event);
    wake?.();
  };
  const running = runBatch(inputs, options, controller.signal, emit).then(
    () => void (ended = true),
    (err) => {
      failure = err;
      ended = true;
    },
  ).finally(() => wake?.());
  try {
    while (true) {
      while (queue.length > 0) yield queue.shift()!;
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    while (queue.length > 0) yield queue.shift()!;
    if (failure) throw failure;
  } finally {
    // The consumer stopped early (break, throw): stop the workers and wait for a clean store.
    if (!ended) controller.abort();
    await running;
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

interface Context {
  dir: string;
  store: JobStore;
  logger: Logger;
  signal: AbortSignal;
  emit: (event: BatchEvent) => void;
  extract: PlainExtractOptions;
  totalFrames: number | undefined;
  workers: WorkerProcess[];
}

async function runBatch(specs: readonly (string | BatchInput)[], options: BatchOptions, signal: AbortSignal, emit: (e: BatchEvent) => void): Promise<void> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const { jobs, resume, retryFailed, totalFrames, signal: _signal, logger: _logger, stdin, cwd, ...extractOptions } = options;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 256)) throw invalidArg('jobs', 'an integer from 1 to 256', jobs);
  if (totalFrames !== undefined) {
    if (!Number.isInteger(totalFrames) || totalFrames < 1 || totalFrames > 10_000_000) throw invalidArg('totalFrames', 'an integer from 1 to 10000000', totalFrames);
    if (extractOptions.count !== undefined || extractOptions.maxFrames !== undefined) throw invalidArg('totalFrames', 'either totalFrames, count or maxFrames, not two of them', totalFrames);
  }
  // Bad options fail the whole batch now, not once per job.
  resolveExtractOptions({ ...extractOptions, outDir: options.outDir });
  const dir = resolve(options.outDir);

  const strings = specs.filter((s): s is string => typeof s === 'string');
  const expanded = strings.length > 0 ? await expandInputs(strings, { ...(stdin ? { stdin } : {}), ...(cwd ? { cwd } : {}) }) : [];
  const seen = new Set<string>();
  // One job per input, however often it was named (directly and through a folder, say).
  const inputs = [...specs.filter((s): s is BatchInput => typeof s !== 'string'), ...expanded].filter((i) => !seen.has(i.input) && Boolean(seen.add(i.input)));
  if (inputs.length === 0) throw new FramesiftError(`No input found in ${strings.join(' ')}`, 'ERR_FRAMESIFT_NOT_FOUND');

  await prepareBatchDir(dir, Boolean(resume), Boolean(extractOptions.force));
  const store = JobStore.open(dir);
  const workers: WorkerProcess[] = [];
  try {
    // What the job writes depends on these; threads, batch size and memory limits do not.
    const { outDir: _outDir, force: _force, threads: _threads, batchSize: _batchSize, maxMemoryMB: _maxMemory, ...outputOptions } = extractOptions;
    const modelStats = extractOptions.model ? await stat(extractOptions.model).catch(() => undefined) : undefined;
    const optionsFp = fingerprintOptions({ ...outputOptions, totalFrames, model: extractOptions.model ? [extractOptions.model, modelStats?.size, modelStats?.mtimeMs] : undefined });

    const planned = await plan(store, dir, inputs, optionsFp, Boolean(retryFailed));
    const toRun = planned.filter((p) => p.run).map((p) => p.row);
    const jobCount = jobs ?? defaultJobs(modelStats ? modelStats.size * 3 : 0);
    const workerCount = Math.max(1, Math.min(jobCount, Math.max(toRun.length, 1)));
    const threads = extractOptions.threads ?? threadsPerJob(workerCount);
    for (let i = 0; i < workerCount; i++) workers.push(new WorkerProcess(i, logger));
    emit({ type: 'planned', jobs: planned.map((p) => view(p.row)), toRun: toRun.length, workers: workerCount, threadsPerJob: threads });
    for (const p of planned) if (!p.run) emit({ type: 'kept', job: view(p.row) });
    logger.info({ dir, jobs: planned.length, toRun: toRun.length, workers: workerCount, threads }, 'batch planned');

    const ctx: Context = {
      dir,
      store,
      logger,
      signal,
      emit,
      workers,
      totalFrames,
      extract: { ...extractOptions, outDir: dir, threads, force: true, ...(totalFrames !== undefined ? { maxFrames: totalFrames } : {}) },
    };
    await runAll(ctx, toRun.map((row) => ({ row, options: ctx.extract, pass: 'extract' as const })));
    if (totalFrames !== undefined && !signal.aborted) await shareTotal(ctx, planned.map((p) => p.row.id), totalFrames);

    const rows = planned.map((p) => store.get(p.row.id));
    const summary = summarise(dir, rows, totalFrames ?? null, signal.aborted, (performance.now() - started) / 1000);
    await writeFileAtomic(join(dir, BATCH_REPORT_FILE), JSON.stringify({ ...summary, createdAt: new Date().toISOString() }, null, 2) + '\n');
    emit({ type: 'finished', summary });
    if (signal.aborted) throw new FramesiftError(`batch in ${dir}: aborted; finished jobs are kept, run again with --resume`, 'ERR_FRAMESIFT_ABORTED');
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await rm(join(dir, WORK_DIR), { recursive: true, force: true }).catch(() => undefined);
    store.close();
  }
}

/**
 * A new batch needs an empty DIR (or --force, which removes a previous batch's store and
 * report; job folders are replaced as jobs finish). A killed run's work folder always goes.
 */
async function prepareBatchDir(dir: string, resume: boolean, force: boolean): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((err) => {
    throw new FramesiftError(`Could not create batch folder ${dir}: ${(err as Error).message}`, 'ERR_FRAMESIFT_OUTPUT', { cause: err });
  });
  await rm(join(dir, WORK_DIR), { recursive: true, force: true });
  const entries = await readdir(dir);
  if (resume) return;
  if (entries.includes(BATCH_STORE_FILE)) {
    if (!force) {
      throw new FramesiftError(`${dir} holds a batch (${BATCH_STORE_FILE}): use --resume to continue it or --force to start over`, 'ERR_FRAMESIFT_OUTPUT');
    }
    for (const suffix of ['', '-wal', '-shm']) await rm(join(dir, BATCH_STORE_FILE + suffix), { force: true });
    await rm(join(dir, BATCH_REPORT_FILE), { force: true });
  } else if (entries.length > 0 && !force) {
    throw new FramesiftError(`Batch folder ${dir} exists and is not empty; use --force to write into it`, 'ERR_FRAMESIFT_OUTPUT');
  }
}

interface Planned {
  row: JobRow;
  run: boolean;
}

/** One row per input, and whether it runs in this batch (resume rules, docs/batch.md). */
async function plan(store: JobStore, dir: string, inputs: readonly BatchInput[], optionsFp: string, retryFailed: boolean): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const input of inputs) {
    const fp = await fingerprintInput(input);
    const row = store.byInput(input.input);
    if (!row) {
      let name = input.relName;
      // A name an earlier input of this store already uses (the inputs' common root moved).
      for (let n = 2; store.nameTaken(name, input.input); n++) name = `${input.relName}-${n}`;
      planned.push({ row: store.insert(input, name, join(dir, name), fp, optionsFp), run: true });
      continue;
    }
    const changed = row.optionsFp !== optionsFp || row.kind !== input.kind || row.size !== fp.size || row.contentFp !== fp.content;
    if (changed) {
      store.requeue(row.id, true, fp, optionsFp, input.kind);
      planned.push({ row: store.get(row.id), run: true });
    } else if (row.state === 'done' || row.state === 'skipped') {
      // Done only counts with its output there (a folder removed by hand is done again).
      const intact = row.state === 'skipped' || existsSync(join(row.outDir, 'manifest.json'));
      if (intact) {
        if (row.mtimeMs !== fp.mtimeMs) store.touch(row.id, fp.mtimeMs);
        planned.push({ row: store.get(row.id), run: false });
      } else {
        store.requeue(row.id, true);
        planned.push({ row: store.get(row.id), run: true });
      }
    } else if (row.state === 'failed' && !retryFailed) {
      planned.push({ row, run: false });
    } else {
      // failed with --retry-failed starts over; queued or running (interrupted) runs again.
      store.requeue(row.id, row.state === 'failed');
      planned.push({ row: store.get(row.id), run: true });
    }
  }
  return planned;
}

/** A job's pass 1 (its extract), or phase 2 of --total-frames (bring it to its share). */
type Task = { row: JobRow; pass: 'extract'; options: PlainExtractOptions } | { row: JobRow; pass: 'share'; share: number };

/** Each worker takes the next task until none is left or the batch is stopped. */
async function runAll(ctx: Context, tasks: Task[]): Promise<void> {
  const pending = [...tasks];
  await Promise.all(
    ctx.workers.map(async (worker) => {
      while (pending.length > 0 && !ctx.signal.aborted) {
        const task = pending.shift()!;
        const again = await runTask(ctx, worker, task);
        // A crashed job runs once more, first in line (the next worker to be free takes it).
        if (again) pending.unshift({ ...task, row: ctx.store.get(task.row.id) });
      }
    }),
  );
}

/** Runs one task on one worker; true when it must run again (its worker died the first time). */
async function runTask(ctx: Context, worker: WorkerProcess, task: Task): Promise<boolean> {
  const { store, emit } = ctx;
  const id = task.row.id;
  const final = task.row.outDir;
  const work = join(ctx.dir, WORK_DIR, task.row.relName);
  await rm(work, { recursive: true, force: true });
  await mkdir(join(ctx.dir, WORK_DIR), { recursive: true });
  const jobLogger = ctx.logger.child({ jobId: id, input: task.row.input });

  if (task.row.kind === 'missing') {
    store.markRunning(id, process.pid);
    const row = store.markFailed(id, 'ERR_FRAMESIFT_NOT_FOUND', `${task.row.input}: no such file or folder`);
    await rm(final, { recursive: true, force: true });
    jobLogger.info({ code: row.errorCode }, 'job failed');
    emit({ type: 'failed', job: view(row), worker: worker.slot, retry: false });
    return false;
  }

  let pid: number;
  try {
    pid = await worker.start();
  } catch (err) {
    // Stopped meanwhile: the job was not started, it stays queued.
    if (ctx.signal.aborted) return false;
    const row = store.markFailed(id, 'ERR_FRAMESIFT_INTERNAL', (err as Error).message);
    emit({ type: 'failed', job: view(row), worker: worker.slot, retry: false });
    return false;
  }
  let row = store.markRunning(id, pid);
  jobLogger.info({ worker: worker.slot, pid, pass: task.pass }, 'job started');
  emit({ type: 'started', job: view(row), worker: worker.slot, pid, pass: task.pass });
  let request: JobRequest;
  try {
    request = await requestFor(ctx, task, work);
  } catch (err) {
    row = store.markFailed(id, 'ERR_FRAMESIFT_OUTPUT', `${work}: cannot prepare the job's folder: ${(err as Error).message}`);
    await rm(work, { recursive: true, force: true });
    emit({ type: 'failed', job: view(row), worker: worker.slot, retry: false });
    return false;
  }
  const outcome = await worker.run(
    id,
    request,
    (p) => emit({ type: 'progress', job: view(row), worker: worker.slot, stage: p.stage as Stage, done: p.done, total: p.total }),
    ctx.signal,
  );

  if (outcome.kind === 'done') {
    // Complete in the work folder: it replaces the old output in one rename, then the row says done.
    await rm(final, { recursive: true, force: true });
    await rename(work, final);
    row = store.markDone(id, outcome.result, task.pass === 'share');
    if (task.pass === 'extract' && ctx.totalFrames !== undefined) {
      store.setNeed(id, outcome.result.frames);
      row = store.get(id);
    }
    jobLogger.info({ frames: row.frames, seconds: row.seconds }, 'job done');
    emit({ type: 'done', job: view(row), worker: worker.slot, pass: task.pass });
    return false;
  }
  await rm(work, { recursive: true, force: true });
  if (ctx.signal.aborted && (outcome.kind === 'crashed' || outcome.code === 'ERR_FRAMESIFT_ABORTED')) {
    store.markInterrupted(id);
    jobLogger.info('job interrupted');
    return false;
  }
  if (outcome.kind === 'crashed') {
    if (row.crashes === 0) {
      row = store.markCrashedRetry(id, `worker ${outcome.how}`);
      jobLogger.warn({ how: outcome.how }, 'worker died; the job runs once more');
      emit({ type: 'failed', job: view(row), worker: worker.slot, retry: true });
      return true;
    }
    row = store.markFailed(id, 'ERR_FRAMESIFT_CRASHED', `${task.row.input}: the worker process died twice on this input (last ${outcome.how})`, true);
  } else {
    row = store.markFailed(id, outcome.code, outcome.message);
  }
  // A failed job has no output: a stale one from an earlier run would pass for a result.
  await rm(final, { recursive: true, force: true });
  // info: the failure is in the events, the table and batch.json; a warn line per bad clip would
  // only repeat them (and break the TTY display).
  jobLogger.info({ code: row.errorCode, err: row.errorMessage }, 'job failed');
  emit({ type: 'failed', job: view(row), worker: worker.slot, retry: false });
  return false;
}

/**
 * --total-frames, after pass 1 of every clip: share N by need, then bring each clip to its
 * share. A clip that gives fewer frames than its share (its usable frames were fewer than
 * estimated) hands the rest to the others: up to three rounds.
 */
async function shareTotal(ctx: Context, ids: number[], total: number): Promise<void> {
  for (let round = 0; round < 3 && !ctx.signal.aborted; round++) {
    const clips = ids.map((id) => ctx.store.get(id)).filter((r) => (r.state === 'done' || r.state === 'skipped') && r.need !== null);
    if (clips.length === 0) return;
    const shares = shareBudget(clips.map((r) => ({ id: r.id, need: r.need!, capacity: r.capacity ?? r.need! })), total);
    ctx.store.setShares(shares);
    ctx.emit({ type: 'shares', total, shares: clips.map((r) => view(ctx.store.get(r.id))) });
    ctx.logger.info({ total, shares: shares.map((s) => [s.id, s.share]) }, 'frame budget shared');
    const tasks: Task[] = [];
    for (const { id, share, reason } of shares) {
      const row = ctx.store.get(id);
      if (share === 0) {
        if (row.state !== 'skipped') {
          await rm(row.outDir, { recursive: true, force: true });
          ctx.store.markSkipped(id, reason);
        }
      } else if (row.frames !== share || row.state === 'skipped') tasks.push(applyShare(row, share));
    }
    if (tasks.length === 0) return;
    await runAll(ctx, tasks);
    let short = false;
    for (const { id, share } of shares) {
      const row = ctx.store.get(id);
      if (row.state === 'done' && row.frames !== null && row.frames < share) {
        ctx.store.setCapacity(id, row.frames);
        short = true;
      }
    }
    if (!short) return;
  }
}

/**
 * Phase 2 of --total-frames for one clip: the task that brings it to `share` frames. The worker
 * re-selects from the clip's saved analysis (reselect(): nothing decoded when the share fits
 * the saved candidates, only the missing candidates otherwise).
 */
export function applyShare(job: JobRow, share: number): Task {
  return { row: job, pass: 'share', share };
}

/**
 * What the worker runs for a task, writing into `work`. A share is chosen again in a copy of
 * the finished folder (the finished one stays whole until the copy replaces it in one rename);
 * a folder without its saved analysis (removed as a share of 0 earlier) is extracted anew.
 */
async function requestFor(ctx: Context, task: Task, work: string): Promise<JobRequest> {
  if (task.pass === 'extract') return { kind: 'extract', input: task.row.input, options: { ...task.options, outDir: work } };
  const { model, device, strictDevice, maxMemoryMB } = ctx.extract;
  if (existsSync(analysisPath(task.row.outDir))) {
    await cp(task.row.outDir, work, { recursive: true });
    return { kind: 'reselect', dir: work, count: task.share, model: { model, device, strictDevice, maxMemoryMB } };
  }
  const { maxFrames: _maxFrames, ...rest } = ctx.extract;
  return { kind: 'extract', input: task.row.input, options: { ...rest, count: task.share, outDir: work } };
}

function summarise(dir: string, rows: JobRow[], totalFrames: number | null, interrupted: boolean, wallSeconds: number): BatchSummary {
  const counts: Record<JobRow['state'], number> = { queued: 0, running: 0, done: 0, failed: 0, skipped: 0 };
  for (const r of rows) counts[r.state]++;
  return {
    outDir: dir,
    jobs: rows.map(view),
    counts,
    frames: rows.reduce((a, r) => a + (r.state === 'done' ? (r.frames ?? 0) : 0), 0),
    seconds: rows.reduce((a, r) => a + (r.seconds ?? 0), 0),
    wallSeconds,
    totalFrames,
    interrupted,
  };
}
