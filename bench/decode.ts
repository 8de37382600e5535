/**
 * bench/decode: the addon's decode to gray at analysis size vs the ffmpeg binary decoding the
 * same file to null with the same thread count, measured in the same run.
 * Usage: node dist/bench/decode.js [--seconds 10] [--runs 5] [--threads 2] [--size 640]
 * Target: addon time <= 1.15x the ffmpeg binary's.
 */
import { parseArgs } from 'node:util';

import { native } from '../src/native.js';
import { openVideo } from '../src/decode.js';
import { clip1080p, ffmpegDecodeSeconds, fmt, machine, measure, stats } from './common.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    size: { type: 'string', default: '640' },
  },
});
const threads = Number(values.threads);
const runs = Number(values.runs);
const analysisSize = Number(values.size);
const clip = clip1080p(Number(values.seconds));

async function addonDecode(sampling: 'all' | 'keyframes' = 'all'): Promise<number> {
  const decoder = await openVideo(clip, { analysisSize, threads, sampling, batchSize: 32 });
  let frames = 0;
  for await (const batch of decoder.batches()) {
    frames += batch.frames.length;
    for (const f of batch.frames) f.release();
  }
  return frames;
}

console.log('framesift bench decode', JSON.stringify({ ...machine(), versions: native().versions, clip, threads, analysisSize }));
let frames = 0;
// Interleave the two so drift in machine load hits both alike.
const ffmpegRuns: number[] = [];
const addonRuns: number[] = [];
ffmpegDecodeSeconds(clip, threads);
await addonDecode();
for (let i = 0; i < runs; i++) {
  ffmpegRuns.push(ffmpegDecodeSeconds(clip, threads));
  const started = performance.now();
  frames = await addonDecode();
  addonRuns.push((performance.now() - started) / 1000);
}
const ff = stats(ffmpegRuns);
const addon = stats(addonRuns);
const keyframes = await measure(Math.max(1, runs - 2), async () => void (await addonDecode('keyframes')));
console.log(`frames                         ${frames}`);
console.log(`ffmpeg binary -> null          ${fmt(ff)}  = ${(frames / ff.median).toFixed(1)} frames/s`);
console.log(`addon -> gray ${analysisSize}px          ${fmt(addon)}  = ${(frames / addon.median).toFixed(1)} frames/s`);
console.log(`addon keyframes only           ${fmt(keyframes)}`);
console.log(`ratio addon / ffmpeg (median)  ${(addon.median / ff.median).toFixed(3)}  (target <= 1.15)`);
console.log(`ratio keyframes / all (addon)  ${(keyframes.median / addon.median).toFixed(3)}`);
