/**
 * Fingerprints that decide whether a finished job still stands on resume: the input's
 * content (fast: size plus hashes of its head, middle and tail, never the whole file) and
 * the options that change what a job writes.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { IMAGE_EXTENSIONS } from '../core/input.js';
import type { BatchInput } from './inputs.js';

const CHUNK = 64 * 1024;

export interface InputFingerprint {
  size: number | null;
  mtimeMs: number | null;
  content: string | null;
}

/** What the input is now; all null for a URL or a missing path (nothing to compare). */
export async function fingerprintInput(input: BatchInput): Promise<InputFingerprint> {
  if (input.kind === 'url' || input.kind === 'missing') return { size: null, mtimeMs: null, content: null };
  const stats = await stat(input.input).catch(() => undefined);
  if (!stats) return { size: null, mtimeMs: null, content: null };
  if (stats.isDirectory()) return fingerprintFolder(input.input, stats.mtimeMs);
  if (!stats.isFile()) return { size: stats.size, mtimeMs: stats.mtimeMs, content: null };
  const hash = createHash('sha256').update(String(stats.size));
  const handle = await open(input.input, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK);
    // Head, middle and tail: a re-encode, a trim or an appended part changes at least one.
    for (const position of new Set([0, Math.max(0, Math.floor(stats.size / 2) - CHUNK / 2), Math.max(0, stats.size - CHUNK)])) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return { size: stats.size, mtimeMs: stats.mtimeMs, content: hash.digest('hex') };
}

/** An image folder: the names, sizes and times of its frames (adding or replacing one changes it). */
async function fingerprintFolder(dir: string, mtimeMs: number): Promise<InputFingerprint> {
  const names = (await readdir(dir)).filter((n) => IMAGE_EXTENSIONS.test(n)).sort();
  const hash = createHash('sha256');
  let size = 0;
  for (const name of names) {
    const s = await stat(join(dir, name));
    size += s.size;
    hash.update(`${name}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return { size, mtimeMs, content: hash.digest('hex') };
}

/** Keys sorted at every level, so the same options always give the same text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function fingerprintOptions(options: Record<string, unknown>): string {
  return createHash('sha256').update(stableJson(options)).digest('hex').slice(0, 16);
}
