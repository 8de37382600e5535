/** What every CLI command gets: output sinks, the logger, and the Ctrl-C signal. */
import type { Logger } from '../log.js';

export interface CliContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: commands stop cleanly and leave nothing half-written. */
  signal: AbortSignal;
  isTTY: boolean;
  /** A command that finished but must not report success (a batch with failed jobs) sets its status here. */
  setExitCode: (code: number) => void;
}
