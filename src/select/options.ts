/** Defaults and validation of SelectOptions (errors: ERR_FRAMESIFT_INVALID_ARG via invalidArg). */
import { invalidArg } from '../errors.js';
import type {
  ClassicalWeightKey,
  FrameTable,
  ModelWeightKey,
  ResolvedSelectOptions,
  SelectMode,
  SelectOptions,
  Weights,
} from './types.js';

/** Classical score weights (no model): focus and geometry first, then texture and exposure. */
export const CLASSICAL_WEIGHTS: Readonly<Record<ClassicalWeightKey, number>> = Object.freeze({
  sharpness: 0.25,
  features: 0.25,
  coverage: 0.2,
  texture: 0.15,
  exposure: 0.15,
});

/** Score weights with a DINO model. */
export const MODEL_WEIGHTS: Readonly<Record<ModelWeightKey, number>> = Object.freeze({
  spatialComplexity: 0.35,
  semanticRichness: 0.25,
  geometric: 0.25,
  texture: 0.15,
});

const MODE_DEFAULTS: Record<SelectMode, { candidatesPerSegment: number; bridgeTries: number; callsPerPick: number }> = {
  fast: { candidatesPerSegment: 2, bridgeTries: 1, callsPerPick: 3 },
  balanced: { candidatesPerSegment: 3, bridgeTries: 3, callsPerPick: 4 },
  high_quality: { candidatesPerSegment: 6, bridgeTries: 6, callsPerPick: 8 },
};

export const WEIGHT_SUM_TOLERANCE = 1e-6;

/** True when the table carries DINO statistics (the model score applies). */
export function tableHasModel(table: FrameTable): boolean {
  return table.spatialComplexity !== undefined && table.semanticRichness !== undefined;
}

/**
 * Checks user weights against the active score's keys: each finite and >= 0, missing keys = 0,
 * sum 1 within 1e-6. Returns the complete weight set.
 */
export function validateWeights(weights: unknown, kind: 'classical' | 'model', option = 'weights'): Weights {
  const defaults: Record<string, number> = kind === 'model' ? { ...MODEL_WEIGHTS } : { ...CLASSICAL_WEIGHTS };
  if (weights === undefined) return defaults;
  if (weights === null || typeof weights !== 'object' || Array.isArray(weights)) {
    throw invalidArg(option, 'an object of weights', weights);
  }
  const keys = Object.keys(defaults);
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = 0;
  let sum = 0;
  for (const [key, value] of Object.entries(weights as Record<string, unknown>)) {
    if (!keys.includes(key)) {
      throw invalidArg(`${option}.${key}`, `one of the ${kind} weight keys (${keys.join(', ')})`, key);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidArg(`${option}.${key}`, 'a finite non-negative number', value);
    }
    out[key] = value;
    sum += value;
  }
  if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) {
    throw invalidArg(option, 'weights summing to 1', `${JSON.stringify(weights)} (sum ${sum})`);
  }
  return out;
}

function positiveInt(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidArg(option, 'a positive integer', value);
  }
  return value;
}

function numberIn(value: unknown, option: string, min: number, max: number, fallback: number, openMin = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value > max || (openMin ? value <= min : value < min)) {
    const range = max === Infinity ? `${openMin ? '>' : '>='} ${min}` : `in ${openMin ? '(' : '['}${min}, ${max}]`;
    throw invalidArg(option, `a number ${range}`, value);
  }
  return value;
}

/** Applies defaults and validates; `hasModel` picks the weight set (see tableHasModel). */
export function resolveSelectOptions(options: SelectOptions = {}, hasModel = false): ResolvedSelectOptions {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const count = positiveInt(options.count, 'options.count');
  const maxFrames = positiveInt(options.maxFrames, 'options.maxFrames');
  if (count !== undefined && maxFrames !== undefined) {
    throw invalidArg('options.maxFrames', 'no maxFrames together with count', maxFrames);
  }
  const mode = options.mode ?? 'balanced';
  if (!(mode in MODE_DEFAULTS)) throw invalidArg('options.mode', '"fast", "balanced" or "high_quality"', mode);
  const modeDefaults = MODE_DEFAULTS[mode];
  const overlap = numberIn(options.overlap, 'options.overlap', 0, 0.95, 0.7);
  const scoreKind = hasModel ? 'model' : 'classical';
  return {
    count,
    maxFrames,
    mode,
    overlap,
    minSpacingSec: numberIn(options.minSpacingSec, 'options.minSpacingSec', 0, Infinity, 0.25),
    maxGapSec: numberIn(options.maxGapSec, 'options.maxGapSec', 0, Infinity, 4, true),
    maxGapMotion: numberIn(options.maxGapMotion, 'options.maxGapMotion', 0, Infinity, 2 * (1 - overlap), true),
    weights: validateWeights(options.weights, scoreKind, 'options.weights'),
    scoreKind,
    candidatesPerSegment:
      positiveInt(options.candidatesPerSegment, 'options.candidatesPerSegment') ?? modeDefaults.candidatesPerSegment,
    windowSec: numberIn(options.windowSec, 'options.windowSec', 0, Infinity, 10, true),
    minInliers: numberIn(options.minInliers, 'options.minInliers', 0, Infinity, 60),
    minParallaxPx: numberIn(options.minParallaxPx, 'options.minParallaxPx', 0, Infinity, 2),
    maxVerifierCalls: positiveInt(options.maxVerifierCalls, 'options.maxVerifierCalls'),
    redundancyCosine: numberIn(options.redundancyCosine, 'options.redundancyCosine', -1, 1, 0.98),
    bridgeTries: modeDefaults.bridgeTries,
  };
}

/** Verifier budget when not given: per target pick by mode, plus a constant. */
export function verifierBudget(options: ResolvedSelectOptions, targetCount: number): number {
  return options.maxVerifierCalls ?? MODE_DEFAULTS[options.mode].callsPerPick * targetCount + 16;
}
