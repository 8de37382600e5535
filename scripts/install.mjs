#!/usr/bin/env node
// framesift's install step, better-sqlite3's pattern: use the prebuilt addon when it loads,
// else compile it with cmake-js when the build tools and -dev packages are there, else say
// exactly what to install. It never fails the user's `npm install`: the addon then fails to
// load with the same message (npm hides a successful install step's output). The prebuild
// needs none of this: with install scripts blocked (npm 12 until approved, --ignore-scripts)
// the loader finds the prebuild by itself. Plain JavaScript: it runs before anything is built.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (text) => process.stderr.write(`framesift: ${text}\n`);

// A development checkout builds with scripts/setup.sh (or npm run build:native).
if (existsSync(join(root, '.git'))) process.exit(0);
if (!existsSync(join(root, 'dist', 'bindings', 'index.js'))) {
  say('this copy of framesift has no dist/ (not installed from a packed tarball); run npm run build in it');
  process.exit(0);
}
const { loadNative } = await import('../dist/bindings/index.js');
const { isDebianLike, missingDebianPackages, SOURCE_BUILD_PACKAGES } = await import('../dist/bindings/requirements.js');
const logPath = join(root, 'build', 'install.log');

function loads() {
  try {
    loadNative();
    return undefined;
  } catch (err) {
    return err;
  }
}

const failure = loads();
if (!failure) process.exit(0);
if (process.env.FRAMESIFT_NATIVE) {
  say(failure.message);
  process.exit(0);
}

function commandWorks(command, args) {
  const run = spawnSync(command, args, { stdio: 'ignore' });
  return !run.error && run.status === 0;
}

// Outside Debian only tools and pkg-config modules can be checked; cmake then finds OpenCV.
const ready = isDebianLike()
  ? missingDebianPackages(SOURCE_BUILD_PACKAGES).length === 0
  : commandWorks('cmake', ['--version']) && commandWorks('c++', ['--version']) && commandWorks('pkg-config', ['--exists', 'libavformat', 'libavcodec', 'libavutil', 'libswscale']);
if (!ready) {
  say(failure.message);
  process.exit(0);
}

say('no prebuilt addon loads here: building it from source with cmake-js (a few minutes)');
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, encoding: 'utf8' });
rmSync(logPath, { force: true });
const after = loads();
if (after) {
  // The loader's message points to this log from now on.
  mkdirSync(dirname(logPath), { recursive: true });
  writeFileSync(logPath, `${build.stdout ?? ''}\n${build.stderr ?? ''}\n${build.error ? String(build.error) : ''}`);
  say(`the source build did not give a loadable addon (log: ${logPath}).\n${after.message}`);
} else say(`built ${join(root, 'build', 'Release', 'framesift.node')}`);
process.exit(0);
