/**
 * Deterministic synthetic gray images with known properties for the metric tests: textures
 * (checkerboard, seeded noise, gratings, value-noise octaves), degradations (Gaussian blur,
 * motion blur, additive noise, intensity gain) and geometry (crops for known shifts).
 * Plain TS, float internally, rounded and clamped to 8 bits at the end of each step.
 */
import { seededRandom } from '../../scripts/prng.js';

export interface GrayImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const clamp8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

export function fromFunction(width: number, height: number, fn: (x: number, y: number) => number): GrayImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = clamp8(fn(x, y));
  return { data, width, height };
}

/** Seeded PRNG (scripts/prng.ts): the same seed gives the same data on every machine. */
export const prng = seededRandom;

/** Standard normal samples (Box-Muller) from a seeded PRNG. */
export function gaussian(seed: number): () => number {
  const uniform = prng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export const flat = (width: number, height: number, value: number): GrayImage => fromFunction(width, height, () => value);

export function checkerboard(width: number, height: number, cell: number, low = 0, high = 255): GrayImage {
  return fromFunction(width, height, (x, y) => ((Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? high : low));
}

/** White noise, uniform in [low, high]. */
export function noiseTexture(width: number, height: number, seed: number, low = 0, high = 255): GrayImage {
  const uniform = prng(seed);
  return fromFunction(width, height, () => low + (high - low) * uniform());
}

/** Sinusoid grating: `period` pixels, stripes perpendicular to `angleDeg` (0 = varies along x). */
export function grating(width: number, height: number, period: number, angleDeg: number, mean = 128, amplitude = 100): GrayImage {
  const a = (angleDeg * Math.PI) / 180;
  return fromFunction(width, height, (x, y) => mean + amplitude * Math.sin((2 * Math.PI * (x * Math.cos(a) + y * Math.sin(a))) / period));
}

/**
 * Natural-like texture: summed octaves of smooth value noise (lattice values from a seeded
 * PRNG, cosine interpolation) from `baseCell` pixels down to 1, each octave's amplitude
 * `persistence` times the coarser one (0.7: close to the 1/f amplitude spectrum of photos).
 */
export function valueNoise(width: number, height: number, seed: number, baseCell = 64, octaves = 7, mean = 128, range = 200, persistence = 0.7): GrayImage {
  const field = new Float64Array(width * height);
  let amplitude = 1;
  let total = 0;
  for (let o = 0, cell = baseCell; o < octaves && cell >= 1; o++, cell /= 2) {
    const uniform = prng(seed * 131 + o);
    const gw = Math.ceil(width / cell) + 2;
    const gh = Math.ceil(height / cell) + 2;
    const lattice = Array.from({ length: gw * gh }, () => uniform() * 2 - 1);
    const smooth = (t: number) => (1 - Math.cos(Math.PI * t)) / 2;
    for (let y = 0; y < height; y++) {
      const gy = y / cell;
      const y0 = Math.floor(gy);
      const ty = smooth(gy - y0);
      for (let x = 0; x < width; x++) {
        const gx = x / cell;
        const x0 = Math.floor(gx);
        const tx = smooth(gx - x0);
        const v00 = lattice[y0 * gw + x0];
        const v10 = lattice[y0 * gw + x0 + 1];
        const v01 = lattice[(y0 + 1) * gw + x0];
        const v11 = lattice[(y0 + 1) * gw + x0 + 1];
        field[y * width + x] += amplitude * ((v00 * (1 - tx) + v10 * tx) * (1 - ty) + (v01 * (1 - tx) + v11 * tx) * ty);
      }
    }
    total += amplitude;
    amplitude *= persistence;
  }
  return fromFunction(width, height, (x, y) => mean + (range / 2) * (field[y * width + x] / total) * 1.6);
}

function sampleClamped(img: GrayImage, x: number, y: number): number {
  const xi = Math.min(img.width - 1, Math.max(0, x));
  const yi = Math.min(img.height - 1, Math.max(0, y));
  return img.data[yi * img.width + xi];
}

/** Bilinear sample with clamped borders. */
export function sampleBilinear(img: GrayImage, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const tx = x - x0;
  const ty = y - y0;
  return (
    (sampleClamped(img, x0, y0) * (1 - tx) + sampleClamped(img, x0 + 1, y0) * tx) * (1 - ty) +
    (sampleClamped(img, x0, y0 + 1) * (1 - tx) + sampleClamped(img, x0 + 1, y0 + 1) * tx) * ty
  );
}

/** Separable Gaussian blur (radius ceil(3 sigma), clamped borders); sigma 0 returns a copy. */
export function gaussianBlur(img: GrayImage, sigma: number): GrayImage {
  if (sigma <= 0) return { ...img, data: img.data.slice() };
  const radius = Math.ceil(3 * sigma);
  const kernel: number[] = [];
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel.push(v);
    sum += v;
  }
  const k = kernel.map((v) => v / sum);
  const { width, height } = img;
  const tmp = new Float64Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = -radius; i <= radius; i++) acc += k[i + radius] * sampleClamped(img, x + i, y);
      tmp[y * width + x] = acc;
    }
  return fromFunction(width, height, (x, y) => {
    let acc = 0;
    for (let i = -radius; i <= radius; i++) acc += k[i + radius] * tmp[Math.min(height - 1, Math.max(0, y + i)) * width + x];
    return acc;
  });
}

/** Linear motion blur: the mean of bilinear samples along a `length`-pixel segment at `angleDeg` (0 = +x, 90 = +y). */
export function motionBlur(img: GrayImage, length: number, angleDeg: number): GrayImage {
  const a = (angleDeg * Math.PI) / 180;
  const steps = Math.max(1, Math.round(length * 2));
  const dx = Math.cos(a);
  const dy = Math.sin(a);
  return fromFunction(img.width, img.height, (x, y) => {
    let acc = 0;
    for (let s = 0; s <= steps; s++) {
      const t = (s / steps - 0.5) * length;
      acc += sampleBilinear(img, x + t * dx, y + t * dy);
    }
    return acc / (steps + 1);
  });
}

/** Adds Gaussian noise of the given sigma (seeded), clamped to 0..255. */
export function addNoise(img: GrayImage, sigma: number, seed: number): GrayImage {
  const normal = gaussian(seed);
  return fromFunction(img.width, img.height, (x, y) => img.data[y * img.width + x] + sigma * normal());
}

/** v -> gain * v + offset, clamped. */
export function adjust(img: GrayImage, gain: number, offset = 0): GrayImage {
  return fromFunction(img.width, img.height, (x, y) => gain * img.data[y * img.width + x] + offset);
}

export function crop(img: GrayImage, left: number, top: number, width: number, height: number): GrayImage {
  return fromFunction(width, height, (x, y) => img.data[(top + y) * img.width + left + x]);
}

/** Draws filled rectangles of `value` on a copy. */
export function withRects(img: GrayImage, rects: Array<{ x: number; y: number; w: number; h: number }>, value: number): GrayImage {
  const data = img.data.slice();
  for (const r of rects) for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) data[y * img.width + x] = value;
  return { ...img, data };
}
