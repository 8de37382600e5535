/**
 * DIR/colmap/database.db: a COLMAP database (the SQLite schema of COLMAP 3.8, as
 * `colmap database_creator` makes it) holding framesift's own cameras, images, keypoints,
 * descriptors, matches and verified two-view geometries, so that `colmap mapper` runs on it
 * with no feature extraction or matching step.
 *
 * Layout (COLMAP's src/base/database.cc): image ids from 1; a pair is stored once under
 * pair_id = id1 * 2147483647 + id2 with id1 < id2 (a pair given the other way round is
 * swapped: match columns exchanged, F transposed, H inverted); every blob is row-major
 * little-endian: keypoints float32 (rows x 6: x, y, affine shape), descriptors uint8 (rows x 128), matches uint32
 * (rows x 2), camera params and F/E/H (3 x 3), qvec (4), tvec (3) float64.
 *
 * Written atomically: into a temporary file beside the final name, renamed when complete; a
 * failure removes the temporary file and reports ERR_FRAMESIFT_OUTPUT. better-sqlite3 is
 * synchronous: the rows go in small transactions with a yield to the event loop between them.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';


import { FramesiftError, invalidArg, isFramesiftError } from '../errors.js';
import { openSqlite, type SqliteDatabase } from '../core/sqlite.js';
import { outputError, tempPathFor } from './atomic.js';

export const COLMAP_DIR = 'colmap';
export const COLMAP_DATABASE_FILE = 'database.db';

/** COLMAP's camera model ids (src/base/camera_models.h) of the models framesift writes. */
export const CAMERA_MODEL_IDS = { SIMPLE_PINHOLE: 0, PINHOLE: 1, SIMPLE_RADIAL: 2, RADIAL: 3, OPENCV: 4 } as const;
export type CameraModel = keyof typeof CAMERA_MODEL_IDS;
const PARAM_COUNTS: Record<CameraModel, number> = { SIMPLE_PINHOLE: 3, PINHOLE: 4, SIMPLE_RADIAL: 4, RADIAL: 5, OPENCV: 8 };

/** TwoViewGeometry::ConfigurationType (src/estimators/two_view_geometry.h). */
export const TWO_VIEW_CONFIG = {
  UNDEFINED: 0,
  DEGENERATE: 1,
  CALIBRATED: 2,
  UNCALIBRATED: 3,
  PLANAR: 4,
  PANORAMIC: 5,
  PLANAR_OR_PANORAMIC: 6,
  WATERMARK: 7,
  MULTIPLE: 8,
} as const;
export type TwoViewConfig = keyof typeof TWO_VIEW_CONFIG;

/** COLMAP's kMaxNumImages: the factor of the first image id in a pair id. */
const MAX_IMAGE_ID = 2147483647n;
/** Keypoint columns as COLMAP 3.8 writes them: x, y and the affine shape. */
export const KEYPOINT_COLS = 6;

/** COLMAP's CREATE TABLE statements, verbatim in columns and constraints (checked by test against database_creator). */
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS cameras (camera_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, model INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, params BLOB, prior_focal_length INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS images (image_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL UNIQUE, camera_id INTEGER NOT NULL, prior_qw REAL, prior_qx REAL, prior_qy REAL, prior_qz REAL, prior_tx REAL, prior_ty REAL, prior_tz REAL, CONSTRAINT image_id_check CHECK(image_id >= 0 and image_id < ${MAX_IMAGE_ID}), FOREIGN KEY(camera_id) REFERENCES cameras(camera_id))`,
  `CREATE UNIQUE INDEX IF NOT EXISTS index_name ON images(name)`,
  `CREATE TABLE IF NOT EXISTS keypoints (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB, FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE)`,
  `CREATE TABLE IF NOT EXISTS descriptors (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB, FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE)`,
  `CREATE TABLE IF NOT EXISTS matches (pair_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB)`,
  `CREATE TABLE IF NOT EXISTS two_view_geometries (pair_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB, config INTEGER NOT NULL, F BLOB, E BLOB, H BLOB, qvec BLOB, tvec BLOB)`,
];

export interface ColmapCamera {
  model: CameraModel;
  width: number;
  height: number;
  /** The model's parameters in COLMAP's order (SIMPLE_RADIAL: f, cx, cy, k). */
  params: number[];
  /** True when the focal length comes from metadata (COLMAP then trusts it for calibrated geometry). */
  priorFocalLength: boolean;
}

export interface ColmapImage {
  /** File name relative to the image folder (COLMAP's --image_path). */
  name: string;
  /** Index into `cameras`. */
  camera: number;
  /** count x 6 floats (x, y, a11, a12, a21, a22) in COLMAP's pixel convention. */
  keypoints: Float32Array;
  /** count x 128 bytes. */
  descriptors: Uint8Array;
}

export interface ColmapPair {
  /** Indices into `images`. */
  image1: number;
  image2: number;
  /** Putative matches as (keypoint in image1, keypoint in image2) pairs. */
  matches: Uint32Array;
  /** Verified (inlier) matches, same layout; empty for a pair that did not verify. */
  inliers: Uint32Array;
  config: TwoViewConfig;
  /** Row-major 3 x 3, x2^T F x1 = 0 / x2 ~ H x1, in COLMAP's pixel convention of the written images. */
  F?: ArrayLike<number> | null;
  E?: ArrayLike<number> | null;
  H?: ArrayLike<number> | null;
}

export interface ColmapDatabaseContent {
  cameras: ColmapCamera[];
  images: ColmapImage[];
  pairs: ColmapPair[];
}

export interface ColmapDatabaseSummary {
  path: string;
  cameras: number;
  images: number;
  keypoints: number;
  matchedPairs: number;
  verifiedPairs: number;
  inlierMatches: number;
}

/** COLMAP's pair id of two image ids (either order). */
export function pairId(imageId1: number, imageId2: number): bigint {
  const [a, b] = imageId1 < imageId2 ? [imageId1, imageId2] : [imageId2, imageId1];
  return BigInt(a) * MAX_IMAGE_ID + BigInt(b);
}

function blob(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function matrixBlob(m: ArrayLike<number> | null | undefined): Buffer {
  return blob(Float64Array.from(m ?? new Array<number>(9).fill(0)));
}

/** Transpose of a row-major 3 x 3 matrix. */
export function transpose3(m: ArrayLike<number>): number[] {
  return [m[0]!, m[3]!, m[6]!, m[1]!, m[4]!, m[7]!, m[2]!, m[5]!, m[8]!];
}

/** Inverse of a row-major 3 x 3 matrix (adjugate / determinant); zeros when singular. */
export function invert3(m: ArrayLike<number>): number[] {
  const [a, b, c, d, e, f, g, h, i] = Array.from(m);
  const A = e! * i! - f! * h!, B = -(d! * i! - f! * g!), C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-300) return new Array<number>(9).fill(0);
  const adj = [A, -(b! * i! - c! * h!), b! * f! - c! * e!, B, a! * i! - c! * g!, -(a! * f! - c! * d!), C, -(a! * h! - b! * g!), a! * e! - b! * d!];
  return adj.map((v) => v / det);
}

function swapColumns(pairs: Uint32Array): Uint32Array {
  const out = new Uint32Array(pairs.length);
  for (let k = 0; k + 1 < pairs.length; k += 2) {
    out[k] = pairs[k + 1]!;
    out[k + 1] = pairs[k]!;
  }
  return out;
}

/** A short description of a typed array for messages (never its contents). */
function describe(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as { length: number }).length}`;
  return value === null ? 'null' : typeof value;
}

function validate(content: ColmapDatabaseContent): void {
  if (content === null || typeof content !== 'object') throw invalidArg('content', 'an object of cameras, images and pairs', content);
  const { cameras, images, pairs } = content;
  if (!Array.isArray(cameras) || cameras.length === 0) throw invalidArg('content.cameras', 'a non-empty array of cameras', cameras);
  cameras.forEach((c, k) => {
    if (!(c.model in CAMERA_MODEL_IDS)) throw invalidArg(`content.cameras[${k}].model`, Object.keys(CAMERA_MODEL_IDS).join(', '), c.model);
    if (!Array.isArray(c.params) || c.params.length !== PARAM_COUNTS[c.model] || !c.params.every(Number.isFinite))
      throw invalidArg(`content.cameras[${k}].params`, `${PARAM_COUNTS[c.model]} finite numbers for ${c.model}`, c.params);
    if (!Number.isInteger(c.width) || !Number.isInteger(c.height) || c.width < 1 || c.height < 1)
      throw invalidArg(`content.cameras[${k}]`, 'a positive integer width and height', `${c.width} x ${c.height}`);
  });
  if (!Array.isArray(images)) throw invalidArg('content.images', 'an array of images', images);
  const names = new Set<string>();
  images.forEach((im, k) => {
    if (typeof im.name !== 'string' || im.name === '' || names.has(im.name)) throw invalidArg(`content.images[${k}].name`, 'a unique image name', im.name);
    names.add(im.name);
    if (!Number.isInteger(im.camera) || im.camera < 0 || im.camera >= cameras.length) throw invalidArg(`content.images[${k}].camera`, `a camera index below ${cameras.length}`, im.camera);
    if (!(im.keypoints instanceof Float32Array) || im.keypoints.length % KEYPOINT_COLS !== 0) throw invalidArg(`content.images[${k}].keypoints`, `a Float32Array of ${KEYPOINT_COLS} values per keypoint`, describe(im.keypoints));
    if (!(im.descriptors instanceof Uint8Array) || im.descriptors.length !== (im.keypoints.length / KEYPOINT_COLS) * 128)
      throw invalidArg(`content.images[${k}].descriptors`, 'a Uint8Array of 128 bytes per keypoint', describe(im.descriptors));
  });
  if (!Array.isArray(pairs)) throw invalidArg('content.pairs', 'an array of pairs', pairs);
  const seen = new Set<bigint>();
  pairs.forEach((p, k) => {
    const ok = (i: number) => Number.isInteger(i) && i >= 0 && i < images.length;
    if (!ok(p.image1) || !ok(p.image2) || p.image1 === p.image2) throw invalidArg(`content.pairs[${k}]`, `two distinct image indices below ${images.length}`, [p.image1, p.image2]);
    const id = pairId(p.image1 + 1, p.image2 + 1);
    if (seen.has(id)) throw invalidArg(`content.pairs[${k}]`, 'a pair not listed before', [p.image1, p.image2]);
    seen.add(id);
    if (!(p.config in TWO_VIEW_CONFIG)) throw invalidArg(`content.pairs[${k}].config`, Object.keys(TWO_VIEW_CONFIG).join(', '), p.config);
    for (const key of ['matches', 'inliers'] as const) {
      const list = p[key];
      if (!(list instanceof Uint32Array) || list.length % 2 !== 0) throw invalidArg(`content.pairs[${k}].${key}`, 'a Uint32Array of index pairs', describe(list));
      const n1 = images[p.image1]!.keypoints.length / KEYPOINT_COLS, n2 = images[p.image2]!.keypoints.length / KEYPOINT_COLS;
      for (let m = 0; m < list.length; m += 2)
        if (list[m]! >= n1 || list[m + 1]! >= n2) throw invalidArg(`content.pairs[${k}].${key}[${m / 2}]`, `keypoint indices below ${n1} and ${n2}`, [list[m], list[m + 1]]);
    }
  });
}

/** Throws ERR_FRAMESIFT_NATIVE_LOAD when better-sqlite3 cannot open a database here (checked before a --colmap run). */
export function checkColmapDatabaseSupport(): void {
  openSqlite(':memory:').close();
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Rows per transaction between two yields to the event loop. */
const ROWS_PER_CHUNK = 8;

/**
 * Writes `content` as a COLMAP database at `path` (its folder is created), replacing a
 * previous file only once the new one is complete.
 */
export async function writeColmapDatabase(path: string, content: ColmapDatabaseContent, signal?: AbortSignal): Promise<ColmapDatabaseSummary> {
  if (typeof path !== 'string' || path === '') throw invalidArg('path', 'a database file path', path);
  validate(content);
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (err) {
    throw outputError(`Could not create ${dirname(path)}`, err);
  }
  const temp = tempPathFor(path);
  let db: SqliteDatabase | undefined;
  const summary: ColmapDatabaseSummary = { path, cameras: content.cameras.length, images: content.images.length, keypoints: 0, matchedPairs: 0, verifiedPairs: 0, inlierMatches: 0 };
  try {
    db = openSqlite(temp);
    // The temporary file is thrown away on any failure: no journal needed, nothing to sync
    // until the end (COLMAP itself opens its databases with synchronous=OFF).
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('foreign_keys = ON');
    for (const statement of SCHEMA) db.exec(statement);

    const insertCamera = db.prepare('INSERT INTO cameras (camera_id, model, width, height, params, prior_focal_length) VALUES (?, ?, ?, ?, ?, ?)');
    const insertImage = db.prepare('INSERT INTO images (image_id, name, camera_id) VALUES (?, ?, ?)');
    const insertKeypoints = db.prepare('INSERT INTO keypoints (image_id, rows, cols, data) VALUES (?, ?, ?, ?)');
    const insertDescriptors = db.prepare('INSERT INTO descriptors (image_id, rows, cols, data) VALUES (?, ?, 128, ?)');
    const insertMatches = db.prepare('INSERT INTO matches (pair_id, rows, cols, data) VALUES (?, ?, 2, ?)');
    const insertGeometry = db.prepare('INSERT INTO two_view_geometries (pair_id, rows, cols, data, config, F, E, H, qvec, tvec) VALUES (?, ?, 2, ?, ?, ?, ?, ?, ?, ?)');

    db.transaction(() => {
      content.cameras.forEach((c, k) => insertCamera.run(k + 1, CAMERA_MODEL_IDS[c.model], c.width, c.height, blob(Float64Array.from(c.params)), c.priorFocalLength ? 1 : 0));
    })();
    for (let start = 0; start < content.images.length; start += ROWS_PER_CHUNK) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      db.transaction(() => {
        for (let k = start; k < Math.min(content.images.length, start + ROWS_PER_CHUNK); k++) {
          const im = content.images[k]!;
          const rows = im.keypoints.length / KEYPOINT_COLS;
          insertImage.run(k + 1, im.name, im.camera + 1);
          insertKeypoints.run(k + 1, rows, KEYPOINT_COLS, blob(im.keypoints));
          insertDescriptors.run(k + 1, rows, blob(im.descriptors));
          summary.keypoints += rows;
        }
      })();
      await yieldToLoop();
    }
    for (let start = 0; start < content.pairs.length; start += ROWS_PER_CHUNK * 4) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      db.transaction(() => {
        for (let k = start; k < Math.min(content.pairs.length, start + ROWS_PER_CHUNK * 4); k++) {
          const p = content.pairs[k]!;
          const id = pairId(p.image1 + 1, p.image2 + 1);
          // COLMAP keeps the smaller image id first: a pair given the other way round turns over.
          const swap = p.image1 > p.image2;
          const matches = swap ? swapColumns(p.matches) : p.matches;
          if (matches.length > 0) {
            insertMatches.run(id, matches.length / 2, blob(matches));
            summary.matchedPairs++;
          }
          if (p.inliers.length === 0) continue;
          const inliers = swap ? swapColumns(p.inliers) : p.inliers;
          const F = p.F && swap ? transpose3(p.F) : p.F;
          const E = p.E && swap ? transpose3(p.E) : p.E;
          const H = p.H && swap ? invert3(p.H) : p.H;
          // No relative pose, as COLMAP's own matchers store it unless asked: qvec and tvec zeros.
          insertGeometry.run(id, inliers.length / 2, blob(inliers), TWO_VIEW_CONFIG[p.config], matrixBlob(F), matrixBlob(E), matrixBlob(H), blob(new Float64Array(4)), blob(new Float64Array(3)));
          summary.verifiedPairs++;
          summary.inlierMatches += inliers.length / 2;
        }
      })();
      await yieldToLoop();
    }
    db.close();
    db = undefined;
    await rename(temp, path);
    return summary;
  } catch (err) {
    try {
      db?.close();
    } catch {
      // closing a failed handle: the temporary file goes anyway
    }
    await rm(temp, { force: true }).catch(() => undefined);
    if (signal?.aborted || isFramesiftError(err, 'ERR_FRAMESIFT_NATIVE_LOAD')) throw err;
    throw outputError(`Could not write the COLMAP database ${path}`, err);
  }
}
