/**
 * The videos a bench measures. Without VIDEO arguments, standard clips of fixed content and
 * length are generated with the bundled ffmpeg binary (cached in the work folder), so runs on
 * different machines measure the same bytes; each workload's identity (codec, size, frames,
 * sha256) goes into the results.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';

import { probe } from '../core/decode.js';
import { generatedClip, sha256File } from './common.js';
import type { Workload } from './schema.js';

export interface WorkloadSpec {
  id: string;
  codec: 'h264' | 'hevc';
  width: number;
  height: number;
  seconds: number;
  fps: number;
}

/** Moving test pattern with temporal noise: every frame differs, so decoders do real work. */
const SOURCE = 'testsrc2';
const NOISE = 'noise=alls=12:allf=t';

/** Short clips: this harness must finish on a 2-core machine in minutes. */
export const STANDARD_WORKLOADS: readonly WorkloadSpec[] = [
  { id: 'h264-720p', codec: 'h264', width: 1280, height: 720, seconds: 4, fps: 30 },
  { id: 'h264-1080p', codec: 'h264', width: 1920, height: 1080, seconds: 4, fps: 30 },
  { id: 'hevc-1080p', codec: 'hevc', width: 1920, height: 1080, seconds: 4, fps: 30 },
  { id: 'h264-2160p', codec: 'h264', width: 3840, height: 2160, seconds: 3, fps: 30 },
  { id: 'hevc-2160p', codec: 'hevc', width: 3840, height: 2160, seconds: 3, fps: 30 },
];

/** `--quick`: one tiny clip, for tests and smoke runs. */
export const QUICK_WORKLOADS: readonly WorkloadSpec[] = [{ id: 'h264-360p-quick', codec: 'h264', width: 640, height: 360, seconds: 2, fps: 30 }];

/** The workload the per-frame suites (metrics, sift, inference, extract) use by default. */
export const PRIMARY_WORKLOAD = 'h264-1080p';

function encoderArgs(codec: WorkloadSpec['codec']): string[] {
  return codec === 'h264'
    ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', '60']
    : ['-c:v', 'libx265', '-preset', 'ultrafast', '-crf', '26', '-x265-params', 'log-level=error:keyint=60', '-tag:v', 'hvc1'];
}

/** Generates (once) the clip of `spec`; returns its path. */
export function generateWorkload(spec: WorkloadSpec): string {
  return generatedClip(`${spec.id}-${spec.seconds}s.mp4`, [
    '-f', 'lavfi', '-i', `${SOURCE}=size=${spec.width}x${spec.height}:rate=${spec.fps},${NOISE}`,
    '-t', String(spec.seconds), '-pix_fmt', 'yuv420p', ...encoderArgs(spec.codec), '-an',
  ]);
}

/** Identity of a video file: probe facts, size and sha256. */
export async function describeWorkload(path: string, id: string, generated: boolean): Promise<Workload> {
  const info = await probe(path);
  const fps = info.avgFrameRate || info.realFrameRate;
  return {
    id,
    path,
    generated,
    codec: info.codec,
    width: info.width,
    height: info.height,
    frames: info.frameCount >= 0 ? info.frameCount : Math.round(info.durationSec * fps),
    fps,
    durationSec: info.durationSec,
    bytes: statSync(path).size,
    sha256: await sha256File(path),
  };
}

/** The user's videos (ids from their file names), or the standard (or quick) set. */
export async function resolveWorkloads(videos: string[], quick: boolean, onGenerate?: (id: string) => void): Promise<Workload[]> {
  if (videos.length) {
    const seen = new Map<string, number>();
    const out: Workload[] = [];
    for (const video of videos) {
      const base = basename(video).replace(/\.[^.]+$/, '');
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      out.push(await describeWorkload(video, n > 1 ? `${base}-${n}` : base, false));
    }
    return out;
  }
  const out: Workload[] = [];
  for (const spec of quick ? QUICK_WORKLOADS : STANDARD_WORKLOADS) {
    onGenerate?.(spec.id);
    out.push(await describeWorkload(generateWorkload(spec), spec.id, true));
  }
  return out;
}

/** The workloads the per-frame suites run on: every user video, else the primary standard clip. */
export function frameWorkloads(workloads: Workload[]): Workload[] {
  if (workloads.some((w) => !w.generated) || workloads.length <= 1) return workloads;
  return workloads.filter((w) => w.id === PRIMARY_WORKLOAD).slice(0, 1).concat(workloads.some((w) => w.id === PRIMARY_WORKLOAD) ? [] : workloads.slice(0, 1));
}
