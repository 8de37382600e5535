/**
 * `framesift extract VIDEO -o DIR [...]`: the main job. Flags override a config file
 * (--config, JSON or YAML); a TTY gets a progress bar, other outputs periodic lines.
 */
import { readFileSync } from 'node:fs';

import type { Argv } from 'yargs';
import { parse as parseYaml } from 'yaml';

import { FramesiftError, invalidArg } from '../errors.js';
import { extractFrames } from '../extract.js';
import { runSummary } from '../output/summary.js';
import type { ExtractOptions } from '../pipeline/options.js';
import type { Progress } from '../pipeline/progress.js';
import type { CliContext } from './context.js';

/** Config-file keys: the ExtractOptions names (camelCase), e.g. {"count": 40, "mode": "fast"}. */
function readConfig(path: string): Partial<ExtractOptions> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FramesiftError(`${path}: cannot read the config file: ${(err as Error).message}`, 'ERR_FRAMESIFT_INVALID_ARG', { input: path });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new FramesiftError(`${path}: the config file is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`, 'ERR_FRAMESIFT_INVALID_ARG', { input: path });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArg(`config file ${path}`, 'an object of options', value);
  return value as Partial<ExtractOptions>;
}

export function parseWeights(text: string): Record<string, number> {
  // "sharpness=0.3,features=0.3,..." or a JSON object.
  if (text.trim().startsWith('{')) return JSON.parse(text);
  const weights: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (!key || value === undefined || !Number.isFinite(Number(value))) throw invalidArg('--weights', 'key=value pairs such as sharpness=0.3,features=0.7', text);
    weights[key.trim()] = Number(value);
  }
  return weights;
}

export function progressPrinter(context: CliContext, quiet: boolean): (p: Progress) => void {
  let lastLine = 0;
  return (p) => {
    if (quiet) return;
    const eta = p.etaSec !== undefined ? ` ETA ${Math.ceil(p.etaSec)} s` : '';
    const amount = p.total > 0 ? `${p.done}/${p.total}` : `${p.done}`;
    if (context.isTTY) {
      const width = 28;
      const filled = p.total > 0 ? Math.round((Math.min(p.done, p.total) / p.total) * width) : 0;
      context.stderr(`\r${p.stage.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${amount}${eta}\x1b[K`);
      if (p.stage === 'done') context.stderr('\n');
    } else if (performance.now() - lastLine > 5000 || p.done === 0 || p.stage === 'done') {
      lastLine = performance.now();
      context.stderr(`framesift: ${p.stage} ${amount}${eta}\n`);
    }
  };
}

/**
 * The options every extracting command takes (extract, batch): one definition, so the
 * commands cannot drift apart.
 */
export function withExtractOptions<T>(y: Argv<T>) {
  return y
    .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'output folder' })
    .option('count', { alias: 'n', type: 'number', describe: 'exactly N frames (fewer with a warning when impossible)' })
    .option('max-frames', { type: 'number', describe: 'automatic count, capped at N' })
    .option('mode', { choices: ['fast', 'balanced', 'high_quality'] as const, describe: 'speed/quality trade-off (default balanced)' })
    .option('model', { type: 'string', describe: 'DINOv3/DINOv2 ONNX file for semantic scores (never downloaded)' })
    .option('device', { choices: ['auto', 'cpu', 'cuda', 'coreml'] as const, describe: 'execution provider for --model (default auto)' })
    .option('strict-device', { type: 'boolean', describe: 'fail instead of falling back to CPU' })
    .option('format', { choices: ['jpg', 'png', 'webp'] as const, describe: 'image format (default jpg)' })
    .option('quality', { type: 'number', describe: 'jpg/webp quality 1-100 (default 95)' })
    .option('force', { type: 'boolean', describe: "replace framesift's outputs in a non-empty folder" })
    .option('start', { type: 'number', describe: 'analyse from this time (s)' })
    .option('end', { type: 'number', describe: 'analyse up to this time (s)' })
    .option('min-spacing', { type: 'number', describe: 'minimum seconds between picks (default min(0.25, half the usable time per pick))' })
    .option('overlap', { type: 'number', describe: 'target view overlap of neighbours, 0-0.95 (default 0.7)' })
    .option('weights', { type: 'string', describe: 'score weights summing to 1: key=value,... or JSON' })
    .option('analysis-size', { type: 'number', describe: 'longest side of the analysis image (default by mode)' })
    .option('threads', { type: 'number', describe: 'threads for decode and metrics (default: all cores)' })
    .option('batch-size', { type: 'number', describe: 'frames per batch (default 16)' })
    .option('max-memory', { type: 'number', describe: 'memory limit for model batches, MiB' })
    .option('sequence-fps', { type: 'number', describe: 'frame rate given to an image-sequence input (default 1)' })
    .option('colmap', { type: 'boolean', describe: 'also write DIR/colmap/database.db (features + verified matches) for colmap mapper' })
    .option('colmap-features', { choices: ['full', 'analysis'] as const, describe: "database keypoints: SIFT found again on the written images (default) or the analysis image's SIFT scaled (no extraction, a weaker model)" })
    .option('reconstruct', { type: 'boolean', describe: 'run colmap mapper on that database (needs colmap on PATH; implies --colmap)' })
    .option('two-pass', { type: 'boolean', describe: 'balanced/high_quality: decode the candidates again instead of keeping them from the first pass' })
    .option('report', { type: 'boolean', describe: 'write DIR/report.html (default on; --no-report to skip)' })
    .option('max-analysed-frames', { type: 'number', describe: 'stop analysing after N decoded frames (default 1000000)' })
    .option('read-timeout', { type: 'number', describe: 'URL inputs: fail after S seconds without data (default 30; 0 waits)' })
    .option('config', { type: 'string', describe: 'JSON or YAML file of options; flags override it' })
    .option('json', { type: 'boolean', default: false, describe: 'print the run summary as one JSON object on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress output' });
}

type ExtractArgv = Awaited<ReturnType<typeof withExtractOptions>['argv']>;

/** ExtractOptions from the flags of withExtractOptions: config file first, flags over it. */
export function extractOptionsFromArgv(argv: ExtractArgv): ExtractOptions {
  const fromFile = argv.config ? readConfig(argv.config) : {};
  const flags: Partial<ExtractOptions> = {
    outDir: argv.out,
    count: argv.count,
    maxFrames: argv['max-frames'],
    mode: argv.mode,
    model: argv.model,
    device: argv.device,
    strictDevice: argv['strict-device'],
    format: argv.format,
    quality: argv.quality,
    force: argv.force,
    start: argv.start,
    end: argv.end,
    minSpacing: argv['min-spacing'],
    overlap: argv.overlap,
    weights: argv.weights !== undefined ? parseWeights(argv.weights) : undefined,
    analysisSize: argv['analysis-size'],
    threads: argv.threads,
    batchSize: argv['batch-size'],
    maxMemoryMB: argv['max-memory'],
    sequenceFps: argv['sequence-fps'],
    colmap: argv.colmap,
    reconstruct: argv.reconstruct,
    colmapFeatures: argv['colmap-features'],
    twoPass: argv['two-pass'],
    report: argv.report,
    maxAnalysedFrames: argv['max-analysed-frames'],
    readTimeoutSec: argv['read-timeout'],
  };
  const options: ExtractOptions = { ...fromFile, outDir: argv.out } as ExtractOptions;
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
  return options;
}

export function registerExtract(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'extract <video>',
    'Choose the frames that reconstruct best and write them with a manifest',
    (y) =>
      withExtractOptions(y.positional('video', { type: 'string', demandOption: true, describe: 'video file, URL, folder of frames or glob' })),
    async (argv) => {
      const options = extractOptionsFromArgv(argv);
      const manifest = await extractFrames(argv.video as string, {
        ...options,
        signal: context.signal,
        logger: context.logger,
        onProgress: progressPrinter(context, argv.quiet || argv.json),
      });
      for (const warning of manifest.warnings) context.stderr(`framesift: warning: ${warning}\n`);
      const summary = runSummary(manifest, options.outDir);
      if (argv.json) context.stdout(JSON.stringify(summary) + '\n');
      else {
        context.stdout(
          `framesift: chose ${summary.chosen} of ${summary.analysed} frames -> ${options.outDir}/images ` +
            `(${summary.sequences} sequence${summary.sequences === 1 ? '' : 's'}, ${summary.seconds.toFixed(1)} s)\n`,
        );
        const colmap = manifest.colmap;
        if (colmap) context.stdout(`framesift: COLMAP database ${options.outDir}/${colmap.database} (${colmap.images} images, ${colmap.verifiedPairs} verified pairs)\n`);
        const rec = colmap?.reconstruction;
        if (rec?.status === 'ok') {
          context.stdout(
            `framesift: colmap mapper registered ${rec.imagesRegistered} of ${rec.images} images, ${rec.points3D} points, ` +
              `mean reprojection error ${rec.meanReprojectionErrorPx ?? '?'} px -> ${options.outDir}/${rec.sparseDir}/${rec.bestModel}\n`,
          );
        }
      }
    },
  );
}
