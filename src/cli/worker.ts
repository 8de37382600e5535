/**
 * `framesift worker --redis URL [--concurrency N]`: takes extract jobs from the queue until
 * SIGTERM/SIGINT, then stops taking jobs and finishes the active ones (after
 * --shutdown-timeout they are aborted and put back in the queue for another worker).
 */
import { once } from 'node:events';

import type { Argv } from 'yargs';

import { checkNumber } from '../pipeline/options.js';
import { runWorker } from '../queue/index.js';
import type { CliContext } from './context.js';
import { REDIS_OPTION } from './queue.js';

export function registerWorker(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'worker',
    'Run queued extract jobs (any number of workers on any machines sharing the storage)',
    (y) =>
      y
        .option('redis', REDIS_OPTION)
        .option('concurrency', { type: 'number', default: 1, describe: 'jobs at once in this process (each gets cores / N threads)' })
        .option('shutdown-timeout', { type: 'number', default: 60, describe: 'seconds active jobs may finish after SIGTERM before they are re-queued' })
        .option('lock-duration', { type: 'number', default: 30, describe: "seconds before a dead worker's job is taken over" })
        .option('stalled-interval', { type: 'number', default: 30, describe: "seconds between checks for dead workers' jobs" }),
    async (argv) => {
      const worker = await runWorker({
        redis: argv.redis,
        concurrency: checkNumber('--concurrency', argv.concurrency, 1, 256, true),
        shutdownTimeoutMs: checkNumber('--shutdown-timeout', argv['shutdown-timeout'], 0, 86_400) * 1000,
        lockDurationMs: checkNumber('--lock-duration', argv['lock-duration'], 1, 86_400) * 1000,
        stalledIntervalMs: checkNumber('--stalled-interval', argv['stalled-interval'], 0.1, 86_400) * 1000,
        logger: context.logger,
      });
      context.stderr(`framesift: worker ${worker.id} ready (concurrency ${worker.bull.concurrency})\n`);
      if (!context.signal.aborted) await once(context.signal, 'abort');
      context.stderr('framesift: worker stopping: no new jobs, finishing the active ones\n');
      await worker.close();
      context.stderr('framesift: worker stopped\n');
    },
  );
}
