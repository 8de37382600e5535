/**
 * bench/decode: the addon's decode to gray at analysis size vs the ffmpeg binary decoding the
 * same file to null with the same thread count, measured in the same run (the decode suite of
 * `framesift bench` on one clip, with the target printed).
 * Usage: node dist/bench/decode.js [--seconds 10] [--runs 5] [--threads 2]
 * Target: addon time <= 1.15x the ffmpeg binary's.
 */
import { parseArgs } from 'node:util';

import { clip1080p, ffmpegDecodeSeconds, fmt, mapStats, paired } from '../src/bench/common.js';
import { addonDecode, ANALYSIS_SIZE } from '../src/bench/decode.js';
import { describeMachine } from '../src/bench/machine.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
  },
});
const threads = Number(values.threads);
const runs = Number(values.runs);
const clip = clip1080p(Number(values.seconds));

console.log('framesift bench decode', JSON.stringify({ machine: await describeMachine(), clip, threads, analysisSize: ANALYSIS_SIZE }));
let frames = 0;
const all = await paired(runs, async () => void (frames = await addonDecode(clip, threads)), () => ffmpegDecodeSeconds(clip, threads));
let keyframes = 0;
const key = await paired(Math.max(1, runs - 2), async () => void (keyframes = await addonDecode(clip, threads, 'keyframes')), () => ffmpegDecodeSeconds(clip, threads, ['-skip_frame', 'nokey']));
const fps = (s: number) => frames / s;
console.log(`frames                         ${frames} (${keyframes} keyframes)`);
console.log(`ffmpeg binary -> null          ${fmt(all.reference)}  = ${mapStats(all.reference, fps).median.toFixed(1)} frames/s`);
console.log(`addon -> gray ${ANALYSIS_SIZE}px          ${fmt(all.subject)}  = ${mapStats(all.subject, fps).median.toFixed(1)} frames/s`);
console.log(`ratio addon / ffmpeg           ${fmt(all.ratio, 'x')}  (target <= 1.15)`);
console.log(`keyframes only: addon          ${fmt(key.subject)}; ffmpeg -skip_frame nokey ${fmt(key.reference)}`);
console.log(`ratio keyframes addon / ffmpeg ${fmt(key.ratio, 'x')}`);
console.log(`ratio keyframes / all (addon)  ${(key.subject.median / all.subject.median).toFixed(3)}`);
