/**
 * What a request may touch: inputs inside --input-root, outputs inside --output-root. A path
 * with a `..` segment is refused (400); an absolute path outside the root, or one that
 * leaves the root through a symbolic link (checked on the real path; for a folder of frames,
 * on each frame that is a link too), is refused (403). The checks only resolve names and list
 * a folder: no input is opened before it passes.
 */
import { createHash } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import { IMAGE_EXTENSIONS } from '../core/input.js';
import { FramesiftError, invalidArg } from '../errors.js';

const URL_INPUT = /^[a-z][a-z0-9+.-]*:\/\//i;

export const isUrl = (input: string) => URL_INPUT.test(input);

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function forbidden(what: string, path: string, root: string): FramesiftError {
  return new FramesiftError(`${what} ${JSON.stringify(path)} is outside ${root}`, 'ERR_FRAMESIFT_FORBIDDEN', { input: path });
}

/** The lexical checks: no `..`, no NUL, absolute only inside the root. Returns the joined path. */
function lexical(root: string, path: string, option: string, what: string): string {
  if (path.includes('\0')) throw invalidArg(option, 'a path without NUL characters', path);
  if (path.split(/[\\/]+/).includes('..')) throw invalidArg(option, `a path inside the ${what} root without '..'`, path);
  const joined = isAbsolute(path) ? resolve(path) : resolve(root, path);
  if (!inside(root, joined)) throw forbidden(option, path, root);
  return joined;
}

export class PathPolicy {
  /** Real paths of the roots. */
  private constructor(
    readonly inputRoot: string,
    readonly outputRoot: string,
    readonly allowUrls: boolean,
  ) {}

  static async create(inputRoot: string, outputRoot: string, allowUrls = false): Promise<PathPolicy> {
    const real = async (path: string, option: string) => {
      try {
        const resolved = await realpath(path);
        if (!(await stat(resolved)).isDirectory()) throw new Error('not a folder');
        return resolved;
      } catch (err) {
        throw new FramesiftError(`${option} ${path}: ${(err as Error).message}`, 'ERR_FRAMESIFT_INVALID_ARG', { input: path });
      }
    };
    return new PathPolicy(await real(inputRoot, '--input-root'), await real(outputRoot, '--output-root'), allowUrls);
  }

  /** The real path of an input file or folder inside the input root (or a URL where allowed). */
  async input(input: string, option = 'input'): Promise<string> {
    if (isUrl(input)) {
      if (!this.allowUrls) throw new FramesiftError(`URL inputs are not allowed on this server (start it with --allow-urls): ${input}`, 'ERR_FRAMESIFT_FORBIDDEN', { input });
      return input;
    }
    const joined = lexical(this.inputRoot, input, option, 'input');
    let real: string;
    try {
      real = await realpath(joined);
    } catch {
      throw new FramesiftError(`${input}: not found in the input root`, 'ERR_FRAMESIFT_NOT_FOUND', { input });
    }
    if (!inside(this.inputRoot, real)) throw forbidden(option, input, this.inputRoot);
    // A folder of frames: a frame that is a link out of the root would be read by extract.
    if ((await stat(real)).isDirectory()) {
      for (const entry of await readdir(real, { withFileTypes: true })) {
        if (!entry.isSymbolicLink() || !IMAGE_EXTENSIONS.test(entry.name)) continue;
        const target = await realpath(join(real, entry.name)).catch(() => undefined);
        if (target === undefined || !inside(this.inputRoot, target)) throw forbidden(option, `${input}/${entry.name}`, this.inputRoot);
      }
    }
    return real;
  }

  /**
   * The output folder inside the output root: `outDir` as given, else the input's path
   * relative to the input root without its extension. Parts that exist already are followed
   * to their real path, which must stay inside the root.
   */
  async output(outDir: string | undefined, realInput: string): Promise<string> {
    const wanted = outDir ?? defaultOutDir(this.inputRoot, realInput);
    const joined = lexical(this.outputRoot, wanted, 'options.outDir', 'output');
    // The deepest existing ancestor decides where the folder really is.
    const rest: string[] = [];
    let probe = joined;
    for (;;) {
      try {
        const real = await realpath(probe);
        const target = join(real, ...rest.reverse());
        if (!inside(this.outputRoot, target)) throw forbidden('options.outDir', wanted, this.outputRoot);
        if (target === this.outputRoot) throw invalidArg('options.outDir', 'a folder below the output root, not the root itself', wanted);
        return target;
      } catch (err) {
        if (err instanceof FramesiftError) throw err;
        rest.push(probe.slice(probe.lastIndexOf(sep) + 1));
        probe = probe.slice(0, probe.lastIndexOf(sep)) || sep;
      }
    }
  }
}

function defaultOutDir(inputRoot: string, realInput: string): string {
  if (isUrl(realInput)) return `url-${createHash('sha256').update(realInput).digest('hex').slice(0, 16)}`;
  const rel = relative(inputRoot, realInput);
  const ext = extname(rel);
  return ext ? rel.slice(0, -ext.length) : rel || 'root';
}
