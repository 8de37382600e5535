/**
 * Composite score: a weighted mean of sub-scores (weights sum to 1; a sub-score not measured
 * for a row drops out and the others are renormalised) times a quality gate.
 */
import type { LocalLevels } from './defects.js';
import type { FrameTable, ResolvedSelectOptions } from './types.js';

/**
 * Quality gate knees: a sub-score at or above its knee does not penalise; below it the gate
 * falls linearly to 0. The gate is the product over sharpness, blur, exposure and noise, so a
 * frame bad on any of them loses most of its score whatever its content.
 */
export const GATE_KNEES = Object.freeze({ sharpness: 0.5, blur: 0.5, exposure: 0.5, noise: 0.5 });

const clamp01 = (x: number) => (x > 1 ? 1 : x > 0 ? x : 0);
const kneeOf = (x: number, knee: number) => (Number.isFinite(x) ? clamp01(x / knee) : 1);

export function qualityGate(table: FrameTable, row: number): number {
  return (
    kneeOf(table.sharpness[row], GATE_KNEES.sharpness) *
    kneeOf(table.blur[row], GATE_KNEES.blur) *
    kneeOf(table.exposure[row], GATE_KNEES.exposure) *
    kneeOf(table.noise[row], GATE_KNEES.noise)
  );
}

/** Mean of features and coverage (the geometric information of the model score); NaN if neither. */
export function geometricScore(table: FrameTable, row: number): number {
  const f = table.features[row];
  const c = table.coverage[row];
  const hasF = Number.isFinite(f);
  const hasC = Number.isFinite(c);
  if (hasF && hasC) return (f + c) / 2;
  return hasF ? f : hasC ? c : NaN;
}

function subScore(table: FrameTable, row: number, key: string): number {
  switch (key) {
    case 'sharpness':
      return table.sharpness[row];
    case 'features':
      return table.features[row];
    case 'coverage':
      return table.coverage[row];
    case 'texture':
      return table.texture[row];
    case 'exposure':
      return table.exposure[row];
    case 'spatialComplexity':
      return table.spatialComplexity ? table.spatialComplexity[row] : NaN;
    case 'semanticRichness':
      return table.semanticRichness ? table.semanticRichness[row] : NaN;
    case 'geometric':
      return geometricScore(table, row);
    default:
      return NaN;
  }
}

/** Weighted mean of the measured sub-scores (weights renormalised over the measured ones). */
export function baseScore(table: FrameTable, row: number, weights: ResolvedSelectOptions['weights']): number {
  let sum = 0;
  let wsum = 0;
  for (const key in weights) {
    const w = weights[key as keyof typeof weights] ?? 0;
    if (w <= 0) continue;
    const x = subScore(table, row, key);
    if (!Number.isFinite(x)) continue;
    sum += w * clamp01(x);
    wsum += w;
  }
  return wsum > 0 ? sum / wsum : 0;
}

export interface RowScore {
  score: number;
  base: number;
  gate: number;
}

export function scoreRow(table: FrameTable, row: number, weights: ResolvedSelectOptions['weights']): RowScore {
  const base = baseScore(table, row, weights);
  const gate = qualityGate(table, row);
  return { score: base * gate, base, gate };
}

/**
 * Cheap quality for candidate choice before features/DINO are measured: the gate times the
 * mean of sharpness, blur and texture (plus features when measured).
 */
export function cheapQuality(table: FrameTable, row: number): number {
  let sum = clamp01(table.sharpness[row]) + clamp01(table.blur[row]) + clamp01(table.texture[row]);
  let n = 3;
  const f = table.features[row];
  if (Number.isFinite(f)) {
    sum += clamp01(f);
    n++;
  }
  return (sum / n) * qualityGate(table, row);
}

/**
 * Knees of the quality relative to the neighbourhood: a frame with at least half the local
 * sharp level of detail, and at most 1.5x the local noisiness, is not penalised; below (above)
 * that the factor falls in proportion. The optimiser then takes the locally best frames, and
 * the edges of a defect or a noisy stretch only where coverage needs them.
 */
export const RELATIVE_KNEES = Object.freeze({ detail: 0.5, noise: 1.5 });

export function relativeQuality(table: FrameTable, levels: LocalLevels, row: number): number {
  let factor = 1;
  if (table.detail && levels.logDetail) {
    const ratio = Math.exp(Math.log(Math.max(1e-3, table.detail[row])) - levels.logDetail[row]);
    if (Number.isFinite(ratio)) factor *= clamp01(ratio / RELATIVE_KNEES.detail);
  }
  const level = levels.noisiness[row];
  const noisiness = -Math.log(Math.min(1, Math.max(1e-6, table.noise[row])));
  if (level > 0 && Number.isFinite(noisiness) && noisiness > RELATIVE_KNEES.noise * level) {
    factor *= (RELATIVE_KNEES.noise * level) / noisiness;
  }
  return factor;
}
