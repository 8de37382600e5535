/**
 * The bench/ scripts: each runs one or more suites of `framesift bench` (the same timing code)
 * and prints the report plus its issue's targets, checked against the figures of that run.
 */
import { parseArgs } from 'node:util';

import { markdownReport } from './report.js';
import { runBench } from './runner.js';
import type { BenchResults, Figure, SuiteName } from './schema.js';

export interface Target {
  /** What the issue asked for, as printed. */
  label: string;
  suite: SuiteName;
  figure: string;
  /** Only figures whose params include these. */
  params?: Record<string, string | number | boolean>;
  /** The figure's median value or its ratio's median. */
  of: 'value' | 'ratio';
  atMost?: number;
  atLeast?: number;
}

export interface ScriptOptions {
  suites: SuiteName[];
  targets: Target[];
  /** Threads when --threads is not given (default: 1 and all cores). */
  threads?: number[];
}

/** Checks each target against the results; one line per matching figure. */
export function checkTargets(results: BenchResults, targets: Target[]): string[] {
  const lines: string[] = [];
  for (const t of targets) {
    const figures: Figure[] = results.suites
      .filter((s) => s.suite === t.suite)
      .flatMap((s) => s.figures)
      .filter((f) => f.name === t.figure && Object.entries(t.params ?? {}).every(([k, v]) => f.params[k] === v));
    if (!figures.length) lines.push(`${t.label}: not measured`);
    for (const f of figures) {
      const x = t.of === 'ratio' ? f.ratio?.median : f.value.median;
      const met = x !== undefined && (t.atMost === undefined || x <= t.atMost) && (t.atLeast === undefined || x >= t.atLeast);
      lines.push(`${t.label}: ${x === undefined ? 'no value' : +x.toPrecision(4)} ${t.of === 'ratio' ? 'x' : f.unit}${f.workload ? ` on ${f.workload}` : ''} -> ${met ? 'met' : 'NOT met'}`);
    }
  }
  return lines;
}

/** Parses the common flags (--video, --runs, --threads, --quick, --model), runs, prints. */
export async function runScript(options: ScriptOptions, argv = process.argv.slice(2)): Promise<BenchResults> {
  const { values } = parseArgs({
    args: argv,
    options: {
      video: { type: 'string', multiple: true },
      runs: { type: 'string', default: '5' },
      threads: { type: 'string' },
      quick: { type: 'boolean', default: false },
      model: { type: 'string' },
    },
  });
  const results = await runBench({
    suites: options.suites,
    ...(values.video ? { videos: values.video } : {}),
    runs: Number(values.runs),
    ...(values.threads ? { threads: values.threads.split(',').map(Number) } : options.threads ? { threads: options.threads } : {}),
    batchSizes: [1, 4, 16],
    devices: ['cpu'],
    modes: ['balanced'],
    ...(values.model ? { model: values.model } : {}),
    quick: values.quick,
    onProgress: (suite, message) => process.stderr.write(`${suite}: ${message}\n`),
  });
  console.log(markdownReport(results));
  console.log('Targets:');
  for (const line of checkTargets(results, options.targets)) console.log(`- ${line}`);
  return results;
}
