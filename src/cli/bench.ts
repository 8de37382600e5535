/**
 * `framesift bench [VIDEO...]`: the benchmark harness (src/bench/). Prints a Markdown table on
 * stdout, writes the results JSON with --out, or prints two results side by side with
 * --compare A.json B.json. Progress goes to stderr on a TTY.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import type { Argv } from 'yargs';

import { FramesiftError, invalidArg } from '../errors.js';
import { compareReport, markdownReport } from '../bench/report.js';
import { runBench } from '../bench/runner.js';
import { EXTRACT_MODES, SUITES, validateResults, type BenchResults, type ExtractMode, type SuiteName } from '../bench/schema.js';
import type { CliContext } from './context.js';

const DEVICES = ['auto', 'cpu', 'cuda', 'coreml'];

function list<T extends string>(option: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw invalidArg(option, `a comma list of ${allowed.join(', ')}`, text);
  if (!items.length) throw invalidArg(option, `a comma list of ${allowed.join(', ')}`, text);
  return [...new Set(items)] as T[];
}

function integers(option: string, text: string): number[] {
  const items = text.split(',').map((s) => Number(s.trim()));
  if (!items.length || items.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) throw invalidArg(option, 'a comma list of integers from 1 to 1024', text);
  return [...new Set(items)];
}

export function readResults(path: string): BenchResults {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new FramesiftError(`${path}: cannot read bench results: ${(err as Error).message}`, 'ERR_FRAMESIFT_INVALID_ARG', { input: path });
  }
  const errors = validateResults(value);
  if (errors.length) throw new FramesiftError(`${path}: not a framesift bench results file: ${errors.slice(0, 3).join('; ')}`, 'ERR_FRAMESIFT_INVALID_ARG', { input: path });
  return value as BenchResults;
}

function progressLine(context: CliContext): (suite: string, message: string) => void {
  if (!context.isTTY) return () => undefined;
  return (suite, message) => context.stderr(`\r${`[${suite}]`.padEnd(12)} ${message}\x1b[K`);
}

export function registerBench(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'bench [videos..]',
    'Measure decode, metrics, SIFT, inference and extract speed against references; compare runs',
    (y) =>
      y
        .positional('videos', { type: 'string', array: true, describe: 'videos to measure (default: generated standard clips)' })
        .option('suite', { type: 'string', default: SUITES.join(','), describe: `suites, comma list of ${SUITES.join(', ')}` })
        .option('device', { type: 'string', default: 'cpu', describe: `inference providers, comma list of ${DEVICES.join(', ')}` })
        .option('batch-sizes', { type: 'string', default: '1,4,16', describe: 'inference batch sizes' })
        .option('threads', { type: 'string', describe: 'thread counts for decode, metrics and matching (default: 1 and all cores)' })
        .option('modes', { type: 'string', default: EXTRACT_MODES.join(','), describe: 'extract modes' })
        .option('runs', { type: 'number', describe: 'counted runs per figure, after one warm-up (default 5; --quick 2)' })
        .option('model', { type: 'string', describe: 'ONNX model for the inference and extract suites (default: generated test ViTs)' })
        .option('quick', { type: 'boolean', default: false, describe: 'tiny workload and fewer frames: a smoke run' })
        .option('out', { alias: 'o', type: 'string', describe: 'write the results JSON here' })
        .option('compare', { type: 'string', array: true, describe: 'print two results files side by side: --compare A.json B.json' }),
    async (argv) => {
      if (argv.compare) {
        if (argv.compare.length !== 2) throw invalidArg('--compare', 'two results files', argv.compare);
        const [a, b] = argv.compare as [string, string];
        context.stdout(compareReport(readResults(a), readResults(b), [a, b]));
        return;
      }
      const runs = argv.runs ?? (argv.quick ? 2 : 5);
      if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw invalidArg('--runs', 'an integer from 1 to 1000', argv.runs);
      const results = await runBench({
        videos: (argv.videos as string[] | undefined) ?? [],
        suites: list<SuiteName>('--suite', argv.suite, SUITES),
        devices: list('--device', argv.device, DEVICES),
        batchSizes: integers('--batch-sizes', argv['batch-sizes']),
        threads: argv.threads ? integers('--threads', argv.threads) : undefined,
        modes: list<ExtractMode>('--modes', argv.modes, EXTRACT_MODES),
        runs,
        model: argv.model,
        quick: argv.quick,
        onProgress: progressLine(context),
        signal: context.signal,
      });
      if (context.isTTY) context.stderr('\r\x1b[K');
      const errors = validateResults(results);
      if (errors.length) throw new Error(`internal: results do not match their schema: ${errors.join('; ')}`);
      if (argv.out) writeFileSync(argv.out, JSON.stringify(results, null, 2) + '\n');
      context.stdout(markdownReport(results));
    },
  );
}
