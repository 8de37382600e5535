/**
 * bench/extract (issues 6 and 12): `extractFrames` without a model on a generated 1080p30 clip
 * with temporal noise (testsrc2 + noise: every frame costs a real decode, like film grain), wall
 * time as a ratio to (a) the ffmpeg binary decoding the same file to null and (b) the
 * sharpest-per-bin baseline of ../shared/eval/baselines (N = --count), all in the same run,
 * alternating run by run; with peak RSS and how each mode decoded (manifest `decode`).
 * Targets (issue 12): balanced <= 1.3x ffmpeg and <= 0.5x sharpest; high_quality <= 2x ffmpeg;
 * fast <= 0.4x ffmpeg.
 * Usage: npx tsc -p tsconfig.json && node dist/bench/extract.js [--seconds 60] [--video FILE]
 *   [--runs 3] [--count 40] [--modes balanced,high_quality,fast] [--two-pass] [--no-baseline]
 * (--two-pass: balanced with the two-pass pipeline too, for the one-pass gain)
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
import type { ExtractMode } from '../src/bench/schema.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    video: { type: 'string' },
    runs: { type: 'string', default: '3' },
    count: { type: 'string', default: '40' },
    modes: { type: 'string', default: 'balanced,high_quality,fast' },
    'no-baseline': { type: 'boolean', default: false },
    /** Also balanced with --two-pass, for the one-pass gain in the same run. */
    'two-pass': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const count = Number(values.count);
type Variant = ExtractMode | 'balanced --two-pass';
const modes: Variant[] = [...(values.modes.split(',') as ExtractMode[]), ...(values['two-pass'] ? (['balanced --two-pass'] as const) : [])];
const TARGETS: Partial<Record<string, number>> = { balanced: 1.3, high_quality: 2, fast: 0.4 };
const evalDir = process.env.FRAMESIFT_EVAL_DIR || resolve(packageRoot(), '..', 'shared', 'eval');
const sharpest = join(evalDir, 'baselines', 'sharpest.sh');
const baselineSkip = values['no-baseline'] ? '--no-baseline' : existsSync(sharpest) ? undefined : existsSync(evalDir) ? `${sharpest} not found` : '../shared/eval not found';

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

const clip = values.video ?? clip1080p(Number(values.seconds));
const m = await describeMachine();
console.log(`framesift bench extract: ${clip}`);
console.log(`${m.cpu}, ${m.cores} cores, load ${m.loadAverage}; libav ${m.versions.libav}, OpenCV ${m.versions.opencv}; ${runs} alternating runs, count ${count}`);
ffmpegDecodeSeconds(clip, 0); // warm-up: the file into the page cache

const decode: number[] = [];
const baseline: number[] = [];
const byMode = new Map<Variant, ExtractRun[]>(modes.map((mode) => [mode, []]));
for (let r = 0; r < runs; r++) {
  decode.push(ffmpegDecodeSeconds(clip, 0));
  const line = [`ffmpeg ${decode[r]!.toFixed(2)} s`];
  for (const mode of modes) {
    const run = await timedExtract(clip, mode === 'balanced --two-pass' ? { mode: 'balanced', count, twoPass: true } : { mode, count });
    byMode.get(mode)!.push(run);
    line.push(`${mode} ${run.seconds.toFixed(2)} s`);
  }
  if (!baselineSkip) {
    baseline.push(sharpestSeconds(clip));
    line.push(`sharpest ${baseline[r]!.toFixed(2)} s`);
  }
  console.log(`run ${r + 1}: ${line.join(', ')}`);
}
const secs = (xs: ExtractRun[]) => xs.map((x) => x.seconds);
const ratio = (a: number[], b: number[]) => stats(a.map((x, i) => x / b[i]!));
console.log(`\nffmpeg binary decode to null   ${fmt(stats(decode))}`);
if (baselineSkip) console.log(`sharpest-per-bin baseline      skipped: ${baselineSkip}`);
else console.log(`sharpest-per-bin baseline      ${fmt(stats(baseline))}`);
for (const [mode, xs] of byMode) {
  console.log(`${`${mode} (no model)`.padEnd(31)}${fmt(stats(secs(xs)))}; chose ${xs[0]!.manifest.counts.chosen}, peak RSS ${Math.max(...xs.map((b) => b.peakRssMB))} MiB`);
}
console.log('');
for (const [mode, xs] of byMode) {
  console.log(`ratio ${mode} / ffmpeg decode`.padEnd(31) + `${fmt(ratio(secs(xs), decode), 'x')}${TARGETS[mode] ? `  (target <= ${TARGETS[mode]})` : ''}`);
  if (mode === 'balanced' && !baselineSkip) console.log(`ratio balanced / sharpest`.padEnd(31) + `${fmt(ratio(secs(xs), baseline), 'x')}  (target <= 0.5)`);
}
for (const [mode, xs] of byMode) {
  const t = xs[0]!.manifest;
  console.log(`${mode} run 1: stages (s) ${JSON.stringify(Object.fromEntries(Object.entries(t.timings).map(([k, v]) => [k, +v.toFixed(2)])))}; decode ${JSON.stringify(t.decode)}`);
}
