/**
 * extractFrames(): the whole job, as two halves over one run. The analysis half streams the
 * video at analysis size for the cheap metrics, picks candidates and describes only them (SIFT,
 * DINO, full-resolution images); the choice half selects with SfM checks, builds tracks and
 * writes images, manifest, COLMAP lists and analysis.csv (src/pipeline/, ARCHITECTURE.md).
 * Memory stays bounded: no stage holds more than a few batches of frames.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import { loadOnnxRuntime } from './embed/runtime.js';
import { isFramesiftError } from './errors.js';
import { checkColmapDatabaseSupport } from './output/colmap-db.js';
import { cleanupPartial, prepareOutputDir, STATE_DIR, type Manifest } from './output/index.js';
import { analyseVideo, chooseFrames, PipelineRun, resolveExtractOptions, type ExtractOptions, type VideoAnalysis } from './pipeline/index.js';
import { findColmap } from './pipeline/stages/reconstruct.js';
import { fingerprintInput } from './report/fingerprint.js';
import { writeReport } from './report/report.js';
import { rowsToKeep, saveAnalysis, savedRequest, snapshotAnalysis } from './report/saved-analysis.js';
import { ThumbnailSampler } from './report/thumbnails.js';

export type { ExtractOptions } from './pipeline/options.js';
export type { Progress } from './pipeline/progress.js';
export type { Manifest } from './output/index.js';

export async function extractFrames(input: string, options: ExtractOptions): Promise<Manifest> {
  const resolved = resolveExtractOptions(options);
  const run = new PipelineRun(input, { ...(resolved.signal ? { signal: resolved.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  let analysis: VideoAnalysis | undefined;
  try {
    run.checkpoint();
    // A missing COLMAP fails now, not after the extraction.
    if (resolved.reconstruct) await findColmap();
    if (resolved.colmap) checkColmapDatabaseSupport();
    // Without onnxruntime-node, --model fails before the output folder is touched.
    if (resolved.model) await loadOnnxRuntime(resolved.model);
    const out = await prepareOutputDir(resolved.outDir, { force: resolved.force });
    // The input as analysed: `framesift select` decodes from it only while it is unchanged.
    const fingerprint = await fingerprintInput(input);
    const thumbnails = resolved.report ? new ThumbnailSampler() : undefined;
    let manifest: Manifest;
    try {
      analysis = await analyseVideo(resolved, out, run, thumbnails ? { onFrames: (frames, firstRow) => thumbnails.offer(frames, firstRow) } : {});
      manifest = await chooseFrames(analysis, run);
    } catch (err) {
      // Nothing half-written stays behind: temporary files go (and the candidate store of a run
      // that did not finish); complete images stay.
      await analysis?.images.flush().catch(() => undefined);
      await cleanupPartial(out.dir).catch(() => undefined);
      await rm(join(out.dir, STATE_DIR), { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    // The choice is written; what follows adds to it, and a failure there leaves it in place.
    const keep = rowsToKeep(analysis);
    await saveAnalysis(out.dir, snapshotAnalysis(analysis, keep, savedRequest(options), fingerprint, analysis.candidates.targetCount));
    await analysis.images.keepOnly(keep);
    if (thumbnails) {
      // The report reads only files of DIR: `framesift report DIR` makes the same page.
      const started = performance.now();
      await writeReport(out.dir, { rejectedExamples: thumbnails });
      run.logger.info({ seconds: (performance.now() - started) / 1000 }, 'report written');
    }
    return manifest;
  } catch (err) {
    if (run.signal?.aborted && !isFramesiftError(err, 'ERR_FRAMESIFT_ABORTED')) throw run.aborted(err);
    throw err;
  } finally {
    analysis?.dispose();
    run.close();
  }
}
