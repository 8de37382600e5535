/**
 * The framesift CLI (yargs). A thin layer over the library: each command lives in its own
 * file. Exit status: 0 success, 1 failure (the error names the input and the cause), 2 usage.
 */
import { readFileSync } from 'node:fs';

import yargs, { type Argv } from 'yargs';

import { packageRoot } from '../../bindings/index.js';
import { FramesiftError } from '../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js';
import type { CliContext } from './context.js';
import { registerBatch } from './batch.js';
import { registerBench } from './bench.js';
import { registerDoctor } from './doctor.js';
import { registerExtract } from './extract.js';
import { registerProbe } from './probe.js';
import { registerReport } from './report.js';
import { registerSelect } from './select.js';
import { registerQueue } from './queue.js';
import { registerServe } from './serve.js';
import { registerWorker } from './worker.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Interrupted by Ctrl-C / SIGTERM (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

/** Failures of the set-up rather than of the input: the message points to `framesift doctor`. */
const SETUP_FAILURES = new Set(['ERR_FRAMESIFT_NATIVE_LOAD', 'ERR_FRAMESIFT_PROVIDER', 'ERR_FRAMESIFT_ONNXRUNTIME_MISSING']);

function version(): string {
  return JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')).version;
}

export async function main(args: string[], io: Partial<Pick<CliContext, 'stdout' | 'stderr'>> = {}): Promise<number> {
  const stdout = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = io.stderr ?? ((t: string) => void process.stderr.write(t));
  const controller = new AbortController();
  // The first signal stops cleanly. The same Ctrl-C can arrive twice (from the terminal and
  // relayed by bin/framesift.js): a repeat within a second is that one; a later one quits now.
  let interruptedAt = 0;
  const onSignal = () => {
    const now = performance.now();
    if (interruptedAt > 0 && now - interruptedAt < 1000) return;
    if (interruptedAt > 0) {
      stderr('framesift: interrupted again, quitting now\n');
      process.exit(EXIT_INTERRUPTED);
    }
    interruptedAt = now;
    stderr('\nframesift: interrupted, stopping cleanly…\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const levelIndex = args.findIndex((a) => a === '--log-level' || a.startsWith('--log-level='));
  const levelArg = levelIndex < 0 ? undefined : args[levelIndex]!.includes('=') ? args[levelIndex]!.split('=')[1] : args[levelIndex + 1];
  let exitCode = EXIT_OK;
  const context: CliContext = {
    stdout,
    stderr,
    logger: createLogger((levelArg as LogLevel) ?? (process.env.FRAMESIFT_LOG_LEVEL as LogLevel) ?? 'warn'),
    signal: controller.signal,
    isTTY: Boolean(process.stderr.isTTY),
    setExitCode: (code) => void (exitCode = code),
  };

  let usageError: string | undefined;
  let failure: unknown;
  let parser: Argv = yargs(args)
    .scriptName('framesift')
    .usage('$0 <command> [options]\n\nPick the frames of a video that reconstruct best with Structure-from-Motion.')
    .option('log-level', { choices: LOG_LEVELS, describe: 'log level (env FRAMESIFT_LOG_LEVEL)', default: 'warn' })
    .version(version())
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'Name a command: extract, select, report, batch or probe')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error) failure = error;
      else usageError = message;
    });
  parser = registerExtract(parser, context);
  parser = registerBatch(parser, context);
  parser = registerProbe(parser, context);
  parser = registerBench(parser, context);
  parser = registerReport(parser, context);
  parser = registerSelect(parser, context);
  parser = registerDoctor(parser, context);
  parser = registerQueue(parser, context);
  parser = registerWorker(parser, context);
  parser = registerServe(parser, context);

  try {
    await parser.parseAsync(args, {}, (err, _argv, output) => {
      if (output) (err ? stderr : stdout)(output + '\n');
    });
  } catch (err) {
    failure ??= err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (usageError) {
    stderr(`framesift: ${usageError}\nRun 'framesift --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (failure) {
    if (failure instanceof FramesiftError) {
      if (failure.code === 'ERR_FRAMESIFT_ABORTED' && controller.signal.aborted) {
        stderr('framesift: stopped; no partial files were left behind\n');
        return EXIT_INTERRUPTED;
      }
      if (failure.code === 'ERR_FRAMESIFT_INVALID_ARG') {
        stderr(`framesift: ${failure.message}\n`);
        return EXIT_USAGE;
      }
      stderr(`framesift: ${failure.message} [${failure.code}]\n`);
      if (SETUP_FAILURES.has(failure.code) && !failure.message.includes('framesift doctor')) stderr('framesift: `framesift doctor` checks the set-up and says how to fix it\n');
    } else {
      stderr(`framesift: ${(failure as Error).stack ?? String(failure)}\n`);
    }
    context.logger.debug({ err: failure }, 'command failed');
    return EXIT_FAILURE;
  }
  return exitCode;
}
