/**
 * Metrics benchmark on 640x360 gray frames from a generated 1080p clip (testsrc2 with temporal
 * noise, H.264). Measures, in one run:
 *  - the 'fast' preset (every cheap metric: no SIFT/ORB/Hough/GLCM/flow) per frame on 1 thread
 *    (one frame per call, so N-API and threadpool dispatch are included); target <= 3 ms;
 *  - batch throughput on 2 threads vs 1 thread (target >= 1.7x);
 *  - the reference: the bundled ffmpeg's decode time of the same 1080p frames to null
 *    (1 thread and default threads), and the ratio of metric time to decode time;
 *  - for information, the 'all' preset (with SIFT, ORB, Hough, GLCM, optical flow) per frame.
 * Run: npx tsc -p tsconfig.json && node dist/bench/metrics.js [seconds=4] [runs=5]
 */
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { measureFrames, type MeasurableImage, type MeasureOptions } from '../src/metrics.js';
import { native } from '../src/native.js';

const seconds = Number(process.argv[2] ?? 4);
const runs = Number(process.argv[3] ?? 5);
const ffmpeg = ffmpegInstaller.path;
const width = 640;
const height = 360;
const dir = join(tmpdir(), 'framesift-bench-metrics');

function stats(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}
const fmt = (s: { min: number; median: number; max: number }, unit: string, digits = 2) =>
  `min ${s.min.toFixed(digits)} / median ${s.median.toFixed(digits)} / max ${s.max.toFixed(digits)} ${unit}`;

function makeClip(): { clip: string; raw: string } {
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, `testsrc2-1080p-${seconds}s.mp4`);
  const raw = join(dir, `testsrc2-640x360-${seconds}s.gray`);
  if (!existsSync(clip)) {
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
      '-vf', 'noise=alls=12:allf=t', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', clip]);
  }
  if (!existsSync(raw)) {
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', clip, '-vf', `scale=${width}:${height}:flags=area,format=gray`,
      '-f', 'rawvideo', raw]);
  }
  return { clip, raw };
}


/** ffmpeg's own wall time (-benchmark rtime) for decoding the clip to null, ms per frame. */
function decodeTime(clip: string, threads: number, frames: number): number {
  const result = execFileSync('sh', ['-c', `"${ffmpeg}" -hide_banner -benchmark -threads ${threads} -i "${clip}" -f null - 2>&1`], {
    encoding: 'utf8',
  });
  const match = /rtime=([\d.]+)s/.exec(result);
  if (!match) throw new Error(`no rtime in ffmpeg output:\n${result}`);
  return (Number(match[1]) * 1000) / frames;
}

async function perFrameMs(frames: MeasurableImage[], metrics: MeasureOptions['metrics']): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const start = process.hrtime.bigint();
    await measureFrames([frames[i]], { metrics, threads: 1, previous: i > 0 ? frames[i - 1] : null });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

async function batchFps(frames: MeasurableImage[], threads: number): Promise<number> {
  const start = process.hrtime.bigint();
  await measureFrames(frames, { metrics: 'fast', threads });
  return frames.length / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function main(): Promise<void> {
  const { clip, raw } = makeClip();
  const bytes = readFileSync(raw);
  const count = Math.floor(bytes.length / (width * height));
  const frames: MeasurableImage[] = [];
  for (let i = 0; i < count; i++) frames.push({ data: bytes.subarray(i * width * height, (i + 1) * width * height), width, height });
  const v = native().versions;
  console.log(`framesift metrics bench: ${count} frames ${width}x${height} gray from a 1920x1080 H.264 clip (testsrc2 + noise)`);
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, OpenCV ${v.opencv}, reference ffmpeg ${ffmpeg}`);

  await measureFrames(frames.slice(0, 4), { metrics: 'all', threads: 1 }); // warm-up (OpenCV init, page-in)

  const fastTimes: number[] = [];
  for (let r = 0; r < runs; r++) fastTimes.push(...(await perFrameMs(frames, 'fast')));
  const fast = stats(fastTimes);
  console.log(`fast preset, 1 thread, per frame:  ${fmt(fast, 'ms')}  (target median <= 3 ms)`);

  const allTimes = await perFrameMs(frames, 'all');
  console.log(`all preset (SIFT, ORB, Hough, GLCM, flow), 1 thread, per frame: ${fmt(stats(allTimes), 'ms')}`);

  const one: number[] = [];
  const two: number[] = [];
  for (let r = 0; r < runs; r++) {
    one.push(await batchFps(frames, 1));
    two.push(await batchFps(frames, 2));
  }
  const s1 = stats(one);
  const s2 = stats(two);
  console.log(`fast preset batch of ${count}, 1 thread: ${fmt(s1, 'frames/s', 0)}`);
  console.log(`fast preset batch of ${count}, 2 threads: ${fmt(s2, 'frames/s', 0)}`);
  console.log(`2-thread speed-up (median/median): ${(s2.median / s1.median).toFixed(2)}x  (target >= 1.7x)`);

  const decode1 = stats(Array.from({ length: runs }, () => decodeTime(clip, 1, count)));
  const decodeN = stats(Array.from({ length: runs }, () => decodeTime(clip, 0, count)));
  console.log(`reference: ffmpeg decode of the 1080p clip to null, 1 thread: ${fmt(decode1, 'ms/frame')}`);
  console.log(`reference: ffmpeg decode of the 1080p clip to null, all threads: ${fmt(decodeN, 'ms/frame')}`);
  console.log(`ratio fast metrics (1 thread, per frame median) / 1-thread decode (median): ${(fast.median / decode1.median).toFixed(2)}`);
  console.log(`ratio fast metrics batch 2 threads / decode all threads (per frame): ${(1000 / s2.median / decodeN.median).toFixed(2)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
