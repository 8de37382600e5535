/**
 * Loads the native addon from an ordered list of places and fails with one helpful message
 * (the order and why: ARCHITECTURE.md "Loading the addon"):
 * 1. FRAMESIFT_NATIVE (a path to a .node file), alone when set;
 * 2. in a development checkout, build/Release/framesift.node when it is newer than the prebuild;
 * 3. the prebuild, prebuilds/<platform>-<arch>/*.node (prebuildify layout, libc tag checked);
 * 4. build/Release/framesift.node (the install step's source build, or an older local build).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runtimeAdvice, sourceBuildAdvice } from './requirements.js';
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

/** A decoder libavcodec registers for a codec (native/codecs_binding.cc). */
export interface NativeDecoderInfo {
  name: string;
  hardware: boolean;
  /** Formats it declares; empty when it decides at run time (most software decoders). */
  pixelFormats: string[];
}

export type NativeCodecKey = 'h264' | 'hevc' | 'vp9' | 'av1' | 'prores' | 'mjpeg';

export interface NativeAddon extends DecoderExports, MetricsExports, GeometryExports, EmbedExports {
  versions: NativeVersions;
  decoders(): Record<NativeCodecKey, NativeDecoderInfo[]>;
  /** OpenCV's own thread pool (fixed to 1 at load: native jobs split their work over their `threads` argument). */
  openCvThreads(): number;
  /** Gives the native heap's free memory back to the OS (glibc malloc_trim), when the arenas hold at least `minFreeBytes` free (default: always); false when none was, or off glibc. */
  trimNativeMemory(minFreeBytes?: number): boolean;
  /** Bytes of large freed cv::Mat blocks held for reuse (native/mat_cache.h). */
  matCacheBytes(): number;
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

/** Where a loaded addon came from (doctor reports it). */
export type NativeSource = 'FRAMESIFT_NATIVE' | 'local build' | 'prebuild' | 'source build';

export interface NativeCandidate {
  path: string;
  source: NativeSource;
}

export interface NativeLoadInfo extends NativeCandidate {
  /** Candidates tried before it, with the reason each did not load. */
  skipped: string[];
}

/** A development checkout (git clone or worktree), never an installed package. */
export function isDevelopmentCheckout(root: string): boolean {
  return existsSync(join(root, '.git'));
}

function currentLibc(): 'glibc' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** Prebuilds for this platform whose libc tag (if any) matches, newest first. */
function prebuildPaths(root: string): string[] {
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(dir)) return [];
  const libc = currentLibc();
  return readdirSync(dir)
    .filter((name) => name.endsWith('.node'))
    .filter((name) => {
      const tags = name.split('.');
      const tagged = tags.find((t) => t === 'glibc' || t === 'musl');
      return !tagged || tagged === libc;
    })
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}

export function candidatePaths(root: string = packageRoot()): NativeCandidate[] {
  const override = process.env.FRAMESIFT_NATIVE;
  // An override that fell back silently would run (and test) another binary than the one named.
  if (override) return [{ path: override, source: 'FRAMESIFT_NATIVE' }];
  const local = join(root, 'build', 'Release', 'framesift.node');
  const prebuilds = prebuildPaths(root).map((path): NativeCandidate => ({ path, source: 'prebuild' }));
  const localIsNewer =
    existsSync(local) && (prebuilds.length === 0 || statSync(local).mtimeMs > statSync(prebuilds[0]!.path).mtimeMs);
  if (isDevelopmentCheckout(root) && localIsNewer) return [{ path: local, source: 'local build' }, ...prebuilds];
  return [...prebuilds, { path: local, source: isDevelopmentCheckout(root) ? 'local build' : 'source build' }];
}

let cached: NativeAddon | undefined;
let cachedInfo: NativeLoadInfo | undefined;

/** Which file the addon was loaded from (after loadNative() succeeded). */
export function nativeLoadInfo(): NativeLoadInfo | undefined {
  return cachedInfo;
}

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const root = packageRoot();
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  const advice: string[] = [];
  const candidates = candidatePaths(root);
  for (const candidate of candidates) {
    const { path, source } = candidate;
    if (!existsSync(path)) {
      failures.push(`${path} (${source}): not found`);
      continue;
    }
    try {
      cached = require(path) as NativeAddon;
      cachedInfo = { ...candidate, skipped: failures };
      return cached;
    } catch (err) {
      const message = (err as Error).message;
      failures.push(`${path} (${source}): ${message}`);
      if (advice.length === 0) advice.push(...runtimeAdvice(path, message));
    }
  }
  const noPrebuild = !candidates.some((c) => c.source === 'prebuild');
  const error = new Error(
    [
      `framesift could not load its native addon on ${process.platform}-${process.arch}${currentLibc() ? ` (${currentLibc()})` : ''}, Node ${process.version}.`,
      ...failures.map((f) => `  tried ${f}`),
      ...(noPrebuild && !process.env.FRAMESIFT_NATIVE ? [`This package has no prebuilt addon for ${process.platform}-${process.arch} (framesift ships one for linux-x64 with glibc): it needs a source build.`] : []),
      ...advice,
      ...(existsSync(join(root, 'build', 'install.log')) ? [`The install step's source build failed: its log is ${join(root, 'build', 'install.log')}.`] : []),
      ...(isDevelopmentCheckout(root)
        ? ['In this checkout: bash scripts/setup.sh (installs the Debian packages and builds the addon), or npm run build:native.']
        : sourceBuildAdvice()),
      'Set FRAMESIFT_NATIVE to the path of another build to use it instead. `npx framesift doctor` checks the whole set-up.',
    ].join('\n'),
  );
  (error as Error & { code: string }).code = 'ERR_FRAMESIFT_NATIVE_LOAD';
  throw error;
}
