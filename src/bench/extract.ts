/**
 * Suite `extract`: the whole `extractFrames` job per mode, end to end (images written), as a
 * realtime factor (video seconds per wall second), with the peak RSS of the process and the
 * peak GPU memory (nvidia-smi) where there is a GPU. Reference, same run: the ffmpeg binary
 * decoding the same file to null. bench/extract.ts (issue 6's speed check) reuses timedExtract.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { extractFrames, type Manifest } from '../extract.js';
import type { DeviceName } from '../pipeline/options.js';
import { ffmpegDecodeSeconds, mapStats, paired, stats } from './common.js';
import { nvidiaGpus } from './machine.js';
import type { ExtractMode, Figure, SkippedPart } from './schema.js';
import { figure, statsJson, timeRatio, type SuiteContext, type SuiteOutput } from './suite.js';

/** Samples GPU memory in use (MiB, summed over GPUs) with `nvidia-smi -lms`. */
class GpuMemorySampler {
  peakMiB = 0;
  #child: ChildProcess;
  constructor() {
    this.#child = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-lms', '200'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.#child.on('error', () => undefined);
    let pending = '';
    this.#child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      // One line per GPU per sample; the peak of any GPU is what matters for choosing a card.
      for (const line of lines) if (Number.isFinite(Number(line))) this.peakMiB = Math.max(this.peakMiB, Number(line));
    });
  }
  stop(): number {
    this.#child.kill();
    return this.peakMiB;
  }
}

export interface ExtractRun {
  seconds: number;
  manifest: Manifest;
  /** Peak resident memory of this process during the run (MiB). */
  peakRssMB: number;
  /** Peak GPU memory in use during the run (MiB), null without nvidia-smi. */
  peakGpuMB: number | null;
}

export interface TimedExtractOptions {
  mode: ExtractMode;
  count?: number;
  model?: string;
  device?: DeviceName;
  /** balanced / high_quality: the two-pass pipeline (for comparisons with the one pass). */
  twoPass?: boolean;
  signal?: AbortSignal;
}

/** One extractFrames run into a temporary folder (removed afterwards), timed. */
export async function timedExtract(path: string, options: TimedExtractOptions): Promise<ExtractRun> {
  const outDir = mkdtempSync(join(tmpdir(), 'framesift-bench-extract-'));
  const gpu = nvidiaGpus().gpus.length ? new GpuMemorySampler() : undefined;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    const started = performance.now();
    const manifest = await extractFrames(path, {
      outDir,
      force: true,
      mode: options.mode,
      ...(options.count ? { count: options.count } : {}),
      ...(options.model ? { model: options.model, device: options.device ?? 'auto' } : {}),
      ...(options.twoPass ? { twoPass: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, manifest, peakRssMB: Math.max(Math.round(peakRss / 2 ** 20), manifest.peakRssMB), peakGpuMB: gpu ? gpu.stop() : null };
  } finally {
    clearInterval(sampler);
    gpu?.stop();
    rmSync(outDir, { recursive: true, force: true });
  }
}

export async function extractSuite(context: SuiteContext): Promise<SuiteOutput> {
  const figures: Figure[] = [];
  const skipped: SkippedPart[] = [];
  const gpuNote = nvidiaGpus().note;
  if (gpuNote) skipped.push({ name: 'peak GPU memory', reason: gpuNote });
  for (const workload of context.frameWorkloads) {
    for (const mode of context.modes) {
      context.progress(`${workload.id}: ${mode}`);
      const runs: ExtractRun[] = [];
      const p = await paired(
        context.runs,
        async () => {
          runs.push(await timedExtract(workload.path, { mode, model: context.model, device: context.devices[0] as DeviceName, signal: context.signal }));
        },
        () => ffmpegDecodeSeconds(workload.path, 0),
      );
      const counted = runs.slice(1); // the first was the warm-up
      const last = counted.at(-1)!;
      const realtime = (s: number) => workload.durationSec / s;
      const stageMedians = Object.fromEntries(Object.keys(last.manifest.timings).map((k) => [`stage.${k}.s`, +stats(counted.map((r) => r.manifest.timings[k] ?? 0)).median.toFixed(3)]));
      figures.push(
        figure('extract end to end', workload, { mode, ...(context.model ? { model: context.model.split('/').at(-1)!, device: last.manifest.device?.provider ?? 'cpu' } : {}) }, 'x realtime', 'higher', mapStats(p.subject, realtime), {
          reference: { name: 'ffmpeg binary, decode to null', value: statsJson(mapStats(p.reference, realtime)) },
          ratio: timeRatio(p, 'extract wall time / ffmpeg binary decode-to-null time'),
          extra: {
            wallSeconds: +p.subject.median.toFixed(3),
            peakRssMB: Math.max(...counted.map((r) => r.peakRssMB)),
            peakGpuMB: last.peakGpuMB === null ? null : Math.max(...counted.map((r) => r.peakGpuMB ?? 0)),
            chosen: last.manifest.counts.chosen,
            ...stageMedians,
          },
        }),
      );
    }
  }
  return { figures, skipped };
}
