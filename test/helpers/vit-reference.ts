/**
 * Plain-TS forward pass of the tiny test ViT (float64 math), written independently of the
 * ONNX graph from the same weights, and synthetic frames for the embed tests.
 */
import { makeTestWeights, tokenLayout, type TestModelSpec } from '../../scripts/make-test-model.js';
import { roundToHalf } from '../../src/embed/float16.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** ImageNet-normalised CHW of an RGB24 frame that already has the model's size. */
export function normaliseFrame(rgb: Uint8Array, width: number, height: number, half: boolean): Float64Array {
  const out = new Float64Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < width * height; i++) {
      const v = (rgb[i * 3 + c] / 255 - MEAN[c]) / STD[c];
      out[c * width * height + i] = half ? roundToHalf(v) : v;
    }
  }
  return out;
}

function layerNorm(x: Float64Array, g: Float32Array, b: Float32Array, rows: number, d: number): Float64Array {
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let k = 0; k < d; k++) mean += x[r * d + k];
    mean /= d;
    let v = 0;
    for (let k = 0; k < d; k++) v += (x[r * d + k] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + 1e-6);
    for (let k = 0; k < d; k++) out[r * d + k] = (x[r * d + k] - mean) * inv * g[k] + b[k];
  }
  return out;
}

function linear(x: Float64Array, w: Float32Array, b: Float32Array, rows: number, inp: number, out: number): Float64Array {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inp; i++) s += x[r * inp + i] * w[i * out + o];
      y[r * out + o] = s;
    }
  }
  return y;
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-4; use a series/continued-fraction pair.
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

/** last_hidden_state of one image, [T, D] row-major. */
export function referenceForward(spec: TestModelSpec, chw: Float64Array): Float64Array {
  const w = makeTestWeights(spec);
  const D = spec.hiddenSize;
  const M = D * spec.mlpRatio;
  const H = spec.numHeads;
  const dh = D / H;
  const p = spec.patchSize;
  const [imgH, imgW] = spec.imageSize;
  const { gridH, gridW, numTokens: T } = tokenLayout(spec);
  const prefix = 1 + spec.numRegisterTokens;
  let x = new Float64Array(T * D);
  for (let i = 0; i < prefix * D; i++) x[i] = w.prefix[i];
  for (let gy = 0; gy < gridH; gy++) {
    for (let gx = 0; gx < gridW; gx++) {
      const t = prefix + gy * gridW + gx;
      for (let d = 0; d < D; d++) {
        let s = w.patchB[d];
        for (let c = 0; c < 3; c++) for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) {
          s += w.patchW[((d * 3 + c) * p + ky) * p + kx] * chw[c * imgH * imgW + (gy * p + ky) * imgW + gx * p + kx];
        }
        x[t * D + d] = s;
      }
    }
  }
  for (let i = 0; i < T * D; i++) x[i] += w.pos[i];
  for (const bw of w.blocks) {
    const h = layerNorm(x, bw.ln1g, bw.ln1b, T, D);
    const q = linear(h, bw.wq, bw.bq, T, D, D);
    const k = linear(h, bw.wk, bw.bk, T, D, D);
    const v = linear(h, bw.wv, bw.bv, T, D, D);
    const ctx = new Float64Array(T * D);
    const scores = new Float64Array(T);
    for (let head = 0; head < H; head++) {
      for (let i = 0; i < T; i++) {
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) s += q[i * D + head * dh + e] * k[j * D + head * dh + e];
          scores[j] = s / Math.sqrt(dh);
          max = Math.max(max, scores[j]);
        }
        let total = 0;
        for (let j = 0; j < T; j++) total += scores[j] = Math.exp(scores[j] - max);
        for (let j = 0; j < T; j++) {
          const a = scores[j] / total;
          for (let e = 0; e < dh; e++) ctx[i * D + head * dh + e] += a * v[j * D + head * dh + e];
        }
      }
    }
    const attn = linear(ctx, bw.wo, bw.bo, T, D, D);
    for (let i = 0; i < T * D; i++) x[i] += attn[i];
    const h2 = layerNorm(x, bw.ln2g, bw.ln2b, T, D);
    const m = linear(h2, bw.w1, bw.b1, T, D, M);
    for (let i = 0; i < m.length; i++) m[i] = 0.5 * m[i] * (1 + erf(m[i] / Math.SQRT2));
    const mlp = linear(m, bw.w2, bw.b2, T, M, D);
    for (let i = 0; i < T * D; i++) x[i] += mlp[i];
  }
  x = layerNorm(x, w.lnfG, w.lnfB, T, D);
  return x;
}

/** L2-normalised CLS token of a reference output. */
export function referenceEmbedding(tokens: Float64Array, d: number): Float64Array {
  const cls = tokens.slice(0, d);
  const norm = Math.sqrt(cls.reduce((s, v) => s + v * v, 0));
  return cls.map((v) => v / norm);
}

/** Deterministic RGB24 frames. */
export function flatFrame(width: number, height: number, rgb: [number, number, number] = [120, 130, 140]) {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { rgb: data, width, height };
}

export function texturedFrame(width: number, height: number, seed = 1) {
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      // Checker of varying period plus noise: structure at several scales.
      const checker = ((x >> 2) + (y >> 3)) & 1 ? 200 : 40;
      data[o] = Math.min(255, checker * 0.7 + rand() * 80);
      data[o + 1] = Math.min(255, ((x * 7 + y * 3) % 256) * 0.8 + rand() * 50);
      data[o + 2] = Math.min(255, (((x ^ y) & 15) * 16) * 0.9 + rand() * 30);
    }
  }
  return { rgb: data, width, height };
}
