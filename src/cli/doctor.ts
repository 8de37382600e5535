/** `framesift doctor [--json] [--out DIR]`: checks this machine for framesift; exit 0 when extract can run. */
import type { Argv } from 'yargs';

import { formatDoctorReport, runDoctor } from '../doctor.js';
import type { CliContext } from './context.js';

export function registerDoctor(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'doctor',
    'Check the native addon, libav/OpenCV, decoders, onnxruntime providers, GPUs and an output folder',
    (y) =>
      y
        .option('json', { type: 'boolean', default: false, describe: 'print the report as one JSON object' })
        .option('out', { type: 'string', describe: 'also check that this output folder can be written' }),
    async (argv) => {
      const report = await runDoctor({ outDir: argv.out });
      context.stdout(argv.json ? JSON.stringify(report) + '\n' : formatDoctorReport(report));
      if (!report.extractCanRun) context.setExitCode(1);
    },
  );
}
