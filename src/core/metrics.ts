/**
 * Per-frame quality metrics, measured natively on the decoder's gray frames (no copy) for a
 * whole batch at once, off the JS thread. Every metric has a raw value and a score in [0,1]
 * (see SCORES and docs/metrics.md); the pipeline's selection builds on the scores.
 *
 * ```ts
 * const m = await measureFrames(frames, { metrics: 'fast', previous: lastFrameOfPreviousBatch });
 * m.laplacianVariance[i]; m.shiftX[i]; hammingDistance(m.phash[i], m.phash[j]);
 * ```
 */
import { availableParallelism } from 'node:os';

import type { NativeFrame, NativeGrayImage } from '../../bindings/index.js';
import { invalidArg, withCallerStack } from '../errors.js';
import { native } from './native.js';

/** Metric groups, in the order of their bits in the native selection mask. */
export const METRIC_NAMES = [
  'sharpness',
  'fft',
  'motionBlur',
  'exposure',
  'noise',
  'harris',
  'fast',
  'orb',
  'sift',
  'coverage',
  'edges',
  'lines',
  'lbp',
  'glcm',
  'phash',
  'phaseCorrelation',
  'opticalFlow',
  'frameDiff',
  'cameraMotion',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Groups that cost well over the rest on a 640x360 frame; the 'fast' preset skips them. */
export const COSTLY_METRICS: readonly MetricName[] = ['orb', 'sift', 'lines', 'glcm', 'opticalFlow'];
/** The 'fast' preset: every group but the costly ones. */
export const FAST_METRICS: readonly MetricName[] = METRIC_NAMES.filter((name) => !COSTLY_METRICS.includes(name));
/** Groups measured between a frame and the one before it (NaN for a first frame without `previous`). */
export const PAIR_METRICS: readonly MetricName[] = ['phaseCorrelation', 'opticalFlow', 'frameDiff', 'cameraMotion'];

/** The result fields each group produces. */
export const METRIC_FIELDS = {
  sharpness: ['laplacianVariance', 'laplacianScore', 'tenengrad', 'tenengradScore', 'gradientP90', 'gradientP90Score'],
  fft: ['fftHighRatio', 'fftScore'],
  motionBlur: ['blurAnisotropy', 'blurDirection', 'motionBlurScore'],
  exposure: ['brightnessMean', 'clippedLow', 'clippedHigh', 'dynamicRange', 'histogramEntropy', 'exposureScore'],
  noise: ['noiseSigma', 'noiseScore'],
  harris: ['harrisCount', 'harrisScore'],
  fast: ['fastCount', 'fastScore'],
  orb: ['orbCount', 'orbScore'],
  sift: ['siftCount', 'siftScore'],
  coverage: ['coverage'],
  edges: ['edgeDensity', 'edgeScore'],
  lines: ['lineCount', 'lineScore'],
  lbp: ['lbpEntropy', 'lbpScore'],
  glcm: ['glcmContrast', 'glcmHomogeneity', 'glcmScore'],
  phash: ['phash'],
  phaseCorrelation: ['shiftX', 'shiftY', 'shiftResponse', 'shiftScore'],
  opticalFlow: ['flowMedian', 'flowTracked', 'flowScore'],
  frameDiff: ['frameDiff', 'frameDiffScore'],
  cameraMotion: ['motionMedianPx', 'motionP90Px', 'motionDx', 'motionDy', 'parallaxPx', 'motionTracked', 'motionScore'],
} as const satisfies Record<MetricName, readonly string[]>;
export type MetricField = (typeof METRIC_FIELDS)[MetricName][number];
export type NumericField = Exclude<MetricField, 'phash'>;

/**
 * A score's meaning: 'quality' scores are higher for a better SfM frame; 'amount' scores only
 * rescale a quantity (motion) into [0,1]. `formula` is the exact mapping from the raw value;
 * density = count per 1000 pixels, diagonal = image diagonal in pixels.
 */
export interface ScoreDefinition {
  metric: MetricName;
  raw: NumericField;
  kind: 'quality' | 'amount';
  formula: string;
}

export const SCORES = {
  laplacianScore: { metric: 'sharpness', raw: 'laplacianVariance', kind: 'quality', formula: '1 - exp(-laplacianVariance / 200)' },
  tenengradScore: { metric: 'sharpness', raw: 'tenengrad', kind: 'quality', formula: '1 - exp(-tenengrad / 100)' },
  gradientP90Score: { metric: 'sharpness', raw: 'gradientP90', kind: 'quality', formula: '1 - exp(-gradientP90 / 15)' },
  fftScore: { metric: 'fft', raw: 'fftHighRatio', kind: 'quality', formula: '1 - exp(-fftHighRatio / 0.15)' },
  motionBlurScore: { metric: 'motionBlur', raw: 'blurAnisotropy', kind: 'quality', formula: '1 - blurAnisotropy' },
  exposureScore: {
    metric: 'exposure',
    raw: 'brightnessMean',
    kind: 'quality',
    formula: '(1 - clippedLow - clippedHigh) * (1 - (2 * brightnessMean / 255 - 1)^2) * min(1, dynamicRange / 128)',
  },
  noiseScore: { metric: 'noise', raw: 'noiseSigma', kind: 'quality', formula: 'exp(-noiseSigma / 8)' },
  harrisScore: { metric: 'harris', raw: 'harrisCount', kind: 'quality', formula: '1 - exp(-density / 1)' },
  fastScore: { metric: 'fast', raw: 'fastCount', kind: 'quality', formula: '1 - exp(-density / 3)' },
  orbScore: { metric: 'orb', raw: 'orbCount', kind: 'quality', formula: '1 - exp(-density / 2)' },
  siftScore: { metric: 'sift', raw: 'siftCount', kind: 'quality', formula: '1 - exp(-density / 2)' },
  coverage: { metric: 'coverage', raw: 'coverage', kind: 'quality', formula: 'coverage (already a fraction)' },
  edgeScore: { metric: 'edges', raw: 'edgeDensity', kind: 'quality', formula: '1 - exp(-edgeDensity / 0.05)' },
  lineScore: { metric: 'lines', raw: 'lineCount', kind: 'quality', formula: '1 - exp(-lineCount / 20)' },
  lbpScore: { metric: 'lbp', raw: 'lbpEntropy', kind: 'quality', formula: 'lbpEntropy / 8' },
  glcmScore: { metric: 'glcm', raw: 'glcmHomogeneity', kind: 'quality', formula: '1 - glcmHomogeneity' },
  shiftScore: { metric: 'phaseCorrelation', raw: 'shiftX', kind: 'amount', formula: '1 - exp(-(hypot(shiftX, shiftY) / diagonal) / 0.05)' },
  flowScore: { metric: 'opticalFlow', raw: 'flowMedian', kind: 'amount', formula: '1 - exp(-(flowMedian / diagonal) / 0.05)' },
  frameDiffScore: { metric: 'frameDiff', raw: 'frameDiff', kind: 'amount', formula: '1 - exp(-frameDiff / 10)' },
  motionScore: { metric: 'cameraMotion', raw: 'motionMedianPx', kind: 'amount', formula: '1 - exp(-(motionMedianPx / diagonal) / 0.05)' },
} as const satisfies Record<string, ScoreDefinition>;
export type ScoreField = keyof typeof SCORES;

/** A frame from the decoder or a plain gray image ({data, width, height, stride?}). */
export type MeasurableImage = NativeFrame | NativeGrayImage;

export interface MeasureOptions {
  /** Which groups to measure: names, 'fast' (FAST_METRICS) or 'all'. Default 'fast'. */
  metrics?: readonly MetricName[] | 'fast' | 'all';
  /**
   * Worker threads for the batch (1..64). Default: the number of cores. OpenCV's own pool is
   * set to one thread so that the two never multiply (see docs/metrics.md).
   */
  threads?: number;
  /** The frame before frames[0] (the last one of the previous batch) so motion is continuous. */
  previous?: MeasurableImage | null;
  /**
   * Also return `cpuMs`: each frame's CPU time in ms (thread CPU time, so unaffected by other
   * processes). The only field that is not bit-identical run to run. Default false.
   */
  timing?: boolean;
}

/** Structure of arrays: one array per field of the selected groups, indexed like the frames. */
export type FrameMetricsBatch = {
  count: number;
  /** The groups that were measured. */
  metrics: MetricName[];
  phash?: BigUint64Array;
  /** With options.timing: CPU ms per frame. */
  cpuMs?: Float64Array;
} & { [F in NumericField]?: Float64Array };

/** The selection bitmask of a set of groups. */
export function metricMask(names: readonly MetricName[]): number {
  let mask = 0;
  for (const name of names) mask |= 1 << METRIC_NAMES.indexOf(name);
  return mask;
}

function resolveMetrics(value: MeasureOptions['metrics']): MetricName[] {
  if (value === undefined || value === 'fast') return [...FAST_METRICS];
  if (value === 'all') return [...METRIC_NAMES];
  const expected = `'fast', 'all' or an array of metric names (${METRIC_NAMES.join(', ')})`;
  if (!Array.isArray(value)) throw invalidArg('options.metrics', expected, value);
  value.forEach((name, i) => {
    if (!METRIC_NAMES.includes(name as MetricName)) throw invalidArg(`options.metrics[${i}]`, `a metric name (${METRIC_NAMES.join(', ')})`, name);
  });
  return METRIC_NAMES.filter((name) => value.includes(name));
}

function checkImage(value: unknown, option: string): void {
  if (typeof value !== 'object' || value === null) throw invalidArg(option, 'a frame or a gray image {data, width, height}', value);
}

/**
 * Measures a batch of gray frames. Resolves to a structure of arrays; results are
 * bit-identical for the same input whatever `threads`. Rejects with ERR_FRAMESIFT_INVALID_ARG
 * for a bad option, a wrong buffer size, an image under 16x16 or a released frame.
 */
export async function measureFrames(frames: readonly MeasurableImage[], options: MeasureOptions = {}): Promise<FrameMetricsBatch> {
  const stack = new Error();
  if (!Array.isArray(frames)) throw invalidArg('frames', 'an array of frames or gray images', frames);
  frames.forEach((frame, i) => checkImage(frame, `frames[${i}]`));
  if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
  const names = resolveMetrics(options.metrics);
  const threads = options.threads ?? Math.min(64, availableParallelism());
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw invalidArg('options.threads', 'an integer from 1 to 64', threads);
  if (options.previous != null) checkImage(options.previous, 'options.previous');
  const timing = options.timing ?? false;
  if (typeof timing !== 'boolean') throw invalidArg('options.timing', 'a boolean', timing);
  const result = await withCallerStack(
    native().measureFrames([...frames], { metrics: metricMask(names), threads, previous: options.previous ?? null, timing }),
    stack,
  );
  return { ...result, metrics: names } as FrameMetricsBatch;
}

/** Number of differing bits between two 64-bit perceptual hashes (0..64). */
export function hammingDistance(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let count = 0;
  while (x) {
    x &= x - 1n;
    count++;
  }
  return count;
}
