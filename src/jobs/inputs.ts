/**
 * Turns what a user names on a batch command line into one input per job: video files,
 * folders (searched recursively for videos; a folder holding images and no video is one
 * image-sequence input), globs, `@list.txt` (one input per line) and `-` (the list on stdin).
 * Each input gets a stable, unique output sub-folder name from its path relative to the
 * common root of what was named, so two `clip.mp4` in different folders never collide.
 * Shared by `framesift batch` (src/jobs) and the queue (`framesift queue`).
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import { glob, isDynamicPattern } from 'tinyglobby';

import { FramesiftError } from '../errors.js';
import { byName, IMAGE_EXTENSIONS, URL_SCHEME } from '../core/input.js';

export interface BatchInput {
  /** What to pass to extractFrames (absolute path, image folder or glob, or URL). */
  input: string;
  /** 'missing': nothing is there; the job fails with ERR_FRAMESIFT_NOT_FOUND, the batch goes on. */
  kind: 'video' | 'images' | 'url' | 'missing';
  /** Stable, unique output sub-folder name from the path relative to the inputs' common root. */
  relName: string;
}

export interface ExpandOptions {
  /** Where `-` reads its list (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Relative specs and list entries resolve against it (default process.cwd()). */
  cwd?: string;
}

/** Files a folder walk takes as videos; a file named directly is tried whatever its name. */
export const VIDEO_EXTENSIONS = new Set([
  '.mp4', '.m4v', '.mov', '.qt', '.mkv', '.webm', '.avi', '.wmv', '.asf', '.flv', '.f4v', '.mpg', '.mpeg', '.m2v',
  '.ts', '.mts', '.m2ts', '.vob', '.3gp', '.3g2', '.mxf', '.ogv', '.dv', '.insv', '.lrv', '.y4m', '.nut', '.h264', '.hevc',
]);
/** A folder holding this is a batch output: never walked as input (a rerun of `batch . -o out`). */
export const BATCH_STORE_FILE = 'batch.sqlite';
const MAX_NAME = 150;

/** One found input before naming: `anchor` is the folder its spec named (the naming root's candidates). */
interface Found {
  input: string;
  kind: BatchInput['kind'];
  /** Path the relative name is taken from (undefined for URLs). */
  path?: string;
  anchor?: string;
}

export async function expandInputs(specs: readonly string[], options: ExpandOptions = {}): Promise<BatchInput[]> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const found: Found[] = [];
  let stdinRead = false;
  for (const spec of specs) {
    if (typeof spec !== 'string' || spec.trim() === '') {
      throw new FramesiftError(`Expected a video path, folder, glob, URL, @list or - for an input but received ${JSON.stringify(spec)}`, 'ERR_FRAMESIFT_INVALID_ARG');
    }
    if (spec === '-') {
      if (stdinRead) continue;
      stdinRead = true;
      const text = await readStream(options.stdin ?? process.stdin);
      for (const entry of listEntries(text)) found.push(...(await expandSpec(entry, cwd)));
    } else if (spec.startsWith('@') && spec.length > 1) {
      const listPath = resolve(cwd, spec.slice(1));
      let text: string;
      try {
        text = await readFile(listPath, 'utf8');
      } catch (err) {
        throw new FramesiftError(`${spec}: cannot read the input list: ${(err as Error).message}`, 'ERR_FRAMESIFT_NOT_FOUND', { input: listPath });
      }
      for (const entry of listEntries(text)) found.push(...(await expandSpec(entry, cwd)));
    } else {
      found.push(...(await expandSpec(spec, cwd)));
    }
  }
  return nameInputs(dedupe(found));
}

/** Lines of a list: blank lines and lines starting with # are skipped; entries are paths, folders, globs or URLs. */
function listEntries(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function expandSpec(spec: string, cwd: string): Promise<Found[]> {
  if (URL_SCHEME.test(spec) && !spec.startsWith('file://')) return [{ input: spec, kind: 'url' }];
  const path = resolve(cwd, spec.startsWith('file://') ? new URL(spec).pathname : spec);
  const stats = await stat(path).catch(() => undefined);
  if (stats?.isDirectory()) return walkFolder(path, path);
  if (stats) return [{ input: path, kind: 'video', path, anchor: dirname(path) }];
  if (isDynamicPattern(spec)) return expandGlob(spec, cwd);
  return [{ input: path, kind: 'missing', path, anchor: dirname(path) }];
}

/**
 * Videos anywhere below `root`, and each folder that holds frames but no video as one
 * image-sequence input. Hidden entries and batch outputs are skipped; symlinked folders
 * are followed once (a link loop ends).
 */
async function walkFolder(root: string, anchor: string): Promise<Found[]> {
  const results: Found[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    const real = await realpath(dir).catch(() => dir);
    if (seen.has(real)) return;
    seen.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder inside an archive: nothing to take from it
    }
    const names = new Set(entries.map((e) => e.name));
    if (names.has(BATCH_STORE_FILE) || (names.has('manifest.json') && names.has('images'))) return; // framesift's own output
    entries.sort((a, b) => byName(a.name, b.name));
    const videos: string[] = [];
    const folders: string[] = [];
    let images = 0;
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      const kind = entry.isSymbolicLink() ? await stat(full).then((s) => (s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other'), () => 'other') : entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
      if (kind === 'dir') folders.push(full);
      else if (kind === 'file') {
        if (VIDEO_EXTENSIONS.has(extname(entry.name).toLowerCase())) videos.push(full);
        else if (IMAGE_EXTENSIONS.test(entry.name)) images++;
      }
    }
    for (const video of videos) results.push({ input: video, kind: 'video', path: video, anchor });
    if (videos.length === 0 && images > 0) results.push({ input: dir, kind: 'images', path: dir, anchor });
    for (const folder of folders) await visit(folder);
  };
  await visit(root);
  // A named folder with nothing to take is still a job: extract reports why it cannot read it.
  if (results.length === 0) results.push({ input: root, kind: 'images', path: root, anchor });
  return results;
}

/** A glob: matched videos, matched folders walked, matched frames grouped by folder. */
async function expandGlob(pattern: string, cwd: string): Promise<Found[]> {
  const absolutePattern = isAbsolute(pattern) ? pattern : join(cwd, pattern);
  const anchor = staticPrefix(absolutePattern);
  const matches = (await glob(pattern, { cwd, absolute: true, onlyFiles: false, expandDirectories: false, followSymbolicLinks: true })).sort(byName);
  if (matches.length === 0) return [{ input: absolutePattern, kind: 'missing', path: absolutePattern, anchor }];
  const results: Found[] = [];
  const frameFolders = new Map<string, number>();
  for (const match of matches) {
    const stats = await stat(match).catch(() => undefined);
    if (!stats) continue;
    if (stats.isDirectory()) results.push(...(await walkFolder(match, anchor)));
    else if (VIDEO_EXTENSIONS.has(extname(match).toLowerCase())) results.push({ input: match, kind: 'video', path: match, anchor });
    else if (IMAGE_EXTENSIONS.test(match)) frameFolders.set(dirname(match), (frameFolders.get(dirname(match)) ?? 0) + 1);
  }
  const lastPart = basename(absolutePattern);
  for (const [folder, matched] of frameFolders) {
    const inFolder = (await readdir(folder)).filter((n) => IMAGE_EXTENSIONS.test(n) && !n.startsWith('.')).length;
    // extract reads a folder, or a glob over the last path part with * ? [ ] only.
    const input = matched === inFolder || !/^[^{}()!+@]*$/.test(lastPart) ? folder : join(folder, lastPart);
    results.push({ input, kind: 'images', path: folder, anchor });
  }
  return results;
}

/** The folder part of a glob before its first dynamic segment. */
function staticPrefix(pattern: string): string {
  const parts = pattern.split(sep);
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (isDynamicPattern(part)) break;
    fixed.push(part);
  }
  return fixed.join(sep) || sep;
}

function dedupe(found: Found[]): Found[] {
  const seen = new Set<string>();
  return found.filter((f) => {
    const key = `${f.kind === 'missing' ? 'missing' : 'input'}:${f.input}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The deepest folder that holds every anchor. */
function commonRoot(paths: string[]): string | undefined {
  if (paths.length === 0) return undefined;
  let parts = paths[0]!.split(sep);
  for (const path of paths.slice(1)) {
    const other = path.split(sep);
    let i = 0;
    while (i < parts.length && i < other.length && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

function nameInputs(found: Found[]): BatchInput[] {
  const root = commonRoot(found.flatMap((f) => (f.anchor ? [f.anchor] : [])));
  const names = found.map((f) => baseName(f, root));
  // Names that still meet (clip.mp4 and clip.mov, "a__b" and "a/b", or only by case on a
  // case-insensitive disk) all get a short hash of their input: same inputs, same names.
  const groups = new Map<string, number[]>();
  names.forEach((name, i) => {
    const key = name.toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const members of groups.values()) {
    if (members.length > 1) for (const i of members) names[i] = `${names[i]}-${shortHash(found[i]!.input)}`;
  }
  return found.map((f, i) => ({ input: f.input, kind: f.kind, relName: names[i]! }));
}

function baseName(found: Found, root: string | undefined): string {
  let segments: string[];
  if (found.kind === 'url') {
    const url = safeUrl(found.input);
    segments = url ? [url.host, ...url.pathname.split('/')] : [found.input];
  } else {
    const rel = root !== undefined ? relative(root, found.path!) : '';
    segments = (rel === '' || rel.startsWith('..') ? basename(found.path!) : rel).split(sep);
  }
  segments = segments.filter((s) => s.length > 0);
  if (found.kind !== 'images' && segments.length > 0) {
    const last = segments[segments.length - 1]!;
    const ext = extname(last);
    if (ext.length > 1 && ext.length < last.length) segments[segments.length - 1] = last.slice(0, -ext.length);
  }
  let name = segments.map(cleanSegment).join('__') || 'input';
  if (name.length > MAX_NAME) name = `${name.slice(0, MAX_NAME - 9)}-${shortHash(found.input)}`;
  return name;
}

/** Characters no file system takes (or that a shell trips on) become _, and no name starts with a dot. */
function cleanSegment(segment: string): string {
  // eslint-disable-next-line no-control-regex
  return segment.replace(/[\x00-\x1f<>:"/\\|?*]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length));
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}
