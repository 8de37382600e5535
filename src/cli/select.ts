/**
 * `framesift select DIR [--count M | --max-frames M] [--weights ...] [--overlap F] [--min-spacing S]`:
 * chooses again from the analysis extract saved in DIR and rewrites images, lists, manifest and
 * report, decoding only candidates that were not saved (src/report/reselect.ts).
 */
import type { Argv } from 'yargs';

import { reselect } from '../report/reselect.js';
import type { CliContext } from './context.js';
import { parseWeights, progressPrinter } from './extract.js';

export function registerSelect(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'select <dir>',
    'Choose again from the analysis saved by extract in DIR (no decode when the saved candidates suffice)',
    (y) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'output folder of framesift extract' })
        .option('count', { alias: 'n', type: 'number', describe: 'exactly N frames' })
        .option('max-frames', { type: 'number', describe: 'automatic count, capped at N' })
        .option('weights', { type: 'string', describe: 'score weights summing to 1: key=value,... or JSON' })
        .option('overlap', { type: 'number', describe: 'target view overlap of neighbours, 0-0.95' })
        .option('min-spacing', { type: 'number', describe: 'minimum seconds between picks' })
        .option('report', { type: 'boolean', describe: 'rewrite DIR/report.html (default on; --no-report to skip)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the run summary as one JSON object on stdout' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress output' }),
    async (argv) => {
      const manifest = await reselect(argv.dir as string, {
        ...(argv.count !== undefined ? { count: argv.count } : {}),
        ...(argv['max-frames'] !== undefined ? { maxFrames: argv['max-frames'] } : {}),
        ...(argv.weights !== undefined ? { weights: parseWeights(argv.weights) } : {}),
        ...(argv.overlap !== undefined ? { overlap: argv.overlap } : {}),
        ...(argv['min-spacing'] !== undefined ? { minSpacing: argv['min-spacing'] } : {}),
        ...(argv.report !== undefined ? { report: argv.report } : {}),
        signal: context.signal,
        logger: context.logger,
        onProgress: progressPrinter(context, argv.quiet || argv.json),
      });
      for (const warning of manifest.warnings) context.stderr(`framesift: warning: ${warning}\n`);
      const seconds = Object.values(manifest.timings).reduce((a, b) => a + b, 0);
      if (argv.json) {
        context.stdout(JSON.stringify({ outDir: argv.dir, chosen: manifest.counts.chosen, candidates: manifest.counts.candidates, decoded: manifest.timings.describe !== undefined, seconds, warnings: manifest.warnings }) + '\n');
      } else {
        context.stdout(`framesift: chose ${manifest.counts.chosen} of ${manifest.counts.analysed} frames again -> ${argv.dir}/images (${seconds.toFixed(1)} s)\n`);
      }
    },
  );
}
