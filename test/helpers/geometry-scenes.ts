/**
 * Synthetic inputs for the geometry tests and benchmark: seeded textured images, images
 * warped by a known homography, and two views of a 3D point cloud seen by known cameras
 * (points rendered as small textured discs), with the true fundamental matrix.
 */
import { seededRandom } from '../../scripts/prng.js';

export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface GrayPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Seeded PRNG (scripts/prng.ts): the same seed gives the same data on every machine. */
export const rng = seededRandom;

/** Multi-octave value noise plus random rectangles: rich, non-repetitive texture. */
export function texturedImage(width: number, height: number, seed: number): GrayPixels {
  const random = rng(seed);
  const field = new Float32Array(width * height);
  for (const cell of [64, 24, 9]) {
    const gw = Math.ceil(width / cell) + 2;
    const gh = Math.ceil(height / cell) + 2;
    const grid = Float32Array.from({ length: gw * gh }, () => random());
    const amp = cell / 64;
    for (let y = 0; y < height; y++) {
      const gy = y / cell;
      const y0 = Math.floor(gy);
      const fy = gy - y0;
      for (let x = 0; x < width; x++) {
        const gx = x / cell;
        const x0 = Math.floor(gx);
        const fx = gx - x0;
        const a = grid[y0 * gw + x0] * (1 - fx) + grid[y0 * gw + x0 + 1] * fx;
        const b = grid[(y0 + 1) * gw + x0] * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1] * fx;
        field[y * width + x] += amp * (a * (1 - fy) + b * fy);
      }
    }
  }
  for (let r = 0; r < 120; r++) {
    const w = 6 + random() * 50;
    const h = 6 + random() * 50;
    const x0 = random() * (width - w);
    const y0 = random() * (height - h);
    const v = random() * 1.6;
    for (let y = Math.floor(y0); y < y0 + h; y++) for (let x = Math.floor(x0); x < x0 + w; x++) field[y * width + x] = v;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of field) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const data = new Uint8Array(width * height);
  for (let k = 0; k < field.length; k++) data[k] = Math.round(((field[k] - lo) / (hi - lo)) * 235 + 10);
  return { data, width, height };
}

export function mul3(a: Mat3, b: Mat3): Mat3 {
  const out = new Array(9).fill(0) as Mat3;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return out;
}

export function transpose3(m: Mat3): Mat3 {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

export function invert3(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
    B / det, (a * i - c * g) / det, -(a * f - c * d) / det,
    C / det, -(a * h - b * g) / det, (a * e - b * d) / det,
  ];
}

export function applyH(h: ArrayLike<number>, x: number, y: number): [number, number] {
  const w = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
}

/** dst(x) = src(H^-1 x), bilinear; outside the source is mid-gray. */
export function warpHomography(src: GrayPixels, h: Mat3): GrayPixels {
  const inv = invert3(h);
  const { width, height } = src;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = applyH(inv, x, y);
      data[y * width + x] = sample(src, sx, sy, 128);
    }
  }
  return { data, width, height };
}

function sample(src: GrayPixels, x: number, y: number, outside: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  if (x0 < 0 || y0 < 0 || x0 + 1 >= src.width || y0 + 1 >= src.height) return outside;
  const fx = x - x0;
  const fy = y - y0;
  const p = src.data;
  const w = src.width;
  const top = p[y0 * w + x0] * (1 - fx) + p[y0 * w + x0 + 1] * fx;
  const bottom = p[(y0 + 1) * w + x0] * (1 - fx) + p[(y0 + 1) * w + x0 + 1] * fx;
  return Math.round(top * (1 - fy) + bottom * fy);
}

/** Rotation about the x, then y, then z axis (radians): R = Rz Ry Rx. */
export function rotation(ax: number, ay: number, az: number): Mat3 {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const rx: Mat3 = [1, 0, 0, 0, cx, -sx, 0, sx, cx];
  const ry: Mat3 = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const rz: Mat3 = [cz, -sz, 0, sz, cz, 0, 0, 0, 1];
  return mul3(rz, mul3(ry, rx));
}

export interface Camera {
  k: Mat3;
  r: Mat3;
  t: [number, number, number]; // x_cam = R X + t
}

export interface TwoViewScene {
  views: [GrayPixels, GrayPixels];
  /** True fundamental matrix, x2^T F x1 = 0 (row-major). */
  F: Mat3;
  /** Ground-truth correspondences: projections of the cloud points visible in both views. */
  x1: [number, number][];
  x2: [number, number][];
}

function project(cam: Camera, p: [number, number, number]): [number, number, number] {
  const { r, t, k } = cam;
  const xc = r[0] * p[0] + r[1] * p[1] + r[2] * p[2] + t[0];
  const yc = r[3] * p[0] + r[4] * p[1] + r[5] * p[2] + t[1];
  const zc = r[6] * p[0] + r[7] * p[1] + r[8] * p[2] + t[2];
  return [k[0] * (xc / zc) + k[2], k[4] * (yc / zc) + k[5], zc];
}

interface CloudPoint {
  p: [number, number, number];
  pattern: Float32Array; // 4x4 gray levels
  radius: number; // world units
}

/** Each point is a disc facing the camera, textured with its own 4x4 pattern, soft-edged. */
function renderCloud(points: CloudPoint[], cam: Camera, width: number, height: number): GrayPixels {
  const data = new Float32Array(width * height).fill(128);
  const projected = points.map((pt) => ({ pt, uvz: project(cam, pt.p) })).filter((q) => q.uvz[2] > 0.1);
  projected.sort((a, b) => b.uvz[2] - a.uvz[2]); // far to near
  for (const { pt, uvz } of projected) {
    const [u, v, z] = uvz;
    const rad = (pt.radius * cam.k[0]) / z;
    for (let y = Math.max(0, Math.floor(v - rad - 1)); y <= Math.min(height - 1, Math.ceil(v + rad + 1)); y++) {
      for (let x = Math.max(0, Math.floor(u - rad - 1)); x <= Math.min(width - 1, Math.ceil(u + rad + 1)); x++) {
        const dx = (x - u) / rad;
        const dy = (y - v) / rad;
        const d = Math.hypot(dx, dy);
        if (d >= 1) continue;
        // Bilinear lookup in the 4x4 pattern spanning the disc.
        const gx = Math.min(2.999, Math.max(0, (dx + 1) * 1.5));
        const gy = Math.min(2.999, Math.max(0, (dy + 1) * 1.5));
        const ix = Math.floor(gx);
        const iy = Math.floor(gy);
        const fx = gx - ix;
        const fy = gy - iy;
        const g = pt.pattern;
        const val =
          (g[iy * 4 + ix] * (1 - fx) + g[iy * 4 + ix + 1] * fx) * (1 - fy) +
          (g[(iy + 1) * 4 + ix] * (1 - fx) + g[(iy + 1) * 4 + ix + 1] * fx) * fy;
        const alpha = Math.min(1, (1 - d) * rad * 0.7); // ~1.5 px soft edge
        data[y * width + x] = data[y * width + x] * (1 - alpha) + val * alpha;
      }
    }
  }
  return { data: Uint8Array.from(data, (v) => Math.max(0, Math.min(255, Math.round(v)))), width, height };
}

function skew(t: [number, number, number]): Mat3 {
  return [0, -t[2], t[1], t[2], 0, -t[0], -t[1], t[0], 0];
}

/**
 * A point cloud in front of camera 1 (identity pose) and a second camera with pose (R, t).
 * With t = 0 the second view is a pure rotation (F is then undefined: returned as zeros).
 */
export function cloudScene(opts: {
  seed: number;
  r: Mat3;
  t: [number, number, number];
  points?: number;
  width?: number;
  height?: number;
  focal?: number;
}): TwoViewScene {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const focal = opts.focal ?? 500;
  const random = rng(opts.seed);
  const k: Mat3 = [focal, 0, width / 2, 0, focal, height / 2, 0, 0, 1];
  const points: CloudPoint[] = Array.from({ length: opts.points ?? 450 }, () => {
    const z = 4 + random() * 12;
    const x = (random() - 0.5) * 1.5 * (z * width) / focal;
    const y = (random() - 0.5) * 1.5 * (z * height) / focal;
    const pattern = Float32Array.from({ length: 16 }, () => 20 + random() * 215);
    return { p: [x, y, z], pattern, radius: 0.1 + random() * 0.08 };
  });
  const cam1: Camera = { k, r: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] };
  const cam2: Camera = { k, r: opts.r, t: opts.t };
  const views: [GrayPixels, GrayPixels] = [renderCloud(points, cam1, width, height), renderCloud(points, cam2, width, height)];
  const kInv = invert3(k);
  const F = mul3(transpose3(kInv), mul3(skew(opts.t), mul3(opts.r, kInv)));
  const x1: [number, number][] = [];
  const x2: [number, number][] = [];
  for (const pt of points) {
    const a = project(cam1, pt.p);
    const b = project(cam2, pt.p);
    const inside = (q: number[]) => q[2] > 0 && q[0] >= 0 && q[0] < width && q[1] >= 0 && q[1] < height;
    if (!inside(a) || !inside(b)) continue;
    x1.push([a[0], a[1]]);
    x2.push([b[0], b[1]]);
  }
  return { views, F, x1, x2 };
}

/** Symmetric distance of x1, x2 to each other's epipolar lines under F (px). */
export function epipolarDistance(F: ArrayLike<number>, x1: [number, number], x2: [number, number]): number {
  const l2 = [F[0] * x1[0] + F[1] * x1[1] + F[2], F[3] * x1[0] + F[4] * x1[1] + F[5], F[6] * x1[0] + F[7] * x1[1] + F[8]];
  const l1 = [F[0] * x2[0] + F[3] * x2[1] + F[6], F[1] * x2[0] + F[4] * x2[1] + F[7], F[2] * x2[0] + F[5] * x2[1] + F[8]];
  const e = x2[0] * l2[0] + x2[1] * l2[1] + l2[2];
  return (Math.abs(e) / Math.hypot(l2[0], l2[1]) + Math.abs(e) / Math.hypot(l1[0], l1[1])) / 2;
}

/** A flat gray image with `count` isolated Gaussian blobs (too few features to verify). */
export function sparseBlobs(width: number, height: number, count: number, seed: number): GrayPixels {
  const random = rng(seed);
  const data = new Uint8Array(width * height).fill(100);
  for (let b = 0; b < count; b++) {
    const cx = 30 + random() * (width - 60);
    const cy = 30 + random() * (height - 60);
    for (let y = Math.floor(cy - 12); y <= cy + 12; y++)
      for (let x = Math.floor(cx - 12); x <= cx + 12; x++)
        data[y * width + x] = Math.round(100 + 120 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 18));
  }
  return { data, width, height };
}
