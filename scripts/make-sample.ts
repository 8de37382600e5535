/**
 * Synthetic SfM clips: a camera sweeping across a richly textured wall (with a changing
 * keystone, so views are not pure translations), with known defects at known times.
 * `samples/orbit.mp4` (what the README runs) is the default; tests make small variants.
 * Deterministic: the same texture and the same frames every time.
 * Usage: node dist/scripts/make-sample.js [output.mp4] [--force]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp from 'sharp';

import { packageRoot } from '../bindings/index.js';
import { seededRandom } from './prng.js';

export interface ClipSpec {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  /** [start, end] seconds of a heavy blur. */
  blur?: [number, number];
  /** [start, end] seconds of underexposure (near black). */
  dark?: [number, number];
  /** [start, end] seconds where the camera stands still. */
  still?: [number, number];
  /** From this time on, a different wall (a scene cut). */
  cutAt?: number;
  seed?: number;
}

export const SAMPLE_SPEC: ClipSpec = { width: 1280, height: 720, fps: 30, seconds: 13, blur: [4, 4.6], dark: [7, 7.6], still: [9, 10] };

/** A wall of overlapping shapes: corners and blobs at every scale for SIFT. */
async function texture(path: string, width: number, height: number, seed: number): Promise<void> {
  const random = seededRandom(seed);
  const shapes: string[] = [];
  const colour = () => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  const count = Math.round((width * height) / 2200);
  const scale = width / 3200;
  for (let i = 0; i < count; i++) {
    const size = (6 + Math.pow(random(), 3) * 220) * Math.max(scale, 0.3);
    const x = (random() * width).toFixed(1);
    const y = (random() * height).toFixed(1);
    const kind = random();
    if (kind < 0.4) shapes.push(`<circle cx="${x}" cy="${y}" r="${(size / 2).toFixed(1)}" fill="${colour()}" fill-opacity="0.85"/>`);
    else if (kind < 0.8) shapes.push(`<rect x="${x}" y="${y}" width="${size.toFixed(1)}" height="${(size * (0.3 + random())).toFixed(1)}" fill="${colour()}" transform="rotate(${(random() * 90).toFixed(1)} ${x} ${y})"/>`);
    else shapes.push(`<polygon points="${x},${y} ${(+x + size).toFixed(1)},${(+y + size * random()).toFixed(1)} ${(+x + size * random()).toFixed(1)},${(+y + size).toFixed(1)}" fill="${colour()}"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="rgb(128,120,110)"/>${shapes.join('')}</svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
}

export async function makeClip(output: string, spec: ClipSpec): Promise<void> {
  mkdirSync(dirname(output), { recursive: true });
  const { width, height, fps, seconds } = spec;
  // The wall is 2.5x the view; the crop window (1.25x the view) sweeps 1.1 views in all.
  const wallW = Math.round(width * 2.5);
  const wallH = Math.round(height * 2.5);
  const cropW = Math.round(width * 1.25);
  const cropH = Math.round(height * 1.25);
  const travel = wallW - cropW - 40;
  const textures = [`${output}.wall1.png`, `${output}.wall2.png`];
  await texture(textures[0]!, wallW, wallH, spec.seed ?? 20261121);
  if (spec.cutAt !== undefined) await texture(textures[1]!, wallW, wallH, (spec.seed ?? 20261121) + 1);
  const [s0, s1] = spec.still ?? [seconds + 1, seconds + 2];
  const heldFor = s1 - s0;
  // Camera x: a steady sweep, held still during `still`.
  const tEff = `if(lt(t,${s0}),t,if(lt(t,${s1}),${s0},t-${heldFor}))`;
  const x = `20+${travel}*(${tEff})/${seconds - Math.max(0, heldFor)}`;
  const y = `${Math.round((wallH - cropH) / 2)}+${Math.round(height * 0.15)}*sin((${tEff})*0.7)`;
  const filters = [
    `crop=w=${cropW}:h=${cropH}:x='${x}':y='${y}'`,
    `perspective=x0='${Math.round(width / 60)}*sin(in/60)':y0=0:x1=W:y1='${Math.round(width / 80)}*cos(in/75)':x2=0:y2=H:x3='W-${Math.round(width / 60)}*sin(in/60)':y3=H:eval=frame`,
    `scale=${width}:${height}`,
  ];
  if (spec.blur) filters.push(`boxblur=luma_radius=${Math.max(4, Math.round(width / 128))}:luma_power=2:chroma_radius=4:enable='between(t,${spec.blur[0]},${spec.blur[1]})'`);
  if (spec.dark) filters.push(`eq=brightness=-0.45:contrast=0.5:enable='between(t,${spec.dark[0]},${spec.dark[1]})'`);
  const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-loop', '1', '-framerate', String(fps), '-i', textures[0]!];
  let graph: string;
  if (spec.cutAt !== undefined) {
    args.push('-loop', '1', '-framerate', String(fps), '-i', textures[1]!);
    graph = `[0:v][1:v]overlay=enable='gte(t,${spec.cutAt})'[wall];[wall]${filters.join(',')}[out]`;
  } else {
    graph = `[0:v]${filters.join(',')}[out]`;
  }
  const tmp = `${output}.tmp.mp4`;
  args.push('-filter_complex', graph, '-map', '[out]', '-t', String(seconds), '-r', String(fps), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', tmp);
  try {
    execFileSync(ffmpegInstaller.path, args);
    renameSync(tmp, output);
  } finally {
    for (const path of [...textures, tmp]) rmSync(path, { force: true });
  }
}

const isMain = process.argv[1]?.endsWith('make-sample.js');
if (isMain) {
  const output = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? join(packageRoot(), 'samples', 'orbit.mp4');
  if (process.argv.includes('--force') || !existsSync(output)) {
    await makeClip(output, SAMPLE_SPEC);
    console.log(`wrote ${output}`);
  }
}
