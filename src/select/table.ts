/** Allocation and validation of FrameTable. */
import { invalidArg } from '../errors.js';
import type { FrameTable } from './types.js';

const FLOAT32_COLUMNS = [
  'sharpness',
  'blur',
  'exposure',
  'noise',
  'texture',
  'features',
  'coverage',
  'motionPx',
  'meanAbsDiff',
] as const;
const OPTIONAL_FLOAT32_COLUMNS = ['motionUpperPx', 'motionDx', 'motionDy', 'parallaxPx', 'detail', 'brightness', 'spatialComplexity', 'semanticRichness'] as const;

/**
 * A table of n rows: scores 0, features/coverage NaN (not measured), hashes 0. With
 * `withModel`, spatialComplexity and semanticRichness are allocated as NaN.
 */
export function createFrameTable(n: number, motionScalePx = 640, withModel = false): FrameTable {
  const table: FrameTable = {
    length: n,
    index: new Uint32Array(n),
    ptsSec: new Float64Array(n),
    sharpness: new Float32Array(n),
    blur: new Float32Array(n),
    exposure: new Float32Array(n),
    noise: new Float32Array(n),
    texture: new Float32Array(n),
    features: new Float32Array(n).fill(NaN),
    coverage: new Float32Array(n).fill(NaN),
    motionPx: new Float32Array(n),
    motionScalePx,
    meanAbsDiff: new Float32Array(n),
    hashHi: new Uint32Array(n),
    hashLo: new Uint32Array(n),
  };
  if (withModel) {
    table.spatialComplexity = new Float32Array(n).fill(NaN);
    table.semanticRichness = new Float32Array(n).fill(NaN);
  }
  return table;
}

/** Checks shapes (types and lengths), not values: O(columns), plus frame order O(n). */
export function validateFrameTable(table: FrameTable): void {
  if (table === null || typeof table !== 'object') throw invalidArg('table', 'a FrameTable object', table);
  const n = table.length;
  if (!Number.isInteger(n) || n < 0) throw invalidArg('table.length', 'a non-negative integer', n);
  const check = (name: string, value: unknown, ctor: { name: string }, optional = false) => {
    if (value === undefined && optional) return;
    if (!(value instanceof (ctor as unknown as new () => object)) || (value as ArrayLike<number>).length < n) {
      throw invalidArg(`table.${name}`, `a ${ctor.name} of length >= ${n}`, value === undefined ? undefined : `${(value as object).constructor?.name}(${(value as ArrayLike<number>).length})`);
    }
  };
  check('index', table.index, Uint32Array);
  check('ptsSec', table.ptsSec, Float64Array);
  for (const name of FLOAT32_COLUMNS) check(name, table[name], Float32Array);
  for (const name of OPTIONAL_FLOAT32_COLUMNS) check(name, table[name], Float32Array, true);
  check('hashHi', table.hashHi, Uint32Array);
  check('hashLo', table.hashLo, Uint32Array);
  if (!(typeof table.motionScalePx === 'number' && table.motionScalePx > 0)) {
    throw invalidArg('table.motionScalePx', 'a positive number (longest side of the analysis image)', table.motionScalePx);
  }
  for (let i = 1; i < n; i++) {
    if (table.index[i] <= table.index[i - 1]) {
      throw invalidArg(`table.index[${i}]`, `a frame index greater than ${table.index[i - 1]}`, table.index[i]);
    }
  }
}
