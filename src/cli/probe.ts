/** `framesift probe VIDEO [--json] [--decode]`: stream facts, and optionally a full decode summary. */
import type { Argv } from 'yargs';

import { openVideo, probe, type VideoInfo } from '../core/decode.js';
import type { CliContext } from './context.js';

export interface DecodeSummary {
  frames: number;
  keyframes: number;
  framesLost: number;
  corruptFrames: number;
  firstPtsSec: number;
  lastPtsSec: number;
  meanGray: number;
  seconds: number;
  framesPerSecond: number;
}

async function decodeSummary(input: string, analysisSize: number, signal: AbortSignal): Promise<DecodeSummary> {
  const started = performance.now();
  const decoder = await openVideo(input, { analysisSize });
  const s: DecodeSummary = { frames: 0, keyframes: 0, framesLost: 0, corruptFrames: 0, firstPtsSec: NaN, lastPtsSec: NaN, meanGray: 0, seconds: 0, framesPerSecond: 0 };
  let graySum = 0;
  for await (const batch of decoder.batches({ signal })) {
    for (const frame of batch.frames) {
      if (s.frames === 0) s.firstPtsSec = frame.ptsSec;
      s.lastPtsSec = frame.ptsSec;
      s.frames++;
      if (frame.keyframe) s.keyframes++;
      const gray = frame.gray!;
      let sum = 0;
      for (let i = 0; i < gray.length; i += 16) sum += gray[i]!; // a sparse mean is enough for a summary
      graySum += (sum * 16) / gray.length;
      frame.release();
    }
    s.framesLost = batch.stats.framesLost;
    s.corruptFrames = batch.stats.corruptFrames;
  }
  s.meanGray = s.frames ? graySum / s.frames : 0;
  s.seconds = (performance.now() - started) / 1000;
  s.framesPerSecond = s.frames / s.seconds;
  return s;
}

function describe(info: VideoInfo): string {
  const lines = [
    `input          ${info.input}`,
    `container      ${info.container}`,
    `codec          ${info.codec} (${info.pixelFormat}, ${info.bitDepth}-bit)`,
    `size           ${info.width}x${info.height}${info.rotation ? `, rotated ${info.rotation}° to ${info.displayWidth}x${info.displayHeight}` : ''}`,
    `frame rate     ${info.avgFrameRate.toFixed(3)} avg, ${info.realFrameRate.toFixed(3)} base${info.variableFrameRate ? ' (variable)' : ''}`,
    `duration       ${info.durationSec.toFixed(3)} s, start ${info.startTimeSec.toFixed(3)} s`,
    `frames         ${info.frameCount >= 0 ? info.frameCount : 'unknown'}`,
  ];
  return lines.join('\n');
}

export function registerProbe(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'probe <video>',
    'Show container and stream facts of a video, URL, folder of frames or glob',
    (y) =>
      y
        .positional('video', { type: 'string', demandOption: true, describe: 'video file, URL, folder of JPEG/PNG frames, or glob' })
        .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
        .option('decode', { type: 'boolean', default: false, describe: 'also decode every frame and summarise' })
        .option('analysis-size', { type: 'number', default: 640, describe: 'longest side for --decode' }),
    async (argv) => {
      const input = argv.video as string;
      const info = await probe(input);
      const summary = argv.decode ? await decodeSummary(input, argv['analysis-size'], context.signal) : undefined;
      if (argv.json) {
        context.stdout(JSON.stringify(summary ? { ...info, decode: summary } : info) + '\n');
        return;
      }
      context.stdout(describe(info) + '\n');
      if (summary) {
        context.stdout(
          `decoded        ${summary.frames} frames (${summary.keyframes} keyframes), pts ${summary.firstPtsSec.toFixed(3)}–${summary.lastPtsSec.toFixed(3)} s\n` +
            `damage         ${summary.framesLost} frames lost, ${summary.corruptFrames} concealed\n` +
            `speed          ${summary.framesPerSecond.toFixed(1)} frames/s at ${info.outputWidth}x${info.outputHeight} gray (${summary.seconds.toFixed(2)} s)\n` +
            `mean gray      ${summary.meanGray.toFixed(1)}\n`,
        );
      }
    },
  );
}
