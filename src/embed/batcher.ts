/**
 * Adaptive batching: runs items through `runBatch` in batches whose size follows memory.
 * - A run that fails with an out-of-memory error (isOutOfMemoryError) is retried on the same
 *   items with half the batch, down to 1; OOM at batch 1 fails with ERR_FRAMESIFT_TOO_LARGE.
 * - After `growAfter` clean batches in a row the size doubles, up to `maxBatch`.
 * - Before each batch the memory monitor may shrink it to stay under --max-memory / the GPU.
 * - Any other error is not retried: a FramesiftError keeps its code, anything else becomes
 *   ERR_FRAMESIFT_MODEL with the original as cause.
 * Results come back in input order, exactly one per item.
 */
import { EventEmitter } from 'node:events';
import { FramesiftError, invalidArg } from '../errors.js';
import { isOutOfMemoryError, MemoryMonitor, type MemorySample } from './memory-monitor.js';

export interface BatchResizeEvent {
  from: number;
  to: number;
  reason: 'oom' | 'rss' | 'gpu' | 'clean-runs';
  /** Index of the first item of the batch concerned. */
  at: number;
  message?: string;
}

export interface BatchDoneEvent {
  at: number;
  size: number;
  ms: number;
}

export interface BatcherOptions {
  /** Largest batch. Default 16. */
  maxBatch?: number;
  /** Starting batch. Default maxBatch. */
  initialBatch?: number;
  /** Clean batches in a row before doubling. Default 4. */
  growAfter?: number;
  monitor?: MemoryMonitor;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

export interface BatcherEvents {
  shrink: [BatchResizeEvent];
  grow: [BatchResizeEvent];
  batch: [BatchDoneEvent];
}

export class AdaptiveBatcher extends EventEmitter<BatcherEvents> {
  readonly maxBatch: number;
  readonly growAfter: number;
  private size: number;
  private clean = 0;
  private readonly monitor: MemoryMonitor;
  private readonly logger?: BatcherOptions['logger'];

  constructor(options: BatcherOptions = {}) {
    super();
    const maxBatch = options.maxBatch ?? 16;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 4096) throw invalidArg('maxBatch', 'an integer from 1 to 4096', maxBatch);
    const growAfter = options.growAfter ?? 4;
    if (!Number.isInteger(growAfter) || growAfter < 1) throw invalidArg('growAfter', 'a positive integer', growAfter);
    const initial = options.initialBatch ?? maxBatch;
    if (!Number.isInteger(initial) || initial < 1 || initial > maxBatch) throw invalidArg('initialBatch', `an integer from 1 to ${maxBatch}`, initial);
    this.maxBatch = maxBatch;
    this.growAfter = growAfter;
    this.size = initial;
    this.monitor = options.monitor ?? new MemoryMonitor();
    this.logger = options.logger;
  }

  /** The batch size the next batch will start from (kept across run() calls). */
  get batchSize(): number {
    return this.size;
  }

  private resize(to: number, reason: BatchResizeEvent['reason'], at: number, message?: string): void {
    const event: BatchResizeEvent = { from: this.size, to, reason, at, message };
    this.size = to;
    this.clean = 0;
    if (to < event.from) {
      this.logger?.warn({ ...event }, `embedding batch ${event.from} -> ${to} (${reason})`);
      this.emit('shrink', event);
    } else {
      this.logger?.info({ ...event }, `embedding batch ${event.from} -> ${to} (${reason})`);
      this.emit('grow', event);
    }
  }

  async run<T, R>(items: readonly T[], runBatch: (batch: readonly T[], at: number) => Promise<R[]>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let at = 0;
    while (at < items.length) {
      let before: MemorySample | undefined;
      if (this.monitor.enabled) {
        before = await this.monitor.sample();
        const fit = this.monitor.fit(this.size, before);
        if (fit.size < this.size) this.resize(fit.size, fit.reason ?? 'rss', at);
      }
      const size = Math.min(this.size, items.length - at);
      const batch = items.slice(at, at + size);
      const started = performance.now();
      let out: R[];
      try {
        out = await runBatch(batch, at);
      } catch (err) {
        if (isOutOfMemoryError(err)) {
          const message = err instanceof Error ? err.message : String(err);
          if (size <= 1) {
            throw new FramesiftError(`Out of memory embedding a single frame (item ${at}): ${message}`, 'ERR_FRAMESIFT_TOO_LARGE', { cause: err });
          }
          this.resize(Math.max(1, Math.floor(size / 2)), 'oom', at, message);
          continue; // same items, smaller batch
        }
        if (err instanceof FramesiftError) throw err;
        throw new FramesiftError(`Inference failed on items ${at}..${at + size - 1}: ${(err as Error)?.message ?? String(err)}`, 'ERR_FRAMESIFT_MODEL', { cause: err });
      }
      if (out.length !== size) {
        throw new FramesiftError(`Batch of ${size} returned ${out.length} results`, 'ERR_FRAMESIFT_INTERNAL');
      }
      for (let i = 0; i < size; i++) results[at + i] = out[i];
      this.emit('batch', { at, size, ms: performance.now() - started });
      if (before) this.monitor.learn(before, await this.monitor.sample(), size);
      at += size;
      // Only full batches count as evidence that the current size fits.
      if (size === this.size && ++this.clean >= this.growAfter && this.size < this.maxBatch) {
        this.resize(Math.min(this.maxBatch, this.size * 2), 'clean-runs', at);
      }
    }
    return results;
  }
}
