/**
 * Output faults (issue 13): a nearly full filesystem, a read-only output folder, the output
 * folder removed mid-run, and SIGKILL mid-run. Each ends with ERR_FRAMESIFT_OUTPUT naming the
 * path and errno, or (after SIGKILL) with a next run that removes the stale temporary files
 * and does not count them; never a half-written image or manifest under a final name.
 * Filesystems are small tmpfs mounts made by the test (CI runs as root).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { packageRoot } from '../bindings/index.js';
import { extractFrames, type Manifest } from '../src/extract.js';
import { isTempName, validateManifest } from '../src/output/index.js';
import { fixtures } from './helpers/fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'framesift-faults-'));
const mounts: string[] = [];

function mountTmpfs(name: string, size: string): string {
  const at = join(root, name);
  mkdirSync(at, { recursive: true });
  const run = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`mount tmpfs at ${at} failed (the test needs root): ${run.stderr}`);
  mounts.push(at);
  return at;
}

/** Every file of DIR (recursively), relative paths sorted. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** No temporary file is left, and every image under a final name decodes whole. */
async function onlyCompleteFiles(dir: string): Promise<void> {
  const files = tree(dir);
  expect(files.filter((f) => isTempName(f.split('/').pop()!))).toEqual([]);
  for (const file of files.filter((f) => /^images\/frame_\d+\.(png|jpg)$/.test(f))) {
    const { info } = await sharp(join(dir, file)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([320, 240]);
  }
  if (files.includes('manifest.json')) expect(validateManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).valid).toBe(true);
}

async function outputFailure(run: Promise<unknown>): Promise<{ code: string; message: string; errno?: string }> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string; errno?: string },
  );
  expect(err, 'the run should have failed').toBeDefined();
  return err!;
}

beforeAll(() => {
  fixtures.cfr();
});

afterAll(() => {
  for (const at of mounts.reverse()) spawnSync('umount', ['-l', at]);
  rmSync(root, { recursive: true, force: true });
});

describe('output faults', () => {
  it('a nearly full filesystem: ERR_FRAMESIFT_OUTPUT with the path and ENOSPC, no partial file', async () => {
    const disk = mountTmpfs('full', '1m');
    // Leave about 160 KB: room for the analysis files, not for five lossless 320x240 frames.
    writeFileSync(join(disk, 'filler'), Buffer.alloc(1024 * 1024 - 160 * 1024));
    const out = join(disk, 'out');
    const err = await outputFailure(extractFrames(fixtures.cfr(), { outDir: out, count: 5, format: 'png', mode: 'fast' }));
    expect(err.code).toBe('ERR_FRAMESIFT_OUTPUT');
    expect(err.errno).toBe('ENOSPC');
    expect(err.message).toContain(out);
    expect(err.message).toMatch(/ENOSPC/);
    await onlyCompleteFiles(out);
    expect(tree(out)).not.toContain('manifest.json');
  });

  it('a read-only output folder: ERR_FRAMESIFT_OUTPUT with the path and EROFS', async () => {
    const disk = mountTmpfs('readonly', '4m');
    mkdirSync(join(disk, 'out'));
    expect(spawnSync('mount', ['-o', 'remount,ro', disk]).status).toBe(0);
    const out = join(disk, 'out');
    const err = await outputFailure(extractFrames(fixtures.cfr(), { outDir: out, count: 3, mode: 'fast' }));
    expect(err.code).toBe('ERR_FRAMESIFT_OUTPUT');
    expect(err.errno).toBe('EROFS');
    expect(err.message).toContain(join(out, 'images'));
    expect(tree(out)).toEqual([]);
  });

  it('the output folder removed mid-run: ERR_FRAMESIFT_OUTPUT with the path and ENOENT, nothing recreated', async () => {
    const out = join(root, 'removed');
    let removedAt: string | undefined;
    const err = await outputFailure(
      extractFrames(fixtures.cfr(), {
        outDir: out,
        count: 4,
        onProgress: (p) => {
          // Once the candidates are being encoded: the folder disappears under the run.
          if (removedAt === undefined && (p.stage === 'select' || p.stage === 'tracks' || p.stage === 'write')) {
            removedAt = p.stage;
            rmSync(out, { recursive: true, force: true });
          }
        },
      }),
    );
    expect(removedAt).toBeDefined();
    expect(err.code).toBe('ERR_FRAMESIFT_OUTPUT');
    expect(err.errno).toBe('ENOENT');
    expect(err.message).toContain(out);
    expect(existsSync(out)).toBe(false);
  });

  it('SIGKILL mid-run: the next run removes the stale temporary files and does not count them', async () => {
    const out = join(root, 'killed');
    const bin = join(packageRoot(), 'bin', 'framesift.js');
    // MALLOC_ARENA_MAX set: the launcher runs the work in this process (no re-spawned child), so
    // the preload holds this process's renames: the first temporary file is never moved into
    // place, and the marker says when it is there.
    const marker = join(root, 'killed.held');
    const hold = join(packageRoot(), 'test', 'helpers', 'hold-renames.cjs');
    const env = { ...process.env, MALLOC_ARENA_MAX: '2' };
    const child = spawn(process.execPath, ['--require', hold, bin, 'extract', fixtures.cfr(), '-o', out, '--count', '6', '--quiet'], {
      env: { ...env, FRAMESIFT_TEST_HELD_MARKER: marker },
      stdio: 'ignore',
    });
    const temps = await new Promise<string[]>((resolve, reject) => {
      const poll = setInterval(() => {
        if (!existsSync(marker)) return;
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve(tree(out).filter((f) => isTempName(f.split('/').pop()!)));
      }, 5);
      child.once('exit', () => {
        clearInterval(poll);
        reject(new Error('the run ended before it wrote a temporary file'));
      });
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    expect(child.signalCode).toBe('SIGKILL');
    const left = tree(out).filter((f) => isTempName(f.split('/').pop()!));
    expect(left.length).toBeGreaterThan(0);
    expect(temps.length).toBeGreaterThan(0);
    expect(tree(out)).not.toContain('manifest.json');

    // The next run into the same folder, without --force: the stale files go, the run completes.
    const again = spawnSync(process.execPath, [bin, 'extract', fixtures.cfr(), '-o', out, '--count', '6', '--quiet', '--json'], { env, encoding: 'utf8', timeout: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    const images = tree(join(out, 'images'));
    expect(images).toEqual(manifest.frames.map((f) => f.file).sort());
    expect(manifest.frames).toHaveLength(6);
    await onlyCompleteFiles(out);
  }, 120_000);
});
