/**
 * Maps the native metrics onto the selection stage's FrameTable (docs/selection.md): which
 * metric stands for sharpness, blur, texture, motion... in one place, so it is easy to tune.
 */
import { cheapQuality, createFrameTable, type FrameTable } from '../select/index.js';
import type { MeasureColumns } from './types.js';

export function buildFrameTable(columns: MeasureColumns, analysisLongestSide: number, withModel: boolean): FrameTable {
  const n = columns.length;
  const table = createFrameTable(n, analysisLongestSide, withModel);
  // Raw columns for the ratio tests against the local level (defects.ts): the scores saturate
  // (a defocused frame keeps half the Laplacian score of a sharp one), raw values do not.
  table.detail = new Float32Array(n);
  table.brightness = new Float32Array(n);
  addMotionColumns(table, n);
  for (let r = 0; r < n; r++) fillRow(table, columns, r, r);
  return table;
}

/** Row `src` of the measurements into row `dst` of the table. */
function fillRow(table: FrameTable, columns: MeasureColumns, src: number, dst: number): void {
  const f = columns.fields;
  const at = (name: string) => f[name]![src]!;
  table.index[dst] = columns.index[src]!;
  table.ptsSec[dst] = columns.ptsSec[src]!;
  // Focus: the Laplacian (fine detail) tempered by the gradient percentile (edges), so one
  // noisy frame does not read as sharp.
  table.sharpness[dst] = 0.5 * at('laplacianScore') + 0.5 * at('gradientP90Score');
  // Blur: the high-frequency share, lowered when the gradients all point one way (motion blur).
  table.blur[dst] = at('fftScore') * (0.5 + 0.5 * at('motionBlurScore'));
  table.exposure[dst] = at('exposureScore');
  table.detail![dst] = at('laplacianVariance');
  table.brightness![dst] = at('brightnessMean');
  table.noise[dst] = at('noiseScore');
  table.texture[dst] = 0.5 * at('lbpScore') + 0.5 * at('edgeScore');
  // Cheap keypoint evidence on every frame; SIFT replaces it on candidates (describe stage).
  table.features[dst] = Math.max(at('harrisScore'), at('fastScore'));
  table.coverage[dst] = at('coverage');
  // Camera motion from tracked features (not a global image shift, which an orbit, a dolly or
  // a scene with depth leaves near zero): how far the view moved, or the parallax where that
  // is larger (a camera circling what it keeps in view).
  const median = at('motionMedianPx');
  const parallax = at('parallaxPx');
  const motion = Number.isFinite(parallax) ? Math.max(median, parallax) : median;
  table.motionPx[dst] = src === 0 ? 0 : Number.isFinite(motion) ? motion : NaN;
  table.motionUpperPx![dst] = src === 0 ? 0 : at('motionP90Px');
  table.motionDx![dst] = src === 0 ? 0 : at('motionDx');
  table.motionDy![dst] = src === 0 ? 0 : at('motionDy');
  table.parallaxPx![dst] = src === 0 ? 0 : parallax;
  const frameDiff = at('frameDiff');
  table.meanAbsDiff[dst] = src === 0 ? 0 : Number.isFinite(frameDiff) ? frameDiff : 0;
  table.hashHi[dst] = columns.hashHi[src]!;
  table.hashLo[dst] = columns.hashLo[src]!;
}

function addMotionColumns(table: FrameTable, n: number): void {
  table.motionUpperPx = new Float32Array(n);
  table.motionDx = new Float32Array(n);
  table.motionDy = new Float32Array(n);
  table.parallaxPx = new Float32Array(n);
}

/**
 * The selection's cheap quality of one measured row, before the whole video is known (fast
 * mode's single pass ranks the frames of a window by it).
 */
export class RowQuality {
  readonly #scratch: FrameTable;
  constructor(analysisLongestSide: number) {
    this.#scratch = createFrameTable(1, analysisLongestSide, false);
    this.#scratch.detail = new Float32Array(1);
    this.#scratch.brightness = new Float32Array(1);
    addMotionColumns(this.#scratch, 1);
  }
  of(columns: MeasureColumns, row: number): number {
    fillRow(this.#scratch, columns, row, 0);
    return cheapQuality(this.#scratch, 0);
  }
}
