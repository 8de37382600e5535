/**
 * Synthetic FrameTables with known structure for the selection tests: a camera moving along
 * a 1-D path (position in fractions of the view), metrics with small deterministic noise, a
 * perceptual hash that drifts with the position, and editors that insert labelled defects.
 */
import { createFrameTable } from '../../src/select/table.js';
import type { FrameTable, PairVerdict, PairVerifier } from '../../src/select/types.js';
import { seededRandom } from '../../scripts/prng.js';

export const SCALE_PX = 640;

/** Seeded PRNG (scripts/prng.ts): the same seed gives the same data on every machine. */
export const rng = seededRandom;

export interface Synthetic {
  table: FrameTable;
  /** Camera position along the path, fractions of the view. */
  pos: Float64Array;
  /** Shot id of each row (changes at scene cuts). */
  shot: Int32Array;
  /** Recomputes hashes and meanAbsDiff from pos/shot after edits. */
  refresh(): void;
}

export interface SyntheticOptions {
  fps?: number;
  /** Camera motion per frame in pixels at SCALE_PX. Default 6 (one 0.3-view step ~ 1 s at 30 fps). */
  motionPx?: number;
  /** Base level of the quality scores. */
  level?: number;
  jitter?: number;
  seed?: number;
  /** Fill features/coverage for every row (else NaN: measured later on candidates). */
  measured?: boolean;
}

const HASH_FREQ = Array.from({ length: 64 }, (_, k) => 2 * Math.PI * (0.8 + ((k * 0.6180339887) % 1) * 2.4));
const HASH_PHASE = Array.from({ length: 64 }, (_, k) => ((k * 0.7548776662) % 1) * 2 * Math.PI);

function hashOf(pos: number, shot: number): [number, number] {
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < 64; k++) {
    const bit = Math.sin(pos * HASH_FREQ[k] + HASH_PHASE[k] + shot * 2.399 * (k + 1)) > 0 ? 1 : 0;
    if (k < 32) hi = (hi | (bit << k)) >>> 0;
    else lo = (lo | (bit << (k - 32))) >>> 0;
  }
  return [hi, lo];
}

export function synthetic(n: number, o: SyntheticOptions = {}): Synthetic {
  const fps = o.fps ?? 30;
  const motionPx = o.motionPx ?? 6;
  const level = o.level ?? 0.7;
  const jitter = o.jitter ?? 0.04;
  const rand = rng(o.seed ?? 1);
  const table = createFrameTable(n, SCALE_PX);
  const pos = new Float64Array(n);
  const shot = new Int32Array(n);
  const noisy = (x: number) => Math.min(1, Math.max(0, x + (rand() - 0.5) * 2 * jitter));
  for (let i = 0; i < n; i++) {
    table.index[i] = i;
    table.ptsSec[i] = i / fps;
    table.sharpness[i] = noisy(level);
    table.blur[i] = noisy(level);
    table.exposure[i] = noisy(0.85);
    table.noise[i] = noisy(0.9);
    table.texture[i] = noisy(level * 0.9);
    if (o.measured ?? true) {
      table.features[i] = noisy(level * 0.9);
      table.coverage[i] = noisy(level * 0.85);
    }
    const m = i === 0 ? 0 : motionPx * (0.8 + 0.4 * rand());
    table.motionPx[i] = m;
    pos[i] = i === 0 ? 0 : pos[i - 1] + m / SCALE_PX;
  }
  const syn: Synthetic = {
    table,
    pos,
    shot,
    refresh() {
      for (let i = 0; i < n; i++) {
        const [hi, lo] = hashOf(pos[i], shot[i]);
        table.hashHi[i] = hi;
        table.hashLo[i] = lo;
        table.meanAbsDiff[i] = i === 0 ? 0 : shot[i] !== shot[i - 1] ? 70 : 3 + table.motionPx[i] * 1.2;
      }
    },
  };
  syn.refresh();
  return syn;
}

/** Motion-blurred / defocused rows [from, to). */
export function blurRows(s: Synthetic, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    s.table.sharpness[i] = 0.12;
    s.table.blur[i] = 0.15;
    s.table.texture[i] *= 0.7;
    if (Number.isFinite(s.table.features[i])) s.table.features[i] *= 0.5;
  }
}

/** Black rows [from, to). */
export function blackRows(s: Synthetic, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    s.table.exposure[i] = 0.02;
    s.table.sharpness[i] = 0.02;
    s.table.blur[i] = 0.05;
    s.table.texture[i] = 0.01;
    s.table.noise[i] = 0.6;
    if (Number.isFinite(s.table.features[i])) s.table.features[i] = 0;
  }
}

/** The camera stands still over rows [from, to) (displacements at the tracking noise). */
export function stationaryRows(s: Synthetic, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    s.table.motionPx[i] = 0.08;
    s.pos[i] = s.pos[from - 1];
  }
  const shift = s.pos[to] - s.pos[from - 1] - s.table.motionPx[to] / SCALE_PX;
  for (let i = to; i < s.table.length; i++) s.pos[i] -= shift;
  s.refresh();
}

/** A plain wall over rows [from, to). */
export function texturelessRows(s: Synthetic, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    s.table.texture[i] = 0.04;
    if (Number.isFinite(s.table.features[i])) s.table.features[i] = 0.03;
    if (Number.isFinite(s.table.coverage[i])) s.table.coverage[i] = 0.05;
  }
}

/** A scene cut: rows from `at` on belong to a new shot (another place). */
export function cutAt(s: Synthetic, at: number): void {
  for (let i = at; i < s.table.length; i++) {
    s.shot[i] = s.shot[at - 1] + 1;
    s.pos[i] += 50;
  }
  s.table.motionPx[at] = 200;
  s.refresh();
}

/**
 * Mock SIFT+RANSAC: inliers fall linearly with the view distance (0 at 0.8 of the view), none
 * across shots; parallax grows with the distance.
 */
export function mockVerifier(s: Synthetic, calls?: { n: number }): PairVerifier {
  return async (a: number, b: number): Promise<PairVerdict> => {
    if (calls) calls.n++;
    if (s.shot[a] !== s.shot[b]) return { inliers: 4, degenerate: true, parallaxPx: 0 };
    const d = Math.abs(s.pos[b] - s.pos[a]);
    return { inliers: Math.round(300 * Math.max(0, 1 - d / 0.8)), degenerate: false, parallaxPx: d * 64 };
  };
}

/** Rows of the picks. */
export const rowsOf = (picks: { row: number }[]) => picks.map((p) => p.row);
