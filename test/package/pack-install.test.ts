/**
 * framesift as a user's dependency: `npm pack` of this checkout (the real prepack: TypeScript
 * build and the prebuild), then a fresh project outside the repository installs the tarball
 * with a plain `npm install` (no environment variables, no .npmrc of ours) and uses it: the API
 * (probe, extractFrames), `npx framesift --version`, `npx framesift doctor --json`, --model
 * without onnxruntime-node (its error), the types (tsc on examples.ts), then onnxruntime-node
 * installed the CPU way and an extract with a generated test model.
 *
 * It rebuilds dist/ and prebuilds/ of this checkout, so it runs in its own CI step
 * (scripts/ci-package.sh, vitest.package.config.ts), never beside the main suite.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../../bindings/index.js';
import { writeTestModel, TEST_MODELS } from '../../scripts/make-test-model.js';
import { fixtures } from '../helpers/fixtures.js';

const repo = packageRoot();
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
/** The onnxruntime-node the project tests with (already in npm's cache after `npm ci`). */
const onnxVersion: string = lock.packages['node_modules/onnxruntime-node'].version;

const work = mkdtempSync(join(tmpdir(), 'framesift-pack-'));
const app = join(work, 'app');
const timings: Record<string, number> = {};

/** The environment of a user's shell: none of npm's variables from `npm test`, none of ours. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key.startsWith('FRAMESIFT_') || key.startsWith('ONNXRUNTIME_') || key === 'INIT_CWD' || key.startsWith('VITEST')) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter);
  return { ...env, ...extra };
}

function run(label: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: options.cwd ?? app, env: options.env ?? userEnv(), encoding: 'utf8', maxBuffer: 1 << 26 });
  timings[label] = (timings[label] ?? 0) + (performance.now() - started) / 1000;
  return result;
}

function ok(result: SpawnSyncReturns<string>): string {
  if (result.status !== 0) throw new Error(`exit ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Every file under `dir`, relative to it. */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(dir, join(prefix, e.name)) : [join(prefix, e.name)]));
}

let tarball: string;
let clip: string;
let model: string;

beforeAll(async () => {
  mkdirSync(app, { recursive: true });
  // The tarball exactly as `npm publish` would make it (prepack runs).
  ok(run('npm pack (prepack: tsc + prebuild)', 'npm', ['pack', '--pack-destination', work], { cwd: repo, env: { ...process.env } }));
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  clip = join(work, 'clip.mp4');
  copyFileSync(fixtures.cfr(), clip);
  model = await writeTestModel(join(work, 'tiny.onnx'), TEST_MODELS['dinov3-f32']);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'framesift-user', version: '1.0.0', private: true, type: 'module' }, null, 2));
  ok(run('npm install framesift.tgz', 'npm', ['install', tarball, '--no-audit', '--no-fund']));
}, 600_000);

afterAll(() => {
  console.log(`pack/install timings (s): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, +v.toFixed(1)])))}`);
  rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('carries the prebuild, its runtime libraries list and the built code, and no sources or tests', () => {
    const files = ok(run('tar', 'tar', ['tzf', tarball], { cwd: work })).split('\n').filter(Boolean);
    expect(files).toContain('package/prebuilds/linux-x64/framesift.glibc.node');
    expect(files).toContain('package/prebuilds/linux-x64/framesift.runtime.json');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/internals.d.ts');
    expect(files).toContain('package/scripts/install.mjs');
    expect(files.filter((f) => /^package\/(test|src|bench)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const runtime = JSON.parse(readFileSync(join(app, 'node_modules', 'framesift', 'prebuilds', 'linux-x64', 'framesift.runtime.json'), 'utf8'));
    expect(runtime.libraries['libavcodec.so.59']).toBe('libavcodec59');
    expect(runtime.libraries['libopencv_core.so.406']).toBe('libopencv-core406');
  });

  it('imports onnxruntime-node and onnx-proto only lazily (nothing that ships loads them at import)', () => {
    const root = join(app, 'node_modules', 'framesift');
    const staticImporters = (pkg: string) =>
      files(root)
        .filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))
        .filter((f) => new RegExp(`^\\s*import\\s[^;]*?['"]${pkg}['"]`, 'm').test(readFileSync(join(root, f), 'utf8')));
    expect(staticImporters('onnxruntime-node')).toEqual([]);
    // The test-model writer (framesift bench without --model) is imported by `await import()` only.
    expect(staticImporters('onnx-proto')).toEqual(['dist/scripts/make-test-model.js']);
    expect(staticImporters('../../scripts/make-test-model.js')).toEqual([]);
    expect(readFileSync(join(root, 'dist', 'src', 'bench', 'inference.js'), 'utf8')).toContain("await import('../../scripts/make-test-model.js')");
  });

  it('passes publint with no message at all, suggestions included', async () => {
    const buffer = readFileSync(tarball);
    const result = await publint({ pack: { tarball: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer }, level: 'suggestion' });
    expect(result.messages.map((m) => formatMessage(m, result.pkg))).toEqual([]);
  });

  it('keeps onnxruntime-node and the build/test tools out of what a user installs', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'framesift', 'package.json'), 'utf8'));
    expect(installed.dependencies['onnxruntime-node']).toBeUndefined();
    expect(installed.peerDependenciesMeta['onnxruntime-node']).toEqual({ optional: true });
    for (const tool of ['onnx-proto', 'prebuildify', 'typescript', 'vitest', 'publint']) expect(installed.dependencies[tool]).toBeUndefined();
    expect(existsSync(join(app, 'node_modules', 'onnxruntime-node'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'onnx-proto'))).toBe(false);
  });
});

describe('in a fresh project', () => {
  it('imports the API, probes and extracts a generated clip with the prebuild', () => {
    const script = `
      import { probe, extractFrames } from 'framesift';
      const info = await probe(${JSON.stringify(clip)});
      const m = await extractFrames(${JSON.stringify(clip)}, { outDir: 'out-api', count: 5 });
      console.log(JSON.stringify({ codec: info.codec, width: info.width, height: info.height, frames: info.frameCount, picks: m.frames.length, files: m.frames.map((f) => f.file) }));`;
    writeFileSync(join(app, 'use-api.mjs'), script);
    const out = JSON.parse(ok(run('node: probe + extractFrames', process.execPath, ['use-api.mjs'])));
    expect(out).toMatchObject({ codec: 'h264', width: 320, height: 240, frames: 90, picks: 5 });
    for (const file of out.files) expect(existsSync(join(app, 'out-api', 'images', file))).toBe(true);
  });

  it('runs `npx framesift --version`', () => {
    expect(ok(run('npx framesift --version', 'npx', ['framesift', '--version'])).trim()).toBe(manifest.version);
  });

  it('runs `npx framesift doctor --json`: the prebuild loaded, onnxruntime missing with its fix, exit 0', () => {
    const report = JSON.parse(ok(run('npx framesift doctor --json', 'npx', ['framesift', 'doctor', '--json', '--out', join(app, 'out-doctor')])));
    const check = (id: string) => report.checks.find((c: { id: string }) => c.id === id);
    expect(report.extractCanRun).toBe(true);
    expect(check('addon')).toMatchObject({ status: 'ok', data: { source: 'prebuild', path: join(app, 'node_modules', 'framesift', 'prebuilds', 'linux-x64', 'framesift.glibc.node') } });
    expect(check('decoders').data.h264.length).toBeGreaterThan(0);
    expect(check('10-bit').status).toBe('ok');
    expect(check('onnxruntime')).toMatchObject({ status: 'warn' });
    expect(check('onnxruntime').fix).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node');
    expect(check('output').status).toBe('ok');
    for (const c of report.checks) if (c.status === 'warn' || c.status === 'fail') expect(c.fix, c.id).toBeTruthy();
  });

  it('fails `doctor` with exit 1 when the output folder cannot be written', () => {
    writeFileSync(join(app, 'a-file'), '');
    const result = run('npx framesift doctor (bad --out)', 'npx', ['framesift', 'doctor', '--out', join(app, 'a-file', 'out')]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/fail\s+output .*a-file/);
    expect(result.stdout).toContain('framesift extract cannot run here');
  });

  it('answers --model without onnxruntime-node with ERR_FRAMESIFT_ONNXRUNTIME_MISSING and the install line', () => {
    const result = run('npx framesift extract --model (no onnxruntime)', 'npx', ['framesift', 'extract', clip, '-o', 'out-no-ort', '--count', '4', '--model', model]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[ERR_FRAMESIFT_ONNXRUNTIME_MISSING]');
    expect(result.stderr).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node');
    expect(existsSync(join(app, 'out-no-ort'))).toBe(false);
  });

  it('never fails the install step: with the prebuild it is silent, with a broken override it explains and exits 0', () => {
    const silent = run('install step', process.execPath, [join(app, 'node_modules', 'framesift', 'scripts', 'install.mjs')]);
    expect(silent.status).toBe(0);
    expect(silent.stderr).toBe('');
    const broken = run('install step', process.execPath, [join(app, 'node_modules', 'framesift', 'scripts', 'install.mjs')], { env: userEnv({ FRAMESIFT_NATIVE: join(app, 'nowhere.node') }) });
    expect(broken.status).toBe(0);
    expect(broken.stderr).toContain(`tried ${join(app, 'nowhere.node')} (FRAMESIFT_NATIVE): not found`);
  });

  it('needs no install script for the prebuild (npm install --ignore-scripts, as npm 12 does for unapproved packages)', () => {
    const strict = join(work, 'app-no-scripts');
    mkdirSync(strict);
    writeFileSync(join(strict, 'package.json'), JSON.stringify({ name: 'framesift-user-no-scripts', version: '1.0.0', private: true, type: 'module' }));
    ok(run('npm install --ignore-scripts framesift.tgz', 'npm', ['install', tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: strict }));
    const script = `import { probe } from 'framesift'; console.log((await probe(${JSON.stringify(clip)})).frameCount);`;
    expect(ok(run('node: probe (no install scripts)', process.execPath, ['--input-type=module', '-e', script], { cwd: strict })).trim()).toBe('90');
    expect(existsSync(join(strict, 'node_modules', 'framesift', 'build'))).toBe(false);
  });

  it('type-checks examples.ts against the installed types (strict, skipLibCheck off)', () => {
    copyFileSync(join(repo, 'test', 'package', 'examples.ts'), join(app, 'examples.ts'));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, typeRoots: [join(repo, 'node_modules', '@types')], types: ['node'] },
        files: ['examples.ts'],
      }),
    );
    ok(run('tsc --noEmit examples.ts', process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']));
  });

  it('installs onnxruntime-node the CPU way and extracts with a generated model', () => {
    ok(run('npm install onnxruntime-node (CPU)', 'npm', ['install', `onnxruntime-node@${onnxVersion}`, '--prefer-offline', '--no-audit', '--no-fund'], { env: userEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' }) }));
    const summary = JSON.parse(ok(run('npx framesift extract --model', 'npx', ['framesift', 'extract', clip, '-o', 'out-model', '--count', '4', '--model', model, '--device', 'cpu', '--json', '--quiet'])));
    expect(summary).toMatchObject({ chosen: 4, provider: 'cpu' });
    const written = JSON.parse(readFileSync(join(app, 'out-model', 'manifest.json'), 'utf8'));
    expect(written.device).toMatchObject({ provider: 'cpu', requested: 'cpu' });
    const report = JSON.parse(ok(run('npx framesift doctor --json', 'npx', ['framesift', 'doctor', '--json'])));
    expect(report.checks.find((c: { id: string }) => c.id === 'provider:cpu')).toMatchObject({ status: 'ok' });
  });
});
