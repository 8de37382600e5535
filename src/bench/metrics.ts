/**
 * Suite `metrics`: the cheap per-frame metrics of extract's pass 1 ('fast' preset, with motion
 * to the previous frame) on gray frames at analysis size, ms/frame per thread count and the
 * speed-up over 1 thread. Reference, same run: the ffmpeg binary decoding the same frames to
 * null with the same threads (the ratio says what metrics cost next to decoding).
 */
import { FAST_METRICS, measureFrames } from '../core/metrics.js';
import { ffmpegDecodeSeconds, mapStats, paired, stats, type Paired } from './common.js';
import { ANALYSIS_SIZE } from './decode.js';
import type { Figure, SkippedPart } from './schema.js';
import { decodedCopies, figure, statsJson, timeRatio, type SuiteContext, type SuiteOutput } from './suite.js';

export async function metricsSuite(context: SuiteContext): Promise<SuiteOutput> {
  const figures: Figure[] = [];
  const skipped: SkippedPart[] = [];
  const limit = context.quick ? 60 : 240;
  for (const workload of context.frameWorkloads) {
    context.progress(`${workload.id}: decoding frames`);
    const frames = await decodedCopies(workload.path, { analysisSize: ANALYSIS_SIZE, plane: 'gray', limit, signal: context.signal });
    const byThreads = new Map<number, Paired>();
    for (const threads of context.threads) {
      context.progress(`${workload.id}: ${frames.length} frames, ${threads} thread(s)`);
      const p = await paired(
        context.runs,
        () => measureFrames(frames, { metrics: 'fast', threads }),
        () => ffmpegDecodeSeconds(workload.path, threads, [], ['-frames:v', String(frames.length)]),
      );
      byThreads.set(threads, p);
      const perFrame = (s: number) => (s * 1000) / frames.length;
      figures.push(
        figure('metrics (fast preset)', workload, { threads, size: `${frames[0]!.width}x${frames[0]!.height}` }, 'ms/frame', 'lower', mapStats(p.subject, perFrame), {
          reference: { name: 'ffmpeg binary, decode of the same frames to null', value: statsJson(mapStats(p.reference, perFrame)) },
          ratio: timeRatio(p, 'metrics time / decode time of the same frames'),
          extra: { frames: frames.length },
        }),
      );
    }
    // The camera-motion measure (feature tracking + parallax) against the rest of the preset,
    // one thread, alternating in the same run: what it adds per frame on one core.
    const withoutMotion = FAST_METRICS.filter((m) => m !== 'cameraMotion');
    const motion = await paired(
      context.runs,
      () => measureFrames(frames, { metrics: 'fast', threads: 1 }),
      async () => void (await measureFrames(frames, { metrics: withoutMotion, threads: 1 })),
    );
    const added = stats(motion.subject.runs.map((s, i) => ((s - motion.reference.runs[i]!) * 1000) / frames.length));
    figures.push(
      figure('camera motion added to the fast preset', workload, { threads: 1 }, 'ms/frame', 'lower', added, {
        reference: { name: 'fast preset without cameraMotion', value: statsJson(mapStats(motion.reference, (s) => (s * 1000) / frames.length)) },
        ratio: { meaning: 'fast preset with motion / without', ...statsJson(motion.ratio) },
      }),
    );
    const one = byThreads.get(1);
    for (const [threads, p] of byThreads) {
      if (!one || threads === 1) continue;
      // Runs are paired by index: each run's speed-up against the 1-thread run of the same index.
      const speedup = stats(p.subject.runs.map((s, i) => one.subject.runs[i]! / s));
      figures.push(figure('metrics speed-up over 1 thread', workload, { threads }, 'x', 'higher', speedup));
    }
  }
  return { figures, skipped };
}
