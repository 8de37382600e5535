/**
 * Bearer-token authentication. The token comes from FRAMESIFT_API_TOKEN or a file
 * (--token-file); requests compare SHA-256 digests with crypto.timingSafeEqual, so neither
 * the content nor the length of the expected token leaks through timing. Without a token
 * the server only listens on loopback.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';

import { FramesiftError, invalidArg } from '../errors.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Checks `Authorization: Bearer <token>` headers against one token. */
export class BearerAuth {
  readonly #expected: Buffer;

  constructor(token: string) {
    if (token.length < 16) throw invalidArg('the API token', 'at least 16 characters', `${token.length} characters`);
    this.#expected = digest(token);
  }

  /** Throws ERR_FRAMESIFT_UNAUTHORIZED (401) unless the header carries the token. */
  check(authorization: string | undefined): void {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new FramesiftError('Missing bearer token: send "Authorization: Bearer <token>"', 'ERR_FRAMESIFT_UNAUTHORIZED');
    if (!timingSafeEqual(digest(match[1]!), this.#expected)) throw new FramesiftError('Wrong bearer token', 'ERR_FRAMESIFT_UNAUTHORIZED');
  }
}

/** The token: --token-file's content (trimmed) or FRAMESIFT_API_TOKEN; undefined when neither is set. */
export async function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = await readFile(tokenFile, 'utf8');
    } catch (err) {
      throw new FramesiftError(`--token-file ${tokenFile}: ${(err as Error).message}`, 'ERR_FRAMESIFT_INVALID_ARG', { input: tokenFile });
    }
    const token = text.trim();
    if (!token) throw invalidArg('--token-file', 'a file holding the token', tokenFile);
    return token;
  }
  const token = env.FRAMESIFT_API_TOKEN?.trim();
  return token ? token : undefined;
}

/** True for addresses only this machine reaches: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
