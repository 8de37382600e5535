/**
 * The write stage: the chosen candidates' images, encoded while pass 1 or 2 had them decoded,
 * are linked into place from the candidate store (candidate-images.ts); only a pick whose encode failed is decoded again
 * (fetched by pts, seeking across gaps). Then images.txt, pairs.txt, analysis.csv, and the
 * manifest (validated against its schema).
 */
import { readFileSync } from 'node:fs';

import { packageRoot } from '../../../bindings/index.js';
import { openVideo, type VideoInfo } from '../../core/decode.js';
import {
  AnalysisCsv,
  ImageWriter,
  imageName,
  imageNameDigits,
  writeImageList,
  writePairs,
  type Manifest,
  type ManifestColmap,
  type ManifestFrame,
} from '../../output/index.js';
import { fateLabel, scoreRow, type FrameTable, type Selection } from '../../select/index.js';
import type { ResolvedExtractOptions } from '../options.js';
import type { ProgressReporter } from '../progress.js';
import type { PipelineRun } from '../run.js';
import { fetchPoolSizes, keyframeBefore, type MeasureColumns, type VideoAnalysis } from '../types.js';
import type { PickGraph } from './tracks.js';

/**
 * Writes the picks' images and the lists beside them; returns the manifest rows of the frames
 * written, and a warning when some could not be.
 */
export interface WrittenOutputs {
  frames: ManifestFrame[];
  warnings: string[];
  fetched: number;
  /** Per pick: its image name (written or not), and the names written. */
  names: string[];
  written: ReadonlySet<string>;
  /** pairs.txt as given to writePairs. */
  pairs: Array<[string, string]>;
}

export async function writeOutputs(analysis: VideoAnalysis, selection: Selection, graph: PickGraph, run: PipelineRun): Promise<WrittenOutputs> {
  const { table, options, images, out } = analysis;
  const warnings: string[] = [];
  const digits = imageNameDigits(Math.max(analysis.info.frameCount, table.index[table.length - 1]! + 1));
  const names = selection.picks.map((p) => imageName(p.frameIndex, options.format, digits));
  run.progress.stage('write', selection.picks.length);
  await images.flush();
  const written = new Set<string>();
  const missing: number[] = [];
  let fetched = 0;
  for (const [k, pick] of selection.picks.entries()) {
    if (images.has(pick.row)) {
      await images.promote(pick.row, names[k]!);
      written.add(names[k]!);
    } else missing.push(k);
  }
  if (missing.length > 0) {
    const nameByPts = new Map(missing.map((k) => [selection.picks[k]!.ptsSec.toFixed(4), names[k]!]));
    const writer = new ImageWriter(out.imagesDir, { format: options.format, quality: options.quality, ...(options.signal ? { signal: options.signal } : {}) });
    fetched = await fetchFullFrames(analysis.input, missing.map((k) => selection.picks[k]!.ptsSec), options, run.progress, analysis.keyframeTimes, analysis.info, async (frame) => {
      const name = nameByPts.get(frame.ptsSec.toFixed(4));
      if (!name) return frame.release();
      await writer.ready();
      // The writer reads the pixels asynchronously: release the frame once it is encoded.
      writer.write(name, frame.rgb, frame.width, frame.height).then(() => void written.add(name), () => undefined).finally(() => frame.release());
    });
    await writer.flush();
  }
  run.checkpoint();
  const unwritten = selection.picks.length - written.size;
  if (unwritten > 0) warnings.push(`${unwritten} chosen frames could not be written at full resolution`);

  const frames = manifestFrames(selection, table, names, analysis.columns.fields).filter((f) => written.has(f.file));
  await writeImageList(out.dir, frames.map((f) => f.file));
  const pairs = pairsToMatch(selection, graph.verifiedPairs, names, table, options.preset.matchWindow);
  await writePairs(out.dir, pairs);
  await writeAnalysisCsv(out.dir, table, selection, analysis.columns);
  return { frames, warnings, fetched, names, written, pairs };
}

/** The manifest of a finished choice (validated when written). */
export function assembleManifest(
  analysis: VideoAnalysis,
  selection: Selection,
  graph: PickGraph,
  frames: ManifestFrame[],
  run: { timings: Record<string, number>; cpuTimings?: Record<string, number>; peakRssMB: number; warnings: string[]; fetched: number; colmap?: ManifestColmap | undefined },
): Manifest {
  const decode = analysis.decode;
  const rejected = Object.values(selection.rejectedByReason).reduce((a, b) => a + b, 0);
  return {
    schemaVersion: 1,
    tool: { name: 'framesift', version: toolVersion() },
    createdAt: new Date().toISOString(),
    input: { path: analysis.input, probe: { ...analysis.info } },
    config: effectiveConfig(analysis.options, selection),
    device: analysis.device,
    frames,
    rejected: { total: rejected, byReason: { ...selection.rejectedByReason } },
    counts: { analysed: analysis.table.length, candidates: selection.stats.candidates, chosen: frames.length, rejected },
    sequences: selection.sequences.map((s, id) => ({ id, firstFrame: s.firstFrame, lastFrame: s.lastFrame, count: s.picks })),
    links: selection.links.map((l) => ({ fromFrame: l.fromFrame, toFrame: l.toFrame, inliers: l.inliers, parallaxPx: l.parallaxPx, degenerate: l.degenerate, status: l.status })),
    tracks: graph.tracks ? { tracks2: graph.tracks.tracks2, tracks3: graph.tracks.tracks3, meanLength: graph.tracks.meanLength, histogram: graph.tracks.histogram } : null,
    timings: run.timings,
    ...(run.cpuTimings ? { cpuTimings: run.cpuTimings } : {}),
    peakRssMB: run.peakRssMB,
    warnings: run.warnings,
    decode: run.fetched > 0 ? { ...decode, framesDecoded: { ...decode.framesDecoded, write: run.fetched } } : decode,
    ...(run.colmap ? { colmap: run.colmap } : {}),
  };
}

function toolVersion(): string {
  return JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')).version;
}

export interface FullFrame {
  ptsSec: number;
  rgb: Buffer;
  width: number;
  height: number;
  release(): void;
}

/** Fallback: calls `write` for each chosen frame in time order; `write` may keep the frame until it releases it. */
export async function fetchFullFrames(
  input: string,
  ptsList: readonly number[],
  options: ResolvedExtractOptions,
  progress: ProgressReporter,
  keyframes: Float64Array,
  info: Pick<VideoInfo, 'displayWidth' | 'displayHeight'>,
  write: (frame: FullFrame) => Promise<void>,
): Promise<number> {
  if (ptsList.length === 0) return 0;
  progress.stage('write', ptsList.length);
  const wantedPts = [...ptsList].sort((a, b) => a - b);
  const decoder = await openVideo(input, {
    analysisSize: 'source',
    gray: false,
    rgb: true,
    threads: options.threads,
    ...fetchPoolSizes(info, 12),
    sequenceFps: options.sequenceFps,
    readTimeoutSec: options.readTimeoutSec,
    wantedPts,
    wantedKeyframePts: keyframeBefore(keyframes, wantedPts),
  });
  let fetched = 0;
  try {
    for await (const batch of decoder.batches({ signal: options.signal })) {
      for (const frame of batch.frames) {
        await write({ ptsSec: frame.ptsSec, rgb: frame.rgb!, width: frame.width, height: frame.height, release: () => frame.release() });
        fetched++;
        progress.update(fetched, ptsList.length);
      }
    }
  } finally {
    await decoder.close();
  }
  return fetched;
}

/** The metric columns reported per chosen frame (raw values and scores of pass 1). */
function manifestFrames(selection: Selection, table: FrameTable, names: string[], fields: Record<string, Float32Array>): ManifestFrame[] {
  return selection.picks.map((pick, k) => {
    const metrics: Record<string, number> = {};
    for (const [name, column] of Object.entries(fields)) {
      const value = column[pick.row]!;
      if (Number.isFinite(value)) metrics[name] = round(value);
    }
    const subScores: Record<string, number> = {};
    for (const [name, value] of Object.entries(pick.subScores)) if (typeof value === 'number' && Number.isFinite(value)) subScores[name] = round(value);
    return {
      file: names[k]!,
      frameIndex: pick.frameIndex,
      ptsSec: round(pick.ptsSec, 6),
      score: round(pick.score),
      sequence: pick.sequence,
      metrics,
      subScores,
      reasons: [...pick.reasons],
      explanation: pick.explanation,
    };
  });
}

function round(value: number, digits = 5): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Consecutive links, window neighbours that verified, and revisits by embedding. */
function pairsToMatch(selection: Selection, verified: Array<[number, number]>, names: string[], table: FrameTable, window: number): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const n = selection.picks.length;
  for (let i = 0; i + 1 < n; i++) pairs.push([names[i]!, names[i + 1]!]);
  for (const [i, j] of verified) pairs.push([names[i]!, names[j]!]);
  const embedding = table.embedding;
  if (embedding) {
    // A revisit: a pick far in the sequence that looks like this one (loop closure for COLMAP).
    const vectors = selection.picks.map((p) => embedding.get(p.row));
    for (let i = 0; i < n; i++) {
      for (let j = i + window + 1; j < n; j++) {
        const a = vectors[i];
        const b = vectors[j];
        if (!a || !b) continue;
        let dot = 0;
        for (let d = 0; d < a.length; d++) dot += a[d]! * b[d]!;
        if (dot >= 0.85) pairs.push([names[i]!, names[j]!]);
      }
    }
  }
  return pairs;
}

/** Rows formatted per CSV write: the text of a whole long video at once would hold ~4 KB of heap per frame. */
export const CSV_CHUNK_ROWS = 2048;

async function writeAnalysisCsv(dir: string, table: FrameTable, selection: Selection, columns: MeasureColumns): Promise<void> {
  const csv = await AnalysisCsv.open(dir);
  try {
    const n = table.length;
    for (let first = 0; first < n; first += CSV_CHUNK_ROWS) {
      const end = Math.min(n, first + CSV_CHUNK_ROWS);
      const metricColumns: Record<string, ArrayLike<number>> = {};
      for (const name of columns.fieldNames) metricColumns[name] = columns.fields[name]!.subarray(first, end);
      await csv.addRows(
        {
          frameIndex: table.index.subarray(first, end),
          ptsSec: table.ptsSec.subarray(first, end),
          ...metricColumns,
          features: table.features.subarray(first, end),
          featureCoverage: table.coverage.subarray(first, end),
          // The selection's own view of each frame: what the report's timeline plots.
          sharpness: table.sharpness.subarray(first, end),
          exposure: table.exposure.subarray(first, end),
          score: Float32Array.from({ length: end - first }, (_, k) => scoreRow(table, first + k, selection.options.weights).score),
          motion: table.motionPx.subarray(first, end),
          fate: Array.from(selection.fate.subarray(first, end), (code) => fateLabel(code)),
        },
        end - first,
      );
    }
    await csv.close();
  } catch (err) {
    await csv.abort();
    throw err;
  }
}

function effectiveConfig(resolved: ResolvedExtractOptions, selection: Selection): Record<string, unknown> {
  const { select: _select, signal: _signal, embedder: _embedder, ...rest } = resolved;
  return { ...rest, select: selection.options };
}
