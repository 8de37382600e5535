/**
 * COLMAP inputs beside the images:
 * - DIR/images.txt: one image name per line, relative to DIR/images, as
 *   `colmap feature_extractor --image_list_path` takes it;
 * - DIR/pairs.txt: "name1 name2" per line, as `colmap matches_importer --match_type pairs`
 *   takes it, so COLMAP matches only the pairs worth matching instead of all of them.
 * COLMAP splits pair lines on spaces, so names with white space are refused.
 */
import { join } from 'node:path';

import { invalidArg } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { IMAGE_LIST_FILE, PAIRS_FILE } from './out-dir.js';

/** Writes DIR/images.txt (names in the given order; duplicates are refused). Returns its path. */
export async function writeImageList(dir: string, files: readonly string[]): Promise<string> {
  checkDir(dir);
  if (!Array.isArray(files)) throw invalidArg('files', 'an array of image names', files);
  const seen = new Set<string>();
  files.forEach((name, i) => {
    checkName(name, `files[${i}]`);
    if (seen.has(name)) throw invalidArg(`files[${i}]`, 'a name not listed before', name);
    seen.add(name);
  });
  const path = join(dir, IMAGE_LIST_FILE);
  await writeFileAtomic(path, lines(files));
  return path;
}

/**
 * The pairs to write: each unordered pair once (first occurrence wins, with its order),
 * no image paired with itself, in the given order.
 */
export function uniquePairs(pairs: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  if (!Array.isArray(pairs)) throw invalidArg('pairs', 'an array of [name1, name2] pairs', pairs);
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  pairs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw invalidArg(`pairs[${i}]`, 'a [name1, name2] pair', pair);
    const [a, b] = pair;
    checkName(a, `pairs[${i}][0]`);
    checkName(b, `pairs[${i}][1]`);
    if (a === b) return;
    const key = a < b ? `${a}\n${b}` : `${b}\n${a}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push([a, b]);
  });
  return out;
}

/** Writes DIR/pairs.txt from uniquePairs(pairs). Returns its path and the pairs written. */
export async function writePairs(
  dir: string,
  pairs: ReadonlyArray<readonly [string, string]>,
): Promise<{ path: string; count: number }> {
  checkDir(dir);
  const unique = uniquePairs(pairs);
  const path = join(dir, PAIRS_FILE);
  await writeFileAtomic(path, lines(unique.map(([a, b]) => `${a} ${b}`)));
  return { path, count: unique.length };
}

function lines(items: readonly string[]): string {
  return items.length === 0 ? '' : `${items.join('\n')}\n`;
}

function checkDir(dir: string): void {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('dir', 'a folder path', dir);
}

function checkName(name: unknown, option: string): void {
  if (typeof name !== 'string' || name.length === 0 || /\s/.test(name)) {
    throw invalidArg(option, 'an image name without white space', name);
  }
}
