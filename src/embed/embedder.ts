/**
 * Embedder: one onnxruntime session for a whole run; frames in, one {embedding, stats} per
 * frame out, in order. Ties together model description (model.ts), provider choice
 * (providers.ts), preprocessing straight into the batch tensor (preprocess.ts), adaptive
 * batching with the memory monitor (batcher.ts, memory-monitor.ts) and dense statistics.
 *
 * Events: 'shrink' / 'grow' (BatchResizeEvent), 'batch' (BatchDoneEvent & timings).
 * Logs go to an optional pino-compatible logger.
 */
import { EventEmitter } from 'node:events';
import { FramesiftError, invalidArg } from '../errors.js';
import { AdaptiveBatcher, type BatchDoneEvent, type BatchResizeEvent } from './batcher.js';
import { denseStats, frameEmbedding, type DenseStats, type EmbeddingSource, type TokenLayout } from './dense-stats.js';
import { halfArrayToFloat32 } from './float16.js';
import { MemoryMonitor, type MemorySample } from './memory-monitor.js';
import { describeModel, modelError, readModelMetadata, type ModelInfo, type SessionLike, type TensorFactory, type TensorLike } from './model.js';
import { ASPECT_RULES, frameView, Preprocessor, targetSize, type AspectRule, type FrameInput, type PreprocessBackend } from './preprocess.js';
import {
  createSessionWithFallback,
  currentProviderEnvironment,
  planProviders,
  validateProviderConfig,
  type ProviderConfig,
  type ProviderEnvironment,
  type ProviderName,
  type SessionFactory,
} from './providers.js';
import { loadOnnxRuntime } from './runtime.js';

export interface EmbedLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface EmbedderOptions extends ProviderConfig {
  /** Path of the ONNX model (`--model`). */
  model: string;
  /** Override the patch size / register count from metadata or the probe run. */
  patchSize?: number;
  numRegisterTokens?: number;
  /** Base input side for dynamic-size models (rounded to the patch). Default 224. */
  inputSize?: number;
  /** Aspect rule, see preprocess.ts. Default 'preserve'. */
  aspect?: AspectRule;
  /** Preprocessing implementation; default 'native' when the addon loads (see preprocess.ts). */
  preprocess?: PreprocessBackend;
  /** Embedding from the CLS token or the mean patch token. Default 'cls'. */
  embedding?: EmbeddingSource;
  /** Compute dense statistics. Default true. */
  stats?: boolean;
  /** Largest batch. Default 16. */
  maxBatch?: number;
  /** Clean batches before the batch doubles again. Default 4. */
  growAfter?: number;
  /** RSS limit in bytes (`--max-memory`). */
  maxMemory?: number;
  logger?: EmbedLogger;
  /** For tests and tools: how sessions are created (default onnxruntime-node). */
  sessionFactory?: SessionFactory;
  /** For tests: platform and backend list used by device 'auto'. */
  providerEnvironment?: ProviderEnvironment;
  /** For tests: memory sampler for the monitor. */
  memorySample?: () => Promise<MemorySample>;
}

export interface FrameEmbedding {
  /** L2-normalised, hiddenSize long. */
  embedding: Float32Array;
  stats?: DenseStats;
}

export interface EmbedderInfo {
  model: ModelInfo;
  /** Provider the session actually runs on (report it in the manifest). */
  provider: ProviderName;
  requestedDevice: ProviderConfig['device'];
  fallback?: { from: ProviderName; reason: string };
}

/** Cumulative time spent per phase, milliseconds. */
export interface EmbedTimings {
  frames: number;
  preprocessMs: number;
  inferenceMs: number;
  statsMs: number;
}

export interface EmbedderEvents {
  shrink: [BatchResizeEvent];
  grow: [BatchResizeEvent];
  batch: [BatchDoneEvent];
}

const noopLogger: EmbedLogger = { info() {}, warn() {}, debug() {} };

export class Embedder extends EventEmitter<EmbedderEvents> {
  readonly info: EmbedderInfo;
  readonly timings: EmbedTimings = { frames: 0, preprocessMs: 0, inferenceMs: 0, statsMs: 0 };
  private session: SessionLike | null;
  private busy = false;
  private readonly batcher: AdaptiveBatcher;
  private readonly preprocessor: Preprocessor;
  private readonly logger: EmbedLogger;
  private readonly inputSize: number;
  private readonly embeddingSource: EmbeddingSource;
  private readonly withStats: boolean;
  private buffer: Float32Array | Uint16Array | null = null;
  private readonly makeTensor: TensorFactory;

  private constructor(session: SessionLike, info: EmbedderInfo, options: EmbedderOptions, logger: EmbedLogger, makeTensor: TensorFactory) {
    super();
    this.session = session;
    this.makeTensor = makeTensor;
    this.info = info;
    this.logger = logger;
    this.inputSize = options.inputSize ?? 224;
    this.embeddingSource = options.embedding ?? 'cls';
    this.withStats = options.stats ?? true;
    this.preprocessor = new Preprocessor(options.aspect ?? 'preserve', options.preprocess);
    this.batcher = new AdaptiveBatcher({
      maxBatch: options.maxBatch ?? 16,
      growAfter: options.growAfter,
      logger,
      monitor: new MemoryMonitor({
        maxMemory: options.maxMemory,
        watchGpu: info.provider === 'cuda',
        gpuIndex: options.deviceId ?? 0,
        sample: options.memorySample,
      }),
    });
    this.batcher.on('shrink', (e) => this.emit('shrink', e));
    this.batcher.on('grow', (e) => this.emit('grow', e));
    this.batcher.on('batch', (e) => this.emit('batch', e));
  }

  /** Loads the model on the chosen provider (with fallback) and describes it. */
  static async create(options: EmbedderOptions): Promise<Embedder> {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    if (typeof options.model !== 'string' || options.model === '') throw invalidArg('model', 'a path to an .onnx file', options.model);
    const provider = validateProviderConfig(options);
    if (options.inputSize !== undefined && (!Number.isInteger(options.inputSize) || options.inputSize < 14 || options.inputSize > 4096)) {
      throw invalidArg('inputSize', 'an integer from 14 to 4096', options.inputSize);
    }
    if (options.aspect !== undefined && !ASPECT_RULES.includes(options.aspect)) throw invalidArg('aspect', `one of ${ASPECT_RULES.join(', ')}`, options.aspect);
    if (options.embedding !== undefined && options.embedding !== 'cls' && options.embedding !== 'mean') throw invalidArg('embedding', "'cls' or 'mean'", options.embedding);
    if (options.maxMemory !== undefined && (!Number.isFinite(options.maxMemory) || options.maxMemory <= 0)) throw invalidArg('maxMemory', 'a positive number of bytes', options.maxMemory);
    for (const key of ['patchSize', 'numRegisterTokens'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isInteger(v) || v < (key === 'patchSize' ? 1 : 0))) throw invalidArg(key, 'a non-negative integer', v);
    }
    const logger = options.logger ?? noopLogger;
    // Before the model is read: without onnxruntime-node --model says how to install it.
    const ort = await loadOnnxRuntime(options.model);
    const makeTensor: TensorFactory = (type, data, dims) => new ort.Tensor(type, data, dims) as unknown as TensorLike;
    const metadata = await readModelMetadata(options.model);
    const attempts = planProviders(options, options.providerEnvironment ?? (await currentProviderEnvironment()));
    let choice;
    try {
      choice = await createSessionWithFallback(options.model, attempts, { strict: provider.strict, factory: options.sessionFactory, logger });
    } catch (err) {
      if (err instanceof FramesiftError) throw err;
      throw modelError(options.model, `onnxruntime cannot load it: ${(err as Error).message}`, err);
    }
    let model: ModelInfo;
    try {
      model = await describeModel(choice.session, options.model, metadata, makeTensor, { patchSize: options.patchSize, numRegisterTokens: options.numRegisterTokens });
    } catch (err) {
      await choice.session.release().catch(() => {});
      throw err;
    }
    const info: EmbedderInfo = { model, provider: choice.provider, requestedDevice: provider.device, fallback: choice.fallback };
    const embedder = new Embedder(choice.session, info, options, logger, makeTensor);
    logger.info({ model: model.path, provider: choice.provider, preprocess: embedder.preprocessBackend, patchSize: model.patchSize, registers: model.numRegisterTokens, hiddenSize: model.hiddenSize, dtype: model.dtype, layoutSource: model.layoutSource }, 'embedding model loaded');
    return embedder;
  }

  /** Which preprocessing implementation runs ('native' or 'typed-array'). */
  get preprocessBackend(): PreprocessBackend {
    return this.preprocessor.backend;
  }

  /** The batch size the next batch starts from. */
  get batchSize(): number {
    return this.batcher.batchSize;
  }

  /** One {embedding, stats} per frame, in order. */
  async embed(frames: readonly FrameInput[]): Promise<FrameEmbedding[]> {
    if (!this.session) throw new FramesiftError('Embedder is closed', 'ERR_FRAMESIFT_CLOSED');
    if (this.busy) throw new FramesiftError('Embedder is busy: await the previous embed() call first', 'ERR_FRAMESIFT_BUSY');
    if (!Array.isArray(frames)) throw invalidArg('frames', 'an array of frames', frames);
    frames.forEach((f, i) => frameView(f, `frames[${i}]`));
    this.busy = true;
    try {
      return await this.batcher.run(frames, (batch, at) => this.runBatch(batch, at));
    } finally {
      this.busy = false;
    }
  }

  private async runBatch(frames: readonly FrameInput[], at: number): Promise<FrameEmbedding[]> {
    const session = this.session as SessionLike;
    const model = this.info.model;
    const t0 = performance.now();
    const target = targetSize(model, frames[0], this.inputSize, this.preprocessor.aspect);
    const perFrame = 3 * target.width * target.height;
    const length = frames.length * perFrame;
    const half = model.dtype === 'float16';
    if (!this.buffer || this.buffer.length !== length || this.buffer instanceof Uint16Array !== half) {
      this.buffer = half ? new Uint16Array(length) : new Float32Array(length);
    }
    const buffer = this.buffer;
    await this.preprocessor.writeBatch(frames, target, buffer, 0, at);
    const t1 = performance.now();
    const input = this.makeTensor(model.dtype, buffer, [frames.length, 3, target.height, target.width]);
    const result = await session.run({ [model.inputName]: input });
    const t2 = performance.now();
    const output = result[model.outputName];
    const layout: TokenLayout = {
      numPrefixTokens: 1 + model.numRegisterTokens,
      gridH: target.height / model.patchSize,
      gridW: target.width / model.patchSize,
      hiddenSize: model.hiddenSize,
    };
    const tokensPerFrame = layout.numPrefixTokens + layout.gridH * layout.gridW;
    const [b, t, d] = output?.dims ?? [];
    if (b !== frames.length || t !== tokensPerFrame || d !== model.hiddenSize) {
      throw modelError(model.path, `output ${model.outputName} has shape [${output?.dims.join(', ')}], expected [${frames.length}, ${tokensPerFrame}, ${model.hiddenSize}]`);
    }
    const tokens = output.data instanceof Float32Array ? output.data : halfArrayToFloat32(output.data as Uint16Array);
    const out: FrameEmbedding[] = [];
    for (let i = 0; i < frames.length; i++) {
      const offset = i * tokensPerFrame * d;
      out.push({
        embedding: frameEmbedding(tokens, offset, layout, this.embeddingSource),
        stats: this.withStats ? denseStats(tokens, offset, layout) : undefined,
      });
    }
    output.dispose?.();
    const t3 = performance.now();
    this.timings.frames += frames.length;
    this.timings.preprocessMs += t1 - t0;
    this.timings.inferenceMs += t2 - t1;
    this.timings.statsMs += t3 - t2;
    this.logger.debug({ at, size: frames.length, preprocessMs: t1 - t0, inferenceMs: t2 - t1, statsMs: t3 - t2 }, 'embedding batch');
    return out;
  }

  /** Releases the session; waits for a running embed() to finish first. */
  async close(): Promise<void> {
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    const session = this.session;
    this.session = null;
    this.buffer = null;
    await session?.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
