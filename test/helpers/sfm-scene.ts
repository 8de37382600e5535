/**
 * A small 3D scene for SfM tests: textured boxes on a textured floor before a textured back
 * wall, seen by a camera on an arc around them (real depth and parallax, unlike a flat wall),
 * ray-cast in plain TS and encoded with the bundled ffmpeg. Deterministic.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

import { ffmpegPath } from './ffmpeg.js';

interface Box {
  min: [number, number, number];
  max: [number, number, number];
  seed: number;
}

const BOXES: Box[] = [
  { min: [-8, -0.2, -8], max: [8, 0, 8], seed: 11 }, // floor (y up)
  { min: [-8, 0, -4.2], max: [8, 5, -4], seed: 12 }, // back wall
  { min: [-1.6, 0, -1.2], max: [-0.4, 1.4, 0], seed: 13 },
  { min: [0.3, 0, -0.6], max: [1.5, 0.8, 0.6], seed: 14 },
  { min: [-0.5, 0, 0.8], max: [0.3, 2.1, 1.6], seed: 15 },
  { min: [1.2, 0, -2.8], max: [2.6, 1.9, -1.6], seed: 16 },
  { min: [-2.8, 0, 1.0], max: [-1.8, 0.7, 2.2], seed: 17 },
];

function hash(x: number, y: number, seed: number): number {
  let h = (Math.imul(x | 0, 374761393) + Math.imul(y | 0, 668265263) + Math.imul(seed, 2147483647)) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Bilinear value noise: blobs and corners at the cell scale. */
function noise(u: number, v: number, seed: number): number {
  const x = Math.floor(u), y = Math.floor(v);
  const fx = u - x, fy = v - y;
  const a = hash(x, y, seed), b = hash(x + 1, y, seed), c = hash(x, y + 1, seed), d = hash(x + 1, y + 1, seed);
  return a + (b - a) * fx + (c - a) * fy + (a - b - c + d) * fx * fy;
}

function texture(u: number, v: number, seed: number, channel: number): number {
  let value = 0;
  let amp = 0.55;
  let freq = 2.2;
  for (let octave = 0; octave < 4; octave++) {
    value += amp * (noise(u * freq, v * freq, seed * 7 + octave * 131 + channel * 977) - 0.5);
    amp *= 0.6;
    freq *= 2.3;
  }
  return value;
}

/** Nearest hit of the ray o + t d: the box and the hit point, or null. */
function castRay(o: number[], d: number[]): { box: Box; p: number[]; axis: number } | null {
  let best = Infinity;
  let hit: { box: Box; p: number[]; axis: number } | null = null;
  for (const box of BOXES) {
    let tmin = 1e-4, tmax = best, axis = -1;
    let ok = true;
    for (let k = 0; k < 3; k++) {
      const inv = 1 / d[k]!;
      let t0 = (box.min[k] - o[k]!) * inv, t1 = (box.max[k] - o[k]!) * inv;
      if (t0 > t1) [t0, t1] = [t1, t0];
      if (t0 > tmin) {
        tmin = t0;
        axis = k;
      }
      if (t1 < tmax) tmax = t1;
      if (tmax < tmin) {
        ok = false;
        break;
      }
    }
    if (!ok || axis < 0 || tmin >= best) continue;
    best = tmin;
    hit = { box, p: [o[0]! + tmin * d[0]!, o[1]! + tmin * d[1]!, o[2]! + tmin * d[2]!], axis };
  }
  return hit;
}

export interface OrbitSceneSpec {
  width: number;
  height: number;
  frames: number;
  fps: number;
  /** Arc swept by the camera, degrees. */
  arcDeg: number;
}

/** RGB24 of frame `k`: the camera on a circle of radius 5.5 at 2.2 height, looking at (0, 0.6, 0). */
export function renderOrbitFrame(spec: OrbitSceneSpec, k: number): Buffer {
  const { width, height } = spec;
  const angle = ((-spec.arcDeg / 2 + (spec.arcDeg * k) / Math.max(1, spec.frames - 1)) * Math.PI) / 180;
  const eye = [5.5 * Math.sin(angle), 2.2, 5.5 * Math.cos(angle)];
  const target = [0, 0.6, 0];
  const fwd = normalize([target[0]! - eye[0]!, target[1]! - eye[1]!, target[2]! - eye[2]!]);
  const right = normalize(cross(fwd, [0, 1, 0]));
  const up = cross(right, fwd);
  const focal = 0.9 * width;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = (x + 0.5 - width / 2) / focal, py = -(y + 0.5 - height / 2) / focal;
      const d = normalize([fwd[0]! + px * right[0]! + py * up[0]!, fwd[1]! + px * right[1]! + py * up[1]!, fwd[2]! + px * right[2]! + py * up[2]!]);
      const hit = castRay(eye, d);
      const o = (y * width + x) * 3;
      if (!hit) {
        out[o] = 150;
        out[o + 1] = 170;
        out[o + 2] = 200;
        continue;
      }
      // Texture coordinates: the two axes of the face the ray hit.
      const [u, v] = hit.axis === 0 ? [hit.p[2]!, hit.p[1]!] : hit.axis === 1 ? [hit.p[0]!, hit.p[2]!] : [hit.p[0]!, hit.p[1]!];
      const shade = hit.axis === 1 ? 1 : hit.axis === 0 ? 0.8 : 0.9;
      for (let c = 0; c < 3; c++) {
        const value = (0.5 + texture(u, v, hit.box.seed, c) * 1.4) * 255 * shade;
        out[o + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return out;
}

function normalize(v: number[]): number[] {
  const n = Math.hypot(v[0]!, v[1]!, v[2]!);
  return [v[0]! / n, v[1]! / n, v[2]! / n];
}

function cross(a: number[], b: number[]): number[] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

/** Renders the orbit into an H.264 MP4 at `path` (kept: later calls reuse it). */
export function makeOrbitScene(path: string, spec: OrbitSceneSpec): string {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const frames: Buffer[] = [];
  for (let k = 0; k < spec.frames; k++) frames.push(renderOrbitFrame(spec, k));
  const temp = `${path}.${process.pid}.partial.mp4`;
  const run = spawnSync(
    ffmpegPath,
    ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${spec.width}x${spec.height}`, '-r', String(spec.fps), '-i', '-', '-c:v', 'libx264', '-crf', '16', '-pix_fmt', 'yuv420p', '-g', '10', temp],
    { input: Buffer.concat(frames), maxBuffer: 1 << 26 },
  );
  if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr?.toString()}`);
  renameSync(temp, path);
  return path;
}
