/**
 * bench/metrics: the metrics suite of `framesift bench` (the cheap 'fast' preset of extract's
 * pass 1 on gray frames at analysis size, per thread count, with the ffmpeg binary's decode of
 * the same frames in the same run as the reference) and the targets of the metrics issue.
 * Usage: npx tsc -p tsconfig.json && node dist/bench/metrics.js [--video FILE] [--runs 5] [--threads 1,2] [--quick]
 */
import { runScript } from '../src/bench/script.js';

await runScript({
  suites: ['metrics'],
  threads: [1, 2],
  targets: [
    { label: 'fast preset, 1 thread, <= 3 ms/frame', suite: 'metrics', figure: 'metrics (fast preset)', params: { threads: 1 }, of: 'value', atMost: 3 },
    { label: 'camera motion adds <= 2 ms/frame on one core', suite: 'metrics', figure: 'camera motion added to the fast preset', params: { threads: 1 }, of: 'value', atMost: 2 },
    { label: '2 threads >= 1.7x 1 thread', suite: 'metrics', figure: 'metrics speed-up over 1 thread', params: { threads: 2 }, of: 'value', atLeast: 1.7 },
  ],
});
