/**
 * The jobs of a batch worker process (worker.ts is its entry): one job at a time for the
 * supervisor (an extract, or a re-selection from a finished job's saved analysis), the model
 * kept loaded across clips.
 */
import sharp from 'sharp';

import { deliveredFrameCount } from '../core/decode.js';
import { Embedder } from '../embed/index.js';
import { FramesiftError } from '../errors.js';
import { extractFrames, type Manifest } from '../extract.js';
import { createLogger, type LogLevel } from '../log.js';
import { reselect } from '../report/reselect.js';
import type { JobRequest, ModelOptions, ParentMessage, WorkerMessage, WorkerResult } from './protocol.js';

const logger = createLogger((process.env.FRAMESIFT_LOG_LEVEL as LogLevel) ?? 'warn');
/** One Embedder per model and device, loaded at the first clip that needs it. */
const embedders = new Map<string, Promise<Embedder>>();
let current: { jobId: number; controller: AbortController } | undefined;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function embedderFor(options: ModelOptions, threads: number): Promise<Embedder> | undefined {
  if (!options.model) return undefined;
  const key = JSON.stringify([options.model, options.device, options.strictDevice, options.maxMemoryMB]);
  let embedder = embedders.get(key);
  if (!embedder) {
    embedder = Embedder.create({
      model: options.model,
      device: options.device ?? 'auto',
      strict: options.strictDevice ?? false,
      intraOpThreads: threads,
      ...(options.maxMemoryMB ? { maxMemory: options.maxMemoryMB * 1024 * 1024 } : {}),
      logger,
    });
    // A model that fails to load fails each job that needs it, with its own error.
    embedder.then(
      (e) => logger.info({ model: options.model, provider: e.info.provider }, 'model loaded'),
      () => embedders.delete(key),
    );
    embedders.set(key, embedder);
  }
  return embedder;
}

/** Threads of this worker's native work: the supervisor's per-job share of the cores. */
let threads = 1;

async function runRequest(jobId: number, request: JobRequest, signal: AbortSignal, jobLogger: typeof logger): Promise<Manifest> {
  const onProgress = (p: { stage: string; done: number; total: number }) => send({ type: 'progress', jobId, stage: p.stage as never, done: p.done, total: p.total });
  if (request.kind === 'extract') {
    threads = request.options.threads ?? 1;
    sharp.concurrency(threads);
    const embedder = await embedderFor(request.options, threads);
    return extractFrames(request.input, { ...request.options, ...(embedder ? { embedder } : {}), signal, logger: jobLogger, onProgress });
  }
  // The batch's model, loaded once per worker like extract's, for candidates not saved.
  const embedder = await embedderFor(request.model, threads);
  return reselect(request.dir, { count: request.count, ...(embedder ? { embedder } : {}), signal, logger: jobLogger, onProgress });
}

async function run(message: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  const { jobId, request } = message;
  const controller = new AbortController();
  current = { jobId, controller };
  const jobLogger = logger.child({ jobId, ...(request.kind === 'extract' ? { input: request.input } : { dir: request.dir }) });
  const started = performance.now();
  const deliveredBefore = deliveredFrameCount();
  try {
    const manifest = await runRequest(jobId, request, controller.signal, jobLogger);
    const probe = manifest.input.probe as { durationSec?: number; frameCount?: number };
    const sequenceFps = request.kind === 'extract' ? request.options.sequenceFps : undefined;
    const result: WorkerResult = {
      seconds: (performance.now() - started) / 1000,
      mediaSeconds: probe.durationSec && probe.durationSec > 0 ? probe.durationSec : manifest.counts.analysed / (sequenceFps ?? 1),
      frames: manifest.counts.chosen,
      analysed: manifest.counts.analysed,
      capacity: Math.max(0, manifest.counts.analysed - manifest.counts.rejected),
      decoded: deliveredFrameCount() - deliveredBefore,
      warnings: manifest.warnings,
      peakRssMB: manifest.peakRssMB,
    };
    jobLogger.info({ kind: request.kind, frames: result.frames, decoded: result.decoded, seconds: result.seconds }, 'job done');
    send({ type: 'done', jobId, result });
  } catch (err) {
    const code = err instanceof FramesiftError ? err.code : 'ERR_FRAMESIFT_INTERNAL';
    const text = err instanceof Error ? err.message : String(err);
    jobLogger.debug({ code, err: text }, 'job failed');
    send({ type: 'failed', jobId, code, message: text });
  } finally {
    current = undefined;
  }
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'run') void run(message);
  else if (message.type === 'abort' && current?.jobId === message.jobId) current.controller.abort();
});
// The supervisor closes the channel when the batch ends, or it is gone (kill -9): stop now.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
