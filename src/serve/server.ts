/**
 * `framesift serve`: the job API on fastify over the same queue as `framesift queue`.
 *   POST /v1/jobs {input, options, priority} -> 202 {id}   GET /v1/jobs/:id   GET /v1/jobs?state=
 *   DELETE /v1/jobs/:id   GET /v1/jobs/:id/events (SSE)   GET /healthz   GET /metrics
 *   GET /v1/openapi.json
 * Security: bearer token (auth.ts), paths confined to the roots (paths.ts), URL inputs only
 * with allowUrls, a body size limit, a cap on queued jobs (429).
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import { FramesiftError, type FramesiftErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { resolveExtractOptions } from '../pipeline/options.js';
import { FramesiftQueue, type FramesiftJobResult, type JobOptions, type JobView, type ListState, type QueueLocation } from '../queue/index.js';
import { BearerAuth, isLoopback } from './auth.js';
import { JobEventHub } from './events.js';
import { ApiMetrics } from './metrics.js';
import { PathPolicy } from './paths.js';
import { routeSchemas } from './schemas.js';
import { compileValidator, schemaError } from './validation.js';

export interface ServeOptions extends QueueLocation {
  /** Default 127.0.0.1. Beyond loopback only with a token. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  inputRoot: string;
  outputRoot: string;
  /** Bearer token; without one the server only listens on loopback and checks nothing. */
  token?: string;
  /** Accept URL inputs (the server's workers then fetch them). Default false. */
  allowUrls?: boolean;
  /** Jobs waiting at most; POST answers 429 beyond it. Default 10000. */
  maxQueued?: number;
  /** Largest request body, bytes. Default 65536. */
  bodyLimit?: number;
  /** Tries of each job and first retry delay (ms), as `queue add --attempts --backoff`. */
  attempts?: number;
  backoffMs?: number;
  logger?: Logger;
}

const STATUS: Partial<Record<FramesiftErrorCode, number>> = {
  ERR_FRAMESIFT_INVALID_ARG: 400,
  ERR_FRAMESIFT_UNAUTHORIZED: 401,
  ERR_FRAMESIFT_FORBIDDEN: 403,
  ERR_FRAMESIFT_NOT_FOUND: 404,
  ERR_FRAMESIFT_TOO_LARGE: 413,
  ERR_FRAMESIFT_QUEUE_FULL: 429,
  ERR_FRAMESIFT_QUEUE: 503,
};

const FINAL_STATES = new Set(['completed', 'failed']);

export interface JobServer {
  app: FastifyInstance;
  queue: FramesiftQueue;
  /** http://host:port once listening. */
  url: string;
  close(): Promise<void>;
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Builds the fastify app (not listening yet) and its queue connections. */
export async function createServer(options: ServeOptions): Promise<Omit<JobServer, 'url'>> {
  const policy = await PathPolicy.create(options.inputRoot, options.outputRoot, options.allowUrls ?? false);
  const auth = options.token !== undefined ? new BearerAuth(options.token) : undefined;
  const maxQueued = options.maxQueued ?? 10_000;
  const queue = new FramesiftQueue(options, { failFast: true });
  const hub = new JobEventHub(queue.location);
  const metrics = new ApiMetrics(queue);
  hub.onCompleted = (result: FramesiftJobResult) => metrics.recordCompleted(result);

  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 65_536,
    ...(options.logger ? { loggerInstance: options.logger as unknown as FastifyBaseLogger } : { logger: false }),
    schemaErrorFormatter: (errors, dataVar) => schemaError(errors as never, dataVar),
  });
  app.setValidatorCompiler(compileValidator as never);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'framesift job API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: auth ? [{ bearer: [] }] : [],
    },
  });

  app.setErrorHandler((err: FramesiftError | (Error & { statusCode?: number; code?: string }), _request, reply) => {
    if (err instanceof FramesiftError) return reply.status(STATUS[err.code] ?? 500).send(errorBody(err.code, err.message));
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorBody('ERR_FRAMESIFT_TOO_LARGE', `The request body is larger than ${options.bodyLimit ?? 65_536} bytes`));
    if (err.statusCode !== undefined && err.statusCode < 500) return reply.status(err.statusCode).send(errorBody('ERR_FRAMESIFT_INVALID_ARG', err.message));
    if (!queue.connected) return reply.status(503).send(errorBody('ERR_FRAMESIFT_QUEUE', `Redis at ${options.redis} is not reachable now; try again shortly`));
    options.logger?.error({ err }, 'request failed');
    return reply.status(500).send(errorBody('ERR_FRAMESIFT_INTERNAL', err.message));
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(errorBody('ERR_FRAMESIFT_NOT_FOUND', `No route ${request.method} ${request.url}`)));

  if (auth) {
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.url !== '/healthz') auth.check(request.headers.authorization);
    });
  }

  const jobOr404 = async (id: string): Promise<JobView> => {
    const view = await queue.get(id);
    if (!view) throw new FramesiftError(`No job ${id}`, 'ERR_FRAMESIFT_NOT_FOUND', { input: id });
    return view;
  };

  app.post('/v1/jobs', { schema: routeSchemas.createJob }, async (request, reply) => {
    const body = request.body as { input: string; options?: JobOptions & { outDir?: string }; priority?: number };
    const { outDir: wantedOut, ...jobOptions } = body.options ?? {};
    // Options first (the CLI's checks and messages); then paths, which only resolve names.
    resolveExtractOptions({ ...jobOptions, outDir: 'checked-below' });
    if (body.priority !== undefined && (body.priority < 1 || body.priority > 2_097_152)) {
      throw new FramesiftError(`Expected an integer from 1 to 2097152 for priority but received ${body.priority}`, 'ERR_FRAMESIFT_INVALID_ARG');
    }
    const input = await policy.input(body.input);
    const outDir = await policy.output(wantedOut, input);
    if (jobOptions.model !== undefined) jobOptions.model = await policy.input(jobOptions.model, 'options.model');
    if ((await queue.queuedCount()) >= maxQueued) {
      throw new FramesiftError(`The queue holds ${maxQueued} waiting jobs, its limit; try again later`, 'ERR_FRAMESIFT_QUEUE_FULL');
    }
    const { id, added } = await queue.add(
      { input, outDir, options: jobOptions },
      { ...(body.priority ? { priority: body.priority } : {}), ...(options.attempts ? { attempts: options.attempts } : {}), ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}) },
    );
    return reply
      .status(202)
      .header('location', `/v1/jobs/${id}`)
      .send({ id, created: added, state: added ? 'waiting' : ((await queue.get(id))?.state ?? 'unknown') });
  });

  app.get('/v1/jobs/:id', { schema: routeSchemas.getJob }, async (request) => jobOr404((request.params as { id: string }).id));

  app.get('/v1/jobs', { schema: routeSchemas.listJobs }, async (request) => {
    const { state, offset, limit } = request.query as { state: ListState; offset: number; limit: number };
    const [jobs, counts] = await Promise.all([queue.list(state, offset, limit), queue.counts()]);
    const total = counts[state] ?? 0;
    return { state, offset, limit, total, next: offset + limit < total ? offset + limit : null, jobs };
  });

  app.delete('/v1/jobs/:id', { schema: routeSchemas.deleteJob }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const outcome = await queue.cancel(id);
    if (outcome === 'not-found') throw new FramesiftError(`No job ${id}`, 'ERR_FRAMESIFT_NOT_FOUND', { input: id });
    return reply.status(outcome === 'removed' ? 200 : 202).send({ id, state: outcome });
  });

  // Open event streams end when the server closes (else close() would wait for their clients).
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });
  app.get('/v1/jobs/:id/events', { schema: routeSchemas.jobEvents }, async (request, reply) => streamEvents(request, reply, queue, hub, await jobOr404((request.params as { id: string }).id), streams));

  app.get('/healthz', async (_request, reply) => {
    const ok = await Promise.race([queue.redis.ping().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref())]);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'redis unavailable' });
  });

  app.get('/metrics', async (_request, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await Promise.all([queue.bull.waitUntilReady(), hub.waitUntilReady()]);
  return {
    app,
    queue,
    close: async () => {
      await app.close();
      await hub.close();
      await queue.close();
    },
  };
}

/** SSE: `state` events (the job view) on each change, `progress` events, and `done` with the final view. */
async function streamEvents(request: FastifyRequest, reply: FastifyReply, queue: FramesiftQueue, hub: JobEventHub, first: JobView, streams: Set<() => void>): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const send = (event: string, data: unknown) => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let ended = false;
  let chain = Promise.resolve();
  const ping = setInterval(() => raw.write(': ping\n\n'), 15_000);
  const finish = () => {
    if (ended) return;
    ended = true;
    streams.delete(finish);
    unsubscribe();
    clearInterval(ping);
    raw.end();
  };
  const report = async () => {
    const view = await queue.get(first.id);
    if (ended) return;
    if (!view) {
      send('done', { id: first.id, state: 'removed' });
      finish();
    } else if (FINAL_STATES.has(view.state)) {
      send('done', view);
      finish();
    } else send('state', view);
  };
  // Subscribe before reading the state again: nothing that happens in between is missed.
  const unsubscribe = hub.subscribe(first.id, (event, args) => {
    chain = chain.then(() => (ended ? undefined : event === 'progress' ? void send('progress', args.data) : report())).catch(() => finish());
  });
  request.raw.on('close', finish);
  streams.add(finish);
  chain = chain.then(report).catch(() => finish());
  await chain;
}

/** Starts the server. Refuses a non-loopback host without a token. */
export async function serve(options: ServeOptions): Promise<JobServer> {
  const host = options.host ?? '127.0.0.1';
  if (options.token === undefined && !isLoopback(host)) {
    throw new FramesiftError(
      `Refusing to listen on ${host} without a token: set FRAMESIFT_API_TOKEN or --token-file, or listen on 127.0.0.1`,
      'ERR_FRAMESIFT_INVALID_ARG',
    );
  }
  const server = await createServer(options);
  try {
    await server.app.listen({ host, port: options.port ?? 8080 });
  } catch (err) {
    await server.close();
    throw new FramesiftError(`Cannot listen on ${host}:${options.port ?? 8080}: ${(err as Error).message}`, 'ERR_FRAMESIFT_INVALID_ARG', { cause: err });
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 8080;
  return { ...server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
}
