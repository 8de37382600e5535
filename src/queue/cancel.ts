/**
 * The cancel channel for active jobs. BullMQ aborts a job's AbortSignal only from the process
 * that runs it (worker.cancelJob), so a cancel request travels from the API to every worker:
 * a Redis pub/sub message names the job, and a flag key (one hour) covers a job that becomes
 * active just after the message went out. The flag holds the job's creation time, so a job
 * added again later under the same id is not taken for the cancelled one. (BullMQ 6's Relay does the same but is marked
 * experimental; plain pub/sub is two commands.)
 */
import { Redis } from 'ioredis';

import { framesiftKey, redisConnection, type QueueLocation } from './connection.js';

const FLAG_SECONDS = 3600;

const channelOf = (location: QueueLocation) => framesiftKey(location, 'cancel');
const flagOf = (location: QueueLocation, jobId: string) => framesiftKey(location, `cancelled:${jobId}`);

/** Asks whichever worker runs `jobId` (created at `createdAt`, ms) to abort it. */
export async function requestCancel(redis: Redis, location: QueueLocation, jobId: string, createdAt: number): Promise<void> {
  await redis.multi().set(flagOf(location, jobId), String(createdAt), 'EX', FLAG_SECONDS).publish(channelOf(location), jobId).exec();
}

/** True when a cancel was requested for this job (checked as it starts). */
export async function cancelRequested(redis: Redis, location: QueueLocation, jobId: string, createdAt: number): Promise<boolean> {
  return (await redis.get(flagOf(location, jobId))) === String(createdAt);
}

/** Forgets cancel requests (a failed job put back in the queue must run). */
export async function clearCancel(redis: Redis, location: QueueLocation, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length > 0) await redis.del(...jobIds.map((id) => flagOf(location, id)));
}

export interface CancelSubscription {
  close(): Promise<void>;
}

/** Calls `onCancel(jobId)` for every cancel request (ioredis resubscribes after a reconnect). */
export async function subscribeCancels(location: QueueLocation, onCancel: (jobId: string) => void): Promise<CancelSubscription> {
  const subscriber = new Redis({ ...redisConnection(location.redis), lazyConnect: false });
  subscriber.on('error', () => undefined); // reconnects by itself; the worker logs Redis trouble once
  subscriber.on('message', (_channel: string, jobId: string) => onCancel(jobId));
  await subscriber.subscribe(channelOf(location));
  return {
    close: async () => {
      subscriber.disconnect();
    },
  };
}
