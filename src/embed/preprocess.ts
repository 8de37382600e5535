/**
 * Frames -> the model's input tensor: resize, RGB, ImageNet mean/std, NCHW, float32 or
 * float16, written straight into the batch tensor's buffer (one pass per axis, no per-frame
 * intermediate image besides one row-resampled float buffer).
 *
 * Size rule (`aspect`):
 * - The model's input size wins when the export has a fixed height/width.
 * - Otherwise the target is `inputSize` (default 224) based, always a multiple of the patch:
 *   'preserve' (default) keeps the frame's aspect: the shorter side becomes inputSize rounded
 *   to the patch, the longer side follows the aspect, rounded to the patch and capped at
 *   2 * inputSize. 'stretch' and 'crop' use an inputSize x inputSize square.
 * - A batch tensor has one size: every frame of a batch is mapped onto the target computed
 *   for the batch's first frame (video frames share one size, so this only matters for
 *   mixed inputs).
 * - Mapping a frame onto the target: 'stretch' scales each axis independently (the whole
 *   frame is seen, shapes are distorted); 'crop' scales to cover and centre-crops (no
 *   distortion, edges lost); 'preserve' on a fixed-size model behaves as 'stretch' (the
 *   whole frame stays visible, which matters more for coverage than exact proportions).
 * Two implementations (`backend`), measured side by side in bench/inference:
 * - 'native' (default when the addon loads): OpenCV resize (INTER_AREA when shrinking, which
 *   averages and so does not alias; INTER_LINEAR when growing) and the normalisation in C++
 *   on the libuv threadpool (native/preprocess.cc); ~5-10x faster than the loop below.
 * - 'typed-array': an antialiased triangle (bilinear) filter whose support widens with the
 *   downscale factor, like PIL's BILINEAR, in one tight loop per axis.
 * Both write straight into the batch tensor buffer, and are identical at the model's size.
 */
import type { PreprocessFrameArg } from '../../bindings/index.js';
import { invalidArg } from '../errors.js';
import { native } from '../core/native.js';
import { toHalfBits } from './float16.js';

/**
 * A decoded frame: RGB24 packed (`rgb`), 8-bit gray (`gray`), or a plain image (`data`, with
 * `channels` 3 or 1, default 3; `stride` bytes per row, default width * channels). The same
 * shape the native preprocessing reads.
 */
export type FrameInput = PreprocessFrameArg;

export type AspectRule = 'preserve' | 'stretch' | 'crop';
export const ASPECT_RULES: readonly AspectRule[] = ['preserve', 'stretch', 'crop'];

/** ImageNet statistics, as DINOv2/DINOv3 were trained with. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface ModelGeometry {
  fixedHeight: number | null;
  fixedWidth: number | null;
  patchSize: number;
}

export interface TargetSize {
  width: number;
  height: number;
}

interface FrameView {
  data: Uint8Array;
  width: number;
  height: number;
  stride: number;
  channels: 1 | 3;
}

/** Checks a frame object and returns a flat view of it (TypeError-free: FramesiftError). */
export function frameView(frame: FrameInput, name = 'frame'): FrameView {
  if (frame === null || typeof frame !== 'object') throw invalidArg(name, 'an object {rgb|gray|data, width, height}', frame);
  const { width, height } = frame;
  if (!Number.isInteger(width) || width <= 0) throw invalidArg(`${name}.width`, 'a positive integer', width);
  if (!Number.isInteger(height) || height <= 0) throw invalidArg(`${name}.height`, 'a positive integer', height);
  let data: Uint8Array | undefined;
  let channels: 1 | 3;
  if (frame.rgb) [data, channels] = [frame.rgb, 3];
  else if (frame.gray) [data, channels] = [frame.gray, 1];
  else if (frame.data) [data, channels] = [frame.data, frame.channels ?? 3];
  else throw invalidArg(name, 'a frame with rgb, gray or data pixels', Object.keys(frame));
  if (!(data instanceof Uint8Array)) throw invalidArg(`${name} pixels`, 'a Buffer or Uint8Array', typeof data);
  if (channels !== 1 && channels !== 3) throw invalidArg(`${name}.channels`, '1 or 3', channels);
  const stride = frame.stride ?? width * channels;
  if (!Number.isInteger(stride) || stride < width * channels) throw invalidArg(`${name}.stride`, `an integer >= ${width * channels}`, stride);
  const needed = stride * (height - 1) + width * channels;
  if (data.length < needed) throw invalidArg(`${name} pixels`, `at least ${needed} bytes for ${width}x${height}x${channels}`, `${data.length} bytes`);
  return { data, width, height, stride, channels };
}

function roundToPatch(value: number, patch: number): number {
  return Math.max(patch, Math.round(value / patch) * patch);
}

/** The input height/width for a frame size under the rule above. */
export function targetSize(model: ModelGeometry, frame: { width: number; height: number }, inputSize = 224, aspect: AspectRule = 'preserve'): TargetSize {
  if (model.fixedHeight !== null && model.fixedWidth !== null) return { width: model.fixedWidth, height: model.fixedHeight };
  const p = model.patchSize;
  const side = roundToPatch(inputSize, p);
  let width = model.fixedWidth ?? side;
  let height = model.fixedHeight ?? side;
  if (aspect === 'preserve') {
    const cap = roundToPatch(2 * inputSize, p);
    if (model.fixedHeight === null && model.fixedWidth === null) {
      if (frame.width >= frame.height) width = Math.min(cap, roundToPatch((side * frame.width) / frame.height, p));
      else height = Math.min(cap, roundToPatch((side * frame.height) / frame.width, p));
    } else if (model.fixedHeight === null) {
      height = Math.min(cap, roundToPatch((width * frame.height) / frame.width, p));
    } else {
      width = Math.min(cap, roundToPatch((height * frame.width) / frame.height, p));
    }
  }
  return { width, height };
}

/** Per-output-sample filter taps along one axis: start index, tap count, normalised weights. */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  maxTaps: number;
  weights: Float32Array;
}

function axisTaps(srcStart: number, srcLen: number, srcLimit: number, dstLen: number): AxisTaps {
  const scale = srcLen / dstLen;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const weights = new Float32Array(dstLen * maxTaps);
  for (let i = 0; i < dstLen; i++) {
    const center = srcStart + (i + 0.5) * scale;
    let lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(srcLimit - 1, Math.ceil(center + support));
    let total = 0;
    let n = 0;
    const base = i * maxTaps;
    for (let j = lo; j <= hi && n < maxTaps; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - center) / support));
      if (w === 0 && n === 0) {
        lo = j + 1;
        continue;
      }
      weights[base + n++] = w;
      total += w;
    }
    while (n > 0 && weights[base + n - 1] === 0) n--;
    for (let k = 0; k < n; k++) weights[base + k] /= total;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, maxTaps, weights };
}

interface ResizePlan {
  xTaps: AxisTaps;
  yTaps: AxisTaps;
  rowLo: number;
  rowHi: number;
}

export type PreprocessBackend = 'native' | 'typed-array';

/** 'native' when the addon loads, else 'typed-array'. */
export function defaultPreprocessBackend(): PreprocessBackend {
  try {
    return typeof native().preprocessFrames === 'function' ? 'native' : 'typed-array';
  } catch {
    return 'typed-array';
  }
}

/** Reusable state: filter taps per (source, target, rule) and the row buffer. */
export class Preprocessor {
  private readonly plans = new Map<string, ResizePlan>();
  private rows = new Float32Array(0);
  private readonly scale: Float32Array;
  private readonly bias: Float32Array;
  readonly backend: PreprocessBackend;

  constructor(readonly aspect: AspectRule = 'preserve', backend?: PreprocessBackend) {
    if (!ASPECT_RULES.includes(aspect)) throw invalidArg('aspect', `one of ${ASPECT_RULES.join(', ')}`, aspect);
    if (backend !== undefined && backend !== 'native' && backend !== 'typed-array') throw invalidArg('preprocess', "'native' or 'typed-array'", backend);
    this.backend = backend ?? defaultPreprocessBackend();
    // (v / 255 - mean) / std folded into v * scale + bias.
    this.scale = Float32Array.from(IMAGENET_STD, (s) => 1 / (255 * s));
    this.bias = Float32Array.from(IMAGENET_MEAN, (m, c) => -m / IMAGENET_STD[c]);
  }

  private plan(view: FrameView, target: TargetSize): ResizePlan {
    const key = `${view.width}x${view.height}>${target.width}x${target.height}`;
    let plan = this.plans.get(key);
    if (plan) return plan;
    let x0 = 0, y0 = 0, cw = view.width, ch = view.height;
    if (this.aspect === 'crop') {
      // Cover the target, then take the centre.
      const s = Math.max(target.width / view.width, target.height / view.height);
      cw = target.width / s;
      ch = target.height / s;
      x0 = (view.width - cw) / 2;
      y0 = (view.height - ch) / 2;
    }
    const xTaps = axisTaps(x0, cw, view.width, target.width);
    const yTaps = axisTaps(y0, ch, view.height, target.height);
    const last = target.height - 1;
    plan = { xTaps, yTaps, rowLo: yTaps.start[0], rowHi: yTaps.start[last] + yTaps.count[last] - 1 };
    if (this.plans.size > 16) this.plans.clear();
    this.plans.set(key, plan);
    return plan;
  }

  /**
   * Writes frames[i] at element offset + i * 3 * width * height of `out` with the chosen
   * backend. Frames are validated first (FramesiftError ERR_FRAMESIFT_INVALID_ARG).
   */
  async writeBatch(frames: readonly FrameInput[], target: TargetSize, out: Float32Array | Uint16Array, offset = 0, firstIndex = 0): Promise<void> {
    frames.forEach((f, i) => frameView(f, `frames[${firstIndex + i}]`));
    if (this.backend === 'native') {
      // 'preserve' reaches here with a target that already has the frame's aspect (or a
      // fixed model size, where it means stretch), so only 'crop' differs from stretching.
      await native().preprocessFrames(frames, { width: target.width, height: target.height, aspect: this.aspect === 'crop' ? 1 : 0, half: out instanceof Uint16Array }, out, offset);
      return;
    }
    const perFrame = 3 * target.width * target.height;
    frames.forEach((f, i) => this.writeFrame(f, target, out, offset + i * perFrame, `frames[${firstIndex + i}]`));
  }

  /**
   * Writes one frame as normalised NCHW into `out` at element `offset` (the frame's slot in
   * the batch tensor). `out` is Float32Array (float32 models) or Uint16Array (float16 bits).
   */
  writeFrame(frame: FrameInput, target: TargetSize, out: Float32Array | Uint16Array, offset: number, name = 'frame'): void {
    const view = frameView(frame, name);
    const { xTaps, yTaps, rowLo, rowHi } = this.plan(view, target);
    const dstW = target.width;
    const dstH = target.height;
    const plane = dstW * dstH;
    const rowCount = rowHi - rowLo + 1;
    const rowLen = dstW * 3;
    if (this.rows.length < rowCount * rowLen) this.rows = new Float32Array(rowCount * rowLen);
    const rows = this.rows;
    const { data, stride, channels } = view;
    const xs = xTaps.start, xc = xTaps.count, xw = xTaps.weights, xm = xTaps.maxTaps;

    // Horizontal pass over the source rows the vertical filter reads: rows[y][x][c].
    for (let y = rowLo; y <= rowHi; y++) {
      const src = y * stride;
      const dst = (y - rowLo) * rowLen;
      for (let x = 0; x < dstW; x++) {
        let r = 0, g = 0, b = 0;
        const n = xc[x];
        const wBase = x * xm;
        if (channels === 3) {
          let p = src + xs[x] * 3;
          for (let k = 0; k < n; k++, p += 3) {
            const w = xw[wBase + k];
            r += w * data[p];
            g += w * data[p + 1];
            b += w * data[p + 2];
          }
        } else {
          let p = src + xs[x];
          for (let k = 0; k < n; k++, p++) r += xw[wBase + k] * data[p];
          g = b = r;
        }
        const d = dst + x * 3;
        rows[d] = r;
        rows[d + 1] = g;
        rows[d + 2] = b;
      }
    }

    // Vertical pass, normalisation and the NCHW store in one loop.
    const ys = yTaps.start, yc = yTaps.count, yw = yTaps.weights, ym = yTaps.maxTaps;
    const [s0, s1, s2] = this.scale;
    const [b0, b1, b2] = this.bias;
    const half = out instanceof Uint16Array;
    for (let y = 0; y < dstH; y++) {
      const n = yc[y];
      const wBase = y * ym;
      const rowBase = (ys[y] - rowLo) * rowLen;
      const o = offset + y * dstW;
      for (let x = 0; x < dstW; x++) {
        let r = 0, g = 0, b = 0;
        let p = rowBase + x * 3;
        for (let k = 0; k < n; k++, p += rowLen) {
          const w = yw[wBase + k];
          r += w * rows[p];
          g += w * rows[p + 1];
          b += w * rows[p + 2];
        }
        if (half) {
          out[o + x] = toHalfBits(r * s0 + b0);
          out[o + plane + x] = toHalfBits(g * s1 + b1);
          out[o + 2 * plane + x] = toHalfBits(b * s2 + b2);
        } else {
          out[o + x] = r * s0 + b0;
          out[o + plane + x] = g * s1 + b1;
          out[o + 2 * plane + x] = b * s2 + b2;
        }
      }
    }
  }
}
