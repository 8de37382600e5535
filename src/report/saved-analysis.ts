/**
 * DIR/.framesift/analysis.bin: what re-selection needs of an extract's analysis half, so
 * `framesift select DIR` chooses again without decoding: pass 1's columns (one row per frame),
 * keyframe times, the described rows (feature-set bytes, scores, embeddings), the options as
 * the user gave them, and a fingerprint of the input. The candidates' images stay beside it in
 * DIR/.framesift/candidates/ (src/pipeline/candidate-images.ts). Format: analysis-file.ts,
 * version ANALYSIS_FORMAT (bump it when the content changes meaning).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { VideoInfo } from '../core/decode.js';
import { FramesiftError } from '../errors.js';
import { writeFileAtomic } from '../output/atomic.js';
import { STATE_DIR } from '../output/index.js';
import type { ExtractOptions } from '../pipeline/options.js';
import { MeasureColumns, type DecodeReport, type DeviceReport, type VideoAnalysis } from '../pipeline/types.js';
import type { SavedDescription } from '../pipeline/descriptions.js';
import { decodeAnalysisFile, encodeAnalysisParts } from './analysis-file.js';
import type { InputFingerprint } from './fingerprint.js';

export const ANALYSIS_FORMAT = 1;
export const ANALYSIS_FILE_NAME = 'analysis.bin';

/** The options of extract that can be saved (what the user asked, not callbacks). */
export type SavedRequest = Omit<ExtractOptions, 'signal' | 'onProgress' | 'logger'>;

export interface SavedAnalysis {
  input: string;
  fingerprint: InputFingerprint;
  request: SavedRequest;
  /** Picks the candidate stage aimed for when these candidates were described. */
  targetCount: number;
  info: VideoInfo;
  motionScalePx: number;
  withModel: boolean;
  columns: MeasureColumns;
  keyframeTimes: Float64Array;
  kept?: readonly number[];
  described: SavedDescription[];
  device: DeviceReport;
  /** How extract decoded the video (re-selection reports it with its own decodes). */
  decode: DecodeReport;
  warnings: readonly string[];
}

/** On disk: the same, with the columns as plain arrays cut to length. */
interface FileContent extends Omit<SavedAnalysis, 'columns' | 'kept' | 'warnings'> {
  savedAt: string;
  columns: { length: number; fieldNames: string[]; index: Float64Array; ptsSec: Float64Array; keyframe: Uint8Array; hashHi: Uint32Array; hashLo: Uint32Array; fields: Record<string, Float32Array> };
  kept?: Int32Array;
  warnings: string[];
}

export function analysisPath(dir: string): string {
  return join(dir, STATE_DIR, ANALYSIS_FILE_NAME);
}

/** The request without what cannot be saved (callbacks, signal, logger). */
export function savedRequest(options: ExtractOptions): SavedRequest {
  const { signal: _s, onProgress: _p, logger: _l, ...rest } = options;
  return JSON.parse(JSON.stringify(rest)) as SavedRequest;
}

/**
 * The rows whose descriptions and images re-selection keeps: the candidates; in fast mode every
 * row its single pass described (they are in the table before the candidates are found). The
 * rest of what a one-pass run described (its keep windows' superset) is not kept.
 */
export function rowsToKeep(analysis: VideoAnalysis): number[] {
  const rows = analysis.options.preset.sampling === 'sparse' ? [...analysis.descriptions.features.keys()] : Array.from(analysis.candidates.candidates);
  return rows.filter((row) => analysis.descriptions.has(row)).sort((a, b) => a - b);
}

/** The parts of `analysis` re-selection needs, with the descriptions of `rows`. */
export function snapshotAnalysis(analysis: VideoAnalysis, rows: readonly number[], request: SavedRequest, fingerprint: InputFingerprint, targetCount: number): SavedAnalysis {
  const described: SavedDescription[] = [];
  for (const row of rows) {
    const saved = analysis.descriptions.save(row);
    if (saved) described.push(saved);
  }
  return {
    input: analysis.input,
    fingerprint,
    request,
    targetCount,
    info: analysis.info,
    motionScalePx: analysis.table.motionScalePx,
    withModel: analysis.table.spatialComplexity !== undefined,
    columns: analysis.columns,
    keyframeTimes: analysis.keyframeTimes,
    ...(analysis.kept ? { kept: analysis.kept } : {}),
    described,
    device: analysis.device,
    decode: analysis.decode,
    warnings: analysis.warnings,
  };
}

export async function saveAnalysis(dir: string, saved: SavedAnalysis): Promise<string> {
  const c = saved.columns;
  const n = c.length;
  const fields: Record<string, Float32Array> = {};
  for (const name of c.fieldNames) fields[name] = c.fields[name]!.subarray(0, n);
  const content: FileContent = {
    savedAt: new Date().toISOString(),
    input: saved.input,
    fingerprint: saved.fingerprint,
    request: saved.request,
    targetCount: saved.targetCount,
    info: saved.info,
    motionScalePx: saved.motionScalePx,
    withModel: saved.withModel,
    columns: { length: n, fieldNames: [...c.fieldNames], index: c.index.subarray(0, n), ptsSec: c.ptsSec.subarray(0, n), keyframe: c.keyframe.subarray(0, n), hashHi: c.hashHi.subarray(0, n), hashLo: c.hashLo.subarray(0, n), fields },
    keyframeTimes: saved.keyframeTimes,
    ...(saved.kept ? { kept: Int32Array.from(saved.kept) } : {}),
    described: saved.described,
    device: saved.device,
    decode: saved.decode,
    warnings: [...saved.warnings],
  };
  const path = analysisPath(dir);
  // Not recursive: DIR itself must still be there.
  await mkdir(join(dir, STATE_DIR)).catch(() => undefined);
  await writeFileAtomic(path, encodeAnalysisParts(content, ANALYSIS_FORMAT));
  return path;
}

export async function loadAnalysis(dir: string): Promise<SavedAnalysis> {
  const path = analysisPath(dir);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FramesiftError(
      `${path}: no saved analysis (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); select needs a folder written by framesift extract`,
      'ERR_FRAMESIFT_SAVED_ANALYSIS',
      { input: path, cause: err },
    );
  }
  const file = decodeAnalysisFile<FileContent>(bytes, ANALYSIS_FORMAT, path);
  const columns = new MeasureColumns(file.columns.fieldNames);
  Object.assign(columns, {
    length: file.columns.length,
    index: file.columns.index,
    ptsSec: file.columns.ptsSec,
    keyframe: file.columns.keyframe,
    hashHi: file.columns.hashHi,
    hashLo: file.columns.hashLo,
  });
  for (const name of file.columns.fieldNames) {
    const values = file.columns.fields[name];
    if (!values || values.length !== file.columns.length) throw new FramesiftError(`${path}: column ${name} is missing or short; run extract again`, 'ERR_FRAMESIFT_SAVED_ANALYSIS', { input: path });
    columns.fields[name] = values;
  }
  return {
    input: file.input,
    fingerprint: file.fingerprint,
    request: file.request,
    targetCount: file.targetCount,
    info: file.info,
    motionScalePx: file.motionScalePx,
    withModel: file.withModel,
    columns,
    keyframeTimes: file.keyframeTimes,
    ...(file.kept ? { kept: Array.from(file.kept) } : {}),
    described: file.described,
    device: file.device,
    decode: file.decode,
    warnings: file.warnings,
  };
}
