/**
 * extractFrames(): the whole job, as two halves over one run. The analysis half streams the
 * video at analysis size for the cheap metrics, picks candidates and describes only them (SIFT,
 * DINO, full-resolution images); the choice half selects with SfM checks, builds tracks and
 * writes images, manifest, COLMAP lists and analysis.csv (src/pipeline/, ARCHITECTURE.md).
 * Memory stays bounded: no stage holds more than a few batches of frames.
 */
import { loadOnnxRuntime } from './embed/runtime.js';
import { isFramesiftError } from './errors.js';
import { checkColmapDatabaseSupport } from './output/colmap-db.js';
import { cleanupPartial, prepareOutputDir, type Manifest } from './output/index.js';
import { analyseVideo, chooseFrames, PipelineRun, resolveExtractOptions, type ExtractOptions, type VideoAnalysis } from './pipeline/index.js';
import { findColmap } from './pipeline/stages/reconstruct.js';

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
    try {
      analysis = await analyseVideo(resolved, out, run);
      return await chooseFrames(analysis, run);
    } catch (err) {
      // Nothing half-written stays behind: temporary files go; complete images stay.
      await analysis?.images.flush().catch(() => undefined);
      await cleanupPartial(out.dir).catch(() => undefined);
      throw err;
    }
  } catch (err) {
    if (run.signal?.aborted && !isFramesiftError(err, 'ERR_FRAMESIFT_ABORTED')) throw run.aborted(err);
    throw err;
  } finally {
    analysis?.dispose();
    run.close();
  }
}
