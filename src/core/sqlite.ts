/**
 * better-sqlite3, loaded when a database is first opened (the batch job store, the COLMAP
 * database), not when framesift is imported. It is an optional dependency: its install step
 * downloads a prebuilt binary or compiles one, and where neither works `npm install framesift`
 * still succeeds; only `framesift batch` and `extract --colmap` then fail, with this error.
 */
import { createRequire } from 'node:module';

import type BetterSqlite3 from 'better-sqlite3';

import { FramesiftError } from '../errors.js';

export type SqliteDatabase = BetterSqlite3.Database;

let constructor: typeof BetterSqlite3 | undefined;

const FIX =
  'install or rebuild it: npm install better-sqlite3@12 (its install step downloads a prebuilt binary from GitHub, else compiles with g++, make and python3); `framesift doctor` checks it';

/** Opens `path`; ERR_FRAMESIFT_NATIVE_LOAD when better-sqlite3 is missing or its binding does not load. SQLite's own errors pass through. */
export function openSqlite(path: string): SqliteDatabase {
  try {
    constructor ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    return new constructor(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE')) throw err;
    throw new FramesiftError(`better-sqlite3 could not be loaded (${(err as Error).message.split('\n')[0]}); ${FIX}`, 'ERR_FRAMESIFT_NATIVE_LOAD', { cause: err });
  }
}
