/**
 * Loads the native addon from an ordered list of places and fails with one helpful message:
 * FRAMESIFT_NATIVE (a path to a .node file), then prebuilds/<platform>-<arch>/ (prebuildify
 * layout), then the local cmake-js build (build/Release/framesift.node).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { DecoderExports } from './decoder.js';
import type { EmbedExports } from './embed.js';
import type { GeometryExports } from './geometry.js';
import type { MetricsExports } from './metrics.js';

export type * from './decoder.js';
export type * from './embed.js';
export type * from './geometry.js';
export type * from './image.js';
export type * from './metrics.js';

export interface NativeVersions {
  ffmpeg: string;
  libavformat: string;
  libavcodec: string;
  libswscale: string;
  libavutil: string;
  opencv: string;
  napi: number;
}

export interface NativeAddon extends DecoderExports, MetricsExports, GeometryExports, EmbedExports {
  versions: NativeVersions;
  /** OpenCV's own thread pool (fixed to 1 at load: native jobs split their work over their `threads` argument). */
  openCvThreads(): number;
  setErrorClass(cls: new (message: string, code: string) => Error): void;
}

/** The package root: the nearest folder above this file whose package.json names framesift. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'framesift') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('framesift: cannot find the package root');
    dir = parent;
  }
}

function candidatePaths(root: string): string[] {
  const paths: string[] = [];
  if (process.env.FRAMESIFT_NATIVE) paths.push(process.env.FRAMESIFT_NATIVE);
  const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (existsSync(prebuildDir)) {
    for (const name of readdirSync(prebuildDir).sort()) if (name.endsWith('.node')) paths.push(join(prebuildDir, name));
  }
  paths.push(join(root, 'build', 'Release', 'framesift.node'));
  return paths;
}

let cached: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const root = packageRoot();
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidatePaths(root)) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    try {
      cached = require(path) as NativeAddon;
      return cached;
    } catch (err) {
      failures.push(`${path}: ${(err as Error).message}`);
    }
  }
  const error = new Error(
    [
      `framesift could not load its native addon on ${process.platform}-${process.arch} (Node ${process.version}).`,
      ...failures.map((f) => `  tried ${f}`),
      'Likely fixes: run scripts/setup.sh (installs the libav*/OpenCV packages and builds the addon),',
      'or `npm run build:native` after installing them; set FRAMESIFT_NATIVE to use another build.',
    ].join('\n'),
  );
  (error as Error & { code: string }).code = 'ERR_FRAMESIFT_NATIVE_LOAD';
  throw error;
}
