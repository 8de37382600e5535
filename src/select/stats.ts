/** Robust statistics (median, MAD) over a whole series or a sliding window, and hash distance. */

/** Scale that makes 1.4826 * MAD estimate a standard deviation for normal data. */
const MAD_TO_SIGMA = 1.4826;

/** k-th smallest of buf[0..n) (Hoare quickselect, reorders buf). */
export function quickselect(buf: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = buf[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (buf[i] < pivot) i++;
      while (buf[j] > pivot) j--;
      if (i <= j) {
        const t = buf[i];
        buf[i] = buf[j];
        buf[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return buf[k];
  }
  return buf[k];
}

/** Median of buf[0..n) (reorders buf); NaN when n = 0. */
export function medianInPlace(buf: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const upper = quickselect(buf, n, n >> 1);
  if (n % 2 === 1) return upper;
  let lower = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (buf[i] > lower) lower = buf[i];
  return (lower + upper) / 2;
}

export interface RobustLevel {
  /** Median per row (NaN where the window held no finite value). */
  median: Float32Array;
  /** 1.4826 * MAD per row: a robust standard deviation. */
  sigma: Float32Array;
}

/** Median and robust sigma of the finite values of a series. */
export function globalRobust(values: ArrayLike<number>, length = values.length): { median: number; sigma: number } {
  const buf = new Float64Array(length);
  let n = 0;
  for (let i = 0; i < length; i++) if (Number.isFinite(values[i])) buf[n++] = values[i];
  const median = medianInPlace(buf, n);
  for (let i = 0; i < n; i++) buf[i] = Math.abs(buf[i] - median);
  return { median, sigma: MAD_TO_SIGMA * medianInPlace(buf, n) };
}

/** At most this many evenly strided samples of a window enter its median (plenty for a robust level). */
const MAX_WINDOW_SAMPLES = 96;

/**
 * Runs `level` over a centred window of `windowRows` rows per block of windowRows/8 rows (every
 * row of a block shares the result), on at most 96 strided finite samples of the window (the
 * buffer is handed over unsorted, with its count): O(n) whatever the window.
 */
function slidingBlocks(
  input: ArrayLike<number>,
  length: number,
  windowRows: number,
  level: (buf: Float64Array, n: number) => [number, number],
): RobustLevel {
  // One monomorphic array type for the hot loop, whatever typed array the caller has.
  let values: Float64Array;
  if (input instanceof Float64Array) values = input;
  else {
    values = new Float64Array(length);
    for (let i = 0; i < length; i++) values[i] = input[i];
  }
  const median = new Float32Array(length);
  const sigma = new Float32Array(length);
  const window = Math.max(1, Math.min(length, Math.round(windowRows)));
  const block = Math.max(1, Math.floor(window / 8));
  const half = Math.floor(window / 2);
  const stride = Math.max(1, Math.floor(window / MAX_WINDOW_SAMPLES));
  const buf = new Float64Array(window + 2 * block + 1);
  for (let start = 0; start < length; start += block) {
    const end = Math.min(length, start + block);
    const centre = (start + end) >> 1;
    let lo = Math.max(0, centre - half);
    const hi = Math.min(length, lo + window);
    lo = Math.max(0, hi - window);
    let n = 0;
    for (let i = lo + ((start / block) % stride); i < hi; i += stride) {
      const v = values[i];
      if (v === v && v !== Infinity && v !== -Infinity) buf[n++] = v;
    }
    const [med, sig] = level(buf, n);
    median.fill(med, start, end);
    sigma.fill(sig, start, end);
  }
  return { median, sigma };
}

/**
 * Median and robust sigma over a centred window of `windowRows` rows, computed per block of
 * windowRows/8 rows (every row of a block shares its statistics) from at most 96 strided samples
 * of the window: O(n) whatever the window.
 */
export function slidingRobust(input: ArrayLike<number>, length: number, windowRows: number): RobustLevel {
  return slidingBlocks(input, length, windowRows, (buf, n) => {
    const med = medianInPlace(buf, n);
    for (let i = 0; i < n; i++) buf[i] = Math.abs(buf[i] - med);
    return [med, MAD_TO_SIGMA * medianInPlace(buf, n)];
  });
}

/**
 * The q-quantile (0..1) over the same sliding windows as slidingRobust (in `median`; `sigma` is
 * 0). An upper quantile is the level of the good frames even when defects fill much of the window.
 */
export function slidingQuantile(input: ArrayLike<number>, length: number, windowRows: number, q: number): Float32Array {
  return slidingBlocks(input, length, windowRows, (buf, n) => [
    n === 0 ? NaN : quickselect(buf, n, Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))),
    0,
  ]).median;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Hamming distance between two 64-bit hashes given as (hi, lo) 32-bit halves. */
export function hamming64(hiA: number, loA: number, hiB: number, loB: number): number {
  return popcount32((hiA ^ hiB) >>> 0) + popcount32((loA ^ loB) >>> 0);
}

/** Median time step of the table (seconds per row), 1/30 when undefined. */
export function medianStepSec(pts: Float64Array, length: number): number {
  if (length < 2) return 1 / 30;
  const steps = new Float64Array(length - 1);
  for (let i = 1; i < length; i++) steps[i - 1] = pts[i] - pts[i - 1];
  const med = medianInPlace(steps, length - 1);
  return med > 0 && Number.isFinite(med) ? med : 1 / 30;
}
