/**
 * Per-frame statistics from a ViT's patch tokens (the gh x gw grid after CLS and registers).
 * All similarities are cosines between L2-normalised tokens (not mean-centred: centring would
 * blow the tiny positional differences of a flat frame up to unit vectors).
 *
 * Embedding: the L2-normalised CLS token (or the mean of the patch tokens, `embedding:'mean'`).
 *
 * Spatial complexity (how much the features change across the frame), each raw + score in [0,1]:
 * - localVariation: mean cosine distance (1 - cos) between 4-neighbours of the grid after
 *   average-pooling it into 1x1, 2x2 and 4x4 cells (raw = per-scale values and their mean;
 *   score = min(1, mean)): fine texture and large structures both count.
 * - highFrequency: share of the grid's 2D-DFT power (summed over channels, channel means
 *   removed) at radial frequency above 1/4 cycle per patch (half of Nyquist); already in [0,1].
 * - similarityEntropy: Shannon entropy of the histogram (32 bins on [-1,1]) of all pairwise
 *   token cosines, in bits; score = entropy / 5 bits (log2 32). A uniform frame puts every
 *   pair in one bin.
 * - distinctiveness: mean over tokens of (1 - mean cosine to the other tokens); score = min(1, raw).
 * - score: mean of the four scores.
 *
 * Semantic richness (how many distinct things the frame shows):
 * - clusters: spherical k-means for k = 2..8 (k <= P/4), farthest-first deterministic init,
 *   run on the cosine matrix (cost O(P^2) per iteration, independent of D); the k with the
 *   best silhouette is kept if its silhouette >= 0.25 and the tokens spread at all (mean
 *   cosine distance >= 0.02), else 1 cluster. raw = clusters with >= 2% of the tokens;
 *   score = (raw - 1) / 7.
 * - silhouette: mean silhouette (cosine distance) of the kept clustering, 0 for one cluster;
 *   score = max(0, raw).
 * - boundary: mean over 4-neighbour pairs of [labels differ] * (1 - cos); score =
 *   1 - exp(-raw / 0.1) (saturating: 0.1 is a strong boundary density).
 * - score: mean of the three scores.
 * Deterministic: no randomness, fixed iteration order.
 */

export interface ScoredValue {
  raw: number;
  /** In [0, 1], higher = more. */
  score: number;
}

export interface DenseStats {
  spatialComplexity: {
    score: number;
    localVariation: ScoredValue & { scales: { 1: number; 2: number; 4: number } };
    highFrequency: ScoredValue;
    similarityEntropy: ScoredValue;
    distinctiveness: ScoredValue;
  };
  semanticRichness: {
    score: number;
    clusters: ScoredValue;
    silhouette: ScoredValue;
    boundary: ScoredValue;
  };
}

export interface TokenLayout {
  /** 1 + register tokens. */
  numPrefixTokens: number;
  gridH: number;
  gridW: number;
  hiddenSize: number;
}

export type EmbeddingSource = 'cls' | 'mean';

const MAX_CLUSTERS = 8;
const MIN_SILHOUETTE = 0.25;
const MIN_SPREAD = 0.02;
const ENTROPY_BINS = 32;
const KMEANS_ITERATIONS = 30;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** L2-normalises `n` rows of length `d` of `src` (starting at `offset`) into a new array. */
function normalisedRows(src: Float32Array, offset: number, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const s = offset + i * d;
    let norm = 0;
    for (let k = 0; k < d; k++) norm += src[s + k] * src[s + k];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const o = i * d;
    for (let k = 0; k < d; k++) out[o + k] = src[s + k] * inv;
  }
  return out;
}

/** The frame's embedding from its tokens (`offset` = the frame's first token element). */
export function frameEmbedding(tokens: Float32Array, offset: number, layout: TokenLayout, source: EmbeddingSource = 'cls'): Float32Array {
  const d = layout.hiddenSize;
  const out = new Float32Array(d);
  if (source === 'cls') {
    out.set(tokens.subarray(offset, offset + d));
  } else {
    const p = layout.gridH * layout.gridW;
    const start = offset + layout.numPrefixTokens * d;
    for (let i = 0; i < p; i++) for (let k = 0; k < d; k++) out[k] += tokens[start + i * d + k];
  }
  let norm = 0;
  for (let k = 0; k < d; k++) norm += out[k] * out[k];
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let k = 0; k < d; k++) out[k] *= inv;
  return out;
}

/** Cosine matrix of normalised rows (symmetric, P x P). */
function cosineMatrix(x: Float32Array, n: number, d: number): Float32Array {
  const s = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    s[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const oj = j * d;
      // Four accumulators: independent adds pipeline better than one dependent chain.
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let k = 0;
      for (; k + 3 < d; k += 4) {
        a0 += x[oi + k] * x[oj + k];
        a1 += x[oi + k + 1] * x[oj + k + 1];
        a2 += x[oi + k + 2] * x[oj + k + 2];
        a3 += x[oi + k + 3] * x[oj + k + 3];
      }
      for (; k < d; k++) a0 += x[oi + k] * x[oj + k];
      const dot = a0 + a1 + a2 + a3;
      s[i * n + j] = dot;
      s[j * n + i] = dot;
    }
  }
  return s;
}

/** Mean 4-neighbour cosine distance after s x s average pooling; NaN if < 2 cells. */
function localVariationAtScale(x: Float32Array, gh: number, gw: number, d: number, s: number): number {
  const ph = Math.ceil(gh / s);
  const pw = Math.ceil(gw / s);
  if (ph * pw < 2) return NaN;
  const pooled = new Float32Array(ph * pw * d);
  for (let y = 0; y < gh; y++) {
    for (let xg = 0; xg < gw; xg++) {
      const o = (((y / s) | 0) * pw + ((xg / s) | 0)) * d;
      const src = (y * gw + xg) * d;
      for (let k = 0; k < d; k++) pooled[o + k] += x[src + k];
    }
  }
  const pn = normalisedRows(pooled, 0, ph * pw, d);
  let total = 0;
  let pairs = 0;
  const dist = (a: number, b: number) => {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += pn[a * d + k] * pn[b * d + k];
    return 1 - dot;
  };
  for (let y = 0; y < ph; y++) {
    for (let xg = 0; xg < pw; xg++) {
      const c = y * pw + xg;
      if (xg + 1 < pw) { total += dist(c, c + 1); pairs++; }
      if (y + 1 < ph) { total += dist(c, c + pw); pairs++; }
    }
  }
  return total / pairs;
}

/** Share of DFT power above half the Nyquist radius, over all channels. */
function highFrequencyShare(x: Float32Array, gh: number, gw: number, d: number): number {
  const cosX = new Float64Array(gw * gw), sinX = new Float64Array(gw * gw);
  for (let k = 0; k < gw; k++) for (let n = 0; n < gw; n++) {
    cosX[k * gw + n] = Math.cos((2 * Math.PI * k * n) / gw);
    sinX[k * gw + n] = -Math.sin((2 * Math.PI * k * n) / gw);
  }
  const cosY = new Float64Array(gh * gh), sinY = new Float64Array(gh * gh);
  for (let k = 0; k < gh; k++) for (let n = 0; n < gh; n++) {
    cosY[k * gh + n] = Math.cos((2 * Math.PI * k * n) / gh);
    sinY[k * gh + n] = -Math.sin((2 * Math.PI * k * n) / gh);
  }
  const high = new Uint8Array(gh * gw);
  for (let ky = 0; ky < gh; ky++) for (let kx = 0; kx < gw; kx++) {
    const fy = Math.min(ky, gh - ky) / gh;
    const fx = Math.min(kx, gw - kx) / gw;
    high[ky * gw + kx] = Math.hypot(fy, fx) > 0.25 ? 1 : 0;
  }
  const n = gh * gw;
  // Channel-major copy: each channel's grid becomes contiguous (x is token-major).
  const byChannel = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) byChannel[c * n + i] = x[i * d + c];
  const g = new Float64Array(n);
  const re = new Float64Array(n), im = new Float64Array(n);
  let total = 0;
  let hf = 0;
  for (let c = 0; c < d; c++) {
    const base = c * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += byChannel[base + i];
    mean /= n;
    for (let i = 0; i < n; i++) g[i] = byChannel[base + i] - mean;
    // Rows: DFT along x.
    for (let y = 0; y < gh; y++) for (let kx = 0; kx < gw; kx++) {
      let r = 0, m = 0;
      for (let n = 0; n < gw; n++) {
        const v = g[y * gw + n];
        r += v * cosX[kx * gw + n];
        m += v * sinX[kx * gw + n];
      }
      re[y * gw + kx] = r;
      im[y * gw + kx] = m;
    }
    // Columns: DFT along y, accumulate power.
    for (let kx = 0; kx < gw; kx++) for (let ky = 0; ky < gh; ky++) {
      let r = 0, m = 0;
      for (let n = 0; n < gh; n++) {
        const a = re[n * gw + kx], b = im[n * gw + kx];
        const cr = cosY[ky * gh + n], ci = sinY[ky * gh + n];
        r += a * cr - b * ci;
        m += a * ci + b * cr;
      }
      const power = r * r + m * m;
      total += power;
      if (high[ky * gw + kx]) hf += power;
    }
  }
  return total > 1e-12 ? hf / total : 0;
}

interface Clustering {
  k: number;
  labels: Int32Array;
  silhouette: number;
}

/** Spherical k-means through the cosine matrix: centroid dots from cluster sums of S. */
function kmeansOnCosines(s: Float32Array, n: number, k: number): Clustering {
  // Farthest-first init: the token least similar to all others, then each next token is the
  // one whose best similarity to the chosen ones is lowest.
  const centres: number[] = [];
  let first = 0;
  let lowest = Infinity;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += s[i * n + j];
    if (sum < lowest) [lowest, first] = [sum, i];
  }
  centres.push(first);
  const best = new Float64Array(n).fill(-Infinity);
  while (centres.length < k) {
    const last = centres[centres.length - 1];
    let pick = -1;
    let pickSim = Infinity;
    for (let i = 0; i < n; i++) {
      best[i] = Math.max(best[i], s[last * n + i]);
      if (best[i] < pickSim && !centres.includes(i)) [pickSim, pick] = [best[i], i];
    }
    centres.push(pick);
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let bl = 0;
    for (let c = 1; c < k; c++) if (s[i * n + centres[c]] > s[i * n + centres[bl]]) bl = c;
    labels[i] = bl;
  }
  const sums = new Float64Array(n * k); // A[i][c] = sum of S[i][j] over j in cluster c
  const counts = new Int32Array(k);
  const fillSums = () => {
    sums.fill(0);
    counts.fill(0);
    for (let j = 0; j < n; j++) counts[labels[j]]++;
    for (let i = 0; i < n; i++) {
      const row = i * n;
      const o = i * k;
      for (let j = 0; j < n; j++) sums[o + labels[j]] += s[row + j];
    }
  };
  for (let iter = 0; iter < KMEANS_ITERATIONS; iter++) {
    fillSums();
    // |sum of members|^2 = sum over members j of A[j][c]; cos(x_i, centroid) = A[i][c] / |sum|.
    const norms = new Float64Array(k);
    for (let j = 0; j < n; j++) norms[labels[j]] += sums[j * k + labels[j]];
    for (let c = 0; c < k; c++) norms[c] = norms[c] > 0 ? Math.sqrt(norms[c]) : 0;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let bl = labels[i];
      let bv = norms[bl] > 0 ? sums[i * k + bl] / norms[bl] : -Infinity;
      for (let c = 0; c < k; c++) {
        if (counts[c] === 0 || norms[c] === 0) continue;
        const v = sums[i * k + c] / norms[c];
        if (v > bv + 1e-9) [bv, bl] = [v, c];
      }
      if (bl !== labels[i]) { labels[i] = bl; changed++; }
    }
    if (changed === 0) break;
  }
  fillSums();
  // Silhouette with cosine distance; singletons score 0.
  let silhouette = 0;
  for (let i = 0; i < n; i++) {
    const own = labels[i];
    if (counts[own] <= 1) continue;
    const a = 1 - (sums[i * k + own] - s[i * n + i]) / (counts[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && counts[c] > 0) b = Math.min(b, 1 - sums[i * k + c] / counts[c]);
    if (b === Infinity) continue;
    const m = Math.max(a, b);
    silhouette += m > 0 ? (b - a) / m : 0;
  }
  return { k, labels, silhouette: silhouette / n };
}

/** Statistics of one frame; `offset` = index of the frame's first token element in `tokens`. */
export function denseStats(tokens: Float32Array, offset: number, layout: TokenLayout): DenseStats {
  const { gridH: gh, gridW: gw, hiddenSize: d, numPrefixTokens } = layout;
  const n = gh * gw;
  const x = normalisedRows(tokens, offset + numPrefixTokens * d, n, d);
  const s = cosineMatrix(x, n, d);

  // Spatial complexity.
  const scales = { 1: localVariationAtScale(x, gh, gw, d, 1), 2: localVariationAtScale(x, gh, gw, d, 2), 4: localVariationAtScale(x, gh, gw, d, 4) };
  const valid = Object.values(scales).filter((v) => !Number.isNaN(v));
  const lvRaw = valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : 0;
  const hfRaw = n > 1 ? highFrequencyShare(x, gh, gw, d) : 0;

  const hist = new Float64Array(ENTROPY_BINS);
  let pairs = 0;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const v = s[i * n + j];
      rowSum += v;
      if (j > i) {
        const bin = Math.min(ENTROPY_BINS - 1, Math.max(0, Math.floor(((v + 1) / 2) * ENTROPY_BINS)));
        hist[bin]++;
        pairs++;
      }
    }
    if (n > 1) distinct += 1 - rowSum / (n - 1);
  }
  let entropy = 0;
  for (let b = 0; b < ENTROPY_BINS; b++) {
    if (hist[b] === 0) continue;
    const p = hist[b] / pairs;
    entropy -= p * Math.log2(p);
  }
  const distinctRaw = n > 0 ? distinct / n : 0;
  const spatial = {
    localVariation: { raw: lvRaw, score: clamp01(lvRaw), scales },
    highFrequency: { raw: hfRaw, score: clamp01(hfRaw) },
    similarityEntropy: { raw: entropy, score: clamp01(entropy / Math.log2(ENTROPY_BINS)) },
    distinctiveness: { raw: distinctRaw, score: clamp01(distinctRaw) },
  };
  const spatialScore = (spatial.localVariation.score + spatial.highFrequency.score + spatial.similarityEntropy.score + spatial.distinctiveness.score) / 4;

  // Semantic richness.
  let chosen: Clustering | null = null;
  const kMax = Math.min(MAX_CLUSTERS, Math.floor(n / 4));
  if (distinctRaw >= MIN_SPREAD) {
    for (let k = 2; k <= kMax; k++) {
      const c = kmeansOnCosines(s, n, k);
      if (!chosen || c.silhouette > chosen.silhouette + 1e-9) chosen = c;
    }
    if (chosen && chosen.silhouette < MIN_SILHOUETTE) chosen = null;
  }
  let clusterCount = 1;
  let boundaryRaw = 0;
  if (chosen) {
    const counts = new Int32Array(chosen.k);
    for (const l of chosen.labels) counts[l]++;
    const minMembers = Math.max(1, Math.ceil(0.02 * n));
    clusterCount = Math.max(1, counts.filter((c) => c >= minMembers).length);
    let total = 0;
    let neighbourPairs = 0;
    for (let y = 0; y < gh; y++) for (let xg = 0; xg < gw; xg++) {
      const i = y * gw + xg;
      if (xg + 1 < gw) {
        neighbourPairs++;
        if (chosen.labels[i] !== chosen.labels[i + 1]) total += 1 - s[i * n + i + 1];
      }
      if (y + 1 < gh) {
        neighbourPairs++;
        if (chosen.labels[i] !== chosen.labels[i + gw]) total += 1 - s[i * n + i + gw];
      }
    }
    boundaryRaw = neighbourPairs ? total / neighbourPairs : 0;
  }
  const silRaw = chosen ? chosen.silhouette : 0;
  const semantic = {
    clusters: { raw: clusterCount, score: clamp01((clusterCount - 1) / (MAX_CLUSTERS - 1)) },
    silhouette: { raw: silRaw, score: clamp01(silRaw) },
    boundary: { raw: boundaryRaw, score: clamp01(1 - Math.exp(-boundaryRaw / 0.1)) },
  };
  return {
    spatialComplexity: { score: spatialScore, ...spatial },
    semanticRichness: { score: (semantic.clusters.score + semantic.silhouette.score + semantic.boundary.score) / 3, ...semantic },
  };
}
