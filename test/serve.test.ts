/**
 * The job API (fastify) with a real redis-server and a real worker: auth, confinement of
 * paths, validation with the CLI's messages, SSE to completion, cancel, metrics, OpenAPI.
 */
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FramesiftError } from '../src/errors.js';
import { resolveExtractOptions } from '../src/pipeline/options.js';
import { runWorker, type FramesiftWorker } from '../src/queue/index.js';
import { BearerAuth, createServer, isLoopback, readToken, serve, type JobServer } from '../src/serve/index.js';
import { ffmpeg } from './helpers/ffmpeg.js';
import { clipCopies, expectOneCompleteOutput, QUICK, tempDir, until } from './helpers/queue-fixtures.js';
import { RedisServer } from '../src/bench/redis-server.js';

const TOKEN = 'test-token-0123456789abcdef';
let redis: RedisServer;
let server: JobServer;
let worker: FramesiftWorker;
let root: string;
let inputRoot: string;
let outputRoot: string;

async function api(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/** The message the CLI and extractFrames give for these options. */
function cliMessage(options: object): string {
  try {
    resolveExtractOptions({ outDir: 'x', ...options });
  } catch (err) {
    return (err as FramesiftError).message;
  }
  throw new Error('the options were valid');
}

beforeAll(async () => {
  redis = await RedisServer.start();
  root = tempDir('framesift-serve-');
  inputRoot = join(root, 'in');
  outputRoot = join(root, 'out');
  mkdirSync(outputRoot);
  clipCopies(inputRoot, 3);
  // 10 s at 640x480 in balanced mode: still active when the test cancels it.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=30', '-t', '10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(inputRoot, 'long.mp4')]);
  writeFileSync(join(root, 'secret.mp4'), 'outside the input root');
  symlinkSync(join(root, 'secret.mp4'), join(inputRoot, 'escape.mp4'));
  symlinkSync(root, join(outputRoot, 'escape'));
  // A folder of frames with one frame linked from outside the root.
  mkdirSync(join(inputRoot, 'frames'));
  writeFileSync(join(root, 'outside.jpg'), 'not even read');
  symlinkSync(join(root, 'outside.jpg'), join(inputRoot, 'frames', 'frame_0001.jpg'));
  server = await serve({ redis: redis.url, port: 0, inputRoot, outputRoot, token: TOKEN, backoffMs: 100 });
  worker = await runWorker({ redis: redis.url });
});

afterAll(async () => {
  await worker?.close();
  await server?.close();
  await redis?.dispose();
});

describe('authentication', () => {
  it('401 without a token or with a wrong one; /healthz is open', async () => {
    const missing = await api('GET', '/v1/jobs', undefined, null);
    expect(missing.status).toBe(401);
    expect(missing.json.error.code).toBe('ERR_FRAMESIFT_UNAUTHORIZED');
    const wrong = await api('POST', '/v1/jobs', { input: 'clip00.mp4' }, `${TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect((await api('GET', '/v1/jobs?state=waiting')).status).toBe(200);
    expect((await api('GET', '/healthz', undefined, null)).json).toEqual({ status: 'ok' });
  });

  it('refuses to listen beyond loopback without a token; reads the token from a file or the environment', async () => {
    await expect(serve({ redis: redis.url, host: '0.0.0.0', port: 0, inputRoot, outputRoot })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    expect(['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost'].map(isLoopback)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '::', '192.0.2.1', 'example.org'].map(isLoopback)).toEqual([false, false, false, false]);
    const file = join(root, 'token');
    writeFileSync(file, `  ${TOKEN}\n`);
    expect(await readToken(file, {})).toBe(TOKEN);
    expect(await readToken(undefined, { FRAMESIFT_API_TOKEN: TOKEN })).toBe(TOKEN);
    expect(await readToken(undefined, {})).toBeUndefined();
    await expect(readToken(join(root, 'no-such-token'), {})).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    expect(() => new BearerAuth('short')).toThrow(/at least 16 characters/);
  });
});

describe('what a request may touch', () => {
  it('refuses .., absolute paths outside the roots, symlink escapes and URLs, and queues nothing', async () => {
    const before = await server.queue.counts();
    const cases: [unknown, number, string][] = [
      [{ input: '../secret.mp4' }, 400, 'ERR_FRAMESIFT_INVALID_ARG'],
      [{ input: 'sub/../../secret.mp4' }, 400, 'ERR_FRAMESIFT_INVALID_ARG'],
      [{ input: join(root, 'secret.mp4') }, 403, 'ERR_FRAMESIFT_FORBIDDEN'],
      [{ input: 'escape.mp4' }, 403, 'ERR_FRAMESIFT_FORBIDDEN'],
      [{ input: 'frames' }, 403, 'ERR_FRAMESIFT_FORBIDDEN'],
      [{ input: 'clip00.mp4', options: { outDir: '../elsewhere' } }, 400, 'ERR_FRAMESIFT_INVALID_ARG'],
      [{ input: 'clip00.mp4', options: { outDir: '/tmp/elsewhere' } }, 403, 'ERR_FRAMESIFT_FORBIDDEN'],
      [{ input: 'clip00.mp4', options: { outDir: 'escape/new' } }, 403, 'ERR_FRAMESIFT_FORBIDDEN'],
      [{ input: 'clip00.mp4', options: { model: '../secret.onnx' } }, 400, 'ERR_FRAMESIFT_INVALID_ARG'],
      [{ input: 'http://example.invalid/v.mp4' }, 403, 'ERR_FRAMESIFT_FORBIDDEN'],
      [{ input: 'nothing.mp4' }, 404, 'ERR_FRAMESIFT_NOT_FOUND'],
    ];
    for (const [body, status, code] of cases) {
      const r = await api('POST', '/v1/jobs', body);
      expect([JSON.stringify(body), r.status, r.json.error?.code]).toEqual([JSON.stringify(body), status, code]);
    }
    expect(await server.queue.counts()).toEqual(before);
    expect(readdirSync(root).filter((n) => n !== 'token').sort()).toEqual(['in', 'out', 'outside.jpg', 'secret.mp4']);

    // URL inputs only where the server allows them (nothing is fetched here: no worker on this queue).
    const open = await createServer({ redis: redis.url, queueName: 'urls', inputRoot, outputRoot, allowUrls: true });
    try {
      const r = await open.app.inject({ method: 'POST', url: '/v1/jobs', payload: { input: 'http://example.invalid/v.mp4', options: QUICK } });
      expect(r.statusCode).toBe(202);
      expect((await open.queue.get(r.json().id))?.outDir).toMatch(new RegExp(`^${outputRoot}/url-[0-9a-f]{16}$`));
    } finally {
      await open.queue.bull.obliterate({ force: true });
      await open.close();
    }
  });

  it('validates bodies with the CLI messages; a body too large is 413; a full queue is 429', async () => {
    for (const options of [{ count: 0 }, { mode: 'turbo' }, { count: 3, maxFrames: 4 }, { weights: { sharpness: 0.9, features: 0.5 } }]) {
      const r = await api('POST', '/v1/jobs', { input: 'clip00.mp4', options });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('ERR_FRAMESIFT_INVALID_ARG');
      if (!('mode' in options)) expect(r.json.error.message).toBe(cliMessage(options));
    }
    expect((await api('POST', '/v1/jobs', { input: 'clip00.mp4', options: { count: 'three' } })).json.error.message).toBe('Expected an integer for options.count but received "three"');
    expect((await api('POST', '/v1/jobs', { input: 'clip00.mp4', options: { mode: 'turbo' } })).json.error.message).toBe(
      "Expected one of 'fast', 'balanced', 'high_quality' for options.mode but received \"turbo\"",
    );
    expect((await api('POST', '/v1/jobs', { options: {} })).json.error.message).toBe('Expected a value for input but received undefined');
    expect((await api('POST', '/v1/jobs', { input: 'clip00.mp4', extra: 1 })).status).toBe(400);
    expect((await api('POST', '/v1/jobs', '{"input": ')).status).toBe(400);
    const big = await api('POST', '/v1/jobs', { input: 'clip00.mp4', padding: 'x'.repeat(70_000) });
    expect([big.status, big.json.error.code]).toEqual([413, 'ERR_FRAMESIFT_TOO_LARGE']);

    // A server of its own on another queue (no worker there), capped at one waiting job.
    const capped = await createServer({ redis: redis.url, queueName: 'capped', inputRoot, outputRoot, maxQueued: 1 });
    try {
      await capped.app.ready();
      const post = (input: string) => capped.app.inject({ method: 'POST', url: '/v1/jobs', payload: { input, options: QUICK } });
      const first = await post('clip00.mp4');
      expect(first.statusCode).toBe(202);
      const full = await post('clip01.mp4');
      expect([full.statusCode, full.json().error.code]).toEqual([429, 'ERR_FRAMESIFT_QUEUE_FULL']);
      // An event stream open on a job that never runs (no worker here) ends when the server closes.
      await capped.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = capped.app.server.address() as { port: number };
      const stream = await fetch(`http://127.0.0.1:${port}/v1/jobs/${first.json().id}/events`);
      const body = stream.text();
      await capped.queue.bull.obliterate({ force: true });
      await capped.close();
      expect(await body).toMatch(/^event: state\ndata: .*"state":"waiting"/);
    } finally {
      await capped.close().catch(() => undefined);
    }
  });
});

describe('jobs through the API', () => {
  it('POST -> 202 {id}, the same job twice is one job; SSE streams progress to completion', async () => {
    const created = await api('POST', '/v1/jobs', { input: 'clip01.mp4', options: QUICK });
    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), created: true });
    const id = created.json.id as string;
    const again = await api('POST', '/v1/jobs', { input: join(inputRoot, 'clip01.mp4'), options: { count: 3, mode: 'fast' } });
    expect([again.json.id, again.json.created]).toEqual([id, false]);

    const response = await fetch(`${server.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const text = await response.text(); // the server ends the stream after the final state
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('event:'))
      .map((block) => ({ event: /^event: (\w+)/.exec(block)![1], data: JSON.parse(/\ndata: (.*)/.exec(block)![1]!) }));
    const last = events.at(-1)!;
    expect(last.event).toBe('done');
    expect(last.data.state).toBe('completed');
    expect(last.data.result.summary.chosen).toBe(3);
    const fractions = events.filter((e) => e.event === 'progress').map((e) => e.data.fraction as number);
    expect(fractions.length).toBeGreaterThan(2);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    expectOneCompleteOutput(join(outputRoot, 'clip01'), id, 3);

    const view = await api('GET', `/v1/jobs/${id}`);
    expect(view.json).toMatchObject({ id, state: 'completed', outDir: join(outputRoot, 'clip01'), error: null, attemptsMade: 1 });
    expect(view.json.result.manifestPath).toBe(join(outputRoot, 'clip01', 'manifest.json'));
    expect((await api('GET', '/v1/jobs/0123456789abcdef0123456789abcdef')).status).toBe(404);
  });

  it('DELETE removes a waiting job and aborts an active one on its worker', async () => {
    const active = await api('POST', '/v1/jobs', { input: 'long.mp4', options: { count: 6, outDir: 'cancelled/long' } });
    await until('the long job to start', async () => (await api('GET', `/v1/jobs/${active.json.id}`)).json.state === 'active');
    const waiting = await api('POST', '/v1/jobs', { input: 'clip02.mp4', options: QUICK });
    expect((await api('GET', `/v1/jobs/${waiting.json.id}`)).json.state).toBe('waiting');

    const removed = await api('DELETE', `/v1/jobs/${waiting.json.id}`);
    expect([removed.status, removed.json.state]).toEqual([200, 'removed']);
    expect((await api('GET', `/v1/jobs/${waiting.json.id}`)).status).toBe(404);

    const cancelling = await api('DELETE', `/v1/jobs/${active.json.id}`);
    expect([cancelling.status, cancelling.json.state]).toEqual([202, 'cancelling']);
    const failed = await until('the active job aborted', async () => {
      const view = (await api('GET', `/v1/jobs/${active.json.id}`)).json;
      return view.state === 'failed' && view;
    }, 20_000);
    expect(failed.error.code).toBe('ERR_FRAMESIFT_ABORTED');
    expect(failed.attemptsMade).toBe(1); // not retried
    expect(readdirSync(join(outputRoot, 'cancelled'))).toEqual([]); // no output, no temporary folder
    expect((await api('DELETE', '/v1/jobs/0123456789abcdef0123456789abcdef')).status).toBe(404);
  });

  it('lists jobs by state a page at a time; /metrics and the OpenAPI document', async () => {
    const page = await api('GET', '/v1/jobs?state=failed&limit=1');
    expect(page.json).toMatchObject({ state: 'failed', total: 1, next: null });
    expect(page.json.jobs.map((j: { error: { code: string } }) => j.error.code)).toEqual(['ERR_FRAMESIFT_ABORTED']);
    const completed = await api('GET', '/v1/jobs?state=completed&limit=1&offset=0');
    expect([completed.json.total, completed.json.jobs.length, completed.json.next]).toEqual([1, 1, null]);
    expect((await api('GET', '/v1/jobs?state=bogus')).status).toBe(400);

    const metrics = (await api('GET', '/metrics')).json as string;
    expect(metrics).toContain('framesift_jobs{state="completed"} 1');
    expect(metrics).toContain('framesift_jobs{state="failed"} 1');
    expect(metrics).toContain('framesift_frames_chosen_total 3');
    expect(metrics).toMatch(/framesift_job_seconds_count 1\n/);
    expect(metrics).toMatch(/framesift_job_realtime_factor_count 1\n/);
    const rss = new RegExp(`framesift_worker_memory_bytes\\{worker="${worker.id}",kind="rss"\\} (\\d+)`).exec(metrics);
    expect(Number(rss?.[1])).toBeGreaterThan(10 * 1024 * 1024);

    const doc = (await api('GET', '/v1/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/metrics', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events']);
    expect(doc.paths['/v1/jobs'].post.requestBody.content['application/json'].schema.properties.options.properties.count.type).toBe('integer');
  });
});

describe('Redis away', () => {
  it('answers 503 at once while Redis is down, and serves again when it is back', async () => {
    await redis.stop();
    try {
      const started = performance.now();
      const post = await api('POST', '/v1/jobs', { input: 'clip00.mp4', options: QUICK });
      expect([post.status, post.json.error.code]).toEqual([503, 'ERR_FRAMESIFT_QUEUE']);
      expect((await api('GET', '/healthz', undefined, null)).status).toBe(503);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await redis.start();
    }
    await until('the API to reconnect', async () => (await api('GET', '/v1/jobs?state=completed')).status === 200, 20_000, 100);
    expect((await api('GET', '/healthz', undefined, null)).json).toEqual({ status: 'ok' });
  });
});
