/**
 * The output folder: DIR/images/ plus the files listed in OWN_FILES. framesift never
 * overwrites an existing non-empty folder unless asked (--force), and even then removes only
 * what it writes itself: other files of the user stay where they are.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { FramesiftError, invalidArg } from '../errors.js';
import { isTempName, outputError, tempNamePid } from './atomic.js';
import { COLMAP_DATABASE_FILE, COLMAP_DIR } from './colmap-db.js';

export const IMAGES_DIR = 'images';
export const MANIFEST_FILE = 'manifest.json';
export const IMAGE_LIST_FILE = 'images.txt';
export const PAIRS_FILE = 'pairs.txt';
export const ANALYSIS_FILE = 'analysis.csv';
/** colmap mapper's output folder inside DIR/colmap (--reconstruct). */
export const COLMAP_SPARSE_DIR = 'sparse';
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
  /** Temporary files of an earlier run that died (SIGKILL, crash) removed before starting. */
  staleRemoved: number;
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
  let entries = await listIfFolder(root);
  let staleRemoved = 0;
  if (entries !== undefined) {
    // A run killed mid-way (SIGKILL, power loss) leaves temporary files: they are removed and
    // not counted as content. Those of a run still alive make the folder busy.
    // (With force, every temporary file of ours goes anyway, as before.)
    staleRemoved = await removeStaleTemps(root, force);
    entries = await listIfFolder(root);
    // What a dead run left is gone: folders of ours it emptied (images/, colmap/, report/), and
    // a candidate store it never finished (no saved analysis), do not make the folder non-empty.
    const left = entries ?? [];
    const unfinishedStore = left.includes(STATE_DIR) && !existsSync(join(root, STATE_DIR, 'analysis.bin'));
    const leftovers: string[] = [];
    for (const entry of left) {
      if (entry === STATE_DIR ? unfinishedStore : await isEmptiedFolderOfOurs(root, entry)) leftovers.push(entry);
    }
    if (staleRemoved > 0 && leftovers.length === left.length) {
      for (const entry of leftovers) if (entry !== IMAGES_DIR) await removeFile(join(root, entry), true);
      entries = [];
    }
  }
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
    await makeFolder(imagesDir);
  } catch (err) {
    throw outputError(`Could not create output folder ${imagesDir}`, err);
  }
  return { dir: root, imagesDir, staleRemoved };
}

/**
 * mkdir -p one level at a time: Node's recursive mkdir reports ENOENT where the system said
 * EROFS (a read-only filesystem), and the error must name the real cause.
 */
async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(path) === path) throw err;
    await makeFolder(dirname(path));
    await mkdir(path).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

/** True for images/, colmap/ or report/ under DIR with nothing in it. */
async function isEmptiedFolderOfOurs(root: string, entry: string): Promise<boolean> {
  if (![IMAGES_DIR, COLMAP_DIR, REPORT_DIR].includes(entry)) return false;
  return (await listIfFolder(join(root, entry)).catch(() => undefined))?.length === 0;
}

/** True while process `pid` exists (ours included). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The folders under DIR that framesift writes files into, each through a temporary name: DIR,
 * its images, the saved analysis and candidate store, the COLMAP database, the report's
 * thumbnails.
 */
const TEMP_FOLDERS: readonly string[] = ['', IMAGES_DIR, STATE_DIR, join(STATE_DIR, 'candidates'), COLMAP_DIR, REPORT_DIR];

/** Our temporary files in DIR's TEMP_FOLDERS (absolute paths); a missing folder has none. */
async function listTemps(root: string): Promise<string[]> {
  const temps: string[] = [];
  for (const sub of TEMP_FOLDERS) {
    const folder = join(root, sub);
    const names = (await listIfFolder(folder).catch(() => undefined)) ?? [];
    temps.push(...names.filter(isTempName).map((name) => join(folder, name)));
  }
  return temps;
}

/**
 * Removes the temporary files under DIR whose writer is gone (or unknown); refuses, with
 * ERR_FRAMESIFT_OUTPUT, a folder another live run is writing into.
 */
async function removeStaleTemps(root: string, force: boolean): Promise<number> {
  const temps = await listTemps(root);
  for (const path of temps) {
    const pid = tempNamePid(path.slice(path.lastIndexOf('/') + 1));
    if (!force && pid !== undefined && isAlive(pid)) {
      throw new FramesiftError(
        `Output folder ${root} is being written by another framesift run (process ${pid}, file ${path}); wait for it or choose another output folder`,
        'ERR_FRAMESIFT_OUTPUT',
      );
    }
  }
  for (const path of temps) await removeFile(path);
  return temps.length;
}

/**
 * Removes our temporary files under DIR (after an interrupted or failed run). Returns how many
 * were removed. A missing DIR is not an error.
 */
export async function cleanupPartial(dir: string): Promise<number> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('output', 'a folder path', dir);
  const temps = await listTemps(resolve(dir));
  for (const path of temps) await removeFile(path);
  return temps.length;
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
  // Read before manifest.json goes: whether the previous run wrote the COLMAP database.
  const colmapWritten = entries.includes(COLMAP_DIR) && (await previousRunWroteColmap(root));
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
  if (entries.includes(COLMAP_DIR)) await removeColmapOutputs(join(root, COLMAP_DIR), colmapWritten);
}

/** True when DIR/manifest.json says its run wrote DIR/colmap/database.db (--colmap). */
async function previousRunWroteColmap(root: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(root, MANIFEST_FILE), 'utf8')) as { colmap?: { database?: unknown } };
    return manifest.colmap?.database === `${COLMAP_DIR}/${COLMAP_DATABASE_FILE}`;
  } catch {
    return false;
  }
}

/**
 * DIR/colmap/: our temporary files always go; the database and the mapper's models
 * (colmap/sparse) only when the previous run's manifest says framesift wrote them (--colmap),
 * so a forced run without --colmap leaves no stale database of ours behind while a database the
 * user made there himself (the classic recipe) stays. The folder goes when nothing is left.
 */
async function removeColmapOutputs(colmapDir: string, ours: boolean): Promise<void> {
  const names = (await listIfFolder(colmapDir)) ?? [];
  const ownFiles = [COLMAP_DATABASE_FILE, `${COLMAP_DATABASE_FILE}-wal`, `${COLMAP_DATABASE_FILE}-shm`];
  for (const name of names) {
    if (isTempName(name) || (ours && ownFiles.includes(name))) await removeFile(join(colmapDir, name));
    else if (ours && name === COLMAP_SPARSE_DIR) await removeTree(join(colmapDir, name));
  }
  const left = (await listIfFolder(colmapDir)) ?? [];
  if (left.length === 0) await removeTree(colmapDir);
}

async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (err) {
    throw outputError(`Could not remove ${path}`, err);
  }
}

async function removeFile(path: string, recursive = false): Promise<void> {
  try {
    await rm(path, { force: true, recursive });
  } catch (err) {
    throw outputError(`Could not remove ${path}`, err);
  }
}
