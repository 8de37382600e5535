/**
 * Memory signals for the batcher: which onnxruntime errors mean "out of memory", and how
 * close the process (RSS) and, where nvidia-smi exists, the GPU are to their limits.
 *
 * The OOM patterns are onnxruntime's real messages (seen in its sources and bug reports):
 * - BFCArena::AllocateRawInternal "Failed to allocate memory for requested buffer of size N"
 *   (CPU and CUDA arenas, bfc_arena.cc);
 * - BFCArena "Available memory of N is smaller than requested bytes of M" (arena limit hit);
 * - "bad allocation" (MSVC std::bad_alloc::what) and "std::bad_alloc" (libstdc++);
 * - CudaCall "CUDA failure 2: out of memory" (cudaErrorMemoryAllocation), "CUDA out of memory";
 * - "CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED";
 * - Metal/CoreML "kIOGPUCommandBufferCallbackErrorOutOfMemory".
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export const OOM_PATTERNS: readonly RegExp[] = [
  /Failed to allocate memory for requested buffer of size/i,
  /Available memory of \d+ is smaller than requested bytes of \d+/i,
  /BFCArena::AllocateRawInternal/i,
  /\bbad allocation\b/i,
  /std::bad_alloc/i,
  /CUDA failure 2: out of memory/i,
  /CUDA out of memory/i,
  /cudaErrorMemoryAllocation/i,
  /CUBLAS_STATUS_ALLOC_FAILED/i,
  /CUDNN_STATUS_ALLOC_FAILED/i,
  /ErrorOutOfMemory/i,
];

/** True when an error from session.run() means the batch did not fit in memory. */
export function isOutOfMemoryError(err: unknown): boolean {
  const message = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  return OOM_PATTERNS.some((p) => p.test(message));
}

export interface MemorySample {
  /** Process resident set size, bytes. */
  rss: number;
  /** GPU memory in use / total on the watched device, bytes, when nvidia-smi answered. */
  gpuUsed?: number;
  gpuTotal?: number;
}

export interface MemoryMonitorOptions {
  /** RSS limit in bytes (`--max-memory`); the batch shrinks before a run would cross it. */
  maxMemory?: number;
  /** Fraction of maxMemory / GPU total treated as the ceiling. Default 0.9. */
  headroom?: number;
  /** Watch the GPU through nvidia-smi (only when the provider is CUDA). Default false. */
  watchGpu?: boolean;
  /** CUDA device ordinal for nvidia-smi. Default 0. */
  gpuIndex?: number;
  /** Injected sampler for tests; default reads process.memoryUsage.rss() and nvidia-smi. */
  sample?: () => Promise<MemorySample>;
}

/** Finds an executable on PATH without spawning a shell. */
async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, process.platform === 'win32' ? `${name}.exe` : name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** nvidia-smi memory.used,memory.total (MiB) for one GPU, or null on any failure. */
export function parseNvidiaSmi(stdout: string, index: number): { used: number; total: number } | null {
  const line = stdout.trim().split(/\r?\n/)[index];
  if (!line) return null;
  const [used, total] = line.split(',').map((s) => Number(s.trim()));
  if (!Number.isFinite(used) || !Number.isFinite(total) || total <= 0) return null;
  return { used: used * 1024 * 1024, total: total * 1024 * 1024 };
}

/**
 * Watches memory between batches and predicts whether the next batch fits.
 * Per-frame cost is learned from the RSS rise over a batch (the arena keeps its peak, so RSS
 * after a run approximates the run's peak); until a batch has been measured, only the current
 * RSS is checked.
 */
export class MemoryMonitor {
  private readonly maxMemory: number | undefined;
  private readonly headroom: number;
  private readonly watchGpu: boolean;
  private readonly gpuIndex: number;
  private readonly injected?: () => Promise<MemorySample>;
  private nvidiaSmi: string | null | undefined;
  private bytesPerFrame = 0;
  private gpuBytesPerFrame = 0;
  last: MemorySample | undefined;

  constructor(options: MemoryMonitorOptions = {}) {
    this.maxMemory = options.maxMemory;
    this.headroom = options.headroom ?? 0.9;
    this.watchGpu = options.watchGpu ?? false;
    this.gpuIndex = options.gpuIndex ?? 0;
    this.injected = options.sample;
  }

  get enabled(): boolean {
    return this.maxMemory !== undefined || this.watchGpu || this.injected !== undefined;
  }

  async sample(): Promise<MemorySample> {
    if (this.injected) return (this.last = await this.injected());
    const sample: MemorySample = { rss: process.memoryUsage.rss() };
    if (this.watchGpu) {
      if (this.nvidiaSmi === undefined) this.nvidiaSmi = await onPath('nvidia-smi');
      if (this.nvidiaSmi) {
        const gpu = await new Promise<{ used: number; total: number } | null>((resolve) => {
          execFile(this.nvidiaSmi as string, ['--query-gpu=memory.used,memory.total', '--format=csv,noheader,nounits'], { timeout: 2000 }, (err, stdout) =>
            resolve(err ? null : parseNvidiaSmi(stdout, this.gpuIndex)),
          );
        });
        if (gpu) [sample.gpuUsed, sample.gpuTotal] = [gpu.used, gpu.total];
      }
    }
    return (this.last = sample);
  }

  /** Records a measured batch: memory before and after `frames` frames ran. */
  learn(before: MemorySample, after: MemorySample, frames: number): void {
    if (frames <= 0) return;
    const rise = (after.rss - before.rss) / frames;
    if (rise > this.bytesPerFrame) this.bytesPerFrame = rise;
    if (before.gpuUsed !== undefined && after.gpuUsed !== undefined) {
      const gpuRise = (after.gpuUsed - before.gpuUsed) / frames;
      if (gpuRise > this.gpuBytesPerFrame) this.gpuBytesPerFrame = gpuRise;
    }
  }

  /**
   * The largest batch size <= `wanted` predicted to stay under the limits, at least 1.
   * Returns the reason when it had to shrink.
   */
  fit(wanted: number, now: MemorySample): { size: number; reason?: 'rss' | 'gpu' } {
    let size = wanted;
    let reason: 'rss' | 'gpu' | undefined;
    if (this.maxMemory !== undefined) {
      const ceiling = this.maxMemory * this.headroom;
      while (size > 1 && now.rss + this.bytesPerFrame * size > ceiling) {
        size = Math.floor(size / 2);
        reason = 'rss';
      }
    }
    if (now.gpuUsed !== undefined && now.gpuTotal !== undefined) {
      const ceiling = now.gpuTotal * this.headroom;
      while (size > 1 && now.gpuUsed + this.gpuBytesPerFrame * size > ceiling) {
        size = Math.floor(size / 2);
        reason = 'gpu';
      }
    }
    return { size: Math.max(1, size), reason };
  }
}
