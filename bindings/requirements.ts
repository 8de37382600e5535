/**
 * What the native addon needs from the system, and the exact fix when it is missing: the
 * Debian packages of a source build (the install step prints this, the loader repeats it),
 * and the shared libraries a prebuild links (named one by one from `ldd`, each with the
 * Debian package that provides it, recorded beside the prebuild when it was made).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Debian 12 packages a source build needs (compiler, build tools, libav* and OpenCV headers). */
export const SOURCE_BUILD_PACKAGES: readonly string[] = [
  'g++',
  'make',
  'pkg-config',
  'cmake',
  'libavformat-dev',
  'libavcodec-dev',
  'libavutil-dev',
  'libswscale-dev',
  'libopencv-core-dev',
  'libopencv-imgproc-dev',
  'libopencv-features2d-dev',
  'libopencv-calib3d-dev',
  'libopencv-video-dev',
  'libopencv-flann-dev',
  'libopencv-imgcodecs-dev',
];

/** Written beside a prebuild by scripts/prebuild-runtime.ts: soname -> Debian package. */
export const RUNTIME_MANIFEST = 'framesift.runtime.json';

export interface RuntimeManifest {
  /** The system the prebuild was made on (PRETTY_NAME of /etc/os-release). */
  builtOn: string;
  /** Every shared library the .node file names (DT_NEEDED) outside glibc, with its package. */
  libraries: Record<string, string>;
}

/** PRETTY_NAME of /etc/os-release (the same string scripts/prebuild-runtime.ts records). */
export function systemName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return `${process.platform} (no /etc/os-release)`;
  }
}

/** `sudo apt-get install -y ...`, without sudo for root. */
export function aptLine(packages: readonly string[]): string {
  const sudo = typeof process.getuid === 'function' && process.getuid() !== 0 ? 'sudo ' : '';
  return `${sudo}apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

function hasCommand(command: string, args: string[] = ['--version']): boolean {
  const run = spawnSync(command, args, { stdio: 'ignore' });
  return !run.error && run.status === 0;
}

export function isDebianLike(): boolean {
  return hasCommand('dpkg-query', ['--version']);
}

/** The packages of `list` that dpkg does not report as installed (all of them without dpkg). */
export function missingDebianPackages(list: readonly string[] = SOURCE_BUILD_PACKAGES): string[] {
  const run = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...list], { encoding: 'utf8' });
  if (run.error) return [...list];
  const installed = new Set(
    run.stdout
      .split('\n')
      .filter((line) => line.endsWith('install ok installed'))
      .map((line) => line.split(' ')[0]!.split(':')[0]),
  );
  return list.filter((pkg) => !installed.has(pkg));
}

/**
 * How to get a source build: the exact apt line of what is missing on Debian, the same
 * packages by name elsewhere, then the rebuild (and npm's approval of install scripts).
 */
export function sourceBuildAdvice(missing: readonly string[] = isDebianLike() ? missingDebianPackages() : [...SOURCE_BUILD_PACKAGES]): string[] {
  const lines: string[] = [];
  if (missing.length > 0) {
    lines.push(
      isDebianLike()
        ? `The source build needs these Debian packages: ${aptLine(missing)}`
        : `The source build needs a C++17 compiler, make, cmake, pkg-config and the FFmpeg (libavformat, libavcodec, libavutil, libswscale) and OpenCV 4 (core, imgproc, features2d, calib3d, video, flann, imgcodecs) development files; on Debian/Ubuntu: ${aptLine(missing)}`,
    );
  }
  else lines.push('The packages a source build needs are installed here.');
  lines.push(
    'Build the addon inside your project: npm rebuild framesift',
    '(npm runs install scripts only for approved packages in npm 12, and lists unapproved ones in npm 11: approve framesift\'s first with `npm approve-scripts framesift`; pnpm: `pnpm approve-builds`).',
  );
  return lines;
}

/** Shared libraries the dynamic loader cannot find for `file`, from ldd (empty when unknown). */
export function missingLibraries(file: string): string[] {
  const run = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (run.error || typeof run.stdout !== 'string') return [];
  return parseLddMissing(run.stdout);
}

/** The sonames ldd reports as "=> not found". */
export function parseLddMissing(lddOutput: string): string[] {
  const missing: string[] = [];
  for (const line of lddOutput.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+not found/.exec(line);
    if (m && !missing.includes(m[1]!)) missing.push(m[1]!);
  }
  return missing;
}

export function readRuntimeManifest(nodeFile: string): RuntimeManifest | undefined {
  const path = join(dirname(nodeFile), RUNTIME_MANIFEST);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RuntimeManifest;
  } catch {
    return undefined;
  }
}

/**
 * Why `nodeFile` did not load, as lines: each missing shared library with the package that
 * provides it and one apt line for all of them. Empty when no library is missing (then the
 * loader's own message is the reason).
 */
export function runtimeAdvice(nodeFile: string, loadError: string): string[] {
  // An older C or C++ runtime than the build machine's: no package of this system fixes that.
  const symbol = /version `((?:GLIBC|GLIBCXX|CXXABI)_[\d.]+)' not found/.exec(loadError)?.[1];
  if (symbol) {
    const builtOn = readRuntimeManifest(nodeFile)?.builtOn ?? 'a newer system';
    return [`The addon ${nodeFile} was built on ${builtOn} and needs ${symbol}, newer than this system's; build it from source here (below).`];
  }
  let missing = missingLibraries(nodeFile);
  if (missing.length === 0) {
    // No ldd (or it ran but could not tell): the dynamic loader names the first one itself.
    const first = /([\w.+-]+\.so[.\d]*): cannot open shared object file/.exec(loadError)?.[1];
    if (first) missing = [first];
  }
  if (missing.length === 0) return [];
  const manifest = readRuntimeManifest(nodeFile);
  const packages: string[] = [];
  const lines = missing.map((soname) => {
    const pkg = manifest?.libraries[soname];
    if (pkg && !packages.includes(pkg)) packages.push(pkg);
    return `  missing ${soname}${pkg ? ` (Debian package ${pkg})` : ''}`;
  });
  const builtOn = manifest ? ` built on ${manifest.builtOn}` : '';
  lines.unshift(`The addon ${nodeFile}${builtOn} needs shared libraries this system does not have:`);
  const here = systemName();
  const sameSystem = manifest !== undefined && here === manifest.builtOn;
  if (packages.length > 0) lines.push(`${sameSystem ? 'Install them' : `On ${manifest?.builtOn ?? 'Debian 12'}`}: ${aptLine(packages)}`);
  lines.push(
    sameSystem
      ? 'Or build from source (below).'
      : `This system is ${here}: install the packages that provide these exact library versions, or build from source (below).`,
  );
  return lines;
}
