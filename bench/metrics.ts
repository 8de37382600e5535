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
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { ffmpegPath, stats } from '../src/bench/common.js';
import { measureFrames, METRIC_NAMES, type MeasurableImage, type MeasureOptions } from '../src/core/metrics.js';
import { native } from '../src/core/native.js';

const seconds = Number(process.argv[2] ?? 4);
const runs = Number(process.argv[3] ?? 5);
const ffmpeg = ffmpegPath;
const width = 640;
const height = 360;
const dir = join(tmpdir(), 'framesift-bench-metrics');

const fmt = (s: { min: number; median: number; max: number }, unit: string, digits = 2) =>
  `min ${s.min.toFixed(digits)} / median ${s.median.toFixed(digits)} / max ${s.max.toFixed(digits)} ${unit}`;

function makeClip(): { clip: string; raw: string } {
  mkdirSync(dir, { recursive: true });
  const clip = join(dir, `testsrc2-noise4-1080p-${seconds}s.mp4`);
  const raw = join(dir, `testsrc2-noise4-640x360-${seconds}s.gray`);
  if (!existsSync(clip)) {
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
      '-vf', 'noise=alls=4:allf=t', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', clip]);
  }
  if (!existsSync(raw)) {
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', clip, '-vf', `scale=${width}:${height}:flags=area,format=gray`,
      '-f', 'rawvideo', raw]);
  }
  return { clip, raw };
}


/** ffmpeg's own figures (-benchmark: rtime = wall, utime = user CPU) for decoding the clip to null, ms per frame. */
function decodeTime(clip: string, threads: number, frames: number): { wall: number; cpu: number } {
  const result = execFileSync('sh', ['-c', `"${ffmpeg}" -hide_banner -benchmark -threads ${threads} -i "${clip}" -f null - 2>&1`], {
    encoding: 'utf8',
  });
  const rtime = /rtime=([\d.]+)s/.exec(result);
  const utime = /utime=([\d.]+)s/.exec(result);
  if (!rtime || !utime) throw new Error(`no rtime/utime in ffmpeg output:\n${result}`);
  return { wall: (Number(rtime[1]) * 1000) / frames, cpu: (Number(utime[1]) * 1000) / frames };
}

/** Wall time of one-frame calls (N-API, threadpool dispatch and promise included). */
async function perFrameWallMs(frames: MeasurableImage[], metrics: MeasureOptions['metrics']): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    const start = process.hrtime.bigint();
    await measureFrames([frames[i]], { metrics, threads: 1, previous: i > 0 ? frames[i - 1] : null });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

/** Native CPU time per frame (thread CPU clock: unaffected by other processes on the cores). */
async function perFrameCpuMs(frames: MeasurableImage[], metrics: MeasureOptions['metrics']): Promise<number[]> {
  const result = await measureFrames(frames, { metrics, threads: 1, timing: true });
  return Array.from(result.cpuMs ?? []);
}

/** Frames per second of one batch, and the cores the process actually got meanwhile (CPU / wall). */
async function batchFps(frames: MeasurableImage[], threads: number): Promise<{ fps: number; cores: number; cpuMs: number }> {
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await measureFrames(frames, { metrics: 'fast', threads, timing: true });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  return { fps: frames.length / wall, cores: (cpu.user + cpu.system) / 1e6 / wall, cpuMs: stats(Array.from(result.cpuMs ?? [])).median };
}

async function main(): Promise<void> {
  const { clip, raw } = makeClip();
  const bytes = readFileSync(raw);
  const count = Math.floor(bytes.length / (width * height));
  const frames: MeasurableImage[] = [];
  for (let i = 0; i < count; i++) frames.push({ data: bytes.subarray(i * width * height, (i + 1) * width * height), width, height });
  const v = native().versions;
  console.log(`framesift metrics bench: ${count} frames ${width}x${height} gray from a 1920x1080 H.264 clip (testsrc2 + noise)`);
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, OpenCV ${v.opencv}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  await measureFrames(frames.slice(0, 4), { metrics: 'all', threads: 1 }); // warm-up (OpenCV init, page-in)

  const fastCpu: number[] = [];
  const fastWall: number[] = [];
  for (let r = 0; r < runs; r++) {
    fastCpu.push(...(await perFrameCpuMs(frames, 'fast')));
    fastWall.push(...(await perFrameWallMs(frames, 'fast')));
  }
  const cpu = stats(fastCpu);
  console.log(`fast preset (no SIFT/ORB/Hough/GLCM/flow), 1 thread, CPU per frame: ${fmt(cpu, 'ms')}  (target median <= 3 ms)`);
  console.log(`fast preset, 1 thread, wall per one-frame call:            ${fmt(stats(fastWall), 'ms')}`);
  console.log(`all preset, 1 thread, CPU per frame:                         ${fmt(stats(await perFrameCpuMs(frames, 'all')), 'ms')}`);
  const groups: string[] = [];
  for (const name of METRIC_NAMES) groups.push(`${name} ${stats(await perFrameCpuMs(frames, [name])).median.toFixed(2)}`);
  console.log(`CPU ms per frame by metric group alone (median): ${groups.join(', ')}`);

  const one: Array<{ fps: number; cores: number; cpuMs: number }> = [];
  const two: Array<{ fps: number; cores: number; cpuMs: number }> = [];
  for (let r = 0; r < runs; r++) {
    one.push(await batchFps(frames, 1));
    two.push(await batchFps(frames, 2));
  }
  const s1 = stats(one.map((b) => b.fps));
  const s2 = stats(two.map((b) => b.fps));
  const describe = (b: typeof one) =>
    `cores obtained ${stats(b.map((x) => x.cores)).median.toFixed(2)}, CPU per frame ${stats(b.map((x) => x.cpuMs)).median.toFixed(2)} ms`;
  console.log(`fast preset batch of ${count}, 1 thread:  ${fmt(s1, 'frames/s', 0)}; ${describe(one)}`);
  console.log(`fast preset batch of ${count}, 2 threads: ${fmt(s2, 'frames/s', 0)}; ${describe(two)}`);
  console.log(`2-thread speed-up (median/median): ${(s2.median / s1.median).toFixed(2)}x, best/best ${(s2.max / s1.max).toFixed(2)}x  (target >= 1.7x; wall time, so other load on the cores lowers it)`);
  // On a shared machine the second core may not be free: frames per core-second obtained show
  // whether the code itself scales (1.0 = no loss from the second thread).
  const perCore = (b: typeof one) => stats(b.map((x) => x.fps / x.cores)).median;
  console.log(`frames per obtained core-second, 2 threads / 1 thread: ${(perCore(two) / perCore(one)).toFixed(2)}`);

  const decodes1 = Array.from({ length: runs }, () => decodeTime(clip, 1, count));
  const decodesN = Array.from({ length: runs }, () => decodeTime(clip, 0, count));
  const d1cpu = stats(decodes1.map((d) => d.cpu));
  const d1wall = stats(decodes1.map((d) => d.wall));
  const dNwall = stats(decodesN.map((d) => d.wall));
  console.log(`reference: ffmpeg decode of the same frames (1080p H.264) to null, 1 thread, CPU:  ${fmt(d1cpu, 'ms/frame')}`);
  console.log(`reference: ffmpeg decode, 1 thread, wall:                                      ${fmt(d1wall, 'ms/frame')}`);
  console.log(`reference: ffmpeg decode, all threads, wall:                                   ${fmt(dNwall, 'ms/frame')}`);
  console.log(`ratio fast metrics CPU / 1-thread decode CPU (medians): ${(cpu.median / d1cpu.median).toFixed(2)}`);
  console.log(`ratio fast metrics batch on 2 threads / decode on all threads (wall per frame): ${(1000 / s2.median / dNwall.median).toFixed(2)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
