/**
 * DIR/analysis.csv: one row per analysed frame (frame index, pts, every metric, motion, fate),
 * so users can plot and audit the whole video, not only the picks. Rows are appended batch
 * by batch as the pipeline goes (nothing holds the whole video), into a temporary file that
 * close() renames to analysis.csv; abort() removes it.
 *
 * Format: a header line, then one line per frame, "\n" line ends, RFC 4180 quoting (fields
 * holding a comma, quote, CR or LF, or starting/ending with a space, are quoted, with quotes
 * doubled). Integers are written exactly, ptsSec to the microsecond, other numbers with up to
 * 6 significant digits; NaN (not measured) as an empty field, infinities as inf / -inf.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { FramesiftError, invalidArg } from '../errors.js';
import { outputError, tempPathFor } from './atomic.js';
import { ANALYSIS_FILE } from './out-dir.js';

/** A batch: column name -> values of its rows (numbers, or strings such as the fate). */
export type CsvColumns = Record<string, ArrayLike<number> | readonly string[]>;

/** Columns that open and close every row; metric columns go between, in the order first given. */
export const CSV_LEADING_COLUMNS = ['frameIndex', 'ptsSec'] as const;
export const CSV_TRAILING_COLUMNS = ['motion', 'fate'] as const;
const FIXED = new Set<string>([...CSV_LEADING_COLUMNS, ...CSV_TRAILING_COLUMNS]);

type State = 'open' | 'closed' | 'aborted';

export class AnalysisCsv {
  /** Final path (DIR/analysis.csv), present only after close(). */
  readonly path: string;
  /** Temporary file rows are written to. */
  readonly tempPath: string;
  private readonly handle: FileHandle;
  private columns: string[] | undefined;
  private rowCount = 0;
  private state: State = 'open';
  private failure: FramesiftError | undefined;
  private tail: Promise<void> = Promise.resolve();

  private constructor(path: string, tempPath: string, handle: FileHandle) {
    this.path = path;
    this.tempPath = tempPath;
    this.handle = handle;
  }

  /** Creates the temporary file in DIR (which must exist). */
  static async open(dir: string): Promise<AnalysisCsv> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('dir', 'a folder path', dir);
    const path = join(dir, ANALYSIS_FILE);
    const tempPath = tempPathFor(path);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx');
    } catch (err) {
      throw outputError(`Could not create ${tempPath}`, err);
    }
    return new AnalysisCsv(path, tempPath, handle);
  }

  /** Rows added so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Column order of the file, known after the first addRows(). */
  get header(): readonly string[] | undefined {
    return this.columns;
  }

  /**
   * Appends `count` rows taken from the first `count` values of each column. The first batch
   * fixes the columns: frameIndex, ptsSec, motion and fate are required; every batch must
   * give the same set. The values are formatted before this returns, so the caller may reuse
   * its arrays at once; the promise settles when the rows are written (await it for
   * back-pressure; a write error also surfaces at close()).
   */
  addRows(columns: CsvColumns, count: number): Promise<void> {
    this.checkOpen();
    if (columns === null || typeof columns !== 'object') throw invalidArg('columns', 'an object of column arrays', columns);
    if (!Number.isInteger(count) || count < 0) throw invalidArg('count', 'an integer >= 0', count);
    const order = this.columns ?? columnOrder(columns);
    checkColumns(columns, order, count);
    let text = this.columns === undefined ? `${order.map(quote).join(',')}\n` : '';
    this.columns = order;
    for (let row = 0; row < count; row++) {
      let line = '';
      for (let c = 0; c < order.length; c++) {
        const name = order[c]!;
        const value = columns[name]![row];
        if (c > 0) line += ',';
        line += typeof value === 'string' ? quote(value) : formatNumber(value as number, name === 'ptsSec');
      }
      text += `${line}\n`;
    }
    this.rowCount += count;
    return this.enqueue(text);
  }

  /** Writes what is pending and renames the file to DIR/analysis.csv. Returns that path. */
  async close(): Promise<string> {
    this.checkOpen();
    if (this.columns === undefined) void this.enqueue(`${[...CSV_LEADING_COLUMNS, ...CSV_TRAILING_COLUMNS].join(',')}\n`);
    this.state = 'closed';
    await this.tail;
    try {
      if (this.failure) throw this.failure;
      await this.handle.close();
      await rename(this.tempPath, this.path);
    } catch (err) {
      await this.discard();
      throw err instanceof FramesiftError ? err : outputError(`Could not write ${this.path}`, err);
    }
    return this.path;
  }

  /** Stops and removes the temporary file (an interrupted run leaves no partial CSV). Idempotent. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.tail;
    await this.discard();
  }

  private enqueue(text: string): Promise<void> {
    const write = this.tail.then(async () => {
      if (this.failure) throw this.failure;
      try {
        await this.handle.write(text);
      } catch (err) {
        this.failure = outputError(`Could not write ${this.tempPath}`, err);
        throw this.failure;
      }
    });
    this.tail = write.catch(() => undefined);
    write.catch(() => undefined); // reported again by close()
    return write;
  }

  private async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true }).catch(() => undefined);
  }

  private checkOpen(): void {
    if (this.state !== 'open') {
      throw new FramesiftError(`${this.path} is already ${this.state === 'closed' ? 'closed' : 'aborted'}`, 'ERR_FRAMESIFT_CLOSED');
    }
  }
}

function columnOrder(columns: CsvColumns): string[] {
  const missing = [...FIXED].filter((name) => !(name in columns));
  if (missing.length > 0) throw invalidArg('columns', `the columns ${[...FIXED].join(', ')}`, `no ${missing.join(', ')}`);
  const metrics = Object.keys(columns).filter((name) => !FIXED.has(name));
  return [...CSV_LEADING_COLUMNS, ...metrics, ...CSV_TRAILING_COLUMNS];
}

function checkColumns(columns: CsvColumns, order: readonly string[], count: number): void {
  const names = Object.keys(columns);
  const extra = names.filter((n) => !order.includes(n));
  const missing = order.filter((n) => !(n in columns));
  if (extra.length > 0 || missing.length > 0) {
    throw invalidArg('columns', `the same columns as the first batch (${order.join(', ')})`, names.join(', '));
  }
  for (const name of order) {
    const values = columns[name];
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw invalidArg(`columns.${name}`, 'an array or typed array', values);
    }
    if (values.length < count) throw invalidArg(`columns.${name}`, `at least ${count} values`, `${values.length} values`);
  }
}

/** RFC 4180: quote fields holding a separator, a quote or a line break; double the quotes. */
export function quote(field: string): string {
  return /[",\r\n]|^\s|\s$/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** Compact number text: integers exact, else 6 significant digits (or microseconds for times). */
export function formatNumber(value: number, isTime = false): string {
  if (typeof value !== 'number' || Number.isNaN(value)) return '';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value)) return String(value === 0 ? 0 : value);
  const compact = isTime ? Math.round(value * 1e6) / 1e6 : Number(value.toPrecision(6));
  return String(compact === 0 ? 0 : compact);
}
