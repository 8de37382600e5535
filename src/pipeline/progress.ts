/** Progress of a run: which stage, how far, and an ETA for the whole analysis. */
export type Stage = 'probe' | 'measure' | 'candidates' | 'describe' | 'select' | 'tracks' | 'write' | 'colmap' | 'reconstruct' | 'done';

export interface Progress {
  stage: Stage;
  /** Units done and expected in this stage (frames, candidates or images); total 0 = unknown. */
  done: number;
  total: number;
  /** Seconds left in this stage, when it can be estimated. */
  etaSec?: number;
}

/** Throttles progress callbacks to a few per second and fills the ETA from the stage's rate. */
export class ProgressReporter {
  #callback: ((p: Progress) => void) | undefined;
  #stage: Stage = 'probe';
  #stageStarted = performance.now();
  #lastEmit = 0;

  constructor(callback?: (p: Progress) => void) {
    this.#callback = callback;
  }

  stage(stage: Stage, total = 0): void {
    this.#stage = stage;
    this.#stageStarted = performance.now();
    this.#lastEmit = 0;
    this.#emit({ stage, done: 0, total });
  }

  update(done: number, total: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.#lastEmit < 200) return;
    this.#lastEmit = now;
    const elapsed = (now - this.#stageStarted) / 1000;
    const etaSec = total > 0 && done > 0 ? (elapsed / done) * Math.max(0, total - done) : undefined;
    this.#emit({ stage: this.#stage, done, total, ...(etaSec !== undefined ? { etaSec } : {}) });
  }

  #emit(progress: Progress): void {
    try {
      this.#callback?.(progress);
    } catch {
      // A failing progress callback must not break the run.
    }
  }
}
