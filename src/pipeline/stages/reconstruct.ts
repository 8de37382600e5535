/**
 * `extract --reconstruct`: runs `colmap mapper` on the database `--colmap` wrote, then
 * `colmap model_analyzer` on each model it made, and reports the largest (most registered
 * images) for the manifest. The colmap binary is looked up on PATH before any work starts, so
 * a missing COLMAP fails in a second, not after the extraction.
 *
 * Progress comes from the mapper's log: each "Registering image #ID (N)" line is one more
 * image placed. Ctrl-C (the run's AbortSignal) ends the mapper. A mapper that fails leaves the
 * extraction's outputs intact: the failure is reported in the manifest and as a warning.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readdir, rm } from 'node:fs/promises';
import { delimiter, join, relative } from 'node:path';

import { FramesiftError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { COLMAP_DIR } from '../../output/colmap-db.js';
import type { ManifestColmap, ManifestReconstruction } from '../../output/manifest.js';
import { COLMAP_SPARSE_DIR } from '../../output/out-dir.js';
import type { PipelineRun } from '../run.js';
import type { VideoAnalysis } from '../types.js';

/** The mapper's result as the manifest records it. */
export type ReconstructionSummary = ManifestReconstruction;

/** The colmap executable on PATH, or ERR_FRAMESIFT_COLMAP_MISSING naming what was searched. */
export async function findColmap(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, 'colmap');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new FramesiftError(
    `--reconstruct needs the colmap binary, which is not on PATH (${dirs.length} folders searched); install COLMAP (Debian: apt-get install colmap) or leave out --reconstruct and run colmap mapper yourself on DIR/colmap/database.db`,
    'ERR_FRAMESIFT_COLMAP_MISSING',
  );
}

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs colmap with `args`, feeding each output line to `onLine`; ends it on abort. */
function runColmap(binary: string, args: string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let pending = '';
    const take = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        onLine(line);
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const abort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (err) => {
      signal?.removeEventListener('abort', abort);
      reject(err);
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', abort);
      if (pending) tail.push(pending);
      resolve({ code, output: tail.join('\n') });
    });
  });
}

export interface ModelStats {
  images: number;
  registered: number;
  points: number;
  observations: number;
  meanTrackLength: number | null;
  meanReprojectionErrorPx: number | null;
}

/** Reads model_analyzer's summary lines ("Registered images: 40", "Mean reprojection error: 0.61px", ...). */
export function parseModelAnalyzer(text: string): ModelStats {
  const value = (label: string): number | null => {
    const m = new RegExp(`${label}:\\s*([0-9.eE+-]+)`).exec(text);
    return m ? Number(m[1]) : null;
  };
  return {
    images: value('Images') ?? 0,
    registered: value('Registered images') ?? 0,
    points: value('Points') ?? 0,
    observations: value('Observations') ?? 0,
    meanTrackLength: value('Mean track length'),
    meanReprojectionErrorPx: value('Mean reprojection error'),
  };
}

export interface ReconstructInput {
  colmap: string;
  outDir: string;
  databasePath: string;
  imagesDir: string;
  images: number;
  threads: number;
  logger: Logger;
  onProgress: (registered: number) => void;
  signal?: AbortSignal;
}

export async function reconstruct(input: ReconstructInput): Promise<ReconstructionSummary> {
  const started = performance.now();
  const sparse = join(input.outDir, COLMAP_DIR, COLMAP_SPARSE_DIR);
  // A previous run's models (--force) would be mixed with this run's: start empty.
  await rm(sparse, { recursive: true, force: true });
  await mkdir(sparse, { recursive: true });
  const args = ['mapper', '--database_path', input.databasePath, '--image_path', input.imagesDir, '--output_path', sparse, '--Mapper.num_threads', String(input.threads)];
  const summary: ReconstructionSummary = {
    status: 'failed',
    sparseDir: relative(input.outDir, sparse),
    command: `colmap ${args.map((a) => (a.startsWith(input.outDir) ? relative(input.outDir, a) || '.' : a)).join(' ')}`,
    models: 0,
    bestModel: null,
    imagesRegistered: 0,
    images: input.images,
    points3D: 0,
    observations: 0,
    meanTrackLength: null,
    meanReprojectionErrorPx: null,
    seconds: 0,
  };
  let registered = 0;
  const mapper = await runColmap(
    input.colmap,
    args,
    (line) => {
      if (/Registering image #\d+/.test(line) || /Initializing with image pair/.test(line)) {
        registered += /Initializing with image pair/.test(line) ? 2 : 1;
        input.onProgress(Math.min(registered, input.images));
      }
    },
    input.signal,
  );
  if (input.signal?.aborted) throw new FramesiftError('colmap mapper: aborted', 'ERR_FRAMESIFT_ABORTED');
  if (mapper.code !== 0) {
    summary.error = `colmap mapper exited with ${mapper.code}: ${mapper.output.split('\n').slice(-5).join(' | ')}`;
    summary.seconds = (performance.now() - started) / 1000;
    input.logger.warn({ code: mapper.code, output: mapper.output }, 'colmap mapper failed');
    return summary;
  }
  const models = (await readdir(sparse, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  summary.models = models.length;
  let best: ModelStats | undefined;
  for (const model of models) {
    const analysis = await runColmap(input.colmap, ['model_analyzer', '--path', join(sparse, model)], () => undefined, input.signal);
    if (analysis.code !== 0) continue;
    const stats = parseModelAnalyzer(analysis.output);
    if (!best || stats.registered > best.registered) {
      best = stats;
      summary.bestModel = model;
    }
  }
  if (best) {
    summary.status = 'ok';
    summary.imagesRegistered = best.registered;
    summary.points3D = best.points;
    summary.observations = best.observations;
    summary.meanTrackLength = best.meanTrackLength;
    summary.meanReprojectionErrorPx = best.meanReprojectionErrorPx;
  } else {
    summary.error = 'colmap mapper made no model (too few verified pairs or no valid initial pair)';
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** The reconstruct stage (--reconstruct, after the colmap stage): colmap mapper on the database. */
export async function reconstructStage(analysis: VideoAnalysis, colmap: ManifestColmap, images: number, run: PipelineRun): Promise<ReconstructionSummary> {
  run.checkpoint();
  const binary = await findColmap();
  run.clock.start('reconstruct');
  run.progress.stage('reconstruct', images);
  return reconstruct({
    colmap: binary,
    outDir: analysis.out.dir,
    databasePath: join(analysis.out.dir, colmap.database),
    imagesDir: analysis.out.imagesDir,
    images,
    threads: analysis.options.threads,
    logger: run.logger,
    onProgress: (registered) => run.progress.update(registered, images),
    ...(run.signal ? { signal: run.signal } : {}),
  });
}
