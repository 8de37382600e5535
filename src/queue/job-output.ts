/**
 * A job's output folder, written atomically as a whole: extract runs into a temporary sibling
 * (`.NAME.JOBID.RANDOM.framesift-tmp`), which is renamed into place when complete. A job run
 * twice (a stalled job picked up again after its worker died) leaves one complete output: the
 * dead attempt's temporary folder is removed when the job starts again, and an attempt that
 * finds the folder already finished by this same job (its marker file) takes it as done.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { FramesiftError } from '../errors.js';
import type { Manifest } from '../index.js';
import { outputError, TEMP_SUFFIX, writeFileAtomic } from '../output/atomic.js';
import { writeManifest } from '../output/manifest.js';
import { MANIFEST_FILE } from '../output/out-dir.js';

/** Which job wrote a folder: lets a second attempt of the same job recognise it. */
export const JOB_MARKER_FILE = '.framesift-job.json';

interface JobMarker {
  jobId: string;
  input: string;
  finishedAt: string;
}

export interface JobOutput {
  manifest: Manifest;
  manifestPath: string;
  /** True when an earlier attempt of this job had already finished the folder. */
  reused: boolean;
}

/** A refusal no retry can fix (the folder holds something else and force is off). */
export class OutputTakenError extends FramesiftError {
  constructor(dir: string) {
    super(`Output folder ${dir} exists and is not empty; add the job with force to replace a previous framesift output in it`, 'ERR_FRAMESIFT_OUTPUT');
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw outputError(`Cannot read output folder ${dir}`, err);
  }
}

/** The finished output of this job in `dir`, if an earlier attempt completed it. */
async function finishedBy(jobId: string, dir: string): Promise<JobOutput | undefined> {
  const marker = await readJson<JobMarker>(join(dir, JOB_MARKER_FILE));
  if (marker?.jobId !== jobId) return undefined;
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = await readJson<Manifest>(manifestPath);
  return manifest ? { manifest, manifestPath, reused: true } : undefined;
}

/**
 * Runs `extract` into a temporary sibling of `outDir` and renames it into place. `force`
 * replaces an existing non-empty folder (swapped out, then removed); without it such a folder
 * is refused with OutputTakenError before any work.
 */
export async function writeJobOutput(
  jobId: string,
  input: string,
  outDir: string,
  force: boolean,
  extract: (tempDir: string) => Promise<Manifest>,
): Promise<JobOutput> {
  const parent = dirname(outDir);
  const name = basename(outDir);
  const done = await finishedBy(jobId, outDir);
  if (done) return done;
  const existing = await entriesOf(outDir);
  if (existing && existing.length > 0 && !force) throw new OutputTakenError(outDir);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw outputError(`Could not create output folder ${parent}`, err);
  }
  // Leftovers of this job's earlier attempts (a worker killed mid-job): BullMQ gave the job to
  // us, so those attempts are over.
  const ours = `.${name}.${jobId}.`;
  for (const entry of (await entriesOf(parent)) ?? []) {
    if (entry.startsWith(ours) && entry.endsWith(TEMP_SUFFIX)) await rm(join(parent, entry), { recursive: true, force: true });
  }
  const temp = join(parent, `${ours}${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  try {
    const manifest = await extract(temp);
    // The manifest names the folder it was written to: the final one, not the temporary one.
    manifest.config = { ...manifest.config, outDir };
    await writeManifest(temp, manifest);
    const marker: JobMarker = { jobId, input, finishedAt: new Date().toISOString() };
    await writeFileAtomic(join(temp, JOB_MARKER_FILE), JSON.stringify(marker) + '\n');
    await moveIntoPlace(temp, outDir, force, `${ours}old-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
    return { manifest, manifestPath: join(outDir, MANIFEST_FILE), reused: false };
  } catch (err) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    // Another attempt of this job may have won the race to the final name: its output stands.
    const winner = await finishedBy(jobId, outDir);
    if (winner) return winner;
    throw err;
  }
}

async function moveIntoPlace(temp: string, outDir: string, force: boolean, oldName: string): Promise<void> {
  try {
    await rename(temp, outDir); // also replaces an empty folder
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw outputError(`Could not move the output into ${outDir}`, err);
  }
  if (!force) throw new OutputTakenError(outDir);
  const old = join(dirname(outDir), oldName);
  try {
    await rename(outDir, old);
    await rename(temp, outDir);
  } catch (err) {
    throw outputError(`Could not replace ${outDir}`, err);
  }
  await rm(old, { recursive: true, force: true });
}
