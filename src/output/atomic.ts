/**
 * Temporary names and atomic writes: every file framesift writes first goes to a temporary
 * name in the same folder and is renamed when complete, so an interrupted run never leaves a
 * half-written image, manifest or list under its final name. Temporary names are recognisable
 * (hidden, suffix TEMP_SUFFIX) so cleanupPartial() and --force can find and remove them.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { FramesiftError } from '../errors.js';

export const TEMP_SUFFIX = '.framesift-tmp';

/** True for a temporary file name of ours (a base name, not a path). */
export function isTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(TEMP_SUFFIX);
}

/** A fresh temporary path beside `finalPath` (same folder, so the rename stays atomic). */
export function tempPathFor(finalPath: string): string {
  // pid + random: two runs (or two writers) on the same folder never share a temporary file.
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  return join(dirname(finalPath), `.${basename(finalPath)}.${tag}${TEMP_SUFFIX}`);
}

/** Writes `data` to a temporary name, then renames it to `finalPath`. */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(finalPath);
  try {
    await writeFile(temp, data);
    await rename(temp, finalPath);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw outputError(`Could not write ${finalPath}`, err);
  }
}

/** ERR_FRAMESIFT_OUTPUT naming the file and the system's reason. */
export function outputError(what: string, cause: unknown): FramesiftError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FramesiftError(`${what}: ${reason}`, 'ERR_FRAMESIFT_OUTPUT', { cause });
}
