/**
 * The output folder: DIR/images/ plus the files listed in OWN_FILES. framesift never
 * overwrites an existing non-empty folder unless asked (--force), and even then removes only
 * what it writes itself: other files of the user stay where they are.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { FramesiftError, invalidArg } from '../errors.js';
import { isTempName, outputError } from './atomic.js';

export const IMAGES_DIR = 'images';
export const MANIFEST_FILE = 'manifest.json';
export const IMAGE_LIST_FILE = 'images.txt';
export const PAIRS_FILE = 'pairs.txt';
export const ANALYSIS_FILE = 'analysis.csv';
export const REPORT_FILE = 'report.html';
/** Folders of ours under DIR: the report's thumbnails, and the saved analysis for re-selection. */
export const REPORT_DIR = 'report';
export const STATE_DIR = '.framesift';

/** Files framesift writes at the top of DIR (besides images/ and temporary files). */
export const OWN_FILES: readonly string[] = [MANIFEST_FILE, IMAGE_LIST_FILE, PAIRS_FILE, ANALYSIS_FILE, REPORT_FILE];
/** Folders of ours at the top of DIR, removed whole by --force. */
export const OWN_DIRS: readonly string[] = [REPORT_DIR, STATE_DIR];

/** Image names framesift writes (see imageName in images.ts). */
const OWN_IMAGE = /^frame_\d{6,}\.(jpg|png|webp)$/;

/** True for an image name framesift writes into DIR/images. */
export function isOwnImageName(name: string): boolean {
  return OWN_IMAGE.test(name);
}

export interface PrepareOutputOptions {
  /** Replace a previous output in DIR (only framesift's own files are removed). Default false. */
  force?: boolean;
}

export interface OutputDir {
  /** Absolute path of DIR. */
  dir: string;
  /** Absolute path of DIR/images. */
  imagesDir: string;
}

/**
 * Creates DIR and DIR/images. Refuses (ERR_FRAMESIFT_OUTPUT) when DIR exists and is not empty,
 * unless `force`; with `force`, removes images/ content of ours, manifest.json, images.txt,
 * pairs.txt, analysis.csv and our leftover temporary files, and nothing else. If images/ holds
 * files framesift did not write, it refuses even with `force` rather than mix them into the
 * output or delete them.
 */
export async function prepareOutputDir(dir: string, options: PrepareOutputOptions = {}): Promise<OutputDir> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('output', 'a folder path', dir);
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const force = options.force ?? false;
  if (typeof force !== 'boolean') throw invalidArg('force', 'a boolean', force);

  const root = resolve(dir);
  const imagesDir = join(root, IMAGES_DIR);
  const entries = await listIfFolder(root);
  if (entries !== undefined && entries.length > 0) {
    if (!force) {
      throw new FramesiftError(
        `Output folder ${root} exists and is not empty; use --force (force: true) to replace a previous framesift output in it`,
        'ERR_FRAMESIFT_OUTPUT',
      );
    }
    await removeOwnFiles(root, entries);
  }
  try {
    await mkdir(imagesDir, { recursive: true });
  } catch (err) {
    throw outputError(`Could not create output folder ${imagesDir}`, err);
  }
  return { dir: root, imagesDir };
}

/**
 * Removes our temporary files from DIR and DIR/images (after an interrupted or failed run).
 * Returns how many were removed. A missing DIR is not an error.
 */
export async function cleanupPartial(dir: string): Promise<number> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('output', 'a folder path', dir);
  const root = resolve(dir);
  let removed = 0;
  // The candidate store (DIR/.framesift/candidates) gets its encodes under temporary names too.
  for (const folder of [root, join(root, IMAGES_DIR), join(root, STATE_DIR, 'candidates')]) {
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      continue;
    }
    for (const name of names.filter(isTempName)) {
      await removeFile(join(folder, name));
      removed++;
    }
  }
  return removed;
}

/** Entries of `path` when it is a folder, undefined when it does not exist. */
async function listIfFolder(path: string): Promise<string[] | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw outputError(`Cannot use output folder ${path}`, err);
  }
  if (!info.isDirectory()) {
    throw new FramesiftError(`Output path ${path} exists and is not a folder`, 'ERR_FRAMESIFT_OUTPUT');
  }
  try {
    return await readdir(path);
  } catch (err) {
    throw outputError(`Cannot read output folder ${path}`, err);
  }
}

async function removeOwnFiles(root: string, entries: string[]): Promise<void> {
  if (entries.includes(IMAGES_DIR)) {
    const imagesDir = join(root, IMAGES_DIR);
    const names = await listIfFolder(imagesDir);
    const foreign = (names ?? []).filter((n) => !OWN_IMAGE.test(n) && !isTempName(n));
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, ... (${foreign.length} files)` : '');
      throw new FramesiftError(
        `Output folder ${imagesDir} holds files framesift did not write (${shown}); move them or choose another output folder`,
        'ERR_FRAMESIFT_OUTPUT',
      );
    }
    for (const name of names ?? []) await removeFile(join(imagesDir, name));
  }
  for (const name of entries) {
    if (OWN_FILES.includes(name) || isTempName(name)) await removeFile(join(root, name));
    else if (OWN_DIRS.includes(name)) await removeFile(join(root, name), true);
  }
}

async function removeFile(path: string, recursive = false): Promise<void> {
  try {
    await rm(path, { force: true, recursive });
  } catch (err) {
    throw outputError(`Could not remove ${path}`, err);
  }
}
