/**
 * A fingerprint of the input a saved analysis came from, so re-selection can tell whether the
 * video it would decode is still the one analysed: size, mtime and a hash of three 1 MiB chunks
 * (start, middle, end) for a file; names, sizes and mtimes for an image sequence; the URL alone
 * for a stream (which cannot be checked).
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';

import { FramesiftError } from '../errors.js';
import { resolveInput } from '../core/input.js';

const CHUNK = 1 << 20;

export interface InputFingerprint {
  kind: 'video' | 'images' | 'url';
  /** The input as given to extract. */
  input: string;
  /** Bytes (video) or number of frames (images). */
  size: number;
  mtimeMs: number;
  /** sha256 hex of the sampled content (video) or of the file list with sizes and mtimes (images). */
  hash: string;
}

export async function fingerprintInput(input: string): Promise<InputFingerprint> {
  const resolved = resolveInput(input);
  if (resolved.kind === 'url') return { kind: 'url', input, size: 0, mtimeMs: 0, hash: '' };
  if (resolved.kind === 'images') {
    const hash = createHash('sha256');
    let newest = 0;
    for (const file of resolved.files) {
      const s = await stat(file);
      newest = Math.max(newest, s.mtimeMs);
      hash.update(`${file}\0${s.size}\0${s.mtimeMs}\n`);
    }
    return { kind: 'images', input, size: resolved.files.length, mtimeMs: newest, hash: hash.digest('hex') };
  }
  const info = await stat(resolved.input);
  const handle = await open(resolved.input, 'r');
  try {
    const hash = createHash('sha256');
    hash.update(String(info.size));
    const buffer = Buffer.alloc(CHUNK);
    const offsets = [...new Set([0, Math.max(0, Math.floor(info.size / 2) - CHUNK / 2), Math.max(0, info.size - CHUNK)])];
    for (const offset of offsets) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, offset);
      hash.update(buffer.subarray(0, bytesRead));
    }
    return { kind: 'video', input, size: info.size, mtimeMs: info.mtimeMs, hash: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/**
 * Throws ERR_FRAMESIFT_INPUT_CHANGED (or the input's own not-found error) when the input is no
 * longer the one fingerprinted. A stream (URL) cannot be checked and passes.
 */
export async function checkFingerprint(saved: InputFingerprint, why: string): Promise<void> {
  if (saved.kind === 'url') return;
  let now: InputFingerprint;
  try {
    now = await fingerprintInput(saved.input);
  } catch (err) {
    throw new FramesiftError(`${saved.input}: the input of this run is gone (${(err as Error).message}), and ${why}`, 'ERR_FRAMESIFT_NOT_FOUND', { input: saved.input, cause: err });
  }
  const changed = now.size !== saved.size ? `its size is ${now.size}, was ${saved.size}` : now.hash !== saved.hash ? 'its content differs' : now.mtimeMs !== saved.mtimeMs ? `it was modified (mtime ${new Date(now.mtimeMs).toISOString()})` : undefined;
  if (changed) {
    throw new FramesiftError(`${saved.input}: the input changed since it was analysed (${changed}), and ${why}; run extract again`, 'ERR_FRAMESIFT_INPUT_CHANGED', { input: saved.input });
  }
}
