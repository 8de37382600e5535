/**
 * Resolves what the user gave as input: a video file, a URL libavformat opens, or an image
 * sequence (a folder of JPEG/PNG frames, or a glob pattern such as "shots/*.jpg"), ordered
 * by name with numbers compared as numbers (frame2 before frame10).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import { FramesiftError } from '../errors.js';

export type ResolvedInput =
  | { kind: 'video'; input: string }
  | { kind: 'url'; input: string }
  | { kind: 'images'; input: string; files: string[] };

export const IMAGE_EXTENSIONS = /\.(jpe?g|png)$/i;
export const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const GLOB_CHARS = /[*?[]/;

/** Name order with numbers compared as numbers (frame2 before frame10). */
export const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare;

export function resolveInput(input: string): ResolvedInput {
  if (typeof input !== 'string' || input.length === 0) {
    throw new FramesiftError('Expected a video path, URL, folder or glob for input but received an empty value', 'ERR_FRAMESIFT_INVALID_ARG');
  }
  if (URL_SCHEME.test(input) && !input.startsWith('file://')) return { kind: 'url', input };
  const path = input.startsWith('file://') ? new URL(input).pathname : input;
  let stats;
  try {
    stats = statSync(path);
  } catch {
    if (GLOB_CHARS.test(basename(path))) return globImages(path, input);
    throw new FramesiftError(`${input}: no such file or folder`, 'ERR_FRAMESIFT_NOT_FOUND', { input });
  }
  if (stats.isDirectory()) {
    const files = readdirSync(path)
      .filter((name) => IMAGE_EXTENSIONS.test(name))
      .sort(byName)
      .map((name) => join(path, name));
    if (files.length === 0) {
      throw new FramesiftError(`${input}: the folder holds no .jpg, .jpeg or .png frames`, 'ERR_FRAMESIFT_OPEN', { input });
    }
    return { kind: 'images', input, files };
  }
  if (stats.size === 0) {
    throw new FramesiftError(`${input}: the file is empty (0 bytes)`, 'ERR_FRAMESIFT_OPEN', { input });
  }
  return { kind: 'video', input: resolve(path) };
}

/** Glob over the last path component only ("dir/frame_*.png"): what users write for frames. */
function globImages(pattern: string, input: string): ResolvedInput {
  const dir = dirname(pattern);
  const regex = globToRegExp(basename(pattern));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new FramesiftError(`${input}: no such folder ${dir}`, 'ERR_FRAMESIFT_NOT_FOUND', { input });
  }
  const files = names.filter((n) => regex.test(n) && IMAGE_EXTENSIONS.test(n)).sort(byName).map((n) => join(dir, n));
  if (files.length === 0) {
    throw new FramesiftError(`${input}: the pattern matches no .jpg, .jpeg or .png file`, 'ERR_FRAMESIFT_NOT_FOUND', { input });
  }
  return { kind: 'images', input, files };
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) source += '\\[';
      else {
        source += `[${glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
