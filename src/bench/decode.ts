/**
 * Suite `decode`: the addon's decode to gray at analysis size (what extract's pass 1 pays),
 * frames/s per thread count and keyframes only, each against the ffmpeg binary decoding the
 * same file to null with the same threads, in the same run. Hardware decode: libav's hwaccels
 * are tried through the ffmpeg binary; none that initialises is reported as skipped.
 */
import { spawnSync } from 'node:child_process';

import { openVideo, type Sampling } from '../core/decode.js';
import { ffmpegDecodeSeconds, ffmpegPath, mapStats, paired } from './common.js';
import type { Figure, SkippedPart, Workload } from './schema.js';
import { figure, statsJson, timeRatio, type SuiteContext, type SuiteOutput } from './suite.js';

export const ANALYSIS_SIZE = 640;
const VS_FFMPEG = 'framesift time / ffmpeg binary decode-to-null time (< 1: faster)';

/** Decodes every frame (or every keyframe) at analysis size, gray; returns the frame count. */
export async function addonDecode(path: string, threads: number, sampling: Sampling = 'all', signal?: AbortSignal): Promise<number> {
  const decoder = await openVideo(path, { analysisSize: ANALYSIS_SIZE, threads, sampling, batchSize: 32 });
  let frames = 0;
  try {
    for await (const batch of decoder.batches({ signal })) {
      frames += batch.frames.length;
      for (const f of batch.frames) f.release();
    }
  } finally {
    await decoder.close();
  }
  return frames;
}

/** The hwaccel names libav (in the ffmpeg binary) was built with. */
function hwaccels(): string[] {
  const run = spawnSync(ffmpegPath, ['-hide_banner', '-hwaccels'], { encoding: 'utf8' });
  return (run.stdout ?? '').split('\n').slice(1).map((s) => s.trim()).filter(Boolean);
}

/** Null when a device of `type` initialises, else why not. */
function hwDeviceError(type: string): string | null {
  const run = spawnSync(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-init_hw_device', type, '-f', 'lavfi', '-i', 'nullsrc=s=64x64', '-frames:v', '1', '-f', 'null', '-'], { encoding: 'utf8' });
  return run.status === 0 ? null : run.stderr.trim().split('\n').filter(Boolean).join(' / ') || `exit ${run.status}`;
}

async function hardwareDecode(context: SuiteContext, workload: Workload, figures: Figure[], skipped: SkippedPart[]): Promise<void> {
  const names = hwaccels();
  if (!names.length) {
    skipped.push({ name: 'hardware decode', reason: 'libav was built without hwaccels' });
    return;
  }
  const failures: string[] = [];
  for (const type of names) {
    const error = hwDeviceError(type);
    if (error) {
      failures.push(`${type}: ${error}`);
      continue;
    }
    context.progress(`hardware decode ${type} ${workload.id}`);
    const threads = Math.max(...context.threads);
    const p = await paired(context.runs, () => ffmpegDecodeSeconds(workload.path, threads, ['-hwaccel', type]), () => ffmpegDecodeSeconds(workload.path, threads));
    figures.push(
      figure('hardware decode (ffmpeg binary)', workload, { hwaccel: type, threads }, 'frames/s', 'higher', mapStats(p.subject, (s) => workload.frames / s), {
        reference: { name: 'ffmpeg binary, software decode to null', value: statsJson(mapStats(p.reference, (s) => workload.frames / s)) },
        ratio: timeRatio(p, 'hardware time / software time (< 1: faster)'),
        extra: { note: 'the addon decodes on the CPU; this measures libav hwaccel on this machine' },
      }),
    );
  }
  if (failures.length === names.length) skipped.push({ name: 'hardware decode', reason: `no hwaccel device: ${failures.join('; ')}` });
  else for (const f of failures) skipped.push({ name: 'hardware decode', params: { hwaccel: f.split(':')[0]! }, reason: f });
}

export async function decodeSuite(context: SuiteContext): Promise<SuiteOutput> {
  const figures: Figure[] = [];
  const skipped: SkippedPart[] = [];
  for (const workload of context.workloads) {
    for (const threads of context.threads) {
      context.progress(`${workload.id}, ${threads} thread(s)`);
      let frames = 0;
      const p = await paired(
        context.runs,
        async () => void (frames = await addonDecode(workload.path, threads, 'all', context.signal)),
        () => ffmpegDecodeSeconds(workload.path, threads),
      );
      figures.push(
        figure('decode all frames', workload, { threads, analysisSize: ANALYSIS_SIZE }, 'frames/s', 'higher', mapStats(p.subject, (s) => frames / s), {
          reference: { name: 'ffmpeg binary, decode to null', value: statsJson(mapStats(p.reference, (s) => frames / s)) },
          ratio: timeRatio(p, VS_FFMPEG),
          extra: { frames },
        }),
      );
    }
    // Keyframes only: what fast mode skims; figures in video frames covered per second.
    const threads = Math.max(...context.threads);
    context.progress(`${workload.id}, keyframes only`);
    let keyframes = 0;
    const p = await paired(
      context.runs,
      async () => void (keyframes = await addonDecode(workload.path, threads, 'keyframes', context.signal)),
      () => ffmpegDecodeSeconds(workload.path, threads, ['-skip_frame', 'nokey']),
    );
    figures.push(
      figure('decode keyframes only', workload, { threads, analysisSize: ANALYSIS_SIZE }, 'video frames/s', 'higher', mapStats(p.subject, (s) => workload.frames / s), {
        reference: { name: 'ffmpeg binary, -skip_frame nokey to null', value: statsJson(mapStats(p.reference, (s) => workload.frames / s)) },
        ratio: timeRatio(p, VS_FFMPEG),
        extra: { keyframes },
      }),
    );
  }
  await hardwareDecode(context, context.frameWorkloads[0] ?? context.workloads[0]!, figures, skipped);
  return { figures, skipped };
}
