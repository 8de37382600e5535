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
 * (--two-pass: balanced with the two-pass pipeline too, for the one-pass gain; --floor: the
 * addon's decode alone and with pass 1's metrics per dense mode in the same rounds, SIFT and the
 * RGB + JPEG of as many frames as the round's run described, and a table of every part as wall
 * and CPU ratio to the ffmpeg decode: src/bench/floor.ts)
 * The eval folder: FRAMESIFT_EVAL_DIR, else ../shared/eval beside the package root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { packageRoot } from '../bindings/index.js';
import { clip1080p, cost, ffmpegDecodeCost, ffmpegDecodeSeconds, fmt, stats, type Cost } from '../src/bench/common.js';
import { CANDIDATE_PARTS, candidatePart, FAST_HEADS_PART, fastHeadsPart, FLOOR_PARTS, floorPart, type FloorPart } from '../src/bench/floor.js';
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
    floor: { type: 'boolean', default: false },
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
const decodeCpu: number[] = [];
const baseline: number[] = [];
const byMode = new Map<Variant, Array<ExtractRun & { cpu: number }>>(modes.map((mode) => [mode, []]));
const floorModes = values.floor ? modes.filter((m): m is 'balanced' | 'high_quality' => m === 'balanced' || m === 'high_quality') : [];
const floor = new Map<string, Cost[]>();
for (let r = 0; r < runs; r++) {
  const ff = ffmpegDecodeCost(clip, 0);
  decode.push(ff.wall);
  decodeCpu.push(ff.cpu);
  const line = [`ffmpeg ${ff.wall.toFixed(2)} s (CPU ${ff.cpu.toFixed(2)} s)`];
  for (const mode of modes) {
    let run: ExtractRun | undefined;
    const c = await cost(async () => (run = await timedExtract(clip, mode === 'balanced --two-pass' ? { mode: 'balanced', count, twoPass: true } : { mode, count })));
    byMode.get(mode)!.push({ ...run!, cpu: c.cpu });
    line.push(`${mode} ${run!.seconds.toFixed(2)} s (CPU ${c.cpu.toFixed(2)} s)`);
    // As it comes (stderr), so a cut-short run still leaves its figures.
    console.error(`run ${r + 1}: ${line.join(', ')}; ${mode} CPU by stage ${JSON.stringify(run!.manifest.cpuTimings)}, decode ${JSON.stringify(run!.manifest.decode)}`);
  }
  for (const mode of floorModes) {
    for (const part of FLOOR_PARTS) {
      const key = `${mode}: ${part}`;
      const c = await floorPart(clip, part, mode, availableParallelism());
      floor.set(key, [...(floor.get(key) ?? []), c]);
      line.push(`${key} ${c.wall.toFixed(2)} s (CPU ${c.cpu.toFixed(2)} s)`);
    }
    const described = byMode.get(mode)!.at(-1)!.manifest.decode?.described ?? 0;
    for (const part of CANDIDATE_PARTS) {
      const key = `${mode}: ${part}`;
      const c = await candidatePart(clip, part, mode, described, availableParallelism());
      floor.set(key, [...(floor.get(key) ?? []), c]);
      line.push(`${key} (${described}) ${c.wall.toFixed(2)} s (CPU ${c.cpu.toFixed(2)} s)`);
    }
  }
  if (values.floor && modes.includes('fast')) {
    // fast's floor: its GOP heads' decode, and the images of its kept frames (its candidates).
    const kept = byMode.get('fast')!.at(-1)!.manifest.decode?.kept ?? 0;
    const parts: Array<[string, Cost]> = [
      [`fast: ${FAST_HEADS_PART}`, await fastHeadsPart(clip, count, availableParallelism())],
      ['fast: + metrics', await fastHeadsPart(clip, count, availableParallelism(), true)],
      // The preset's detector: ORB in fast mode.
      ['fast: features of the candidates', await candidatePart(clip, 'SIFT of the candidates', 'fast', kept, availableParallelism())],
      ['fast: RGB + JPEG of the candidates', await candidatePart(clip, 'RGB + JPEG of the candidates', 'fast', kept, availableParallelism())],
    ];
    for (const [key, c] of parts) {
      floor.set(key, [...(floor.get(key) ?? []), c]);
      line.push(`${key} ${c.wall.toFixed(2)} s (CPU ${c.cpu.toFixed(2)} s)`);
    }
  }
  if (!baselineSkip) {
    baseline.push(sharpestSeconds(clip));
    console.error(`run ${r + 1}: sharpest ${baseline[r]!.toFixed(2)} s`);
    line.push(`sharpest ${baseline[r]!.toFixed(2)} s`);
  }
  console.log(`run ${r + 1}: ${line.join(', ')}`);
}
const secs = (xs: ExtractRun[]) => xs.map((x) => x.seconds);
const ratio = (a: number[], b: number[]) => stats(a.map((x, i) => x / b[i]!));
console.log(`\nffmpeg binary decode to null   ${fmt(stats(decode))}; CPU ${fmt(stats(decodeCpu))}`);
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

for (const [mode, xs] of byMode) console.log(`ratio ${mode} CPU / ffmpeg CPU`.padEnd(31) + fmt(ratio(xs.map((x) => x.cpu), decodeCpu), 'x'));
// Each stage's CPU (every thread of the process) as a share of the ffmpeg binary's CPU, medians over the rounds.
for (const [mode, xs] of byMode) {
  const stages = Object.keys(xs[0]!.manifest.cpuTimings ?? {});
  const parts = stages.map((stage) => `${stage} ${ratio(xs.map((x) => x.manifest.cpuTimings?.[stage] ?? 0), decodeCpu).median.toFixed(3)}`);
  console.log(`${mode} CPU by stage / ffmpeg CPU: ${parts.join(', ')}`);
}

// Every part as a ratio to the ffmpeg decode of the same round (wall, and CPU: the load does not stretch CPU time).
const row = (name: string, wall: number[], cpu: number[]) =>
  `| ${name} | ${stats(wall).median.toFixed(2)} | ${ratio(wall, decode).median.toFixed(3)} | ${stats(cpu).median.toFixed(2)} | ${ratio(cpu, decodeCpu).median.toFixed(3)} |`;
const partRow = (key: string, name: string) => {
  const cs = floor.get(key)!;
  return row(name, cs.map((c) => c.wall), cs.map((c) => c.cpu));
};
if (values.floor && modes.includes('fast')) {
  const xs = byMode.get('fast')!;
  const m = xs[0]!.manifest;
  console.log(`\nfast: the floor, part by part (medians of ${runs} rounds; ratios per round)\n`);
  console.log('| part | wall s | wall / ffmpeg | CPU s | CPU / ffmpeg CPU |');
  console.log('|---|---|---|---|---|');
  console.log(row('ffmpeg binary, decode to null', decode, decodeCpu));
  console.log(partRow(`fast: ${FAST_HEADS_PART}`, `addon ${FAST_HEADS_PART}: ${m.decode?.framesDecoded.measure ?? 0} frames delivered`));
  console.log(partRow('fast: + metrics', `addon ${FAST_HEADS_PART} + pass 1's metrics and motion (no keeping)`));
  console.log(partRow('fast: features of the candidates', `ORB of its ${m.decode?.kept ?? 0} kept frames (its candidates), alone`));
  console.log(partRow('fast: RGB + JPEG of the candidates', `RGB + JPEG of its ${m.decode?.kept ?? 0} kept frames, alone`));
  for (const stage of Object.keys(m.timings)) console.log(row(`extract: ${stage}`, xs.map((x) => x.manifest.timings[stage] ?? 0), xs.map((x) => x.manifest.cpuTimings?.[stage] ?? 0)));
  console.log(row('extract: whole run', xs.map((x) => x.seconds), xs.map((x) => x.cpu)));
}
if (floorModes.length > 0) {
  for (const mode of floorModes) {
    const xs = byMode.get(mode)!;
    console.log(`\n${mode}: the floor, part by part (medians of ${runs} rounds; ratios per round)\n`);
    console.log('| part | wall s | wall / ffmpeg | CPU s | CPU / ffmpeg CPU |');
    console.log('|---|---|---|---|---|');
    console.log(row('ffmpeg binary, decode to null', decode, decodeCpu));
    const m = xs[0]!.manifest;
    const described = m.decode?.described ?? 0;
    for (const part of [...(FLOOR_PARTS as readonly FloorPart[]), ...CANDIDATE_PARTS]) {
      const cs = floor.get(`${mode}: ${part}`)!;
      const name = (CANDIDATE_PARTS as readonly string[]).includes(part) ? `${part} (${described} frames, alone)` : `addon ${part}`;
      console.log(row(name, cs.map((c) => c.wall), cs.map((c) => c.cpu)));
    }
    const label: Record<string, string> = {
      measure: 'extract: measure (decode + metrics + keep: gray copy, planes of the kept frames to the spill)',
      describe: `extract: describe (SIFT of ${described} frames and RGB + JPEG of the kept ones, ${m.decode?.framesDecoded.describe ?? 0} decoded again)`,
    };
    for (const stage of Object.keys(m.timings)) {
      console.log(row(label[stage] ?? `extract: ${stage}`, xs.map((x) => x.manifest.timings[stage] ?? 0), xs.map((x) => x.manifest.cpuTimings?.[stage] ?? 0)));
    }
    console.log(row('extract: whole run', xs.map((x) => x.seconds), xs.map((x) => x.cpu)));
    console.log(`kept ${m.decode?.kept}, candidates ${JSON.stringify(m.decode?.candidates)}, described ${described}`);
  }
}
