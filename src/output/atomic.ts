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

/** The process id a temporary name carries (`.NAME.PID-TAG.framesift-tmp`), or undefined. */
export function tempNamePid(name: string): number | undefined {
  const match = /\.(\d+)(?:-[0-9a-f]+)?\.framesift-tmp$/.exec(name);
  return match && isTempName(name) ? Number(match[1]) : undefined;
}

/** A temporary name of this process for `name` (pid-tagged, so a later run can tell it is stale). */
export function tempNameFor(name: string): string {
  return `.${name}.${process.pid}${TEMP_SUFFIX}`;
}

/** A fresh temporary path beside `finalPath` (same folder, so the rename stays atomic). */
export function tempPathFor(finalPath: string): string {
  // pid + random: two runs (or two writers) on the same folder never share a temporary file.
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  return join(dirname(finalPath), `.${basename(finalPath)}.${tag}${TEMP_SUFFIX}`);
}

/** Writes `data` to a temporary name, then renames it to `finalPath`. */
/** `data` may be pieces written one after another (no joined copy). */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  const temp = tempPathFor(finalPath);
  try {
    await writeFile(temp, data, { flag: 'wx' });
    await rename(temp, finalPath);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw outputError(`Could not write ${finalPath}`, err);
  }
}

/** Renames a complete temporary file to its final name (same folder), as ERR_FRAMESIFT_OUTPUT on failure. */
export async function renameIntoPlace(temp: string, finalPath: string): Promise<void> {
  try {
    await rename(temp, finalPath);
  } catch (err) {
    throw outputError(`Could not move ${temp} to ${finalPath}`, err);
  }
}

/**
 * ERR_FRAMESIFT_OUTPUT naming the file and the system's reason, errno code first
 * ("Could not write DIR/manifest.json: ENOSPC: no space left on device, write"); `errno`
 * carries the code for callers.
 */
export function outputError(what: string, cause: unknown): FramesiftError & { errno?: string } {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const errno = typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
  const message = errno && !reason.startsWith(errno) ? `${what}: ${errno}: ${reason}` : `${what}: ${reason}`;
  const err: FramesiftError & { errno?: string } = new FramesiftError(message, 'ERR_FRAMESIFT_OUTPUT', { cause });
  if (errno) err.errno = errno;
  return err;
}
