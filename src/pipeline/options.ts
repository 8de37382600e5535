/**
 * Options of `extractFrames` / `framesift extract`: validation, defaults, and what each mode
 * changes (docs/extract.md). TS validates everything here before native code sees it.
 */
import { availableParallelism } from 'node:os';

import type { Embedder } from '../embed/index.js';
import { invalidArg } from '../errors.js';
import type { Logger } from '../log.js';
import { resolveSelectOptions, type SelectMode, type SelectOptions, type Weights } from '../select/index.js';
import type { Progress } from './progress.js';

export type ImageFormat = 'jpg' | 'png' | 'webp';
export type DeviceName = 'auto' | 'cpu' | 'cuda' | 'coreml';

export interface ExtractOptions {
  /** Output folder: DIR/images/, DIR/manifest.json, images.txt, pairs.txt, analysis.csv. */
  outDir: string;
  /** Exactly N frames (fewer, with a warning, when the video does not allow N). */
  count?: number;
  /** Automatic count from motion and overlap, capped at N. */
  maxFrames?: number;
  /** fast | balanced (default) | high_quality: see MODE_PRESETS. */
  mode?: SelectMode;
  /** A DINOv3/DINOv2 ONNX file: adds spatial complexity, semantic richness and redundancy by embedding. */
  model?: string;
  /**
   * A loaded Embedder to use instead of loading `model` (a batch worker keeps one across
   * clips); the caller owns it and closes it. `model` still names it for the manifest.
   */
  embedder?: Embedder;
  /** Execution provider for the model. Default 'auto'. */
  device?: DeviceName;
  /** Fail instead of falling back to CPU when the requested device cannot load. */
  strictDevice?: boolean;
  format?: ImageFormat;
  /** jpg/webp quality 1..100. Default 95. */
  quality?: number;
  /** Replace framesift's outputs in a non-empty DIR. */
  force?: boolean;
  /** Time range to analyse, seconds. */
  start?: number;
  end?: number;
  /** Minimum time between picks, seconds. Default min(0.25, half the usable time per target pick). */
  minSpacing?: number;
  /** Target view overlap of consecutive picks. Default 0.7. */
  overlap?: number;
  /** Score weights summing to 1 (keys: docs/selection.md). */
  weights?: Weights;
  /** Longest side of the analysis image. Default by mode (480 / 640 / 960). */
  analysisSize?: number;
  /** Worker threads for decode and metrics. Default: all cores. */
  threads?: number;
  /** Frames per decode/metrics batch. Default 16. */
  batchSize?: number;
  /** Memory limit for the model's batches, MiB (the monitor shrinks batches before it). */
  maxMemoryMB?: number;
  /** Frame rate assigned to an image-sequence input. Default 1 (time-based options count in frames then). */
  sequenceFps?: number;
  /** Also write DIR/colmap/database.db: framesift's features and verified matches for `colmap mapper`. */
  colmap?: boolean;
  /** Run `colmap mapper` on that database (implies colmap; needs colmap on PATH). */
  reconstruct?: boolean;
  /** Keypoints of the database: 'full' (default: SIFT found again on the written images, COLMAP's count) or 'analysis' (the describe stage's SIFT, scaled: no extraction, a weaker model). */
  colmapFeatures?: 'analysis' | 'full';
  /** Write DIR/report.html (timeline, contact sheet, rejections). Default true. */
  report?: boolean;
  /**
   * balanced / high_quality on a video: decode the candidates again in a second pass instead
   * of keeping them from the first (the one-pass default). For comparisons.
   */
  twoPass?: boolean;
  /**
   * Stop analysing after this many decoded frames (a warning says so): a bound on the work one
   * input can cost, whatever its header claims. Default 1,000,000 (9 h at 30 fps).
   */
  maxAnalysedFrames?: number;
  /** URL inputs: a read that gets no byte for this many seconds fails with ERR_FRAMESIFT_TIMEOUT; 0 waits forever. Default 30. */
  readTimeoutSec?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  logger?: Logger;
}

/** Server-safe defaults of the limits against hostile input (README "Limits"). */
export const DEFAULT_MAX_ANALYSED_FRAMES = 1_000_000;
export const DEFAULT_READ_TIMEOUT_SEC = 30;

/** What a mode changes. */
export interface ModePreset {
  analysisSize: number;
  /** 'all' decodes every frame; 'sparse' takes keyframes when they come often enough, else a sampled rate. */
  sampling: 'all' | 'sparse';
  /** Sampled rate for 'sparse' when keyframes are too far apart. */
  sparseFps: number;
  /** SIFT features kept per candidate. */
  /** Features of the candidates: SIFT (what SfM tools match) or ORB (about 10x cheaper). */
  detector: 'sift' | 'orb';
  maxFeatures: number;
  /** RANSAC inliers a consecutive pair needs to count as linked (fewer features, fewer inliers). */
  minInliers: number;
  /** Neighbours each pick is matched with for tracks and pairs.txt. */
  matchWindow: number;
}

export const MODE_PRESETS: Record<SelectMode, ModePreset> = {
  fast: { analysisSize: 480, sampling: 'sparse', sparseFps: 6, detector: 'orb', maxFeatures: 1000, minInliers: 30, matchWindow: 1 },
  balanced: { analysisSize: 640, sampling: 'all', sparseFps: 0, detector: 'sift', maxFeatures: 2000, minInliers: 60, matchWindow: 2 },
  high_quality: { analysisSize: 960, sampling: 'all', sparseFps: 0, detector: 'sift', maxFeatures: 4000, minInliers: 60, matchWindow: 4 },
};

export interface ResolvedExtractOptions {
  outDir: string;
  mode: SelectMode;
  preset: ModePreset;
  model: string | undefined;
  device: DeviceName;
  strictDevice: boolean;
  format: ImageFormat;
  quality: number;
  force: boolean;
  start: number | undefined;
  end: number | undefined;
  threads: number;
  batchSize: number;
  maxMemoryMB: number | undefined;
  sequenceFps: number;
  colmap: boolean;
  reconstruct: boolean;
  colmapFeatures: 'analysis' | 'full';
  report: boolean;
  maxAnalysedFrames: number;
  readTimeoutSec: number;
  select: SelectOptions;
  /** Pass 1 keeps and describes the candidates of a video (balanced, high_quality; fast has its own single pass). */
  onePass: boolean;
  signal: AbortSignal | undefined;
  /** A caller's loaded Embedder (ExtractOptions.embedder): used as is, never closed here. */
  embedder: Embedder | undefined;
}

function num(name: string, value: unknown, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalidArg(name, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, value);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw invalidArg(name, allowed.map((a) => `'${a}'`).join(' or '), value);
  return value as T;
}

const opt = <T>(value: T | undefined, check: (v: T) => T): T | undefined => (value === undefined ? undefined : check(value));

function bool(name: string, value: unknown): boolean {
  // A config file's "force": "no" must not count as true.
  if (typeof value !== 'boolean') throw invalidArg(name, 'true or false', value);
  return value;
}

/** The number check every option uses (also for the CLI's own flags: one bound, one message). */
export const checkNumber = num;

/** The hooks a caller passes must be what they claim, or they fail minutes later mid-run. */
function checkHooks(o: ExtractOptions): void {
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArg('signal', 'an AbortSignal', typeof o.signal);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidArg('onProgress', 'a function', typeof o.onProgress);
  if (o.logger !== undefined && (o.logger === null || typeof o.logger !== 'object' || typeof (o.logger as { warn?: unknown }).warn !== 'function'))
    throw invalidArg('logger', 'a pino-style logger (info, warn, ... methods)', typeof o.logger);
}

export function resolveExtractOptions(o: ExtractOptions): ResolvedExtractOptions {
  if (o === null || typeof o !== 'object') throw invalidArg('options', 'an object', o);
  if (typeof o.outDir !== 'string' || o.outDir === '') throw invalidArg('outDir', 'an output folder path', o.outDir);
  const mode = o.mode ?? 'balanced';
  if (!(mode in MODE_PRESETS)) throw invalidArg('mode', "'fast', 'balanced' or 'high_quality'", mode);
  const format = o.format ?? 'jpg';
  if (!['jpg', 'png', 'webp'].includes(format)) throw invalidArg('format', "'jpg', 'png' or 'webp'", format);
  const device = o.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda', 'coreml'].includes(device)) throw invalidArg('device', "'auto', 'cpu', 'cuda' or 'coreml'", device);
  if (o.model !== undefined && (typeof o.model !== 'string' || o.model === '')) throw invalidArg('model', 'a path to an .onnx file', o.model);
  if (o.count !== undefined && o.maxFrames !== undefined) throw invalidArg('count', 'either count or maxFrames, not both', o.count);
  for (const key of ['colmap', 'reconstruct'] as const) if (o[key] !== undefined && typeof o[key] !== 'boolean') throw invalidArg(key, 'a boolean', o[key]);
  checkHooks(o);
  const start = opt(o.start, (v) => num('start', v, 0, 1e9));
  const end = opt(o.end, (v) => num('end', v, 0, 1e9));
  if (start !== undefined && end !== undefined && end <= start) throw invalidArg('end', `a time after start (${start})`, end);
  const preset = { ...MODE_PRESETS[mode] };
  if (o.analysisSize !== undefined) preset.analysisSize = num('analysisSize', o.analysisSize, 64, 8192, true);
  // Parallax is the inliers' residual to the best homography at analysis size (links.ts): a
  // good pair in a room of planes shows only a fraction of a pixel of it.
  const select: SelectOptions = { mode, minParallaxPx: 0.1, minInliers: preset.minInliers };
  if (o.count !== undefined) select.count = num('count', o.count, 1, 1_000_000, true);
  if (o.maxFrames !== undefined) select.maxFrames = num('maxFrames', o.maxFrames, 1, 1_000_000, true);
  if (o.overlap !== undefined) select.overlap = num('overlap', o.overlap, 0, 0.95);
  if (o.minSpacing !== undefined) select.minSpacingSec = num('minSpacing', o.minSpacing, 0, 3600);
  if (o.weights !== undefined) select.weights = o.weights;
  // Fail on bad selection options (weights above all) now, not after minutes of decoding.
  resolveSelectOptions(select, o.model !== undefined);
  return {
    outDir: o.outDir,
    mode,
    preset,
    model: o.model,
    device,
    strictDevice: o.strictDevice === undefined ? false : bool('strictDevice', o.strictDevice),
    format,
    quality: o.quality === undefined ? 95 : num('quality', o.quality, 1, 100, true),
    force: o.force === undefined ? false : bool('force', o.force),
    start,
    end,
    threads: o.threads === undefined ? availableParallelism() : num('threads', o.threads, 1, 256, true),
    batchSize: o.batchSize === undefined ? 16 : num('batchSize', o.batchSize, 1, 1024, true),
    maxMemoryMB: opt(o.maxMemoryMB, (v) => num('maxMemoryMB', v, 64, 16 * 1024 * 1024)),
    sequenceFps: o.sequenceFps === undefined ? 1 : num('sequenceFps', o.sequenceFps, 1e-3, 1000),
    colmap: (o.colmap ?? false) || (o.reconstruct ?? false),
    reconstruct: o.reconstruct ?? false,
    colmapFeatures: o.colmapFeatures === undefined ? 'full' : oneOf('colmapFeatures', o.colmapFeatures, ['analysis', 'full']),
    report: o.report === undefined ? true : bool('report', o.report),
    maxAnalysedFrames: o.maxAnalysedFrames === undefined ? DEFAULT_MAX_ANALYSED_FRAMES : num('maxAnalysedFrames', o.maxAnalysedFrames, 1, 1e9, true),
    readTimeoutSec: o.readTimeoutSec === undefined ? DEFAULT_READ_TIMEOUT_SEC : num('readTimeoutSec', o.readTimeoutSec, 0, 86_400),
    select,
    onePass: preset.sampling === 'all' && !(o.twoPass === undefined ? false : bool('twoPass', o.twoPass)),
    signal: o.signal,
    embedder: o.embedder,
  };
}
