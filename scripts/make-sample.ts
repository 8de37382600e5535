/**
 * Writes samples/orbit.mp4, the sample the README runs framesift on: a camera sweeping across
 * a richly textured synthetic wall (with perspective change), with known defects framesift
 * must avoid: a motion-blurred stretch (4.0-4.6 s), an underexposed stretch (7.0-7.6 s) and a
 * stationary second (9-10 s). Deterministic: the same bytes of texture every time.
 * Usage: node dist/scripts/make-sample.js [output.mp4]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';

import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp from 'sharp';

import { packageRoot } from '../bindings/index.js';

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 3200x1800 wall of overlapping shapes: corners and blobs at every scale for SIFT. */
async function texture(path: string): Promise<void> {
  const random = mulberry32(20261121);
  const width = 3200;
  const height = 1800;
  const shapes: string[] = [];
  const colour = () => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  for (let i = 0; i < 2600; i++) {
    const size = 6 + Math.pow(random(), 3) * 220;
    const x = random() * width;
    const y = random() * height;
    const kind = random();
    if (kind < 0.4) shapes.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${(size / 2).toFixed(1)}" fill="${colour()}" fill-opacity="0.85"/>`);
    else if (kind < 0.8) shapes.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${size.toFixed(1)}" height="${(size * (0.3 + random())).toFixed(1)}" fill="${colour()}" transform="rotate(${(random() * 90).toFixed(1)} ${x.toFixed(1)} ${y.toFixed(1)})"/>`);
    else shapes.push(`<polygon points="${x.toFixed(1)},${y.toFixed(1)} ${(x + size).toFixed(1)},${(y + size * random()).toFixed(1)} ${(x + size * random()).toFixed(1)},${(y + size).toFixed(1)}" fill="${colour()}"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="rgb(128,120,110)"/>${shapes.join('')}</svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
}

export async function makeSample(output: string): Promise<void> {
  mkdirSync(dirname(output), { recursive: true });
  const texturePath = `${output}.texture.png`;
  await texture(texturePath);
  // Camera x: a steady sweep, held still from 9 s to 10 s. y: a slow sway.
  const x = "if(between(t,9,10),1500*9/12,1500*(t-if(gt(t,10),1,0))/12)+100";
  const y = '300+120*sin(t*0.7)';
  const filter = [
    `crop=w=1600:h=900:x='${x}':y='${y}'`,
    // A gentle keystone that changes over time: the view is not a pure translation.
    "perspective=x0='0+20*sin(in/60)':y0=0:x1=W:y1='0+15*cos(in/75)':x2=0:y2=H:x3='W-20*sin(in/60)':y3=H:eval=frame",
    'scale=1280:720',
    "boxblur=luma_radius=10:luma_power=2:enable='between(t,4,4.6)'",
    "eq=brightness=-0.45:contrast=0.5:enable='between(t,7,7.6)'",
  ].join(',');
  const tmp = `${output}.tmp.mp4`;
  execFileSync(ffmpegInstaller.path, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-loop', '1', '-framerate', '30', '-i', texturePath, '-t', '13', '-vf', filter, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', tmp]);
  renameSync(tmp, output);
  execFileSync('rm', ['-f', texturePath]);
}

const output = process.argv[2] ?? join(packageRoot(), 'samples', 'orbit.mp4');
if (process.argv[1]?.endsWith('make-sample.js') && (process.argv.includes('--force') || !existsSync(output))) {
  await makeSample(output.replace(/^--force$/, join(packageRoot(), 'samples', 'orbit.mp4')));
  console.log(`wrote ${output}`);
}
