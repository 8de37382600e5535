/**
 * The analysis half of extract: measure (pass 1), candidates, describe (pass 2), in that order,
 * timed by the run's clock with an abort check between stages. Its `VideoAnalysis` is all the
 * choice half (choose.ts) needs; a caller may choose from it more than once.
 */
import type { Frame } from '../core/decode.js';
import { trimNativeMemory } from '../core/native-memory.js';
import { Embedder } from '../embed/index.js';
import type { OutputDir } from '../output/index.js';
import { CandidateImages } from './candidate-images.js';
import { Descriptions } from './descriptions.js';
import type { ResolvedExtractOptions } from './options.js';
import type { PipelineRun } from './run.js';
import { candidateStage, frameTableOf, resolveCandidates, type CandidateSources } from './stages/candidates.js';
import { describeCandidates } from './stages/describe.js';
import { measureVideo } from './stages/measure.js';
import type { DecodeReport, DeviceReport, VideoAnalysis } from './types.js';

export interface AnalysisHooks {
  /** Sees pass 1's frames (and the table row of the first) before they are released: the report's thumbnails. */
  onFrames?: (frames: readonly Frame[], firstRow: number) => void;
}

/**
 * Analyses `run.input` into `out` (prepared by the caller; the candidates' images go into its
 * candidate store, DIR/.framesift/candidates/). On failure everything it made is released and
 * the error rethrown; the caller cleans the folder.
 */
export async function analyseVideo(options: ResolvedExtractOptions, out: OutputDir, run: PipelineRun, hooks: AnalysisHooks = {}): Promise<VideoAnalysis> {
  const { input, clock, progress, logger } = run;
  let embedder: Embedder | undefined;
  const images = new CandidateImages(out.dir, options.format, options.quality, options.signal);
  let descriptions: Descriptions | undefined;
  try {
    if (options.embedder) embedder = options.embedder;
    else if (options.model) {
      embedder = await Embedder.create({
        model: options.model,
        device: options.device,
        strict: options.strictDevice,
        ...(options.maxMemoryMB ? { maxMemory: options.maxMemoryMB * 1024 * 1024 } : {}),
        logger,
      });
      logger.info({ provider: embedder.info.provider, fallback: embedder.info.fallback }, 'model loaded');
    }
    const fallback = embedder?.info.fallback;
    const device: DeviceReport = embedder ? { provider: embedder.info.provider, requested: options.device, ...(fallback ? { fallback: fallback.reason } : {}) } : null;

    clock.start('measure');
    const preset = options.preset;
    descriptions = new Descriptions({ detector: preset.detector, maxFeatures: preset.maxFeatures, threads: options.threads, embedder, images });
    // Fast mode on a video describes and encodes during this pass already (single-pass.ts).
    const measured = await measureVideo(input, options, progress, logger, descriptions, hooks.onFrames);
    // Fast mode chooses among what its pass described; a one-pass run first as if nothing were.
    const sparse = options.preset.sampling === 'sparse';
    const table = frameTableOf(input, measured, embedder !== undefined, sparse ? descriptions : undefined);
    trimNativeMemory(); // pass 1's decoder and frame pool are gone

    run.checkpoint();
    clock.start('candidates');
    progress.stage('candidates');
    const described = descriptions;
    let candidates = candidateStage(table, options.select, sparse ? measured.kept : undefined);
    let sources: CandidateSources | undefined;
    if (measured.kept && !sparse) ({ stage: candidates, sources } = resolveCandidates(table, candidates, (row) => described.isKept(row)));

    run.checkpoint();
    clock.start('describe');
    const fetched = await describeCandidates(input, table, candidates.candidates, options, descriptions, progress, measured.keyframeTimes, measured.info);
    trimNativeMemory(); // the SIFT pyramids and conversions of the candidates
    clock.stop();
    run.checkpoint();
    const decode: DecodeReport = {
      passes: fetched > 0 ? 2 : 1,
      pass1: sparse && measured.kept ? 'gop-heads' : 'all',
      framesDecoded: { measure: measured.columns.length, describe: fetched },
      kept: measured.kept?.length ?? 0,
      described: descriptions.described,
      ...(measured.fallback ? { fallback: measured.fallback } : !sparse && !options.onePass ? { fallback: 'requested' as const } : {}),
      ...(sources ? { candidates: sources } : {}),
    };
    if (sources) logger.info(sources, 'one-pass candidates');

    const owned = descriptions;
    return {
      input,
      options,
      out,
      info: measured.info,
      columns: measured.columns,
      table,
      candidates,
      descriptions: owned,
      images,
      keyframeTimes: measured.keyframeTimes,
      ...(measured.kept ? { kept: measured.kept } : {}),
      device,
      decode,
      warnings: [...(fallback ? [`${options.device} unavailable (${fallback.reason}); ran on ${embedder!.info.provider}`] : []), ...measured.warnings],
      timings: { ...clock.timings },
      cpuTimings: { ...clock.cpuTimings },
      peakRssMB: clock.peakRssMB,
      dispose: () => owned.dispose(),
    };
  } catch (err) {
    // Temporary images must be finished before the folder's clean-up can remove them.
    await images.flush().catch(() => undefined);
    images.discardSpill();
    descriptions?.dispose();
    throw err;
  } finally {
    if (embedder !== options.embedder) await embedder?.close();
  }
}
