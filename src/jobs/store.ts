/**
 * The job store: one SQLite database in the batch folder (better-sqlite3, WAL), one row per
 * input. Every state change is one transaction with synchronous=FULL, so after Ctrl-C,
 * kill -9 or a power cut the rows say exactly what finished: resume trusts them.
 */
import { join } from 'node:path';

import { openSqlite, type SqliteDatabase } from '../core/sqlite.js';

import { FramesiftError } from '../errors.js';
import type { InputFingerprint } from './fingerprint.js';
import type { WorkerResult } from './protocol.js';
import { BATCH_STORE_FILE, type BatchInput } from './inputs.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'skipped';

export interface JobRow {
  id: number;
  input: string;
  kind: BatchInput['kind'];
  relName: string;
  outDir: string;
  size: number | null;
  mtimeMs: number | null;
  contentFp: string | null;
  optionsFp: string;
  state: JobState;
  /** Runs started (a crash counts; an interrupted batch's run does not). */
  attempts: number;
  /** Runs whose worker process died. */
  crashes: number;
  workerPid: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Wall time of the last finished run, seconds. */
  seconds: number | null;
  /** Length of the input (video seconds, or frames / sequence fps). */
  mediaSeconds: number | null;
  frames: number | null;
  analysed: number | null;
  /** --total-frames: the automatic count (pass 1), the usable frames, the share and why. */
  need: number | null;
  capacity: number | null;
  share: number | null;
  shareReason: string | null;
  /** Frames the decoder delivered in the job's extract, and in bringing it to its share. */
  decoded: number | null;
  shareDecoded: number | null;
}

/** What a finished job leaves in its row: the worker's result without its warnings and memory. */
export type JobResult = Pick<WorkerResult, 'seconds' | 'mediaSeconds' | 'frames' | 'analysed' | 'capacity' | 'decoded'>;

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY,
  input TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('video', 'images', 'url', 'missing')),
  rel_name TEXT NOT NULL UNIQUE,
  out_dir TEXT NOT NULL,
  size INTEGER,
  mtime_ms REAL,
  content_fp TEXT,
  options_fp TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  crashes INTEGER NOT NULL DEFAULT 0,
  worker_pid INTEGER,
  error_code TEXT,
  error_message TEXT,
  queued_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  seconds REAL,
  media_seconds REAL,
  frames INTEGER,
  analysed INTEGER,
  need INTEGER,
  capacity INTEGER,
  share INTEGER,
  share_reason TEXT,
  decoded INTEGER,
  share_decoded INTEGER
);
`;

/** Columns added after schema 1 shipped: a store made before them gets them (all nullable). */
const ADDED_COLUMNS = ['decoded INTEGER', 'share_decoded INTEGER'];

const COLUMNS: Record<keyof JobRow, string> = {
  id: 'id', input: 'input', kind: 'kind', relName: 'rel_name', outDir: 'out_dir', size: 'size', mtimeMs: 'mtime_ms',
  contentFp: 'content_fp', optionsFp: 'options_fp', state: 'state', attempts: 'attempts', crashes: 'crashes',
  workerPid: 'worker_pid', errorCode: 'error_code', errorMessage: 'error_message', queuedAt: 'queued_at',
  startedAt: 'started_at', finishedAt: 'finished_at', seconds: 'seconds', mediaSeconds: 'media_seconds', frames: 'frames',
  analysed: 'analysed', need: 'need', capacity: 'capacity', share: 'share', shareReason: 'share_reason',
  decoded: 'decoded', shareDecoded: 'share_decoded',
};
const SELECT = `SELECT ${Object.entries(COLUMNS).map(([key, column]) => `${column} AS ${key}`).join(', ')} FROM jobs`;

const now = () => new Date().toISOString();

export class JobStore {
  readonly path: string;
  #db: SqliteDatabase;

  private constructor(path: string, db: SqliteDatabase) {
    this.path = path;
    this.#db = db;
  }

  /** Opens (or creates) DIR/batch.sqlite. */
  static open(dir: string): JobStore {
    const path = join(dir, BATCH_STORE_FILE);
    let db: SqliteDatabase;
    try {
      db = openSqlite(path);
      db.pragma('journal_mode = WAL');
      // FULL: a committed state change survives a power cut too, not only a crash of ours.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      const have = new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all('jobs') as Array<{ name: string }>).map((c) => c.name));
      for (const column of ADDED_COLUMNS) if (!have.has(column.split(' ')[0]!)) db.exec(`ALTER TABLE jobs ADD COLUMN ${column}`);
    } catch (err) {
      if (err instanceof FramesiftError) throw err; // better-sqlite3 itself missing: its own code
      throw new FramesiftError(`${path}: cannot open the job store: ${(err as Error).message}`, 'ERR_FRAMESIFT_OUTPUT', { cause: err });
    }
    const version = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema') as { value: string } | undefined;
    if (version === undefined) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema', String(SCHEMA_VERSION));
    else if (Number(version.value) !== SCHEMA_VERSION) {
      db.close();
      throw new FramesiftError(`${path}: job store of schema ${version.value}, this framesift reads ${SCHEMA_VERSION}; start over with --force`, 'ERR_FRAMESIFT_OUTPUT');
    }
    return new JobStore(path, db);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  get(id: number): JobRow {
    const row = this.#db.prepare(`${SELECT} WHERE id = ?`).get(id) as JobRow | undefined;
    if (!row) throw new FramesiftError(`job ${id} is not in ${this.path}`, 'ERR_FRAMESIFT_INTERNAL');
    return row;
  }

  byInput(input: string): JobRow | undefined {
    return this.#db.prepare(`${SELECT} WHERE input = ?`).get(input) as JobRow | undefined;
  }

  all(): JobRow[] {
    return this.#db.prepare(`${SELECT} ORDER BY id`).all() as JobRow[];
  }

  /** True when another input already has this output name. */
  nameTaken(relName: string, input: string): boolean {
    return this.#db.prepare('SELECT 1 FROM jobs WHERE rel_name = ? AND input <> ?').get(relName, input) !== undefined;
  }

  /** A new input: queued. */
  insert(input: BatchInput, relName: string, outDir: string, fp: InputFingerprint, optionsFp: string): JobRow {
    const info = this.#db
      .prepare(
        `INSERT INTO jobs (input, kind, rel_name, out_dir, size, mtime_ms, content_fp, options_fp, state, queued_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
      )
      .run(input.input, input.kind, relName, outDir, fp.size, fp.mtimeMs, fp.content, optionsFp, now());
    return this.get(Number(info.lastInsertRowid));
  }

  /**
   * Queues a known job again. `fresh` (its input or options changed, or --retry-failed):
   * attempts, crashes, results and the share start over.
   */
  requeue(id: number, fresh: boolean, fp?: InputFingerprint, optionsFp?: string, kind?: BatchInput['kind']): void {
    this.#db.transaction(() => {
      if (fresh) {
        this.#db
          .prepare(
            `UPDATE jobs SET attempts = 0, crashes = 0, frames = NULL, analysed = NULL, seconds = NULL, need = NULL,
               capacity = NULL, share = NULL, share_reason = NULL, decoded = NULL, share_decoded = NULL, started_at = NULL,
               finished_at = NULL WHERE id = ?`,
          )
          .run(id);
      }
      if (fp && optionsFp && kind) {
        this.#db.prepare('UPDATE jobs SET size = ?, mtime_ms = ?, content_fp = ?, options_fp = ?, kind = ? WHERE id = ?').run(fp.size, fp.mtimeMs, fp.content, optionsFp, kind, id);
      }
      this.#db.prepare(`UPDATE jobs SET state = 'queued', worker_pid = NULL, error_code = NULL, error_message = NULL, queued_at = ? WHERE id = ?`).run(now(), id);
    })();
  }

  /** The input's time changed but not its content: the finished job stands. */
  touch(id: number, mtimeMs: number | null): void {
    this.#db.prepare('UPDATE jobs SET mtime_ms = ? WHERE id = ?').run(mtimeMs, id);
  }

  markRunning(id: number, workerPid: number): JobRow {
    this.#db
      .prepare(`UPDATE jobs SET state = 'running', attempts = attempts + 1, worker_pid = ?, started_at = ?, finished_at = NULL WHERE id = ?`)
      .run(workerPid, now(), id);
    return this.get(id);
  }

  /** `share`: the clip brought to its share (phase 2), whose time adds to its extract's. */
  markDone(id: number, result: JobResult, share = false): JobRow {
    this.#db
      .prepare(
        `UPDATE jobs SET state = 'done', worker_pid = NULL, error_code = NULL, error_message = NULL, finished_at = ?,
           seconds = ? + (CASE WHEN ? THEN COALESCE(seconds, 0) ELSE 0 END), media_seconds = ?, frames = ?, analysed = ?,
           capacity = ?, ${share ? 'share_decoded = ?' : 'decoded = ?, share_decoded = NULL'} WHERE id = ?`,
      )
      .run(now(), result.seconds, share ? 1 : 0, result.mediaSeconds, result.frames, result.analysed, result.capacity, result.decoded, id);
    return this.get(id);
  }

  markFailed(id: number, code: string, message: string, crashed = false): JobRow {
    this.#db
      .prepare(
        `UPDATE jobs SET state = 'failed', worker_pid = NULL, error_code = ?, error_message = ?, finished_at = ?,
           crashes = crashes + ? WHERE id = ?`,
      )
      .run(code, message, now(), crashed ? 1 : 0, id);
    return this.get(id);
  }

  /** A worker died under the job and it gets its second run: queued again, the crash counted. */
  markCrashedRetry(id: number, message: string): JobRow {
    this.#db.prepare(`UPDATE jobs SET state = 'queued', worker_pid = NULL, crashes = crashes + 1, error_message = ? WHERE id = ?`).run(message, id);
    return this.get(id);
  }

  /** Stopped by the user mid-run: queued again, and this run does not count as an attempt. */
  markInterrupted(id: number): JobRow {
    this.#db.prepare(`UPDATE jobs SET state = 'queued', worker_pid = NULL, attempts = MAX(attempts - 1, 0) WHERE id = ? AND state = 'running'`).run(id);
    return this.get(id);
  }

  markSkipped(id: number, reason: string): JobRow {
    this.#db.prepare(`UPDATE jobs SET state = 'skipped', worker_pid = NULL, frames = 0, finished_at = ?, error_message = ? WHERE id = ?`).run(now(), reason, id);
    return this.get(id);
  }

  /** Pass 1 of --total-frames: the clip's automatic count. */
  setNeed(id: number, need: number): void {
    this.#db.prepare('UPDATE jobs SET need = ? WHERE id = ?').run(need, id);
  }

  /** The shares of one allocation, all in one transaction. */
  setShares(shares: ReadonlyArray<{ id: number; share: number; reason: string }>): void {
    const update = this.#db.prepare('UPDATE jobs SET share = ?, share_reason = ? WHERE id = ?');
    this.#db.transaction(() => {
      for (const s of shares) update.run(s.share, s.reason, s.id);
    })();
  }

  /** The clip gave fewer frames than asked: what it can give is what it gave. */
  setCapacity(id: number, capacity: number): void {
    this.#db.prepare('UPDATE jobs SET capacity = ? WHERE id = ?').run(capacity, id);
  }
}
