/**
 * GET /metrics (Prometheus, prom-client): jobs by state (read from Redis at each scrape),
 * frames chosen, seconds per job and realtime factor of the jobs finished while the server
 * runs, and each live worker's memory (from the heartbeats workers write to Redis).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { framesiftKey, JOB_STATES, type FramesiftJobResult, type FramesiftQueue, type WorkerMemory } from '../queue/index.js';

/** A worker whose last heartbeat is older than this is gone (heartbeats come every 5 s). */
const WORKER_STALE_MS = 15_000;

export class ApiMetrics {
  readonly registry = new Registry();
  readonly #chosen: Counter;
  readonly #jobSeconds: Histogram;
  readonly #realtime: Histogram;

  constructor(queue: FramesiftQueue) {
    const registers = [this.registry];
    new Gauge({
      name: 'framesift_jobs',
      help: 'Jobs in the queue by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await queue.counts();
        for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    this.#chosen = new Counter({ name: 'framesift_frames_chosen_total', help: 'Frames chosen by the jobs completed while this server ran', registers });
    this.#jobSeconds = new Histogram({
      name: 'framesift_job_seconds',
      help: 'Wall-clock seconds per completed job on its worker',
      buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.#realtime = new Histogram({
      name: 'framesift_job_realtime_factor',
      help: 'Seconds of video per second of work, per completed job',
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
      registers,
    });
    const workersKey = framesiftKey(queue.location, 'workers');
    new Gauge({
      name: 'framesift_worker_memory_bytes',
      help: 'Memory of each live worker process (kind: rss or heap)',
      labelNames: ['worker', 'kind'],
      registers,
      async collect() {
        this.reset();
        const beats = await queue.redis.hgetall(workersKey);
        const now = Date.now();
        for (const [worker, text] of Object.entries(beats)) {
          const beat = JSON.parse(text) as WorkerMemory;
          if (now - beat.at > WORKER_STALE_MS) {
            if (now - beat.at > 10 * WORKER_STALE_MS) await queue.redis.hdel(workersKey, worker); // a worker that died long ago
            continue;
          }
          this.set({ worker, kind: 'rss' }, beat.rssBytes);
          this.set({ worker, kind: 'heap' }, beat.heapUsedBytes);
        }
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'framesift_api_' });
  }

  recordCompleted(result: FramesiftJobResult): void {
    const summary = result.summary;
    if (!summary) return;
    this.#chosen.inc(summary.chosen);
    this.#jobSeconds.observe(summary.jobSec);
    if (summary.videoSec > 0) this.#realtime.observe(summary.realtimeFactor);
  }
}
