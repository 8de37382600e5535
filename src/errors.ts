/**
 * FramesiftError: every failure framesift reports carries a stable `code` (branch on it, never
 * on the message), the input it concerns when there is one, and the underlying library
 * message (libav, OpenCV, onnxruntime) as `cause` when there is one. Native code creates
 * instances of this class directly (registered with the addon at load).
 */
export type FramesiftErrorCode =
  | 'ERR_FRAMESIFT_INVALID_ARG'
  | 'ERR_FRAMESIFT_NOT_FOUND'
  | 'ERR_FRAMESIFT_OPEN'
  | 'ERR_FRAMESIFT_NO_VIDEO'
  | 'ERR_FRAMESIFT_UNSUPPORTED'
  | 'ERR_FRAMESIFT_TOO_LARGE'
  | 'ERR_FRAMESIFT_DECODE'
  | 'ERR_FRAMESIFT_TRUNCATED'
  | 'ERR_FRAMESIFT_CLOSED'
  | 'ERR_FRAMESIFT_BUSY'
  | 'ERR_FRAMESIFT_MODEL'
  | 'ERR_FRAMESIFT_PROVIDER'
  | 'ERR_FRAMESIFT_ONNXRUNTIME_MISSING'
  | 'ERR_FRAMESIFT_OUTPUT'
  | 'ERR_FRAMESIFT_COLMAP_MISSING'
  | 'ERR_FRAMESIFT_ABORTED'
  | 'ERR_FRAMESIFT_NATIVE_LOAD'
  | 'ERR_FRAMESIFT_INPUT_CHANGED' // re-selection must decode, and the input is not the one analysed
  | 'ERR_FRAMESIFT_SAVED_ANALYSIS' // DIR/.framesift/analysis.bin missing, corrupt or of another version
  /** A batch job whose worker process died (native crash, OOM kill) twice. */
  | 'ERR_FRAMESIFT_CRASHED'
  | 'ERR_FRAMESIFT_TIMEOUT'
  | 'ERR_FRAMESIFT_INTERNAL'
  // The queue and its API (src/queue, src/serve): Redis unreachable, no or wrong bearer token,
  // a path or URL outside what the server may touch, too many queued jobs.
  | 'ERR_FRAMESIFT_QUEUE'
  | 'ERR_FRAMESIFT_UNAUTHORIZED'
  | 'ERR_FRAMESIFT_FORBIDDEN'
  | 'ERR_FRAMESIFT_QUEUE_FULL';

export class FramesiftError extends Error {
  readonly code: FramesiftErrorCode;
  input?: string;
  override cause?: unknown;

  constructor(message: string, code: FramesiftErrorCode, details: { input?: string; cause?: unknown } = {}) {
    super(message);
    this.name = 'FramesiftError';
    this.code = code;
    if (details.input !== undefined) this.input = details.input;
    if (details.cause !== undefined) this.cause = details.cause;
  }
}

/** True for a FramesiftError with the given code (or any FramesiftError without a code). */
export function isFramesiftError(err: unknown, code?: FramesiftErrorCode): err is FramesiftError {
  return err instanceof FramesiftError && (code === undefined || err.code === code);
}

/** Errors in option values: "Expected <what> for <option> but received <value>". */
export function invalidArg(option: string, expected: string, received: unknown): FramesiftError {
  return new FramesiftError(
    `Expected ${expected} for ${option} but received ${formatValue(received)}`,
    'ERR_FRAMESIFT_INVALID_ARG',
  );
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

/** Keeps the caller's stack on errors raised later in native code (sharp's pattern). */
export function withCallerStack<T>(promise: Promise<T>, stackHolder: Error): Promise<T> {
  return promise.catch((err: unknown) => {
    if (err instanceof Error && stackHolder.stack) {
      const callerFrames = stackHolder.stack.split('\n').slice(1).join('\n');
      err.stack = `${err.name}: ${err.message}\n${callerFrames}`;
    }
    throw err;
  });
}
