/**
 * A batch worker process (forked by pool.ts): runs one extractFrames job at a time for the
 * supervisor and keeps the model loaded across clips. A process, not a worker thread, so a
 * native crash or an OOM kill takes only this process and its one job (docs/batch.md).
 */
import sharp from 'sharp';

import { Embedder } from '../embed/index.js';
import { FramesiftError } from '../errors.js';
import { extractFrames, type ExtractOptions } from '../extract.js';
import { createLogger, type LogLevel } from '../log.js';
import type { ParentMessage, WorkerMessage, WorkerResult } from './protocol.js';

const logger = createLogger((process.env.FRAMESIFT_LOG_LEVEL as LogLevel) ?? 'warn');
/** One Embedder per model and device, loaded at the first clip that needs it. */
const embedders = new Map<string, Promise<Embedder>>();
let current: { jobId: number; controller: AbortController } | undefined;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function embedderFor(options: ExtractOptions, threads: number): Promise<Embedder> | undefined {
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

async function run(message: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  const { jobId, input, options } = message;
  const controller = new AbortController();
  current = { jobId, controller };
  const jobLogger = logger.child({ jobId, input });
  const started = performance.now();
  try {
    const threads = options.threads ?? 1;
    sharp.concurrency(threads);
    const embedder = await embedderFor(options, threads);
    const manifest = await extractFrames(input, {
      ...options,
      ...(embedder ? { embedder } : {}),
      signal: controller.signal,
      logger: jobLogger,
      onProgress: (p) => send({ type: 'progress', jobId, stage: p.stage, done: p.done, total: p.total }),
    });
    const probe = manifest.input.probe as { durationSec?: number; frameCount?: number };
    const result: WorkerResult = {
      seconds: (performance.now() - started) / 1000,
      mediaSeconds: probe.durationSec && probe.durationSec > 0 ? probe.durationSec : manifest.counts.analysed / (options.sequenceFps ?? 1),
      frames: manifest.counts.chosen,
      analysed: manifest.counts.analysed,
      capacity: Math.max(0, manifest.counts.analysed - manifest.counts.rejected),
      warnings: manifest.warnings,
      peakRssMB: manifest.peakRssMB,
    };
    jobLogger.info({ frames: result.frames, seconds: result.seconds }, 'job done');
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
// The supervisor is gone (kill -9, power of its terminal): nothing to report to, stop now.
process.on('disconnect', () => process.exit(0));
// Signals of the terminal reach the whole process group: the supervisor decides what stops.
process.on('SIGINT', () => undefined);
send({ type: 'ready', pid: process.pid });
