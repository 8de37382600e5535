/**
 * `framesift queue add|status|retry|clean --redis URL`: the producer side of the job queue
 * (src/queue). `add` takes inputs as `framesift batch` does and one job per input; the extract
 * options are the extract command's own.
 */
import { resolve } from 'node:path';

import type { Argv } from 'yargs';

import { FramesiftError } from '../errors.js';
import { expandInputs } from '../jobs/inputs.js';
import { checkNumber } from '../pipeline/options.js';
import { createQueue, JOB_STATES, type FramesiftQueue } from '../queue/index.js';
import type { CliContext } from './context.js';
import { extractOptionsFromArgv, withExtractOptions } from './extract.js';

/** Flags shared by the queue commands, `worker` and `serve`: one definition each. */
export const REDIS_OPTION = { type: 'string', demandOption: true, describe: 'Redis URL, e.g. redis://127.0.0.1:6379' } as const;
export const ATTEMPTS_OPTION = { type: 'number', default: 3, describe: 'tries before a transient failure is final' } as const;
export const BACKOFF_OPTION = { type: 'number', default: 5, describe: 'seconds before the first retry, doubled on each further one' } as const;

/** --attempts and --backoff checked, as job options. */
export function retryPolicy(argv: { attempts: number; backoff: number }): { attempts: number; backoffMs: number } {
  return { attempts: checkNumber('--attempts', argv.attempts, 1, 1000, true), backoffMs: checkNumber('--backoff', argv.backoff, 0, 86_400) * 1000 };
}

async function withQueue<T>(redis: string, work: (queue: FramesiftQueue) => Promise<T>): Promise<T> {
  const queue = await createQueue({ redis });
  try {
    return await work(queue);
  } finally {
    await queue.close();
  }
}

export function registerQueue(yargs: Argv, context: CliContext): Argv {
  return yargs.command('queue', 'Jobs for workers on many machines (BullMQ on Redis): add, status, retry, clean', (y) =>
    y
      .option('redis', REDIS_OPTION)
      .command(
        'add <inputs..>',
        'Queue one extract job per input (files, folders, globs, @list.txt, - for stdin)',
        (a) =>
          withExtractOptions(a.positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'inputs as in framesift batch' }))
            .option('priority', { type: 'number', describe: '1 is the highest; larger numbers wait longer (default: first in, first out)' })
            .option('attempts', ATTEMPTS_OPTION)
            .option('backoff', BACKOFF_OPTION),
        async (argv) => {
          const priority = argv.priority === undefined ? undefined : checkNumber('--priority', argv.priority, 1, 2_097_152, true);
          const { attempts, backoffMs } = retryPolicy(argv);
          const { outDir: root, ...options } = extractOptionsFromArgv(argv);
          const inputs = await expandInputs(argv.inputs as string[]);
          if (inputs.length === 0) throw new FramesiftError(`No input found in ${(argv.inputs as string[]).join(' ')}`, 'ERR_FRAMESIFT_NOT_FOUND');
          const missing = inputs.filter((i) => i.kind === 'missing');
          const rows = await withQueue(argv.redis, async (queue) => {
            const added = [];
            for (const item of inputs.filter((i) => i.kind !== 'missing')) {
              const outDir = resolve(root, item.relName);
              const result = await queue.add({ input: item.input, outDir, options }, { attempts, backoffMs, ...(priority ? { priority } : {}) });
              added.push({ ...result, input: item.input, outDir });
            }
            return added;
          });
          if (argv.json) context.stdout(JSON.stringify({ jobs: rows, missing: missing.map((m) => m.input) }) + '\n');
          else for (const row of rows) context.stdout(`${row.added ? 'queued' : 'already queued'} ${row.id} ${row.input} -> ${row.outDir}\n`);
          if (missing.length > 0) {
            throw new FramesiftError(`Not found, not queued: ${missing.map((m) => m.input).join(', ')}`, 'ERR_FRAMESIFT_NOT_FOUND', { input: missing[0]!.input });
          }
        },
      )
      .command(
        'status',
        'Jobs by state, and the failed ones with their error codes',
        (a) => a.option('json', { type: 'boolean', default: false, describe: 'one JSON object on stdout' }).option('limit', { type: 'number', default: 100, describe: 'failed jobs listed at most' }),
        async (argv) => {
          const limit = checkNumber('--limit', argv.limit, 1, 100_000, true);
          const { counts, failed } = await withQueue(argv.redis, async (queue) => ({ counts: await queue.counts(), failed: await queue.list('failed', 0, limit) }));
          const failedJobs = failed.map((job) => ({ id: job.id, input: job.input, code: job.error?.code ?? null, message: job.error?.message ?? null, attemptsMade: job.attemptsMade }));
          if (argv.json) {
            context.stdout(JSON.stringify({ counts, failed: failedJobs }) + '\n');
            return;
          }
          context.stdout(JOB_STATES.map((state) => `${state} ${counts[state]}`).join('  ') + '\n');
          for (const job of failedJobs) context.stdout(`failed ${job.id} ${job.code} ${job.message}\n`);
        },
      )
      .command('retry', 'Put every failed job back in the queue', {}, async (argv) => {
        const count = await withQueue(argv.redis as string, (queue) => queue.retryFailed());
        context.stdout(`retried ${count} failed job${count === 1 ? '' : 's'}\n`);
      })
      .command(
        'clean',
        'Remove the records of finished jobs (completed and failed; outputs stay)',
        (a) => a.option('grace', { type: 'number', default: 0, describe: 'keep jobs finished less than this many seconds ago' }),
        async (argv) => {
          const graceMs = checkNumber('--grace', argv.grace, 0, 1e9) * 1000;
          const removed = await withQueue(argv.redis, (queue) => queue.clean(graceMs));
          context.stdout(`removed ${removed.completed} completed and ${removed.failed} failed job records\n`);
        },
      )
      .demandCommand(1, 'Name a queue command: add, status, retry or clean'),
  );
}
