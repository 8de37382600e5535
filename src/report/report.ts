/**
 * DIR/report.html of a finished run (extract writes it, `framesift report DIR` rewrites it), and
 * for a `framesift batch` folder (DIR/batch.json) an index page linking each clip's report.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

import { FramesiftError } from '../errors.js';
import { writeFileAtomic } from '../output/atomic.js';
import { IMAGES_DIR, MANIFEST_FILE, REPORT_FILE } from '../output/index.js';
import { renderBatchIndex, type BatchClip } from './batch-index.js';
import { gatherReportData, readAnalysisCsv, readJson, readManifest } from './data.js';
import { renderReportHtml } from './html.js';
import { writePickThumbnails, type ThumbnailSampler } from './thumbnails.js';

export { REPORT_FILE };
export const BATCH_FILE = 'batch.json';

export interface WriteReportOptions {
  /** Pass 1's thumbnails (extract): examples of each rejection reason are written from them first. */
  rejectedExamples?: ThumbnailSampler;
}

/** Writes DIR/report.html (and the pick thumbnails in DIR/report/) from the run's files. Returns its path. */
export async function writeReport(dir: string, options: WriteReportOptions = {}): Promise<string> {
  const root = resolve(dir);
  const manifest = await readManifest(root);
  const table = await readAnalysisCsv(root);
  // analysis.csv has one line per table row, in order: its fate column is each row's fate.
  await options.rejectedExamples?.writeExamples(root, (row) => table.fate[row] ?? 'usable');
  const thumbs = await writePickThumbnails(root, join(root, IMAGES_DIR), manifest.frames.map((f) => f.file));
  const data = await gatherReportData(root, manifest, table, thumbs);
  const path = join(root, REPORT_FILE);
  await writeFileAtomic(path, renderReportHtml(data));
  return path;
}

export interface ReportResult {
  kind: 'run' | 'batch';
  path: string;
  /** Batch: the clips' reports (re)written. */
  clips?: number;
}

/**
 * `framesift report DIR`: a run folder (manifest.json) gets its report.html again; a batch
 * folder (batch.json) gets every finished clip's report and an index.html linking them.
 */
export async function regenerateReport(dir: string): Promise<ReportResult> {
  const root = resolve(dir);
  if (existsSync(join(root, MANIFEST_FILE))) return { kind: 'run', path: await writeReport(root) };
  if (!existsSync(join(root, BATCH_FILE))) {
    throw new FramesiftError(`${root}: neither a framesift run (no ${MANIFEST_FILE}) nor a batch folder (no ${BATCH_FILE})`, 'ERR_FRAMESIFT_NOT_FOUND', { input: root });
  }
  const batch = await readJson<unknown>(join(root, BATCH_FILE));
  const clips = batchClips(batch, root);
  for (const clip of clips) {
    if (clip.dir && existsSync(join(clip.dir, MANIFEST_FILE))) {
      await writeReport(clip.dir);
      clip.report = relative(root, join(clip.dir, REPORT_FILE));
    }
  }
  const path = join(root, 'index.html');
  await writeFileAtomic(path, renderBatchIndex(root, clips));
  return { kind: 'batch', path, clips: clips.filter((c) => c.report).length };
}

/** The clips of batch.json: an array, or the first array among its fields (clips, jobs, items...). */
function batchClips(batch: unknown, root: string): BatchClip[] {
  const list = Array.isArray(batch)
    ? batch
    : batch && typeof batch === 'object'
      ? (Object.values(batch as Record<string, unknown>).find((v) => Array.isArray(v)) as unknown[] | undefined) ?? []
      : [];
  return list
    .filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object')
    .map((fields) => {
      const out = ['outDir', 'output', 'out', 'dir'].map((k) => fields[k]).find((v) => typeof v === 'string') as string | undefined;
      return { fields, dir: out ? resolve(root, out) : undefined };
    });
}
