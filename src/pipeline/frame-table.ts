/**
 * Maps the native metrics onto the selection stage's FrameTable (docs/selection.md): which
 * metric stands for sharpness, blur, texture, motion... in one place, so it is easy to tune.
 */
import { createFrameTable, type FrameTable } from '../select/index.js';
import type { MeasureColumns } from './measure.js';

export function buildFrameTable(columns: MeasureColumns, analysisLongestSide: number, withModel: boolean): FrameTable {
  const n = columns.length;
  const table = createFrameTable(n, analysisLongestSide, withModel);
  const f = columns.fields;
  const col = (name: string) => f[name]!;
  const laplacian = col('laplacianScore');
  const gradient = col('gradientP90Score');
  const fft = col('fftScore');
  const motionBlur = col('motionBlurScore');
  const exposure = col('exposureScore');
  const noise = col('noiseScore');
  const lbp = col('lbpScore');
  const edges = col('edgeScore');
  const harris = col('harrisScore');
  const fast = col('fastScore');
  const coverage = col('coverage');
  const shiftX = col('shiftX');
  const shiftY = col('shiftY');
  const frameDiff = col('frameDiff');
  const laplacianVariance = col('laplacianVariance');
  const brightness = col('brightnessMean');
  // Raw columns for the ratio tests against the local level (defects.ts): the scores above
  // saturate (a defocused frame keeps half the Laplacian score of a sharp one), raw values do not.
  table.detail = new Float32Array(n);
  table.brightness = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    table.index[r] = columns.index[r]!;
    table.ptsSec[r] = columns.ptsSec[r]!;
    // Focus: the Laplacian (fine detail) tempered by the gradient percentile (edges), so one
    // noisy frame does not read as sharp.
    table.sharpness[r] = 0.5 * laplacian[r]! + 0.5 * gradient[r]!;
    // Blur: the high-frequency share, lowered when the gradients all point one way (motion blur).
    table.blur[r] = fft[r]! * (0.5 + 0.5 * motionBlur[r]!);
    table.exposure[r] = exposure[r]!;
    table.detail[r] = laplacianVariance[r]!;
    table.brightness[r] = brightness[r]!;
    table.noise[r] = noise[r]!;
    table.texture[r] = 0.5 * lbp[r]! + 0.5 * edges[r]!;
    // Cheap keypoint evidence on every frame; SIFT replaces it on candidates (describe stage).
    table.features[r] = Math.max(harris[r]!, fast[r]!);
    table.coverage[r] = coverage[r]!;
    const motion = Math.hypot(shiftX[r]!, shiftY[r]!);
    table.motionPx[r] = r === 0 ? 0 : Number.isFinite(motion) ? motion : NaN;
    table.meanAbsDiff[r] = r === 0 ? 0 : Number.isFinite(frameDiff[r]!) ? frameDiff[r]! : 0;
    table.hashHi[r] = columns.hashHi[r]!;
    table.hashLo[r] = columns.hashLo[r]!;
  }
  return table;
}
