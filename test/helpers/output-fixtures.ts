/** Synthetic inputs for the output-stage tests: images, a full manifest, temp folders. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

import type { Manifest } from '../../src/output/index.js';

/** Smooth packed RGB24 gradient (what a camera frame looks like to a JPEG encoder). */
export function gradientRgb(width: number, height: number): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      rgb[o] = Math.round((255 * x) / (width - 1));
      rgb[o + 1] = Math.round((255 * y) / (height - 1));
      rgb[o + 2] = Math.round(128 + 100 * Math.sin((x + y) / 40));
    }
  }
  return rgb;
}

/** Decodes an image file back to packed RGB24. */
export async function decodeRgb(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

export function tempDir(prefix = 'framesift-output-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file below `dir`, as relative paths, sorted. */
export function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

/** A complete, consistent manifest using every field. */
export function fullManifest(): Manifest {
  return {
    schemaVersion: 1,
    tool: { name: 'framesift', version: '0.1.0' },
    createdAt: '2025-01-02T03:04:05.678Z',
    input: {
      path: '/videos/walk.mp4',
      probe: {
        container: 'mov,mp4,m4a,3gp,3g2,mj2',
        codec: 'h264',
        width: 1920,
        height: 1080,
        rotation: 90,
        pixelFormat: 'yuv420p',
        bitDepth: 8,
        avgFrameRate: 29.97,
        durationSec: 60.06,
        frameCount: 1800,
        variableFrameRate: false,
        isImageSequence: false,
        displayWidth: 1080,
        displayHeight: 1920,
      },
    },
    config: { count: 2, mode: 'balanced', format: 'jpg', quality: 95, weights: { texture: 0.15 } },
    device: { provider: 'cpu', requested: 'auto', fallback: 'CUDA provider not available' },
    frames: [
      {
        file: 'frame_000012.jpg',
        frameIndex: 12,
        ptsSec: 0.4004,
        score: 0.81,
        sequence: 0,
        metrics: { laplacianVar: 812.5, meanLuma: 121.2, siftKeypoints: 2048 },
        subScores: { sharpness: 0.9, texture: 0.7 },
        reasons: ['best_in_slot'],
        explanation: 'Sharpest well-exposed frame of its stretch.',
      },
      {
        file: 'frame_000345.jpg',
        frameIndex: 345,
        ptsSec: 11.5115,
        score: 0.74,
        sequence: 0,
        metrics: { laplacianVar: 640, meanLuma: 118 },
        subScores: { sharpness: 0.8, texture: 0.65 },
        reasons: ['coverage', 'bridge'],
        explanation: 'Inserted to connect two picks.',
      },
    ],
    rejected: { total: 30, byReason: { blur: 20, exposure: 10 } },
    counts: { analysed: 1800, candidates: 120, chosen: 2, rejected: 30 },
    sequences: [{ id: 0, firstFrame: 12, lastFrame: 345, count: 2 }],
    links: [{ fromFrame: 12, toFrame: 345, inliers: 412, parallaxPx: 14.2, degenerate: false, status: 'ok' }],
    tracks: { tracks2: 900, tracks3: 0, meanLength: 2, histogram: [0, 0, 900] },
    timings: { decode: 4.2, measure: 1.1, select: 0.3, write: 0.5 },
    peakRssMB: 412.5,
    warnings: ['No model given: scores use classical metrics only'],
  };
}
