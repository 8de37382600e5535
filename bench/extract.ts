/**
 * bench/extract (issue 6's speed check): `extractFrames` in balanced mode without a model on a
 * generated 1080p30 60-second clip, wall time as a ratio to (a) the ffmpeg binary decoding the
 * same file to null and (b) the sharpest-per-bin baseline of ../shared/eval/baselines (N=40),
 * plus fast mode's ratio to (a), all in the same run, alternating run by run.
 * Targets: balanced <= the baseline's time; fast <= 0.6x the ffmpeg decode.
 * Usage: npx tsc -p tsconfig.json && node dist/bench/extract.js [--seconds 60] [--runs 3] [--count 40] [--fast-only]
 * (--fast-only: the ffmpeg decode and fast mode only, for the fast-mode target).
 * The eval folder: FRAMESIFT_EVAL_DIR, else ../shared/eval beside the package root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { packageRoot } from '../bindings/index.js';
import { clip1080p, ffmpegDecodeSeconds, fmt, stats } from '../src/bench/common.js';
import { timedExtract, type ExtractRun } from '../src/bench/extract.js';
import { describeMachine } from '../src/bench/machine.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '3' },
    count: { type: 'string', default: '40' },
    'fast-only': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const withBalanced = !values['fast-only'];
const count = Number(values.count);
const evalDir = process.env.FRAMESIFT_EVAL_DIR || resolve(packageRoot(), '..', 'shared', 'eval');
const sharpest = join(evalDir, 'baselines', 'sharpest.sh');
const baselineSkip = !withBalanced ? '--fast-only' : existsSync(sharpest) ? undefined : existsSync(evalDir) ? `${sharpest} not found` : '../shared/eval not found';

/** The sharpest-per-bin baseline writing `count` frames into a temporary folder (removed). */
function sharpestSeconds(clip: string): number {
  const out = mkdtempSync(join(tmpdir(), 'framesift-bench-sharpest-'));
  try {
    const started = performance.now();
    const run = spawnSync(sharpest, [clip, String(count), out], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`sharpest.sh failed (${run.status}): ${run.stderr || run.error?.message}`);
    return (performance.now() - started) / 1000;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const clip = clip1080p(Number(values.seconds));
const m = await describeMachine();
console.log(`framesift bench extract: ${clip}`);
console.log(`${m.cpu}, ${m.cores} cores, load ${m.loadAverage}; libav ${m.versions.libav}, OpenCV ${m.versions.opencv}; ${runs} alternating runs, count ${count}`);
ffmpegDecodeSeconds(clip, 0); // warm-up: the file into the page cache

const decode: number[] = [];
const balanced: ExtractRun[] = [];
const fast: ExtractRun[] = [];
const baseline: number[] = [];
for (let r = 0; r < runs; r++) {
  decode.push(ffmpegDecodeSeconds(clip, 0));
  if (withBalanced) balanced.push(await timedExtract(clip, { mode: 'balanced', count }));
  if (!baselineSkip) baseline.push(sharpestSeconds(clip));
  fast.push(await timedExtract(clip, { mode: 'fast', count }));
  console.log(
    `run ${r + 1}: ffmpeg ${decode[r]!.toFixed(2)} s, ${withBalanced ? `balanced ${balanced[r]!.seconds.toFixed(2)} s, ` : ''}` +
      `${baselineSkip ? '' : `sharpest ${baseline[r]!.toFixed(2)} s, `}fast ${fast[r]!.seconds.toFixed(2)} s`,
  );
}
const secs = (xs: ExtractRun[]) => xs.map((x) => x.seconds);
const ratio = (a: number[], b: number[]) => stats(a.map((x, i) => x / b[i]!));
console.log(`\nffmpeg binary decode to null   ${fmt(stats(decode))}`);
if (withBalanced) console.log(`balanced (no model)            ${fmt(stats(secs(balanced)))}; chose ${balanced[0]!.manifest.counts.chosen}, peak RSS ${Math.max(...balanced.map((b) => b.peakRssMB))} MiB`);
console.log(`fast                           ${fmt(stats(secs(fast)))}; chose ${fast[0]!.manifest.counts.chosen}, peak RSS ${Math.max(...fast.map((b) => b.peakRssMB))} MiB`);
if (baselineSkip) console.log(`sharpest-per-bin baseline      skipped: ${baselineSkip}`);
else console.log(`sharpest-per-bin baseline      ${fmt(stats(baseline))}`);
if (withBalanced) console.log(`\nratio balanced / ffmpeg decode ${fmt(ratio(secs(balanced), decode), 'x')}`);
if (!baselineSkip) console.log(`ratio balanced / sharpest      ${fmt(ratio(secs(balanced), baseline), 'x')}  (target <= 1)`);
console.log(`ratio fast / ffmpeg decode     ${fmt(ratio(secs(fast), decode), 'x')}  (target <= 0.6)`);
if (withBalanced) console.log(`balanced stages (s, run 1): ${JSON.stringify(Object.fromEntries(Object.entries(balanced[0]!.manifest.timings).map(([k, v]) => [k, +v.toFixed(2)])))}`);
console.log(`fast stages (s, run 1):     ${JSON.stringify(Object.fromEntries(Object.entries(fast[0]!.manifest.timings).map(([k, v]) => [k, +v.toFixed(2)])))}`);
