/**
 * Re-selection (`framesift select DIR`): loads the analysis extract saved in DIR/.framesift/,
 * finds the candidates for the new options and runs the choice half of the pipeline (select,
 * tracks, write) again, rewriting images, lists, manifest and report. Which candidates:
 * - the candidates a fresh extract with these options would describe, when all were saved
 *   (nothing decoded; the same picks as that extract);
 * - else, when the new target count is at most the saved one ("fits"), the usable saved
 *   candidates: nothing decoded; they are denser than a fresh extract's at that count, so the
 *   picks can differ from a fresh extract's (docs/selection.md says by how much);
 * - else (more picks than the saved candidates were chosen for) the fresh extract's candidates,
 *   decoding those not saved: the same picks as that extract. The input must then be the file
 *   that was analysed (fingerprint), else ERR_FRAMESIFT_INPUT_CHANGED / _NOT_FOUND.
 */
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { Embedder } from '../embed/index.js';
import { FramesiftError, invalidArg } from '../errors.js';
import type { Logger } from '../log.js';
import { IMAGES_DIR, isOwnImageName, type Manifest } from '../output/index.js';
import { CANDIDATES_DIR, CandidateImages } from '../pipeline/candidate-images.js';
import { chooseFrames } from '../pipeline/choose.js';
import { Descriptions } from '../pipeline/descriptions.js';
import { buildFrameTable } from '../pipeline/frame-table.js';
import { resolveExtractOptions, type ExtractOptions } from '../pipeline/options.js';
import type { Progress } from '../pipeline/progress.js';
import { PipelineRun } from '../pipeline/run.js';
import { planDensePass, replayKeeper } from '../pipeline/single-pass.js';
import { candidateStage, resolveCandidates } from '../pipeline/stages/candidates.js';
import { describeCandidates } from '../pipeline/stages/describe.js';
import type { ResolvedExtractOptions } from '../pipeline/options.js';
import type { VideoAnalysis } from '../pipeline/types.js';
import type { CandidateStage, FrameTable, Weights } from '../select/index.js';
import { checkFingerprint } from './fingerprint.js';
import { writeReport } from './report.js';
import { loadAnalysis, saveAnalysis, type SavedAnalysis } from './saved-analysis.js';

export interface ReselectOptions {
  /** Exactly N frames (exclusive with maxFrames; either replaces the saved count/maxFrames). */
  count?: number;
  /** Automatic count capped at N. */
  maxFrames?: number;
  /** Score weights summing to 1 (keys as for extract). Default: the saved ones. */
  weights?: Weights;
  /** Target view overlap of consecutive picks. Default: the saved one. */
  overlap?: number;
  /** Minimum seconds between picks. Default: the saved one. */
  minSpacing?: number;
  /** Rewrite DIR/report.html. Default true. */
  report?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  logger?: Logger;
  /** A loaded model to describe missing candidates with (a batch worker's; not closed here). Default: load --model when needed. */
  embedder?: Embedder;
}

/** How re-selection found its candidates (logged, and what the tests check). */
export type CandidateSource = 'saved-exact' | 'saved-fit' | 'decoded';

const KEYS = new Set(['count', 'maxFrames', 'weights', 'overlap', 'minSpacing', 'report', 'signal', 'onProgress', 'logger', 'embedder']);

/** The extract options of the saved run with the new selection options in place (validated as extract validates them). */
function requestFor(saved: SavedAnalysis, dir: string, options: ReselectOptions): ExtractOptions {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  for (const key of Object.keys(options)) if (!KEYS.has(key)) throw invalidArg(`options.${key}`, `one of ${[...KEYS].join(', ')}`, key);
  if (options.count !== undefined && options.maxFrames !== undefined) throw invalidArg('count', 'either count or maxFrames, not both', options.count);
  const request: ExtractOptions = { ...saved.request, outDir: dir, force: true };
  if (options.count !== undefined || options.maxFrames !== undefined) {
    delete request.count;
    delete request.maxFrames;
    if (options.count !== undefined) request.count = options.count;
    if (options.maxFrames !== undefined) request.maxFrames = options.maxFrames;
  }
  if (options.weights !== undefined) request.weights = options.weights;
  if (options.overlap !== undefined) request.overlap = options.overlap;
  if (options.minSpacing !== undefined) request.minSpacing = options.minSpacing;
  if (options.report !== undefined) request.report = options.report;
  if (options.signal) request.signal = options.signal;
  return request;
}

/**
 * The candidates a fresh extract with `resolved` would describe: fast mode's are the usable rows
 * its pass kept; a one-pass run's are the rule's, mapped onto the rows its keep windows would
 * keep at the new count (replayed from the saved columns); a two-pass run's are the rule's.
 */
async function freshCandidates(saved: SavedAnalysis, resolved: ResolvedExtractOptions, table: FrameTable): Promise<CandidateStage> {
  const sparse = resolved.preset.sampling === 'sparse';
  const rule = candidateStage(table, resolved.select, sparse ? saved.kept : undefined);
  const onePass = !sparse && resolved.onePass && saved.kept !== undefined && saved.decode.fallback === undefined;
  const plan = onePass ? planDensePass(saved.info, resolved) : undefined;
  if (!plan) return rule;
  const kept = await replayKeeper(plan, saved.columns, saved.motionScalePx);
  return resolveCandidates(table, rule, (row) => kept.has(row)).stage;
}

/**
 * Chooses again in a finished run's folder DIR and rewrites its images, lists, manifest and
 * report. Decodes only candidates that were not saved (see the module comment); returns the
 * new manifest.
 */
export async function reselect(dir: string, options: ReselectOptions): Promise<Manifest> {
  if (typeof dir !== 'string' || dir === '') throw invalidArg('dir', 'an output folder of framesift extract', dir);
  const root = resolve(dir);
  const saved = await loadAnalysis(root);
  const resolved = resolveExtractOptions(requestFor(saved, root, options));
  const run = new PipelineRun(saved.input, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  const images = new CandidateImages(root, resolved.format, resolved.quality, resolved.signal);
  let embedder: Embedder | undefined;
  let descriptions: Descriptions | undefined;
  try {
    run.checkpoint();
    await images.adoptExisting();
    const preset = resolved.preset;
    const context = { detector: preset.detector, maxFeatures: preset.maxFeatures, threads: resolved.threads, embedder: undefined as Embedder | undefined, images };
    descriptions = new Descriptions(context);
    const savedByRow = new Map(saved.described.map((d) => [d.row, d]));
    const table = buildFrameTable(saved.columns, saved.motionScalePx, saved.withModel);
    // As in extract: fast mode's described rows are in the table before the candidates (a
    // one-pass run's are not: the rule must see what it would without them).
    if (preset.sampling === 'sparse') {
      for (const row of saved.kept ?? []) {
        const d = savedByRow.get(row);
        if (d) descriptions.restore(d);
      }
      descriptions.applyTo(table);
    }

    run.clock.start('candidates');
    const exact = await freshCandidates(saved, resolved, table);
    const missing = Array.from(exact.candidates).filter((row) => !savedByRow.has(row));
    let stage: CandidateStage = exact;
    let source: CandidateSource = 'saved-exact';
    let fetched = 0;
    if (missing.length > 0 && exact.targetCount <= saved.targetCount) {
      stage = candidateStage(table, resolved.select, [...savedByRow.keys()]);
      source = 'saved-fit';
    } else if (missing.length > 0) {
      source = 'decoded';
    }
    for (const row of stage.candidates) {
      const d = savedByRow.get(row);
      if (d) descriptions.restore(d);
    }
    descriptions.applyTo(table, preset.sampling === 'sparse' ? undefined : Array.from(stage.candidates));
    run.logger.info({ source, candidates: stage.candidates.length, decode: source === 'decoded' ? missing.length : 0 }, 'reselect candidates');

    if (source === 'decoded') {
      await checkFingerprint(saved.fingerprint, `${missing.length} candidates of the new selection must be decoded`);
      if (resolved.model && options.embedder) {
        context.embedder = options.embedder;
      } else if (resolved.model) {
        embedder = await Embedder.create({ model: resolved.model, device: resolved.device, strict: resolved.strictDevice, logger: run.logger });
        context.embedder = embedder;
      }
      run.checkpoint();
      run.clock.start('describe');
      fetched = await describeCandidates(saved.input, table, missing, resolved, descriptions, run.progress, saved.keyframeTimes, saved.info);
      await images.flush();
    }
    run.clock.stop();
    // A candidate without its image (its encode failed, or the store was touched) is fetched
    // from the input if chosen: that needs the analysed file too.
    const imageless = Array.from(stage.candidates).filter((row) => !images.has(row)).length;
    if (imageless > 0 && source !== 'decoded') await checkFingerprint(saved.fingerprint, `${imageless} candidate images are missing from ${join(root, CANDIDATES_DIR)}`);

    const analysis: VideoAnalysis = {
      input: saved.input,
      options: resolved,
      out: { dir: root, imagesDir: join(root, IMAGES_DIR), staleRemoved: 0 },
      info: saved.info,
      columns: saved.columns,
      table,
      candidates: stage,
      descriptions,
      images,
      keyframeTimes: saved.keyframeTimes,
      ...(saved.kept ? { kept: saved.kept } : {}),
      device: saved.device,
      // The analysis's decode as extract did it, with what this run decoded.
      decode: { ...saved.decode, ...(fetched > 0 ? { passes: 2 as const } : {}), framesDecoded: { measure: 0, describe: fetched } },
      warnings: saved.warnings,
      timings: { ...run.clock.timings },
      cpuTimings: { ...run.clock.cpuTimings },
      peakRssMB: run.clock.peakRssMB,
      dispose: () => descriptions?.dispose(),
    };
    const manifest = await chooseFrames(analysis, run, { select: resolved.select, candidates: stage });
    await removeStaleImages(root, new Set(manifest.frames.map((f) => f.file)));
    if (source === 'decoded') {
      // The newly described candidates join the saved ones: the next select may need no decode.
      const added = missing.map((row) => descriptions!.save(row)).filter((d) => d !== undefined);
      await saveAnalysis(root, { ...saved, targetCount: Math.max(saved.targetCount, exact.targetCount), described: [...saved.described, ...added].sort((a, b) => a.row - b.row) });
    }
    if (resolved.report) await writeReport(root);
    return manifest;
  } catch (err) {
    await images.flush().catch(() => undefined);
    if (run.signal?.aborted && !(err instanceof FramesiftError && err.code === 'ERR_FRAMESIFT_ABORTED')) throw run.aborted(err);
    throw err;
  } finally {
    descriptions?.dispose();
    await embedder?.close();
    run.close();
  }
}

/** Images of an earlier choice that the new manifest does not list (the candidate store keeps their pixels). */
async function removeStaleImages(root: string, keep: ReadonlySet<string>): Promise<void> {
  const imagesDir = join(root, IMAGES_DIR);
  for (const name of await readdir(imagesDir).catch(() => [] as string[])) {
    if (isOwnImageName(name) && !keep.has(name)) await rm(join(imagesDir, name), { force: true });
  }
}
