/**
 * What the report shows, gathered from a finished run's folder only (manifest.json,
 * analysis.csv, DIR/report/ thumbnails), so `framesift report DIR` regenerates exactly what
 * extract wrote. The timeline plots the columns of analysis.csv by name: new metric columns
 * (motion, parallax) appear without a change here.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { FramesiftError } from '../errors.js';
import { ANALYSIS_FILE, MANIFEST_FILE, type Manifest } from '../output/index.js';
import { REPORT_ASSETS_DIR } from './thumbnails.js';

/** Timeline points kept at most (rows beyond are thinned; picks, candidates and shading use every row). */
export const MAX_TIMELINE_POINTS = 20_000;

/** Columns of the quality chart (0..1 scores) when present, in this order. */
export const QUALITY_COLUMNS = ['sharpness', 'exposure', 'score'] as const;

/** A motion column: camera motion or parallax measures (pixels), not blur or a rescaled score. */
export function isMotionColumn(name: string): boolean {
  return /motion|parallax|displac|flow|shift[xy]?$|^lk/i.test(name) && !/blur|score|response|tracked/i.test(name);
}

export interface ReportSeries {
  name: string;
  chart: 'quality' | 'motion';
  values: Array<number | null>;
}

export interface ReportData {
  title: string;
  manifest: Manifest;
  timeline: {
    /** Seconds and frame index of each plotted point. */
    t: number[];
    frame: number[];
    /** Index into fates, per plotted point. */
    fate: number[];
    fates: string[];
    series: ReportSeries[];
    /** Every row: 1 of `thinned` rows is plotted. */
    thinned: number;
    /** Rejected stretches, [startSec, endSec, reason] (from every row). */
    rejectedRuns: Array<[number, number, string]>;
    candidatesSec: number[];
  };
  /** Image file -> thumbnail path relative to DIR. */
  pickThumbs: Record<string, string>;
  rejectedExamples: Array<{ reason: string; count: number; examples: Array<{ thumb: string; frameIndex: number; ptsSec: number }> }>;
}

export interface AnalysisTable {
  header: string[];
  numbers: Map<string, Float64Array>;
  fate: string[];
  rows: number;
}

/** Parses DIR/analysis.csv (our own format: numbers, `inf`, empty = NaN, RFC 4180 quotes). */
export function parseAnalysisCsv(text: string, path = ANALYSIS_FILE): AnalysisTable {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = splitCsvLine(lines[0] ?? '');
  const fateColumn = header.indexOf('fate');
  if (header[0] !== 'frameIndex' || fateColumn < 0) {
    throw new FramesiftError(`${path}: not a framesift analysis.csv (header ${header.slice(0, 3).join(',')}...)`, 'ERR_FRAMESIFT_INVALID_ARG', { input: path });
  }
  const rows = lines.length - 1;
  const numbers = new Map<string, Float64Array>();
  for (const [c, name] of header.entries()) if (c !== fateColumn) numbers.set(name, new Float64Array(rows));
  const fate: string[] = new Array(rows);
  const columns = header.map((name) => numbers.get(name));
  for (let r = 0; r < rows; r++) {
    const fields = splitCsvLine(lines[r + 1]!);
    for (let c = 0; c < header.length; c++) {
      const field = fields[c] ?? '';
      const column = columns[c];
      if (!column) fate[r] = field;
      else column[r] = field === '' ? NaN : field === 'inf' ? Infinity : field === '-inf' ? -Infinity : Number(field);
    }
  }
  return { header, numbers, fate, rows };
}

function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(field), (field = '');
    else field += ch;
  }
  out.push(field);
  return out;
}

async function readJson<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FramesiftError(`${path}: cannot read it (${(err as Error).message}); is this a framesift output folder?`, 'ERR_FRAMESIFT_NOT_FOUND', { input: path, cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new FramesiftError(`${path}: not valid JSON (${(err as Error).message})`, 'ERR_FRAMESIFT_INVALID_ARG', { input: path, cause: err });
  }
}

export async function readManifest(dir: string): Promise<Manifest> {
  return readJson<Manifest>(join(dir, MANIFEST_FILE));
}

export { readJson };

export async function readAnalysisCsv(dir: string): Promise<AnalysisTable> {
  const csvPath = join(dir, ANALYSIS_FILE);
  let csvText: string;
  try {
    csvText = await readFile(csvPath, 'utf8');
  } catch (err) {
    throw new FramesiftError(`${csvPath}: cannot read it (${(err as Error).message})`, 'ERR_FRAMESIFT_NOT_FOUND', { input: csvPath, cause: err });
  }
  return parseAnalysisCsv(csvText, csvPath);
}

/**
 * Gathers the report of a finished run in `dir` from its manifest and analysis.csv (`table`).
 * `pickThumbs` as made by writePickThumbnails().
 */
export async function gatherReportData(dir: string, manifest: Manifest, table: AnalysisTable, pickThumbs: Record<string, string>): Promise<ReportData> {
  const pts = table.numbers.get('ptsSec')!;
  const frames = table.numbers.get('frameIndex')!;
  const n = table.rows;
  const thinned = Math.max(1, Math.ceil(n / MAX_TIMELINE_POINTS));
  const picked: number[] = [];
  for (let r = 0; r < n; r += thinned) picked.push(r);

  const fates: string[] = [];
  const fateCode = new Map<string, number>();
  const codeOf = (label: string) => {
    let code = fateCode.get(label);
    if (code === undefined) fateCode.set(label, (code = fates.push(label) - 1));
    return code;
  };
  const series: ReportSeries[] = [];
  const plot = (name: string, chart: ReportSeries['chart']) => {
    const column = table.numbers.get(name)!;
    series.push({ name, chart, values: picked.map((r) => (Number.isFinite(column[r]) ? round(column[r]!) : null)) });
  };
  for (const name of QUALITY_COLUMNS) if (table.numbers.has(name)) plot(name, 'quality');
  for (const name of table.header) if (isMotionColumn(name) && table.numbers.has(name)) plot(name, 'motion');

  // Rejected stretches from every row: consecutive rows with one reason make one band.
  const rejectedRuns: Array<[number, number, string]> = [];
  const candidatesSec: number[] = [];
  const rejectedRows = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    const fate = table.fate[r]!;
    if (fate === 'candidate') candidatesSec.push(pts[r]!);
    if (!fate.startsWith('rejected:')) continue;
    const reason = fate.slice('rejected:'.length);
    rejectedRows.set(reason, (rejectedRows.get(reason) ?? 0) + 1);
    const last = rejectedRuns.at(-1);
    const step = r + 1 < n ? pts[r + 1]! - pts[r]! : r > 0 ? pts[r]! - pts[r - 1]! : 0;
    if (last && last[2] === reason && table.fate[r - 1] === fate) last[1] = pts[r]! + step / 2;
    else rejectedRuns.push([pts[r]! - step / 2, pts[r]! + step / 2, reason]);
  }

  // Examples: the thumbnails extract kept, shown under the reason the frame has now.
  const rowOfFrame = new Map<number, number>();
  for (let r = 0; r < n; r++) rowOfFrame.set(frames[r]!, r);
  const examples = new Map<string, Array<{ thumb: string; frameIndex: number; ptsSec: number }>>();
  let assetNames: string[] = [];
  try {
    assetNames = await readdir(join(dir, REPORT_ASSETS_DIR));
  } catch {
    // no thumbnails kept: the report lists the counts only
  }
  for (const name of assetNames.sort((a, b) => parseInt(a.slice(9), 10) - parseInt(b.slice(9), 10))) {
    const match = /^rejected_(\d+)\.jpg$/.exec(name);
    if (!match) continue;
    const row = rowOfFrame.get(Number(match[1]));
    if (row === undefined || !table.fate[row]!.startsWith('rejected:')) continue;
    const reason = table.fate[row]!.slice('rejected:'.length);
    let list = examples.get(reason);
    if (!list) examples.set(reason, (list = []));
    list.push({ thumb: `${REPORT_ASSETS_DIR}/${name}`, frameIndex: Number(match[1]), ptsSec: round(pts[row]!) });
  }
  const reasons = new Set([...Object.keys(manifest.rejected.byReason).filter((k) => manifest.rejected.byReason[k]! > 0), ...rejectedRows.keys()]);
  const rejectedExamples = [...reasons].map((reason) => ({
    reason,
    count: manifest.rejected.byReason[reason] ?? rejectedRows.get(reason) ?? 0,
    examples: examples.get(reason) ?? [],
  }));

  return {
    title: `framesift report: ${manifest.input.path.split('/').at(-1)}`,
    manifest,
    timeline: {
      t: picked.map((r) => round(pts[r]!, 6)),
      frame: picked.map((r) => frames[r]!),
      fate: picked.map((r) => codeOf(table.fate[r]!)),
      fates,
      series,
      thinned,
      rejectedRuns: rejectedRuns.map(([a, b, reason]) => [round(a, 6), round(b, 6), reason]),
      candidatesSec,
    },
    pickThumbs: Object.fromEntries(Object.entries(pickThumbs).map(([file, thumb]) => [file, `${REPORT_ASSETS_DIR}/${thumb}`])),
    rejectedExamples,
  };
}

function round(value: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
