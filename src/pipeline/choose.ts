/**
 * The choice half of extract: select, tracks, write, in that order, from a `VideoAnalysis`,
 * timed by the run's clock with an abort check between stages; returns the written manifest.
 */
import { releaseMatchIndexes } from '../core/geometry.js';
import { writeManifest, type Manifest } from '../output/index.js';
import type { CandidateStage, Selection, SelectOptions } from '../select/index.js';
import type { PipelineRun } from './run.js';
import { candidateStage } from './stages/candidates.js';
import { selectStage } from './stages/select.js';
import { colmapStage } from './stages/colmap.js';
import { reconstructStage } from './stages/reconstruct.js';
import { pickGraph, type PickGraph } from './stages/tracks.js';
import { assembleManifest, writeOutputs } from './stages/write.js';
import type { VideoAnalysis } from './types.js';

export interface ChoiceOptions {
  /**
   * Selection options other than the analysis ran with (a different count, weights...): the
   * candidates are then found again among the rows already described, so nothing is decoded.
   */
  select?: SelectOptions;
  /** The candidates to choose among, found by the caller (re-selection: src/report/reselect.ts). */
  candidates?: CandidateStage;
}

/** Chooses frames from `analysis` and writes them, the lists and the manifest into its folder. */
export async function chooseFrames(analysis: VideoAnalysis, run: PipelineRun, choice: ChoiceOptions = {}): Promise<Manifest> {
  const { table, descriptions, options } = analysis;
  const { clock, progress } = run;
  const select = choice.select ?? options.select;
  const candidates = choice.candidates ?? (choice.select ? candidateStage(table, select, descriptions.features.keys()) : analysis.candidates);

  // The selection's pair checks and the tracks share the FLANN indexes of the sets they match
  // (core/geometry.ts), freed once both are done.
  let selection: Selection;
  let graph: PickGraph;
  try {
    run.checkpoint();
    clock.start('select');
    progress.stage('select');
    selection = await selectStage(table, candidates, select, descriptions);

    run.checkpoint();
    clock.start('tracks');
    progress.stage('tracks');
    graph = await pickGraph(selection.picks.map((p) => p.row), table, descriptions, options.preset.matchWindow, options.colmap);
  } finally {
    releaseMatchIndexes();
  }
  const pickRows = selection.picks.map((p) => p.row);

  run.checkpoint();
  clock.start('write');
  const written = await writeOutputs(analysis, selection, graph, run);
  // --colmap / --reconstruct (stages/colmap.ts, stages/reconstruct.ts).
  const colmap = options.colmap ? await colmapStage(analysis, written, pickRows.map((row) => descriptions.features.get(row)), graph.matched, run) : undefined;
  if (colmap && options.reconstruct) colmap.reconstruction = await reconstructStage(analysis, colmap, written.frames.length, run);
  clock.stop();

  const manifest = assembleManifest(analysis, selection, graph, written.frames, {
    timings: { ...analysis.timings, ...clock.timings },
    cpuTimings: { ...analysis.cpuTimings, ...clock.cpuTimings },
    peakRssMB: Math.max(analysis.peakRssMB, clock.peakRssMB),
    warnings: [...analysis.warnings, ...selection.warnings, ...written.warnings, ...(colmap?.reconstruction?.error ? [colmap.reconstruction.error] : [])],
    fetched: written.fetched,
    colmap,
  });
  run.checkpoint();
  await writeManifest(analysis.out.dir, manifest);
  progress.stage('done');
  return manifest;
}
