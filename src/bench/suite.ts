/** What every suite of `framesift bench` gets, and the helpers they share to build figures. */
import { decodeFrames } from '../core/decode.js';
import type { Paired, Stats } from './common.js';
import type { ExtractMode, Figure, Params, SkippedPart, StatsJson, Workload } from './schema.js';

export interface SuiteContext {
  /** Every workload of the run (the decode suite measures them all). */
  workloads: Workload[];
  /** The workloads of the per-frame suites (metrics, sift, inference, extract). */
  frameWorkloads: Workload[];
  runs: number;
  threads: number[];
  batchSizes: number[];
  devices: string[];
  modes: ExtractMode[];
  model?: string;
  quick: boolean;
  /** One line of progress (shown on a TTY). */
  progress: (message: string) => void;
  signal?: AbortSignal;
}

export interface SuiteOutput {
  figures: Figure[];
  skipped: SkippedPart[];
}

export type Suite = (context: SuiteContext) => Promise<SuiteOutput>;

const round = (x: number) => (Number.isFinite(x) ? +x.toPrecision(6) : x);

export function statsJson(s: Stats): StatsJson {
  return { median: round(s.median), min: round(s.min), max: round(s.max), runs: s.runs.map(round) };
}

/** Time ratio subject / reference per pair of runs (< 1: faster than the reference). */
export function timeRatio(p: Paired, meaning: string): Figure['ratio'] {
  return { meaning, ...statsJson(p.ratio) };
}

export function figure(name: string, workload: Workload | undefined, params: Params, unit: string, better: Figure['better'], value: Stats, more: Partial<Figure> = {}): Figure {
  return { name, ...(workload ? { workload: workload.id } : {}), params, unit, better, value: statsJson(value), ...more };
}

export interface PlainImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decodes up to `limit` frames (evenly spread over the first `limit * step` frames) into plain
 * copies, so suites can time their own stage on the same pixels over and over.
 */
export async function decodedCopies(path: string, options: { analysisSize: number; plane: 'gray' | 'rgb'; limit: number; step?: number; signal?: AbortSignal }): Promise<PlainImage[]> {
  const out: PlainImage[] = [];
  const step = options.step ?? 1;
  let index = 0;
  for await (const batch of decodeFrames(path, { analysisSize: options.analysisSize, gray: options.plane === 'gray', rgb: options.plane === 'rgb', signal: options.signal })) {
    for (const frame of batch.frames) {
      if (out.length < options.limit && index % step === 0) {
        const plane = options.plane === 'gray' ? frame.gray! : frame.rgb!;
        out.push({ data: new Uint8Array(plane), width: frame.width, height: frame.height });
      }
      index++;
      frame.release();
    }
    if (out.length >= options.limit) break;
  }
  return out;
}

/** The message of an error, on one line. */
export function reasonOf(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const message = (e?.message ?? String(err)).split('\n')[0]!.trim();
  return e?.code ? `${message} [${e.code}]` : message;
}
