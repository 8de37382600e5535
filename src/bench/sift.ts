/**
 * Suite `sift`: SIFT through the addon (extractFeatures, one frame per job, as extract's
 * describe stage calls it) in ms/frame against the plain C++ cv::SIFT loop on the same frames
 * (bench/native/sift_reference.cc, built by CMake; fresh process per run), and matching +
 * RANSAC verification in pairs/s per thread count.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { packageRoot } from '../../bindings/index.js';
import { extractFeatures, extractFeaturesBatch, matchPairs, schedulePairs } from '../core/geometry.js';
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
  return { figures, skipped };
}
