/** `framesift report DIR`: rewrites DIR/report.html of a finished run, or a batch folder's index.html. */
import type { Argv } from 'yargs';

import { regenerateReport } from '../report/report.js';
import type { CliContext } from './context.js';

export function registerReport(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'report <dir>',
    "Write the HTML report of a finished run (or a batch folder's index page) again",
    (y) => y.positional('dir', { type: 'string', demandOption: true, describe: 'output folder of extract, select or batch' }),
    async (argv) => {
      const result = await regenerateReport(argv.dir as string);
      context.stdout(`framesift: wrote ${result.path}${result.kind === 'batch' ? ` (${result.clips} clip reports)` : ''}\n`);
    },
  );
}
