/**
 * Where the queue lives: a `redis://[user:password@]host[:port][/db]` URL (`rediss://` for
 * TLS) turned into BullMQ's connection options, and the names every process derives from it.
 */
import { invalidArg } from '../errors.js';

export interface QueueLocation {
  /** redis:// or rediss:// URL. */
  redis: string;
  /** BullMQ queue name. Default 'framesift'. */
  queueName?: string;
  /** BullMQ key prefix. Default 'bull'. */
  prefix?: string;
}

export const DEFAULT_QUEUE_NAME = 'framesift';
export const DEFAULT_PREFIX = 'bull';

export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
  /** Reconnect quickly after Redis restarts (ioredis keeps retrying forever). */
  retryStrategy: (times: number) => number;
  maxRetriesPerRequest: null;
}

/** Parses a Redis URL; a malformed one is an ERR_FRAMESIFT_INVALID_ARG naming the option. */
export function redisConnection(url: string, option = '--redis'): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArg(option, 'a redis:// URL such as redis://127.0.0.1:6379', url);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalidArg(option, 'a redis:// or rediss:// URL', url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && (!Number.isInteger(db) || db < 0)) throw invalidArg(option, 'a database number after the host (redis://host:6379/0)', url);
  const connection: RedisConnection = {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    // Up to 2 s between attempts: a restarted Redis is found again within about two seconds.
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    // BullMQ's workers need it; commands wait for the connection instead of failing.
    maxRetriesPerRequest: null,
  };
  if (parsed.username) connection.username = decodeURIComponent(parsed.username);
  if (parsed.password) connection.password = decodeURIComponent(parsed.password);
  if (db !== undefined) connection.db = db;
  if (parsed.protocol === 'rediss:') connection.tls = {};
  return connection;
}

/** Redis keys of framesift's own beside BullMQ's (cancel requests, worker heartbeats). */
export function framesiftKey(location: QueueLocation, what: string): string {
  return `${location.prefix ?? DEFAULT_PREFIX}:${location.queueName ?? DEFAULT_QUEUE_NAME}:framesift:${what}`;
}
