/**
 * Loading the native addon (bindings/index.ts, bindings/requirements.ts): the order of the
 * places tried, and what the error says when a shared library is missing or a source build
 * needs packages. The missing library is real: a small .node linked against a library that is
 * deleted before the load.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { candidatePaths, loadNative, packageRoot } from '../bindings/index.js';
import { aptLine, missingDebianPackages, RUNTIME_MANIFEST, runtimeAdvice, SOURCE_BUILD_PACKAGES, sourceBuildAdvice, systemName } from '../bindings/requirements.js';

const work = mkdtempSync(join(tmpdir(), 'framesift-loader-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const savedOverride = process.env.FRAMESIFT_NATIVE;
afterEach(() => {
  if (savedOverride === undefined) delete process.env.FRAMESIFT_NATIVE;
  else process.env.FRAMESIFT_NATIVE = savedOverride;
});

/** A package root with a prebuild and a local build, `localNewer` deciding their mtimes. */
function fakeRoot(name: string, options: { git: boolean; localNewer: boolean; musl?: boolean }): { root: string; local: string; prebuild: string } {
  const root = join(work, name);
  const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  mkdirSync(prebuildDir, { recursive: true });
  mkdirSync(join(root, 'build', 'Release'), { recursive: true });
  if (options.git) mkdirSync(join(root, '.git'));
  const prebuild = join(prebuildDir, 'framesift.glibc.node');
  const local = join(root, 'build', 'Release', 'framesift.node');
  writeFileSync(prebuild, '');
  writeFileSync(local, '');
  if (options.musl) writeFileSync(join(prebuildDir, 'framesift.musl.node'), '');
  const older = new Date(Date.now() - 60_000);
  const newer = new Date();
  utimesSync(prebuild, options.localNewer ? older : newer, options.localNewer ? older : newer);
  utimesSync(local, options.localNewer ? newer : older, options.localNewer ? newer : older);
  return { root, local, prebuild };
}

describe('loader order', () => {
  it('in a development checkout a local build newer than the prebuild comes first', () => {
    delete process.env.FRAMESIFT_NATIVE;
    const { root, local, prebuild } = fakeRoot('dev-fresh', { git: true, localNewer: true });
    expect(candidatePaths(root)).toEqual([
      { path: local, source: 'local build' },
      { path: prebuild, source: 'prebuild' },
    ]);
  });

  it('a stale local build, or any build of an installed package, comes after the prebuild', () => {
    delete process.env.FRAMESIFT_NATIVE;
    const stale = fakeRoot('dev-stale', { git: true, localNewer: false });
    expect(candidatePaths(stale.root).map((c) => c.path)).toEqual([stale.prebuild, stale.local]);
    const installed = fakeRoot('installed', { git: false, localNewer: true });
    expect(candidatePaths(installed.root)).toEqual([
      { path: installed.prebuild, source: 'prebuild' },
      { path: installed.local, source: 'source build' },
    ]);
  });

  it('skips a prebuild tagged for the other libc', () => {
    delete process.env.FRAMESIFT_NATIVE;
    const { root } = fakeRoot('libc', { git: false, localNewer: false, musl: true });
    const names = candidatePaths(root).map((c) => c.path.split('/').at(-1));
    expect(names).toEqual(['framesift.glibc.node', 'framesift.node']);
  });

  it('FRAMESIFT_NATIVE, when set, is the only candidate', () => {
    const { root } = fakeRoot('override', { git: true, localNewer: true });
    process.env.FRAMESIFT_NATIVE = '/somewhere/else.node';
    expect(candidatePaths(root)).toEqual([{ path: '/somewhere/else.node', source: 'FRAMESIFT_NATIVE' }]);
  });
});

describe('load errors', () => {
  it('names each missing shared library with its Debian package and one apt line', () => {
    const dir = join(work, 'missing-lib');
    mkdirSync(dir);
    const soname = 'libframesift_gone.so.7';
    writeFileSync(join(dir, 'gone.c'), 'int framesift_gone(void) { return 7; }\n');
    writeFileSync(join(dir, 'addon.c'), 'extern int framesift_gone(void);\nint framesift_uses_gone(void) { return framesift_gone(); }\n');
    execFileSync('cc', ['-shared', '-fPIC', `-Wl,-soname,${soname}`, '-o', join(dir, soname), join(dir, 'gone.c')]);
    execFileSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'framesift.node'), join(dir, 'addon.c'), `-L${dir}`, `-l:${soname}`]);
    rmSync(join(dir, soname));
    process.env.FRAMESIFT_NATIVE = join(dir, 'framesift.node');
    const loadError = (builtOn: string) => {
      writeFileSync(join(dir, RUNTIME_MANIFEST), JSON.stringify({ builtOn, libraries: { [soname]: 'libframesift-gone7' } }));
      try {
        loadNative();
      } catch (err) {
        return err as Error & { code?: string };
      }
      throw new Error('the addon loaded without its library');
    };
    // Built on this system: the apt line is the fix.
    const here = loadError(systemName());
    expect(here.code).toBe('ERR_FRAMESIFT_NATIVE_LOAD');
    expect(here.message).toContain(`${join(dir, 'framesift.node')} built on ${systemName()} needs shared libraries this system does not have:`);
    expect(here.message).toContain(`missing ${soname} (Debian package libframesift-gone7)`);
    expect(here.message).toContain(`Install them: ${aptLine(['libframesift-gone7'])}`);
    // Built elsewhere: the packages are that system's; this one needs the same versions or a source build.
    const elsewhere = loadError('Otherix 9');
    expect(elsewhere.message).toContain(`On Otherix 9: ${aptLine(['libframesift-gone7'])}`);
    expect(elsewhere.message).toContain(`This system is ${systemName()}: install the packages that provide these exact library versions, or build from source (below).`);
  });

  it('says when the prebuild needs a newer glibc than the system has', () => {
    const dir = join(work, 'old-glibc');
    mkdirSync(dir);
    const file = join(dir, 'framesift.glibc.node');
    writeFileSync(join(dir, RUNTIME_MANIFEST), JSON.stringify({ builtOn: 'Debian GNU/Linux 12 (bookworm)', libraries: {} }));
    // The dynamic loader's wording (glibc's dl-version.c).
    const message = `/lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.34' not found (required by ${file})`;
    expect(runtimeAdvice(file, message)).toEqual([`The addon ${file} was built on Debian GNU/Linux 12 (bookworm) and needs GLIBC_2.34, newer than this system's; build it from source here (below).`]);
  });

  it('lists exactly the source-build packages dpkg does not have', () => {
    expect(missingDebianPackages(['cmake', 'pkg-config', 'libframesift-nonexistent-dev'])).toEqual(['libframesift-nonexistent-dev']);
    const advice = sourceBuildAdvice(['libavcodec-dev', 'cmake']);
    expect(advice[0]).toBe(`The source build needs these Debian packages: ${aptLine(['libavcodec-dev', 'cmake'])}`);
    expect(advice.join('\n')).toContain('npm rebuild framesift');
    expect(advice.join('\n')).toContain('npm approve-scripts framesift');
  });

  it('asks for the same -dev packages that scripts/setup.sh installs', () => {
    const setup = readFileSync(join(packageRoot(), 'scripts', 'setup.sh'), 'utf8');
    const block = /APT_PACKAGES=\(([\s\S]*?)\)/.exec(setup)![1]!;
    const setupPackages = block.split(/\s+/).filter((w) => w && !w.startsWith('#'));
    const libraries = SOURCE_BUILD_PACKAGES.filter((p) => p.endsWith('-dev') || p === 'cmake' || p === 'pkg-config');
    for (const pkg of libraries) expect(setupPackages, pkg).toContain(pkg);
  });

  it('loads the real addon and says from where', async () => {
    delete process.env.FRAMESIFT_NATIVE;
    const { nativeLoadInfo } = await import('../bindings/index.js');
    const addon = loadNative();
    expect(typeof addon.decoders).toBe('function');
    const info = nativeLoadInfo();
    expect(info?.path).toBe(candidatePaths()[0]!.path);
    expect(addon.decoders().h264.map((d) => d.name)).toContain('h264');
  });
});
