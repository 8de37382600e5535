/**
 * extract --colmap / --reconstruct against Debian's COLMAP: the database has COLMAP's own
 * schema, holds the picks with their features and verified geometry, and colmap mapper
 * registers every pick from it; no database without --colmap; a failed write leaves nothing.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import { FramesiftError } from '../src/errors.js';
import { extractFrames, type Manifest } from '../src/extract.js';
import { pairId, validateManifest, writeColmapDatabase, type ColmapDatabaseContent } from '../src/output/index.js';
import { colmapCamera, DATABASE_FEATURES, loopCandidates, sampsonInliers } from '../src/pipeline/stages/colmap.js';
import { findColmap, parseModelAnalyzer } from '../src/pipeline/stages/reconstruct.js';
import { ffmpeg } from './helpers/ffmpeg.js';
import { fixturesDir } from './helpers/fixtures.js';
import { makeOrbitScene } from './helpers/sfm-scene.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'framesift-colmap-'));
const MAX_ID = 2147483647;

/** Tables (with columns: name, type, not null, primary key) and indexes of a SQLite file. */
function schemaOf(path: string): Record<string, unknown> {
  const db = new Database(path, { readonly: true });
  try {
    const out: Record<string, unknown> = {};
    const objects = db.prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY name").all() as Array<{ type: string; name: string; tbl_name: string }>;
    for (const o of objects) {
      if (o.type === 'table') out[`table ${o.name}`] = db.prepare(`PRAGMA table_info(${o.name})`).all().map((c: any) => [c.name, c.type, c.notnull, c.pk]);
      else if (o.type === 'index') out[`index ${o.name}`] = [o.tbl_name, db.prepare(`PRAGMA index_info(${o.name})`).all().map((c: any) => c.name)];
    }
    return out;
  } finally {
    db.close();
  }
}

function tinyContent(): ColmapDatabaseContent {
  const keypoints = new Float32Array(6 * 3).map((_, k) => k);
  return {
    cameras: [{ model: 'SIMPLE_RADIAL', width: 64, height: 48, params: [76.8, 32, 24, 0], priorFocalLength: false }],
    images: [
      { name: 'a.jpg', camera: 0, keypoints, descriptors: new Uint8Array(128 * 3).fill(7) },
      { name: 'b.jpg', camera: 0, keypoints, descriptors: new Uint8Array(128 * 3).fill(9) },
    ],
    pairs: [{ image1: 1, image2: 0, matches: Uint32Array.from([0, 1, 2, 0]), inliers: Uint32Array.from([2, 0]), config: 'UNCALIBRATED', F: [1, 2, 3, 4, 5, 6, 7, 8, 9], H: [2, 0, 0, 0, 4, 0, 0, 0, 1] }],
  };
}

describe('COLMAP database schema', () => {
  it('has the tables, columns and indexes of colmap database_creator', async () => {
    const dir = tempDir();
    const reference = join(dir, 'reference.db');
    const run = spawnSync('colmap', ['database_creator', '--database_path', reference], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    await writeColmapDatabase(join(dir, 'ours.db'), tinyContent());
    const theirs = schemaOf(reference);
    expect(Object.keys(theirs)).toEqual(['table cameras', 'table descriptors', 'table images', 'index index_name', 'table keypoints', 'table matches', 'table sqlite_sequence', 'table two_view_geometries']);
    expect(schemaOf(join(dir, 'ours.db'))).toEqual(theirs);
  });

  it('stores a reversed pair the COLMAP way: smaller id first, columns swapped, F transposed, H inverted', async () => {
    const dir = tempDir();
    const summary = await writeColmapDatabase(join(dir, 'db.db'), tinyContent());
    expect(summary).toMatchObject({ images: 2, keypoints: 6, matchedPairs: 1, verifiedPairs: 1, inlierMatches: 1 });
    const db = new Database(join(dir, 'db.db'), { readonly: true });
    const row = db.prepare('SELECT pair_id, rows, cols, data, config, F, H FROM two_view_geometries').get() as any;
    const matches = db.prepare('SELECT pair_id, data FROM matches').get() as any;
    db.close();
    expect(pairId(2, 1)).toBe(BigInt(MAX_ID + 2));
    expect(row.pair_id).toBe(MAX_ID + 2);
    expect(Array.from(new Uint32Array(new Uint8Array(matches.data).buffer))).toEqual([1, 0, 0, 2]);
    expect([row.rows, row.cols, row.config]).toEqual([1, 2, 3]);
    expect(Array.from(new Uint32Array(new Uint8Array(row.data).buffer))).toEqual([0, 2]);
    expect(Array.from(new Float64Array(new Uint8Array(row.F).buffer))).toEqual([1, 4, 7, 2, 5, 8, 3, 6, 9]);
    expect(Array.from(new Float64Array(new Uint8Array(row.H).buffer), (v) => v + 0)).toEqual([0.5, 0, 0, 0, 0.25, 0, 0, 0, 1]);
  });

  it('tries every pair for loops up to 60 images, a grid and quadratic offsets beyond', () => {
    expect(loopCandidates(5)).toHaveLength(10);
    expect(loopCandidates(60)).toHaveLength(1770);
    const many = loopCandidates(400);
    expect(many.length).toBeLessThan(400 * 10 + 800);
    const keys = new Set(many.map(([i, j]) => `${i},${j}`));
    expect(keys.size).toBe(many.length);
    expect(keys.has('0,390')).toBe(true); // first and last stretch meet (an orbit's loop)
    expect(keys.has('100,104') && keys.has('100,108') && keys.has('100,228')).toBe(true);
    for (const [i, j] of many) expect(i < j && j < 400).toBe(true);
  });

  it('takes a stated 35 mm-equivalent focal length as a prior, else COLMAP\'s 1.2 x guess without one', () => {
    expect(colmapCamera(960, 540, 28)).toEqual({ model: 'SIMPLE_RADIAL', width: 960, height: 540, params: [(28 / 36) * 960, 480, 270, 0], priorFocalLength: true });
    expect(colmapCamera(540, 960, 28).params[0]).toBeCloseTo((28 / 36) * 960, 9); // portrait: the longer side still
    expect(colmapCamera(960, 540, 0)).toEqual({ model: 'SIMPLE_RADIAL', width: 960, height: 540, params: [1152, 480, 270, 0], priorFocalLength: false });
  });

  it('takes as inliers the matches within 4 px (Sampson) of F, as COLMAP does', () => {
    // Translation along x: epipolar lines are the rows; Sampson error = row offset / sqrt(2).
    const F = [0, 0, 0, 0, 0, -1, 0, 1, 0];
    const a = new Float32Array(6 * 4), b = new Float32Array(6 * 4);
    [[10, 20, 40, 20], [50, 60, 90, 65], [70, 80, 75, 88], [30, 30, 31, 32]].forEach(([x1, y1, x2, y2], k) => {
      a.set([x1!, y1!], 6 * k);
      b.set([x2!, y2!], 6 * k);
    });
    const all = Uint32Array.from([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(Array.from(sampsonInliers(all, a, b, F))).toEqual([0, 0, 1, 1, 3, 3]);
    expect(Array.from(sampsonInliers(all, a, b, F, 1))).toEqual([0, 0]);
  });

  it('refuses matches that point past an image\'s keypoints', async () => {
    const content = tinyContent();
    content.pairs[0]!.inliers = Uint32Array.from([3, 0]);
    await expect(writeColmapDatabase(join(tempDir(), 'db.db'), content)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
  });
});

describe('a failing database write', () => {
  const writer = fileURLToPath(new URL('./helpers/write-colmap-db.ts', import.meta.url));

  it('in a read-only folder gives ERR_FRAMESIFT_OUTPUT and leaves no file', () => {
    const dir = tempDir();
    const target = join(dir, 'colmap');
    mkdirSync(target);
    chmodSync(dir, 0o755);
    chmodSync(target, 0o555);
    // Root ignores permission bits: the write runs as 'nobody' then.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const tsx = join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules', '.bin', 'tsx');
    const run = spawnSync(tsx, [writer, join(target, 'database.db')], { encoding: 'utf8', ...asUser, env: { ...process.env, HOME: dir } });
    expect(run.stdout.trim(), run.stderr).toMatch(/^ERR_FRAMESIFT_OUTPUT Could not write the COLMAP database .*database\.db: (unable to open|.*EACCES|.*permission denied)/i);
    expect(readdirSync(target)).toEqual([]);
  });

  it('that fails at the final rename removes the complete temporary file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'database.db'));
    writeFileSync(join(dir, 'database.db', 'keep'), 'x');
    const err = await writeColmapDatabase(join(dir, 'database.db'), tinyContent()).catch((e) => e);
    expect(err).toBeInstanceOf(FramesiftError);
    expect(err.code).toBe('ERR_FRAMESIFT_OUTPUT');
    expect(readdirSync(dir)).toEqual(['database.db']);
  });
});

describe('extract --colmap on a textured 3D scene', () => {
  let video: string;
  let dir: string;
  let manifest: Manifest;

  beforeAll(async () => {
    video = makeOrbitScene(join(fixturesDir, 'orbit-scene-480.mp4'), { width: 480, height: 270, frames: 30, fps: 10, arcDeg: 50 });
    dir = tempDir();
    manifest = await extractFrames(video, { outDir: join(dir, 'out'), count: 8, reconstruct: true, threads: 2 });
  }, 240_000);

  it('writes the picks, their features and the verified pairs of pairs.txt', () => {
    expect(validateManifest(manifest).errors).toEqual([]);
    const out = join(dir, 'out');
    const db = new Database(join(out, 'colmap', 'database.db'), { readonly: true });
    const images = db.prepare('SELECT image_id, name, camera_id FROM images ORDER BY image_id').all() as any[];
    const cameras = db.prepare('SELECT model, width, height, params, prior_focal_length FROM cameras').all() as any[];
    const keypoints = db.prepare('SELECT k.image_id, k.rows AS kr, k.cols AS kc, d.rows AS dr, d.cols AS dc, k.data FROM keypoints k JOIN descriptors d USING (image_id)').all() as any[];
    const geometries = db.prepare('SELECT pair_id, rows, data, config, F FROM two_view_geometries').all() as any[];
    const matchRows = new Set((db.prepare('SELECT pair_id FROM matches').all() as any[]).map((r) => r.pair_id as number));
    db.close();
    expect(images.map((r) => r.name)).toEqual(manifest.frames.map((f) => f.file));
    expect(cameras).toHaveLength(1);
    expect(cameras[0]).toMatchObject({ model: 2, width: 480, height: 270, prior_focal_length: 0 });
    expect(Array.from(new Float64Array(new Uint8Array(cameras[0].params).buffer))).toEqual([576, 240, 135, 0]);
    for (const k of keypoints) expect([k.kc, k.dc, k.dr]).toEqual([6, 128, k.kr]);
    // By default SIFT is found again on every written image, up to COLMAP's count.
    expect(manifest.colmap).toMatchObject({ database: 'colmap/database.db', features: 'full', images: 8, cameras: 1 });
    for (const k of keypoints) expect(k.kr > 0 && k.kr <= DATABASE_FEATURES).toBe(true);
    expect(manifest.colmap!.keypoints).toBe(keypoints.reduce((a, k) => a + k.kr, 0));
    // Every pair of pairs.txt is matched; those that verified carry their inliers, and so do the
    // loop pairs beyond it that verified.
    const listed = new Set(
      readFileSync(join(out, 'pairs.txt'), 'utf8').trim().split('\n').map((line) => {
        const [a, b] = line.split(' ').map((n) => images.find((r) => r.name === n)!.image_id as number);
        return Number(pairId(a!, b!));
      }),
    );
    for (const id of listed) expect(matchRows.has(id)).toBe(true);
    expect(geometries.length).toBe(manifest.colmap!.verifiedPairs);
    expect(geometries.filter((g) => !listed.has(g.pair_id)).length).toBe(manifest.colmap!.loopPairs);
    expect(manifest.colmap!.loopPairs).toBeGreaterThan(0);
    expect(geometries.length).toBeGreaterThanOrEqual(images.length - 1);
    // The inliers satisfy their F in the written images' pixels (COLMAP's convention).
    const xy = new Map(keypoints.map((k) => [k.image_id, new Float32Array(new Uint8Array(k.data).buffer)]));
    for (const g of geometries) {
      expect(matchRows.has(g.pair_id)).toBe(true);
      const [i, j] = [Math.floor(g.pair_id / MAX_ID), g.pair_id % MAX_ID];
      expect(i).toBeLessThan(j);
      expect([3, 6]).toContain(g.config);
      const F = new Float64Array(new Uint8Array(g.F).buffer);
      const m = new Uint32Array(new Uint8Array(g.data).buffer);
      const errors: number[] = [];
      for (let k = 0; k < m.length; k += 2) {
        const a = xy.get(i)!, b = xy.get(j)!;
        const [x1, y1, x2, y2] = [a[6 * m[k]!]!, a[6 * m[k]! + 1]!, b[6 * m[k + 1]!]!, b[6 * m[k + 1]! + 1]!];
        const l = [F[0]! * x1 + F[1]! * y1 + F[2]!, F[3]! * x1 + F[4]! * y1 + F[5]!, F[6]! * x1 + F[7]! * y1 + F[8]!];
        errors.push(Math.abs(x2 * l[0]! + y2 * l[1]! + l[2]!) / Math.hypot(l[0]!, l[1]!));
      }
      errors.sort((a, b) => a - b);
      expect(errors[errors.length >> 1]).toBeLessThan(1);
    }
  });

  it("takes an image folder's EXIF 35 mm focal length as the camera's prior", async () => {
    const src = tempDir();
    ffmpeg(['-i', video, '-frames:v', '10', '-q:v', '3', join(src, 'raw%02d.jpg')]);
    for (const f of readdirSync(src)) await sharp(join(src, f)).withExif({ IFD2: { FocalLengthIn35mmFilm: '26' } }).toFile(join(src, f.replace('raw', 'img')));
    for (const f of readdirSync(src).filter((f) => f.startsWith('raw'))) rmSync(join(src, f));
    const out = join(tempDir(), 'out');
    const m = await extractFrames(src, { outDir: out, count: 4, colmap: true, threads: 2 });
    expect(m.colmap!.camera).toMatchObject({ focalPx: (26 / 36) * 480, priorFocalLength: true });
    const db = new Database(join(out, 'colmap', 'database.db'), { readonly: true });
    const camera = db.prepare('SELECT params, prior_focal_length FROM cameras').get() as any;
    db.close();
    expect(camera.prior_focal_length).toBe(1);
    expect(Array.from(new Float64Array(new Uint8Array(camera.params).buffer))).toEqual([(26 / 36) * 480, 240, 135, 0]);
  }, 120_000);

  it('lets colmap mapper register every pick (--reconstruct)', () => {
    const rec = manifest.colmap!.reconstruction!;
    expect(rec).toMatchObject({ status: 'ok', sparseDir: 'colmap/sparse', images: 8, imagesRegistered: 8 });
    expect(rec.points3D).toBeGreaterThan(200);
    expect(rec.meanReprojectionErrorPx).toBeLessThan(1.5);
    expect(readdirSync(join(dir, 'out', 'colmap', 'sparse', rec.bestModel!))).toEqual(expect.arrayContaining(['cameras.bin', 'images.bin', 'points3D.bin']));
    expect(manifest.timings.reconstruct).toBeGreaterThan(0);
  });

  it('writes no database without --colmap (and --force removes the previous one)', async () => {
    const again = await extractFrames(video, { outDir: join(dir, 'out'), count: 8, force: true, threads: 2 });
    expect(again.colmap).toBeUndefined();
    expect(existsSync(join(dir, 'out', 'colmap'))).toBe(false);
    expect(readdirSync(join(dir, 'out'))).toEqual(expect.arrayContaining(['analysis.csv', 'images', 'images.txt', 'manifest.json', 'pairs.txt']));
    expect(readdirSync(join(dir, 'out'))).not.toContain('colmap');
  }, 120_000);
});

describe('--reconstruct without COLMAP', () => {
  it('fails at once with ERR_FRAMESIFT_COLMAP_MISSING when colmap is not on PATH', async () => {
    await expect(findColmap({ PATH: '/nonexistent:/usr/local/nowhere' })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_COLMAP_MISSING', message: expect.stringContaining('not on PATH') });
    expect(await findColmap()).toMatch(/\/colmap$/);
  });

  it('from the CLI: exit 1 before any output, naming the cause', () => {
    const dir = tempDir();
    const bin = fileURLToPath(new URL('../bin/framesift.js', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'extract', fileURLToPath(new URL('../samples/orbit.mp4', import.meta.url)), '-o', join(dir, 'out'), '--count', '4', '--reconstruct'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: '/nonexistent' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('ERR_FRAMESIFT_COLMAP_MISSING');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('reads model_analyzer\'s summary', () => {
    const text = 'Cameras: 1\nImages: 8\nRegistered images: 7\nPoints: 409\nObservations: 1588\nMean track length: 3.882641\nMean observations per image: 198.5\nMean reprojection error: 0.233692px\n';
    expect(parseModelAnalyzer(text)).toEqual({ images: 8, registered: 7, points: 409, observations: 1588, meanTrackLength: 3.882641, meanReprojectionErrorPx: 0.233692 });
  });
});
