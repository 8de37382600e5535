/**
 * Suite `sift`: SIFT through the addon (extractFeatures, one frame per job, as extract's
 * describe stage calls it) in ms/frame against the plain C++ cv::SIFT loop on the same frames
 * (bench/native/sift_reference.cc, built by CMake; fresh process per run; both on one thread),
 * a batch split over each thread count (extractFeaturesBatch's `threads`), and matching +
 * RANSAC verification in pairs/s per thread count, and track building over synthetic match
 * lists (5,000 frames x 2,000 features; 500 frames with --quick).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { packageRoot } from '../../bindings/index.js';
import { buildTracks, extractFeatures, extractFeaturesBatch, matchPairs, schedulePairs, type MatchLists } from '../core/geometry.js';
import { mapStats, measure, paired } from './common.js';
import type { Figure, SkippedPart } from './schema.js';
import { decodedCopies, figure, statsJson, timeRatio, type PlainImage, type SuiteContext, type SuiteOutput } from './suite.js';

export const SIFT_SIZE = 960;
export const MAX_FEATURES = 2000;

/** The plain C++ reference binary, or undefined when the addon was not built from source here. */
export function siftReferencePath(root = packageRoot()): string | undefined {
  return [join(root, 'build', 'Release', 'sift_reference'), join(root, 'build', 'sift_reference')].find((p) => existsSync(p));
}

export interface ReferenceRun {
  msPerFrame: number[];
  features: number;
}

/** Runs the reference over raw gray frames in `file`: `passes` passes, the first a warm-up. */
export function runSiftReference(tool: string, file: string, width: number, height: number, count: number, passes = 2): ReferenceRun {
  return JSON.parse(execFileSync(tool, [file, String(width), String(height), String(count), String(passes), String(MAX_FEATURES)], { encoding: 'utf8' }));
}

/** Writes frames of one size as one raw gray file (the reference's input). */
export function writeRawGray(file: string, frames: PlainImage[]): void {
  writeFileSync(file, Buffer.concat(frames.map((f) => f.data)));
}

export async function siftSuite(context: SuiteContext): Promise<SuiteOutput> {
  const figures: Figure[] = [];
  const skipped: SkippedPart[] = [];
  const tool = siftReferencePath();
  if (!tool) skipped.push({ name: 'plain C++ SIFT reference', reason: 'build/sift_reference not found: build from source (npx cmake-js compile --out build)' });
  const siftFrames = context.quick ? 3 : 8;
  const matchFrames = context.quick ? 6 : 16;
  const dir = mkdtempSync(join(tmpdir(), 'framesift-bench-sift-'));
  try {
    for (const workload of context.frameWorkloads) {
      context.progress(`${workload.id}: decoding frames`);
      const step = Math.max(1, Math.floor(workload.frames / matchFrames / 2));
      const frames = await decodedCopies(workload.path, { analysisSize: SIFT_SIZE, plane: 'gray', limit: matchFrames, step, signal: context.signal });
      const timed = frames.slice(0, siftFrames);
      const { width, height } = timed[0]!;
      const raw = join(dir, `${workload.id}.gray`);
      writeRawGray(raw, timed);
      const size = `${width}x${height}`;

      context.progress(`${workload.id}: SIFT on ${timed.length} frames`);
      let features = 0;
      let referenceFeatures = 0;
      const addon = async () => {
        let total = 0;
        for (const frame of timed) {
          const set = await extractFeatures(frame, { maxFeatures: MAX_FEATURES });
          total += set.count;
          set.dispose();
        }
        features = total / timed.length;
      };
      const perFrame = (s: number) => (s * 1000) / timed.length;
      if (tool) {
        const p = await paired(context.runs, addon, () => {
          const out = runSiftReference(tool, raw, width, height, timed.length);
          referenceFeatures = out.features;
          return (out.msPerFrame[1]! * timed.length) / 1000;
        });
        figures.push(
          figure('SIFT features', workload, { size, maxFeatures: MAX_FEATURES }, 'ms/frame', 'lower', mapStats(p.subject, perFrame), {
            reference: { name: 'plain C++ cv::SIFT loop (sift_reference)', value: statsJson(mapStats(p.reference, perFrame)) },
            ratio: timeRatio(p, 'addon time / plain C++ loop time (1 + overhead)'),
            extra: { featuresPerFrame: +features.toFixed(1), referenceFeaturesPerFrame: referenceFeatures },
          }),
        );
      } else {
        const s = await measure(context.runs, addon);
        figures.push(figure('SIFT features', workload, { size, maxFeatures: MAX_FEATURES }, 'ms/frame', 'lower', mapStats(s, perFrame), { extra: { featuresPerFrame: +features.toFixed(1) } }));
      }

      for (const threads of context.threads) {
        context.progress(`${workload.id}: SIFT batch of ${timed.length}, ${threads} thread(s)`);
        const s = await measure(context.runs, async () => {
          for (const set of await extractFeaturesBatch(timed, { maxFeatures: MAX_FEATURES, threads })) set.dispose();
        });
        figures.push(figure('SIFT features, batch', workload, { size, maxFeatures: MAX_FEATURES, threads }, 'ms/frame', 'lower', mapStats(s, perFrame)));
      }

      const sets = await extractFeaturesBatch(frames, { maxFeatures: MAX_FEATURES });
      try {
        const pairs = schedulePairs(sets.length, 2);
        const pairCount = pairs.length / 2;
        for (const threads of context.threads) {
          context.progress(`${workload.id}: matching ${pairCount} pairs, ${threads} thread(s)`);
          let verified = 0;
          const s = await measure(context.runs, async () => {
            const result = await matchPairs(sets, pairs, { threads });
            verified = result.pairs.filter((r) => r.verified).length;
            result.graph?.dispose();
          });
          figures.push(
            figure('match + verify pairs', workload, { threads, size, window: 2 }, 'pairs/s', 'higher', mapStats(s, (x) => pairCount / x), {
              extra: { pairs: pairCount, verified },
            }),
          );
        }
      } finally {
        for (const set of sets) set.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const trackFrames = context.quick ? 500 : 5000;
  context.progress(`tracks over ${trackFrames} frames x ${MAX_FEATURES} features`);
  const lists = syntheticMatchLists(trackFrames, MAX_FEATURES);
  let tracks = 0;
  const t = await measure(context.runs, async () => void (tracks = (await buildTracks(lists)).tracks));
  figures.push(figure('build tracks', undefined, { frames: trackFrames, features: MAX_FEATURES }, 'ms', 'lower', mapStats(t, (x) => x * 1000), { extra: { matches: lists.matches.length / 2, tracks } }));
  return { figures, skipped };
}

/** Match lists of `frameCount` frames, each matched to the next two; features keep their index along a track, 1% wrong. */
export function syntheticMatchLists(frameCount: number, features: number): MatchLists {
  const pairs: number[] = [];
  const offsets = [0];
  const perPair = [1400, 700];
  const matches = new Uint32Array(frameCount * (perPair[0]! + perPair[1]!) * 2);
  let m = 0;
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let i = 0; i < frameCount; i++) {
    for (let step = 1; step <= 2 && i + step < frameCount; step++) {
      pairs.push(i, i + step);
      const startFeature = Math.floor(rand() * features);
      for (let k = 0; k < perPair[step - 1]!; k++) {
        const a = (startFeature + k) % features;
        matches[2 * m] = a;
        matches[2 * m + 1] = rand() < 0.01 ? Math.floor(rand() * features) : a;
        m++;
      }
      offsets.push(m);
    }
  }
  return { frameCount, pairs: Uint32Array.from(pairs), offsets: Uint32Array.from(offsets), matches: matches.subarray(0, 2 * m), featureCounts: new Uint32Array(frameCount).fill(features) };
}
