/**
 * One run of the pipeline: what every stage shares (input, progress, logger, abort check) and
 * the clock that times the stages and samples peak memory.
 */
import { FramesiftError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { ProgressReporter, type Progress, type Stage } from './progress.js';

/**
 * Seconds per stage (wall, and the process's CPU over every thread: what a loaded machine
 * does not stretch), and the peak resident memory (sampled every 250 ms and at stage boundaries).
 */
export class StageClock {
  readonly timings: Record<string, number> = {};
  readonly cpuTimings: Record<string, number> = {};
  peakRss = process.memoryUsage().rss;
  #current: Stage | undefined;
  #started = 0;
  #cpuStarted = process.cpuUsage();
  readonly #sampler = setInterval(() => (this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss)), 250);

  constructor() {
    this.#sampler.unref();
  }
  start(stage: Stage): void {
    this.stop();
    this.#current = stage;
    this.#started = performance.now();
    this.#cpuStarted = process.cpuUsage();
  }
  stop(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
    if (this.#current) {
      this.timings[this.#current] = (this.timings[this.#current] ?? 0) + (performance.now() - this.#started) / 1000;
      const cpu = process.cpuUsage(this.#cpuStarted);
      this.cpuTimings[this.#current] = (this.cpuTimings[this.#current] ?? 0) + (cpu.user + cpu.system) / 1e6;
    }
    this.#current = undefined;
  }
  get peakRssMB(): number {
    return Math.round(this.peakRss / 2 ** 20);
  }
  /** Stops the memory sampler. */
  close(): void {
    this.stop();
    clearInterval(this.#sampler);
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  logger?: Logger;
}

/** What the stages of one run share; close() when the run ends. */
export class PipelineRun {
  readonly progress: ProgressReporter;
  readonly clock = new StageClock();
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;

  constructor(
    readonly input: string,
    options: RunOptions = {},
  ) {
    this.progress = new ProgressReporter(options.onProgress);
    this.logger = options.logger ?? silentLogger;
    this.signal = options.signal;
  }

  /** Throws ERR_FRAMESIFT_ABORTED once the run's signal has fired. */
  checkpoint(): void {
    if (this.signal?.aborted) throw this.aborted();
  }

  aborted(cause?: unknown): FramesiftError {
    return new FramesiftError(`${this.input}: aborted`, 'ERR_FRAMESIFT_ABORTED', { input: this.input, ...(cause !== undefined ? { cause } : {}) });
  }

  close(): void {
    this.clock.close();
  }
}
