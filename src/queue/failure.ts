/**
 * Which failures a retry can fix. A bad input (it cannot be opened, is not a video, has an
 * unsupported codec, bad options) fails the same way on every machine: the job fails at once
 * (BullMQ's UnrecoverableError). I/O trouble, memory, a worker that died: retried with
 * exponential backoff. The stable code travels in the failure message, "CODE: message", which
 * is all BullMQ keeps of an error; jobErrorOf reads it back.
 */
import { UnrecoverableError } from 'bullmq';

import { FramesiftError, type FramesiftErrorCode } from '../errors.js';

/** Codes that say the input or the options are wrong: the same on any retry. */
const PERMANENT: ReadonlySet<FramesiftErrorCode> = new Set<FramesiftErrorCode>([
  'ERR_FRAMESIFT_INVALID_ARG',
  'ERR_FRAMESIFT_NOT_FOUND',
  'ERR_FRAMESIFT_OPEN',
  'ERR_FRAMESIFT_NO_VIDEO',
  'ERR_FRAMESIFT_UNSUPPORTED',
  'ERR_FRAMESIFT_TOO_LARGE',
  'ERR_FRAMESIFT_DECODE',
  'ERR_FRAMESIFT_TRUNCATED',
  'ERR_FRAMESIFT_MODEL',
  'ERR_FRAMESIFT_PROVIDER',
  'ERR_FRAMESIFT_ABORTED',
  'ERR_FRAMESIFT_FORBIDDEN',
]);

const URL_INPUT = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True when a retry of the same job cannot succeed. */
export function isPermanent(err: unknown, input: string): boolean {
  if (!(err instanceof FramesiftError)) return false;
  // A URL that cannot be opened now may open later (network); a file that cannot will not.
  if (err.code === 'ERR_FRAMESIFT_OPEN' && URL_INPUT.test(input)) return false;
  return PERMANENT.has(err.code);
}

/** The error the processor throws: the code in front of the message; unrecoverable when permanent (or `alwaysPermanent`). */
export function jobFailure(err: unknown, input: string, alwaysPermanent = false): Error {
  const code = err instanceof FramesiftError ? err.code : 'ERR_FRAMESIFT_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  const text = `${code}: ${message}`;
  return alwaysPermanent || isPermanent(err, input) ? new UnrecoverableError(text) : new Error(text);
}

export interface JobError {
  code: string;
  message: string;
}

/** Reads a job's failedReason back into {code, message}; a failure from outside framesift (a stalled job given up) gets ERR_FRAMESIFT_INTERNAL. */
export function jobErrorOf(failedReason: string | undefined): JobError | null {
  if (!failedReason) return null;
  const match = /^(ERR_FRAMESIFT_[A-Z_]+): ([\s\S]*)$/.exec(failedReason);
  return match ? { code: match[1]!, message: match[2]! } : { code: 'ERR_FRAMESIFT_INTERNAL', message: failedReason };
}
