import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBrokenModel, TEST_MODELS, tokenLayout, writeTestModel, type TestModelSpec } from '../scripts/make-test-model.js';
import { AdaptiveBatcher } from '../src/embed/batcher.js';
import { denseStats } from '../src/embed/dense-stats.js';
import { Embedder, type EmbedderOptions, type EmbedLogger } from '../src/embed/embedder.js';
import { fromHalfBits, roundToHalf, toHalfBits } from '../src/embed/float16.js';
import { isOutOfMemoryError, MemoryMonitor, parseNvidiaSmi } from '../src/embed/memory-monitor.js';
import { readOnnxMetadata } from '../src/embed/onnx-metadata.js';
import { Preprocessor, targetSize } from '../src/embed/preprocess.js';
import { COREML_FLAGS, planProviders } from '../src/embed/providers.js';
import type { SessionLike } from '../src/embed/model.js';
import { FramesiftError } from '../src/errors.js';
import { cudaProviderLoads } from './helpers/gpu.js';
import { flatFrame, normaliseFrame, referenceEmbedding, referenceForward, texturedFrame } from './helpers/vit-reference.js';

const dir = join(import.meta.dirname, '.fixtures', 'embed');
const models: Record<string, string> = {};
/** The CUDA provider loads here (a GPU server with onnxruntime's CUDA build): the fallback tests branch on it. */
let cuda = false;
type ModelName = keyof typeof TEST_MODELS;
const specOf = (name: ModelName): TestModelSpec => TEST_MODELS[name] as TestModelSpec;

// Real onnxruntime out-of-memory messages (bfc_arena.cc, cuda_call.cc), as users reported them.
const ARENA_OOM =
  "Non-zero status code returned while running MatMul node. Name:'/blocks.0/attn/MatMul' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 1207959552";
const CUDA_OOM =
  '/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_call.cc:121 onnxruntime::CudaCall CUDA failure 2: out of memory ; GPU=0 ; hostname=gpu01 ; file=/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_stream_handle.cc ; line=175 ; expr=cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);';
const ARENA_LIMIT = 'BFCArena::AllocateRawInternal: Available memory of 34699008 is smaller than requested bytes of 945041920';

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const logger: EmbedLogger = {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
  };
  return { logger, lines };
}

function framesFor(spec: TestModelSpec, n: number) {
  const [h, w] = spec.imageSize;
  return Array.from({ length: n }, (_, i) => texturedFrame(w, h, i + 1));
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) [dot, na, nb] = [dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]];
  return dot / Math.sqrt(na * nb);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Wraps a real session so its run() can fail on demand (the session-run boundary). */
function faultySessionFactory(fault: (batch: number, call: number) => Error | undefined, calls: number[]) {
  return async (path: string, options: ort.InferenceSession.SessionOptions): Promise<SessionLike> => {
    const real = await ort.InferenceSession.create(path, options);
    return {
      inputNames: real.inputNames,
      outputNames: real.outputNames,
      inputMetadata: real.inputMetadata,
      outputMetadata: real.outputMetadata,
      release: () => real.release(),
      run: async (feeds) => {
        const batch = (Object.values(feeds)[0] as ort.Tensor).dims[0];
        calls.push(batch);
        const err = fault(batch, calls.length);
        if (err) throw err;
        return real.run(feeds as ort.InferenceSession.FeedsType) as never;
      },
    };
  };
}

async function embedder(name: ModelName, extra: Partial<EmbedderOptions> = {}) {
  return Embedder.create({ model: models[name], device: 'cpu', intraOpThreads: 1, ...extra });
}

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  for (const name of Object.keys(TEST_MODELS) as ModelName[]) models[name] = await writeTestModel(join(dir, `${name}.onnx`), specOf(name));
  models.rank = join(dir, 'broken-rank.onnx');
  await writeFile(models.rank, buildBrokenModel('rank'));
  models.noInput = join(dir, 'broken-no-input.onnx');
  await writeFile(models.noInput, buildBrokenModel('noInput'));
  models.text = join(dir, 'not-a-model.onnx');
  await writeFile(models.text, 'this is a text file, not an ONNX model\n');
  cuda = await cudaProviderLoads(models['dinov3-f32']!);
});

describe('model loading', () => {
  it.each(Object.keys(TEST_MODELS) as ModelName[])('%s: layout from metadata or probe, shapes for batch 1..16', async (name) => {
    const spec = specOf(name);
    const e = await embedder(name);
    const { numTokens } = tokenLayout(spec);
    expect(e.info.model).toMatchObject({
      inputName: 'pixel_values', outputName: 'last_hidden_state', dtype: spec.dtype,
      patchSize: spec.patchSize, numRegisterTokens: spec.numRegisterTokens, hiddenSize: spec.hiddenSize,
      fixedHeight: spec.imageSize[0], fixedWidth: spec.imageSize[1],
      layoutSource: spec.withMetadata ? 'metadata' : 'probe',
    });
    expect(e.info.provider).toBe('cpu');
    await e.close();
    const session = await ort.InferenceSession.create(models[name]);
    const [h, w] = spec.imageSize;
    for (let b = 1; b <= 16; b++) {
      const n = b * 3 * h * w;
      const data = spec.dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n);
      const out = await session.run({ pixel_values: new ort.Tensor(spec.dtype, data, [b, 3, h, w]) });
      expect(out.last_hidden_state.dims).toEqual([b, numTokens, spec.hiddenSize]);
      expect(out.last_hidden_state.type).toBe(spec.dtype);
    }
    await session.release();
  });

  it('reads metadata_props without a protobuf library', async () => {
    const { buildTestModel } = await import('../scripts/make-test-model.js');
    expect(readOnnxMetadata(buildTestModel(specOf('dinov3-f32')))).toEqual(new Map([['patch_size', '16'], ['num_register_tokens', '4']]));
    expect(readOnnxMetadata(buildTestModel(specOf('dinov3-f16')))?.size).toBe(0);
    expect(readOnnxMetadata(new TextEncoder().encode('hello world'))).toBeNull();
  });

  it('fails with ERR_FRAMESIFT_MODEL naming the file for wrong models', async () => {
    const cases: [string, RegExp][] = [
      [models.text, /not an ONNX model/],
      [models.rank, /rank 2/],
      [models.noInput, /no input/],
    ];
    for (const [path, problem] of cases) {
      const err = await Embedder.create({ model: path, device: 'cpu' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FramesiftError);
      expect((err as FramesiftError).code).toBe('ERR_FRAMESIFT_MODEL');
      expect((err as FramesiftError).message).toContain(path);
      expect((err as FramesiftError).message).toMatch(problem);
    }
    await expect(Embedder.create({ model: join(dir, 'missing.onnx') })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_NOT_FOUND' });
    await expect(Embedder.create({ model: models['dinov3-f32'], patchSize: 14 })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_MODEL' });
    await expect(Embedder.create({ model: models['dinov3-f32'], device: 'gpu' as never })).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
  });
});

describe('embeddings', () => {
  it.each(['dinov3-f32', 'dinov2-f32'] as ModelName[])('%s matches the plain-TS reference within 1e-4 for batch 1..16', async (name) => {
    const spec = specOf(name);
    const frames = framesFor(spec, 16);
    const [h, w] = spec.imageSize;
    const reference = frames.map((f) => referenceEmbedding(referenceForward(spec, normaliseFrame(f.rgb, w, h, false)), spec.hiddenSize));
    for (const b of [1, 2, 3, 5, 8, 13, 16]) {
      const e = await embedder(name, { maxBatch: b, stats: false });
      const out = await e.embed(frames.slice(0, b));
      expect(out).toHaveLength(b);
      out.forEach((o, i) => {
        expect(o.embedding).toHaveLength(spec.hiddenSize);
        expect(maxAbsDiff(o.embedding, reference[i])).toBeLessThan(1e-4);
      });
      await e.close();
    }
  });

  it('full token layout (CLS, registers, patches) matches the reference', async () => {
    const spec = specOf('dinov3-f32');
    const [h, w] = spec.imageSize;
    const frame = texturedFrame(w, h, 9);
    const chw = normaliseFrame(frame.rgb, w, h, false);
    const session = await ort.InferenceSession.create(models['dinov3-f32']);
    const out = await session.run({ pixel_values: new ort.Tensor('float32', Float32Array.from(chw), [1, 3, h, w]) });
    expect(maxAbsDiff(out.last_hidden_state.data as Float32Array, referenceForward(spec, chw))).toBeLessThan(1e-4);
    await session.release();
  });

  it.each(['dinov3-f16', 'dinov2-f16'] as ModelName[])('%s (float16) matches the reference within float16 precision', async (name) => {
    const spec = specOf(name);
    const frames = framesFor(spec, 4);
    const [h, w] = spec.imageSize;
    const e = await embedder(name, { maxBatch: 4 });
    const out = await e.embed(frames);
    out.forEach((o, i) => {
      const ref = referenceEmbedding(referenceForward(spec, normaliseFrame(frames[i].rgb, w, h, true)), spec.hiddenSize);
      expect(maxAbsDiff(o.embedding, ref)).toBeLessThan(5e-3);
    });
    await e.close();
  });

  it('accepts gray frames and other sizes (resize to the model input)', async () => {
    const e = await embedder('dinov3-f32');
    const gray = { gray: Buffer.alloc(100 * 80, 128), width: 100, height: 80 };
    const [g, r] = await e.embed([gray, texturedFrame(320, 180)]);
    expect(g.embedding).toHaveLength(32);
    expect(cosine(g.embedding, g.embedding)).toBeCloseTo(1, 6);
    expect(Number.isFinite(r.stats!.spatialComplexity.score)).toBe(true);
    await expect(e.embed([{ rgb: Buffer.alloc(10), width: 100, height: 80 }])).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    await e.close();
    await expect(e.embed([gray])).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_CLOSED' });
  });
});

describe('OOM halving and growth', () => {
  it('recognises onnxruntime out-of-memory messages and nothing else', () => {
    for (const m of [ARENA_OOM, CUDA_OOM, ARENA_LIMIT, 'bad allocation', 'std::bad_alloc', 'CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=0']) {
      expect(isOutOfMemoryError(new Error(m))).toBe(true);
    }
    for (const m of ['Got invalid dimensions for input: pixel_values', 'Failed to load model because protobuf parsing failed.']) {
      expect(isOutOfMemoryError(new Error(m))).toBe(false);
    }
  });

  it('halves on OOM, retries the same frames, grows back after clean batches; one embedding per frame in order', async () => {
    const spec = specOf('dinov3-f32');
    const frames = framesFor(spec, 40);
    const expected = await (async () => {
      const e = await embedder('dinov3-f32', { maxBatch: 1, stats: false });
      const out = await e.embed(frames);
      await e.close();
      return out;
    })();
    const calls: number[] = [];
    // The first two runs of more than 4 frames fail as if the arena could not grow.
    let faults = 0;
    const factory = faultySessionFactory((b) => (b > 4 && faults++ < 2 ? new Error(faults === 1 ? ARENA_OOM : CUDA_OOM) : undefined), calls);
    const { logger, lines } = recordingLogger();
    const e = await embedder('dinov3-f32', { maxBatch: 16, growAfter: 2, stats: false, sessionFactory: factory, logger });
    const events: string[] = [];
    e.on('shrink', (ev) => events.push(`shrink ${ev.from}->${ev.to} ${ev.reason} @${ev.at}`));
    e.on('grow', (ev) => events.push(`grow ${ev.from}->${ev.to} @${ev.at}`));
    const out = await e.embed(frames);
    expect(events).toEqual(['shrink 16->8 oom @0', 'shrink 8->4 oom @0', 'grow 4->8 @8', 'grow 8->16 @24']);
    // probe (1), failed 16, failed 8, then 4,4,8,8,16 = 40 frames.
    expect(calls).toEqual([1, 16, 8, 4, 4, 8, 8, 16]);
    expect(out).toHaveLength(40);
    out.forEach((o, i) => expect(maxAbsDiff(o.embedding, expected[i].embedding)).toBeLessThan(1e-5));
    expect(lines.filter((l) => l.level === 'warn' && /16 -> 8 \(oom\)/.test(l.msg ?? ''))).toHaveLength(1);
    expect(lines.some((l) => l.level === 'info' && /4 -> 8 \(clean-runs\)/.test(l.msg ?? ''))).toBe(true);
    expect(e.batchSize).toBe(16);
    await e.close();
  });

  it('OOM at batch 1 fails with ERR_FRAMESIFT_TOO_LARGE', async () => {
    const calls: number[] = [];
    const e = await embedder('dinov3-f32', { maxBatch: 4, sessionFactory: faultySessionFactory((_, call) => (call > 1 ? new Error(ARENA_LIMIT) : undefined), calls) });
    await expect(e.embed(framesFor(specOf('dinov3-f32'), 3))).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_TOO_LARGE' });
    expect(calls).toEqual([1, 3, 1]);
    await e.close();
  });

  it('does not retry a non-OOM error and surfaces it with its code', async () => {
    const calls: number[] = [];
    const shapeError = new Error("Non-zero status code returned while running Reshape node. Name:'/Reshape' Status Message: The input tensor cannot be reshaped to the requested shape.");
    const e = await embedder('dinov3-f32', { sessionFactory: faultySessionFactory((_, call) => (call > 1 ? shapeError : undefined), calls) });
    const err = await e.embed(framesFor(specOf('dinov3-f32'), 8)).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'ERR_FRAMESIFT_MODEL', cause: shapeError });
    expect(calls).toEqual([1, 8]);
    await e.close();

    const batcher = new AdaptiveBatcher({ maxBatch: 8 });
    let runs = 0;
    const aborted = new FramesiftError('aborted', 'ERR_FRAMESIFT_ABORTED');
    await expect(batcher.run([1, 2, 3], async () => { runs++; throw aborted; })).rejects.toBe(aborted);
    expect(runs).toBe(1);
  });

  it('shrinks before --max-memory would be crossed (RSS watch)', async () => {
    // Like an arena: RSS = 100 MB + 5 MB per frame of the largest batch run so far.
    let largest = 0;
    let rss = 100e6;
    let peak = 0;
    const monitor = new MemoryMonitor({ maxMemory: 200e6, sample: async () => ({ rss }) });
    const batcher = new AdaptiveBatcher({ maxBatch: 16, initialBatch: 4, growAfter: 1, monitor });
    const events: string[] = [];
    batcher.on('shrink', (e) => events.push(`shrink ${e.from}->${e.to} ${e.reason}`));
    batcher.on('grow', (e) => events.push(`grow ${e.from}->${e.to}`));
    const items = Array.from({ length: 40 }, (_, i) => i);
    const out = await batcher.run(items, async (batch) => {
      largest = Math.max(largest, batch.length);
      rss = 100e6 + 5e6 * largest;
      peak = Math.max(peak, rss);
      return batch.map((x) => x * 2);
    });
    expect(out).toEqual(items.map((x) => x * 2));
    expect(events.slice(0, 3)).toEqual(['grow 4->8', 'grow 8->16', 'shrink 16->8 rss']);
    expect(peak).toBeLessThanOrEqual(200e6 * 0.9);
    expect(monitor.fit(16, { rss: 185e6 }).size).toBe(1);
  });

  it('parses nvidia-smi output', () => {
    expect(parseNvidiaSmi('1024, 16384\n2048, 16384\n', 1)).toEqual({ used: 2048 * 1048576, total: 16384 * 1048576 });
    expect(parseNvidiaSmi('', 0)).toBeNull();
    const gpu = new MemoryMonitor({ sample: async () => ({ rss: 0, gpuUsed: 15e9, gpuTotal: 16e9 }) });
    expect(gpu.fit(8, { rss: 0, gpuUsed: 10e9, gpuTotal: 16e9 })).toEqual({ size: 8, reason: undefined });
    expect(gpu.fit(8, { rss: 0, gpuUsed: 15e9, gpuTotal: 16e9 })).toEqual({ size: 1, reason: 'gpu' });
    gpu.learn({ rss: 0, gpuUsed: 10e9, gpuTotal: 16e9 }, { rss: 0, gpuUsed: 14e9, gpuTotal: 16e9 }, 8);
    expect(gpu.fit(8, { rss: 0, gpuUsed: 12e9, gpuTotal: 16e9 })).toEqual({ size: 4, reason: 'gpu' });
  });
});

describe('execution providers', () => {
  it('plans provider options for each device', () => {
    const linuxCuda = { platform: 'linux' as const, backends: ['cpu', 'cuda'] };
    const cuda = planProviders({ device: 'cuda', deviceId: 1, intraOpThreads: 3, graphOptimization: 'extended', memoryArena: false }, linuxCuda);
    expect(cuda.map((a) => a.provider)).toEqual(['cuda', 'cpu']);
    expect(cuda[0].sessionOptions).toMatchObject({
      executionProviders: [{ name: 'cuda', deviceId: 1 }, 'cpu'],
      intraOpNumThreads: 3, interOpNumThreads: 1, graphOptimizationLevel: 'extended', enableCpuMemArena: false, enableMemPattern: true,
    });
    expect(cuda[1].sessionOptions.executionProviders).toEqual(['cpu']);
    expect(cuda.map((a) => a.listed)).toEqual([true, true]);
    expect(planProviders({ device: 'coreml' }, linuxCuda)[0].listed).toBe(false);
    const mac = planProviders({ device: 'auto' }, { platform: 'darwin', backends: ['cpu', 'coreml'] });
    expect(mac.map((a) => [a.provider, a.requested])).toEqual([['coreml', false], ['cpu', false]]);
    expect(mac[0].sessionOptions.executionProviders?.[0]).toEqual({ name: 'coreml', coreMlFlags: COREML_FLAGS.CREATE_MLPROGRAM });
    expect(planProviders({ device: 'coreml', coremlFlags: COREML_FLAGS.USE_CPU_AND_GPU }, linuxCuda)[0].sessionOptions.executionProviders?.[0]).toEqual({ name: 'coreml', coreMlFlags: 0x20 });
    expect(planProviders({ device: 'auto' }, linuxCuda).map((a) => a.provider)).toEqual(['cuda', 'cpu']);
    expect(planProviders({ device: 'auto' }, { ...linuxCuda, cudaLibraryPresent: false }).map((a) => a.provider)).toEqual(['cpu']);
    expect(planProviders({ device: 'cuda' }, { ...linuxCuda, cudaLibraryPresent: false }).map((a) => a.provider)).toEqual(['cuda', 'cpu']);
    expect(planProviders({ device: 'auto' }, { platform: 'linux', backends: ['cpu'] }).map((a) => a.provider)).toEqual(['cpu']);
    expect(planProviders({ device: 'cpu' }, linuxCuda).map((a) => a.provider)).toEqual(['cpu']);
    expect(() => planProviders({ intraOpThreads: 0 })).toThrow(/Expected an integer from 1 to 1024 for intraOpThreads but received 0/);
  });

  it('cuda falls back to CPU with a warning where it cannot load (and is used where it can)', async () => {
    const { logger, lines } = recordingLogger();
    const e = await embedder('dinov3-f32', { device: 'cuda', logger });
    if (cuda) {
      expect([e.info.provider, e.info.fallback]).toEqual(['cuda', undefined]);
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(0);
    } else {
      expect(e.info.provider).toBe('cpu');
      expect(e.info.fallback?.from).toBe('cuda');
      const warn = lines.find((l) => l.level === 'warn');
      expect(warn?.msg).toMatch(/CUDA execution provider could not be loaded; falling back to CPU/);
      expect(lines.some((l) => l.level === 'info' && (l.obj as { provider?: string }).provider === 'cpu')).toBe(true);
    }
    await e.close();
  });

  it('coreml off macOS falls back; auto picks CUDA where it loads, else quietly CPU', async () => {
    const { logger, lines } = recordingLogger();
    const e = await embedder('dinov3-f32', { device: 'coreml', logger });
    expect([e.info.provider, e.info.fallback?.from]).toEqual(['cpu', 'coreml']);
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0].obj).toMatchObject({ reason: expect.stringMatching(/no coreml backend/) });
    await e.close();
    // auto with CUDA listed and present: CUDA is tried; where it fails CPU follows without a warning.
    const auto = recordingLogger();
    const a = await embedder('dinov3-f32', { device: 'auto', logger: auto.logger, providerEnvironment: { platform: 'linux', backends: ['cpu', 'cuda'], cudaLibraryPresent: true } });
    expect(auto.lines.filter((l) => l.level === 'warn')).toHaveLength(0);
    if (cuda) {
      expect([a.info.provider, a.info.fallback]).toEqual(['cuda', undefined]);
    } else {
      expect([a.info.provider, a.info.fallback?.from]).toEqual(['cpu', 'cuda']);
      expect(auto.lines.some((l) => l.level === 'info' && /device auto: CUDA not available/.test(l.msg ?? ''))).toBe(true);
    }
    await a.close();
  });

  it('strict mode fails with ERR_FRAMESIFT_PROVIDER where CUDA cannot load', async () => {
    const result = await embedder('dinov3-f32', { device: 'cuda', strict: true }).catch((x: unknown) => x);
    if (cuda) {
      expect((result as Embedder).info.provider).toBe('cuda');
      await (result as Embedder).close();
      return;
    }
    expect(result).toBeInstanceOf(FramesiftError);
    expect((result as FramesiftError).code).toBe('ERR_FRAMESIFT_PROVIDER');
    expect((result as FramesiftError).message).toMatch(/CUDA execution provider could not be loaded and strict device mode forbids falling back to CPU/);
  });
});

describe('dense statistics', () => {
  it('flat frames score lower spatial complexity than textured ones; identical frames have cosine 1; deterministic', async () => {
    const e = await embedder('dinov3-f32');
    const [flat, textured, textured2, flat2] = await e.embed([flatFrame(64, 64), texturedFrame(64, 64, 3), texturedFrame(64, 64, 3), flatFrame(64, 64)]);
    const f = flat.stats!.spatialComplexity;
    const t = textured.stats!.spatialComplexity;
    expect(f.score).toBeLessThan(t.score);
    expect(f.localVariation.raw).toBeLessThan(t.localVariation.raw);
    expect(f.distinctiveness.raw).toBeLessThan(t.distinctiveness.raw);
    expect(f.similarityEntropy.raw).toBeLessThan(t.similarityEntropy.raw);
    expect(cosine(textured.embedding, textured2.embedding)).toBeCloseTo(1, 6);
    expect(cosine(flat.embedding, flat2.embedding)).toBeCloseTo(1, 6);
    expect(textured2.stats).toEqual(textured.stats);
    expect(flat.stats!.semanticRichness.clusters.raw).toBe(1);
    for (const s of [flat.stats!, textured.stats!]) {
      const scores = [s.spatialComplexity, s.semanticRichness, s.spatialComplexity.highFrequency, s.semanticRichness.boundary, s.semanticRichness.silhouette, s.semanticRichness.clusters].map((x) => x.score);
      for (const v of scores) expect(v >= 0 && v <= 1).toBe(true);
    }
    await e.close();
  });

  it('finds the regions of a synthetic two-region token grid', () => {
    // 8x8 grid, D=4: left half one direction, right half another, tiny noise.
    const d = 4, gh = 8, gw = 8, prefix = 1;
    const tokens = new Float32Array((prefix + gh * gw) * d);
    for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) {
      const o = (prefix + y * gw + x) * d;
      tokens[o + (x < 4 ? 0 : 1)] = 1;
      tokens[o + 2] = 0.01 * ((x * 7 + y * 3) % 5);
    }
    const s = denseStats(tokens, 0, { numPrefixTokens: prefix, gridH: gh, gridW: gw, hiddenSize: d });
    expect(s.semanticRichness.clusters.raw).toBe(2);
    expect(s.semanticRichness.silhouette.raw).toBeGreaterThan(0.9);
    // One boundary column out of 112 neighbour pairs, distance ~1 each.
    expect(s.semanticRichness.boundary.raw).toBeCloseTo(8 / 112, 2);
    expect(denseStats(tokens, 0, { numPrefixTokens: prefix, gridH: gh, gridW: gw, hiddenSize: d })).toEqual(s);
  });
});

describe('preprocessing', () => {
  it('size rule: fixed model size wins; dynamic models keep aspect on patch multiples', () => {
    expect(targetSize({ fixedHeight: 64, fixedWidth: 64, patchSize: 16 }, { width: 1920, height: 1080 })).toEqual({ width: 64, height: 64 });
    expect(targetSize({ fixedHeight: null, fixedWidth: null, patchSize: 16 }, { width: 1920, height: 1080 })).toEqual({ width: 400, height: 224 });
    expect(targetSize({ fixedHeight: null, fixedWidth: null, patchSize: 14 }, { width: 1080, height: 1920 })).toEqual({ width: 224, height: 392 });
    expect(targetSize({ fixedHeight: null, fixedWidth: null, patchSize: 16 }, { width: 4000, height: 500 })).toEqual({ width: 448, height: 224 });
    expect(targetSize({ fixedHeight: null, fixedWidth: null, patchSize: 16 }, { width: 1920, height: 1080 }, 224, 'crop')).toEqual({ width: 224, height: 224 });
  });

  it('writes ImageNet-normalised NCHW in float32 and float16, identity at the model size', () => {
    const frame = texturedFrame(32, 16, 5);
    const pre = new Preprocessor('stretch');
    const out = new Float32Array(2 * 3 * 32 * 16);
    pre.writeFrame(frame, { width: 32, height: 16 }, out, 3 * 32 * 16);
    const ref = normaliseFrame(frame.rgb, 32, 16, false);
    expect(maxAbsDiff(out.subarray(3 * 32 * 16), ref)).toBeLessThan(1e-5);
    expect(out.subarray(0, 3 * 32 * 16).every((v) => v === 0)).toBe(true);
    const half = new Uint16Array(3 * 32 * 16);
    pre.writeFrame(frame, { width: 32, height: 16 }, half, 0);
    expect(maxAbsDiff(Array.from(half, fromHalfBits), normaliseFrame(frame.rgb, 32, 16, true))).toBeLessThan(1e-6);
    // A flat frame stays flat through any resize and aspect rule.
    for (const aspect of ['stretch', 'crop', 'preserve'] as const) {
      const p = new Preprocessor(aspect);
      const o = new Float32Array(3 * 48 * 32);
      p.writeFrame(flatFrame(317, 123, [255, 0, 128]), { width: 48, height: 32 }, o, 0);
      expect(maxAbsDiff(o.subarray(0, 48 * 32), new Float32Array(48 * 32).fill((1 - 0.485) / 0.229))).toBeLessThan(1e-5);
    }
  });

  it('native (OpenCV) and typed-array backends agree; native is the default here', async () => {
    expect(new Preprocessor('stretch').backend).toBe('native');
    const smooth = { rgb: Buffer.alloc(640 * 360 * 3), width: 640, height: 360 };
    for (let y = 0; y < 360; y++) for (let x = 0; x < 640; x++) smooth.rgb.set([(x * 255) / 639, (y * 255) / 359, 128 + 100 * Math.sin(x / 60)], (y * 640 + x) * 3);
    const frames = [smooth, texturedFrame(64, 48, 2), { gray: Buffer.alloc(50 * 40, 77), width: 50, height: 40 }];
    for (const aspect of ['stretch', 'crop'] as const) {
      for (const half of [false, true]) {
        const n = 3 * 3 * 64 * 48;
        const a = half ? new Uint16Array(n + 5) : new Float32Array(n + 5);
        const b = half ? new Uint16Array(n + 5) : new Float32Array(n + 5);
        await new Preprocessor(aspect, 'native').writeBatch(frames, { width: 64, height: 48 }, a, 5);
        await new Preprocessor(aspect, 'typed-array').writeBatch(frames, { width: 64, height: 48 }, b, 5);
        const av = half ? Array.from(a as Uint16Array, fromHalfBits) : Array.from(a);
        const bv = half ? Array.from(b as Uint16Array, fromHalfBits) : Array.from(b);
        const plane = 3 * 64 * 48;
        // Smooth frame: the two filters differ by at most a few grey levels.
        expect(maxAbsDiff(av.slice(5, 5 + plane), bv.slice(5, 5 + plane))).toBeLessThan(0.12);
        // Model-size frame: both are exact copies.
        expect(maxAbsDiff(av.slice(5 + plane, 5 + 2 * plane), bv.slice(5 + plane, 5 + 2 * plane))).toBeLessThan(half ? 2e-3 : 1e-5);
        expect(maxAbsDiff(av.slice(5 + 2 * plane), bv.slice(5 + 2 * plane))).toBeLessThan(half ? 2e-3 : 1e-5);
        expect(av.slice(0, 5).every((v) => v === 0)).toBe(true);
      }
    }
    await expect(new Preprocessor('stretch', 'native').writeBatch([smooth], { width: 64, height: 48 }, new Float32Array(10))).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    await expect(new Preprocessor('stretch', 'native').writeBatch([{ rgb: Buffer.alloc(3), width: 2, height: 2 }], { width: 64, height: 48 }, new Float32Array(9216))).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
  });

  it('embeddings are the same with either preprocessing backend at the model size', async () => {
    const frames = framesFor(specOf('dinov2-f32'), 3);
    const results = [];
    for (const preprocess of ['native', 'typed-array'] as const) {
      const e = await embedder('dinov2-f32', { preprocess, stats: false });
      expect(e.preprocessBackend).toBe(preprocess);
      results.push(await e.embed(frames));
      await e.close();
    }
    results[0].forEach((r, i) => expect(maxAbsDiff(r.embedding, results[1][i].embedding)).toBeLessThan(1e-6));
  });

  it('float16 conversion rounds to nearest even and handles the extremes', () => {
    for (const v of [0, -0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, 0.1, 3.14159]) expect(fromHalfBits(toHalfBits(v))).toBeCloseTo(roundToHalf(v), 12);
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
  });
});
