/**
 * Geometry benchmark (issue: SIFT, matching, verification, tracks).
 *  1. SIFT ms per 960x540 frame through the addon (extractFeatures, one frame per job) vs a
 *     plain C++ loop over cv::SIFT on the same frames (build/sift_reference, fresh process).
 *     Target: addon overhead <= 10%.
 *  2. Matching + verification pairs per second (consecutive + 1 neighbour), 1 vs 2 threads,
 *     and RSS over repeated extract + dispose cycles (must not grow).
 *  3. Track building for 5,000 frames x 2,000 features from synthetic match lists: target < 2 s.
 * Frames: rendered by the bundled ffmpeg as raw gray 960x540: a mandelbrot zoom (~550 SIFT
 * features/frame) and a scrolling rule-30 cellular automaton (saturates the 2,000 cap).
 * Run: npx cmake-js compile --out build && npx tsc -p tsconfig.json && node dist/bench/geometry.js
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

import { packageRoot } from '../bindings/index.js';
import { ffmpegPath, stats } from '../src/bench/common.js';
import { runSiftReference, siftReferencePath } from '../src/bench/sift.js';
import { buildTracks, extractFeatures, extractFeaturesBatch, matchPairs, schedulePairs } from '../src/core/geometry.js';
import { native } from '../src/core/native.js';

const WIDTH = 960;
const HEIGHT = 540;
const SIFT_FRAMES = Number(process.env.SIFT_FRAMES ?? 4);
const SIFT_RUNS = Number(process.env.SIFT_RUNS ?? 10);
const MATCH_FRAMES = 16;
const MATCH_RUNS = 5;

function summary(values: number[]): string {
  const s = stats(values);
  return `min ${s.min.toFixed(1)} / median ${s.median.toFixed(1)} / max ${s.max.toFixed(1)}`;
}
const median = (values: number[]) => stats(values).median;

/** Raw gray 960x540 frames from an ffmpeg lavfi source, cached under build/bench-geometry/. */
function makeFrames(root: string, name: string, source: string, count: number): string {
  const dir = join(root, 'build', 'bench-geometry');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${WIDTH}x${HEIGHT}-${count}.gray`);
  if (!existsSync(file)) {
    execFileSync(ffmpegPath, [
      '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source,
      '-frames:v', String(count), '-pix_fmt', 'gray', '-f', 'rawvideo', file,
    ]);
  }
  return file;
}

function referenceTool(root: string): string {
  const tool = siftReferencePath(root);
  if (!tool) throw new Error('build/sift_reference not found: run `npx cmake-js compile --out build` first');
  return tool;
}

async function benchSift(root: string, file: string): Promise<void> {
  const bytes = readFileSync(file);
  const frames = Array.from({ length: SIFT_FRAMES }, (_, f) => ({
    data: new Uint8Array(bytes.buffer, bytes.byteOffset + f * WIDTH * HEIGHT, WIDTH * HEIGHT),
    width: WIDTH,
    height: HEIGHT,
  }));
  // Addon and reference alternate in short blocks over the same frames, so that load from
  // other processes (this machine is shared) hits both alike; the ratio is taken per block.
  const addonMs: number[] = [];
  const refMs: number[] = [];
  const ratios: number[] = [];
  const batchMs: number[] = [];
  const concurrentMs: number[] = [];
  let addonFeatures = 0;
  let refFeatures = 0;
  await extractFeatures(frames[0]).then((s) => s.dispose()); // warm-up (OpenCV/TBB init)
  for (let run = 0; run < SIFT_RUNS; run++) {
    const start = performance.now();
    let total = 0;
    for (const frame of frames) {
      const set = await extractFeatures(frame, { maxFeatures: 2000 });
      total += set.count;
      set.dispose();
    }
    const addon = (performance.now() - start) / frames.length;
    addonFeatures = total / frames.length;
    const concurrentStart = performance.now();
    for (const set of await Promise.all(frames.map((f) => extractFeatures(f, { maxFeatures: 2000 })))) set.dispose();
    concurrentMs.push((performance.now() - concurrentStart) / frames.length);
    const batchStart = performance.now();
    for (const set of await extractFeaturesBatch(frames, { maxFeatures: 2000 })) set.dispose();
    batchMs.push((performance.now() - batchStart) / frames.length);
    // The tool's first pass is its warm-up; the second is timed.
    const out = runSiftReference(referenceTool(root), file, WIDTH, HEIGHT, SIFT_FRAMES);
    addonMs.push(addon);
    refMs.push(out.msPerFrame[1]);
    ratios.push(addon / out.msPerFrame[1]);
    refFeatures = out.features;
  }
  const overhead = (ms: number[]) =>
    `overhead min ${((Math.min(...ms) / Math.min(...refMs) - 1) * 100).toFixed(1)}%, median ${((median(ms) / median(refMs) - 1) * 100).toFixed(1)}%`;
  console.log(`SIFT 960x540, ${SIFT_FRAMES} frames per block, ${SIFT_RUNS} alternating blocks (ms/frame; target overhead <= 10%):`);
  console.log(`  ${'plain C++ cv::SIFT loop'.padEnd(32)}: ${summary(refMs)}  (${refFeatures.toFixed(0)} features/frame)`);
  console.log(`  ${'addon, await each frame'.padEnd(32)}: ${summary(addonMs)}  ${overhead(addonMs)}  (${addonFeatures.toFixed(0)} features/frame)`);
  console.log(`  ${`addon, ${SIFT_FRAMES} frames in flight`.padEnd(32)}: ${summary(concurrentMs)}  ${overhead(concurrentMs)}`);
  console.log(`  ${'addon, extractFeaturesBatch'.padEnd(32)}: ${summary(batchMs)}  ${overhead(batchMs)}`);
  console.log(`  (median of per-block ratios, await each: ${((median(ratios) - 1) * 100).toFixed(1)}%; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`);
}

async function benchMatching(file: string, label: string): Promise<void> {
  const bytes = readFileSync(file);
  const frames = Array.from({ length: MATCH_FRAMES }, (_, f) => ({
    data: new Uint8Array(bytes.buffer, bytes.byteOffset + f * WIDTH * HEIGHT, WIDTH * HEIGHT),
    width: WIDTH,
    height: HEIGHT,
  }));
  const rssBefore = process.memoryUsage().rss;
  const sets = await extractFeaturesBatch(frames, { maxFeatures: 2000 });
  const nativeBytes = sets.reduce((sum, s) => sum + s.byteLength, 0);
  const pairs = schedulePairs(sets.length, 2);
  const pairCount = pairs.length / 2;
  console.log(
    `Matching + verification, ${label}: ${pairCount} pairs (window 2) of ${sets.length} frames, ` +
      `${(sets.reduce((s, x) => s + x.count, 0) / sets.length).toFixed(0)} SIFT features/frame, ` +
      `${(nativeBytes / sets.length / 1024).toFixed(0)} KiB native/set`,
  );
  const rates: Record<number, number[]> = { 1: [], 2: [] };
  const cpuPerWall: Record<number, number[]> = { 1: [], 2: [] };
  let verified = 0;
  for (let run = 0; run < MATCH_RUNS; run++) {
    for (const threads of [1, 2]) {
      const start = performance.now();
      const cpu = process.cpuUsage();
      const result = await matchPairs(sets, pairs, { threads });
      const wall = performance.now() - start;
      const used = process.cpuUsage(cpu);
      rates[threads].push(pairCount / (wall / 1000));
      cpuPerWall[threads].push((used.user + used.system) / 1000 / wall);
      verified = result.pairs.filter((p) => p.verified).length;
      result.graph?.dispose();
    }
  }
  for (const threads of [1, 2])
    console.log(
      `  threads ${threads}: pairs/s ${summary(rates[threads])}  (${verified}/${pairCount} verified; ` +
        `process CPU/wall ${median(cpuPerWall[threads]).toFixed(2)})`,
    );
  console.log(`  speed-up 2 vs 1 thread (medians): ${(median(rates[2]) / median(rates[1])).toFixed(2)}x`);
  for (const s of sets) s.dispose();
  // Memory stays bounded: extract + dispose cycles must not grow RSS cycle after cycle.
  const rss: number[] = [];
  for (let cycle = 0; cycle < 4; cycle++) {
    for (const set of await extractFeaturesBatch(frames, { maxFeatures: 2000 })) set.dispose();
    rss.push((process.memoryUsage().rss - rssBefore) / 2 ** 20);
  }
  console.log(`  RSS growth after each of 4 extract+dispose cycles of ${frames.length} frames: ${rss.map((r) => r.toFixed(0)).join(', ')} MiB`);
}

/** 5,000 frames x 2,000 features: each frame matched to the next two; ~1% noisy matches. */
function syntheticLists(frameCount: number, features: number) {
  const pairs: number[] = [];
  const offsets = [0];
  const perPair = [1400, 700];
  const total = frameCount * (perPair[0] + perPair[1]);
  const matches = new Uint32Array(total * 2);
  let m = 0;
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < frameCount; i++) {
    for (let step = 1; step <= 2 && i + step < frameCount; step++) {
      pairs.push(i, i + step);
      const count = perPair[step - 1];
      const startFeature = Math.floor(rand() * features);
      for (let k = 0; k < count; k++) {
        const a = (startFeature + k) % features;
        // Features keep their index along a track; 1% are matched to a wrong keypoint.
        const b = rand() < 0.01 ? Math.floor(rand() * features) : a;
        matches[2 * m] = a;
        matches[2 * m + 1] = b;
        m++;
      }
      offsets.push(m);
    }
  }
  return {
    frameCount,
    pairs: Uint32Array.from(pairs),
    offsets: Uint32Array.from(offsets),
    matches: matches.subarray(0, 2 * m),
    featureCounts: new Uint32Array(frameCount).fill(features),
  };
}

async function benchTracks(): Promise<void> {
  const lists = syntheticLists(5000, 2000);
  const times: number[] = [];
  let trackSummary = '';
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const s = await buildTracks(lists);
    times.push(performance.now() - start);
    trackSummary = `${s.tracks} tracks, ${s.tracksAtLeast3} in >= 3 frames, ${s.conflictingTracks} dropped for conflicts, weakest link ${s.weakestLink?.shared}`;
  }
  console.log(`Tracks, 5,000 frames x 2,000 features, ${lists.matches.length / 2} matches (ms): ${summary(times)}  (target < 2000)`);
  console.log(`  ${trackSummary}`);
}

async function main(): Promise<void> {
  const root = packageRoot();
  const v = native().versions;
  console.log(`framesift geometry bench: Node ${process.version}, OpenCV ${v.opencv}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
  const mandelbrot = makeFrames(root, 'mandelbrot', `mandelbrot=size=${WIDTH}x${HEIGHT}:rate=25`, Math.max(SIFT_FRAMES, MATCH_FRAMES));
  // Rule-30 cellular automaton, scrolling: chaotic texture that saturates the 2,000-feature cap.
  const cells = makeFrames(
    root,
    'cellauto30',
    `cellauto=s=${WIDTH / 2}x${HEIGHT / 2}:rule=30:rate=25:random_fill_ratio=0.5:scroll=1,scale=${WIDTH}x${HEIGHT}:flags=bilinear`,
    MATCH_FRAMES,
  );
  await benchSift(root, mandelbrot);
  await benchMatching(mandelbrot, 'mandelbrot zoom');
  await benchMatching(cells, 'rule-30 automaton');
  await benchTracks();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
