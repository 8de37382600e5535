/**
 * The queue's events (BullMQ QueueEvents: one Redis stream reader per server) fanned out by
 * job id, for the SSE endpoint and the metrics of finished jobs.
 */
import { EventEmitter } from 'node:events';

import { QueueEvents } from 'bullmq';

import { redisConnection, type FramesiftJobResult, type QueueLocation } from '../queue/index.js';

export type JobEventName = 'waiting' | 'delayed' | 'active' | 'progress' | 'stalled' | 'completed' | 'failed' | 'removed';
const EVENTS: readonly JobEventName[] = ['waiting', 'delayed', 'active', 'progress', 'stalled', 'completed', 'failed', 'removed'];

export type JobEventListener = (event: JobEventName, args: { jobId: string; data?: unknown; returnvalue?: unknown }) => void;

export class JobEventHub {
  readonly #events: QueueEvents;
  readonly #byJob = new EventEmitter();
  /** Called with the result of every job that completes while the server runs. */
  onCompleted: ((result: FramesiftJobResult) => void) | undefined;

  constructor(location: Required<QueueLocation>) {
    this.#byJob.setMaxListeners(0);
    this.#events = new QueueEvents(location.queueName, { connection: redisConnection(location.redis), prefix: location.prefix });
    this.#events.on('error', () => undefined); // reconnects by itself
    for (const event of EVENTS) {
      this.#events.on(event as 'completed', (args: { jobId: string; returnvalue?: unknown }) => {
        if (event === 'completed' && args.returnvalue && typeof args.returnvalue === 'object') this.onCompleted?.(args.returnvalue as FramesiftJobResult);
        this.#byJob.emit(args.jobId, event, args);
      });
    }
  }

  waitUntilReady(): Promise<unknown> {
    return this.#events.waitUntilReady();
  }

  /** Events of one job until the returned function is called. */
  subscribe(jobId: string, listener: JobEventListener): () => void {
    const handler = (event: JobEventName, args: { jobId: string }) => listener(event, args);
    this.#byJob.on(jobId, handler);
    return () => this.#byJob.off(jobId, handler);
  }

  close(): Promise<void> {
    return this.#events.close();
  }
}
