/**
 * `framesift batch INPUT... -o DIR`: many inputs, one output folder each under DIR, a worker
 * pool, a job store for --resume, and --total-frames shared among the clips. A thin layer over
 * extractBatch(); the extract options are extract's own definitions (withExtractOptions).
 */
import type { Argv } from 'yargs';

import type { BatchEvent, BatchSummary, JobView } from '../jobs/batch.js';
import { extractBatch } from '../jobs/batch.js';
import type { CliContext } from './context.js';
import { extractOptionsFromArgv, withExtractOptions } from './extract.js';
import { EXIT_FAILURE } from './index.js';

/** On a TTY: an overall bar and one line per worker, redrawn in place a few times a second. */
class BatchDisplay {
  #context: CliContext;
  #quiet: boolean;
  #total = 0;
  #finished = 0;
  #frames = new Map<number, number>();
  #started = performance.now();
  #workers: string[] = [];
  #drawn = 0;
  #lastDraw = 0;

  #tty: boolean;

  constructor(context: CliContext, quiet: boolean) {
    this.#context = context;
    this.#quiet = quiet;
    // Log lines below warn would land inside the redrawn block: print plain lines then.
    const level = context.logger.levels.values[context.logger.level] ?? 40;
    this.#tty = context.isTTY && level >= 40;
  }

  onEvent(event: BatchEvent): void {
    if (this.#quiet) return;
    const tty = this.#tty;
    switch (event.type) {
      case 'planned':
        this.#total = event.toRun;
        this.#workers = Array.from({ length: event.workers }, () => 'idle');
        this.#line(`framesift: ${event.jobs.length} inputs, ${event.toRun} to run on ${event.workers} workers x ${event.threadsPerJob} threads`);
        break;
      case 'started':
        this.#workers[event.worker] = `${event.job.name}: ${event.pass === 'share' ? 'share' : 'start'}`;
        break;
      case 'progress':
        this.#workers[event.worker] = `${event.job.name}: ${event.stage}${event.total > 0 ? ` ${event.done}/${event.total}` : ''}`;
        break;
      case 'done':
        this.#workers[event.worker] = 'idle';
        if (event.pass === 'extract') this.#finished++;
        this.#frames.set(event.job.id, event.job.frames ?? 0);
        if (!tty && event.pass === 'extract') this.#line(`framesift: [${this.#finished}/${this.#total}] ${event.job.name}: ${event.job.frames} frames in ${(event.job.seconds ?? 0).toFixed(1)} s`);
        else if (!tty) this.#line(`framesift: ${event.job.name}: brought to its share, ${event.job.frames} frames (${event.job.shareDecoded ? `${event.job.shareDecoded} frames decoded` : 'from the saved analysis, nothing decoded'})`);
        break;
      case 'failed':
        this.#workers[event.worker] = 'idle';
        if (!event.retry) this.#finished++;
        this.#line(`framesift: ${event.job.name}: ${event.retry ? 'worker died, running it once more' : `failed: ${event.job.error?.message} [${event.job.error?.code}]`}`);
        break;
      case 'shares':
        for (const job of event.shares) this.#line(`framesift: ${job.name}: ${job.share} of ${event.total} frames (${job.shareReason})`);
        break;
      case 'finished':
        this.#clear();
        return;
      default:
        return;
    }
    if (tty) this.#draw(event.type !== 'progress');
  }

  #line(text: string): void {
    this.#clear();
    this.#context.stderr(`${text}\n`);
  }

  #clear(): void {
    if (this.#drawn > 0) this.#context.stderr(`\x1b[${this.#drawn}A\x1b[J`);
    this.#drawn = 0;
  }

  #draw(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.#lastDraw < 200) return;
    this.#lastDraw = now;
    const width = 28;
    const filled = this.#total > 0 ? Math.round((this.#finished / this.#total) * width) : width;
    const elapsed = (now - this.#started) / 1000;
    const eta = this.#finished > 0 && this.#finished < this.#total ? ` ETA ${Math.ceil((elapsed / this.#finished) * (this.#total - this.#finished))} s` : '';
    const lines = [
      `batch [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.#finished}/${this.#total} jobs, ${[...this.#frames.values()].reduce((a, b) => a + b, 0)} frames${eta}`,
      ...this.#workers.map((w, i) => `  worker ${i + 1}: ${w}`),
    ];
    this.#clear();
    this.#context.stderr(lines.map((l) => `${l}\x1b[K\n`).join(''));
    this.#drawn = lines.length;
  }
}

function table(summary: BatchSummary): string {
  const rows = summary.jobs.map((j: JobView) => [
    j.state,
    j.frames === null ? '-' : String(j.frames),
    j.seconds === null ? '-' : j.seconds.toFixed(1),
    j.realtimeFactor === null ? '-' : `${j.realtimeFactor.toFixed(2)}x`,
    j.name,
    j.error ? `${j.error.code}: ${j.error.message}` : j.shareReason ?? '',
  ]);
  const header = ['state', 'frames', 'seconds', 'realtime', 'output', 'note'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const format = (r: string[]) => r.map((cell, c) => (c === r.length - 1 ? cell : c >= 1 && c <= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const c = summary.counts;
  return [
    format(header),
    ...rows.map(format),
    '',
    `framesift: ${c.done} done, ${c.failed} failed, ${c.skipped} skipped${c.queued ? `, ${c.queued} not run` : ''}; ${summary.frames} frames` +
      `${summary.totalFrames !== null ? ` of --total-frames ${summary.totalFrames}` : ''} in ${summary.wallSeconds.toFixed(1)} s -> ${summary.outDir}`,
  ].join('\n') + '\n';
}

export function registerBatch(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'batch <inputs..>',
    'Extract from many inputs (files, folders, globs, @list, - for stdin) with a worker pool, a job store and --resume',
    (y) =>
      withExtractOptions(
        y
          .positional('inputs', { type: 'string', array: true, demandOption: true, describe: 'video files, folders (searched recursively), globs, @list.txt, - (list on stdin)' })
          .option('jobs', { alias: 'j', type: 'number', describe: 'worker processes (default: cores, fewer when memory is short)' })
          .option('resume', { type: 'boolean', describe: 'continue the batch in DIR: keep done jobs whose input and options are unchanged' })
          .option('retry-failed', { type: 'boolean', describe: 'with --resume: run failed jobs again' })
          .option('total-frames', { type: 'number', describe: 'share N frames among all clips by what each needs (not with --count/--max-frames)' }),
      ),
    async (argv) => {
      const options = extractOptionsFromArgv(argv);
      const display = new BatchDisplay(context, argv.quiet || argv.json);
      let summary: BatchSummary | undefined;
      const events = extractBatch(argv.inputs as string[], {
        ...options,
        ...(argv.jobs !== undefined ? { jobs: argv.jobs } : {}),
        ...(argv['total-frames'] !== undefined ? { totalFrames: argv['total-frames'] } : {}),
        resume: argv.resume ?? false,
        retryFailed: argv['retry-failed'] ?? false,
        signal: context.signal,
        logger: context.logger,
      });
      const report = () => {
        if (!summary) return;
        if (argv.json) context.stdout(JSON.stringify(summary) + '\n');
        else context.stdout(table(summary));
      };
      try {
        for await (const event of events) {
          display.onEvent(event);
          if (event.type === 'finished') summary = event.summary;
        }
      } catch (err) {
        report(); // an interrupted batch still says what finished
        throw err;
      }
      report();
      if (summary && summary.counts.failed > 0) context.setExitCode(EXIT_FAILURE);
    },
  );
}
