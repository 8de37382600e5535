/**
 * Execution providers: which onnxruntime provider to try for `--device`, with which session
 * options, and the fallback to CPU when a provider cannot load.
 *
 * - auto: CUDA where onnxruntime-node lists a CUDA backend and its CUDA provider library is
 *   installed (Linux/Windows x64, see docs/models.md), CoreML on macOS, then CPU. A provider
 *   that does not load under auto is reported at info level: auto means "best available".
 * - cuda / coreml: that provider; when it cannot load, CPU with a warning, or, with `strict`,
 *   ERR_FRAMESIFT_PROVIDER.
 * - cpu: the CPU provider only.
 *
 * What onnxruntime-node 1.30 passes through: for CUDA only `deviceId` (its CUDA arena keeps
 * onnxruntime's defaults: grow by powers of two, no memory limit, which is why the batcher
 * halves on OOM); for CoreML the `coreMlFlags` bit set; for every provider the session-level
 * options below (graph optimisation, intra/inter-op threads, CPU memory arena, memory
 * pattern, config entries through `extra`).
 */
import { availableParallelism } from 'node:os';
import { FramesiftError, invalidArg } from '../errors.js';
import type { SessionLike } from './model.js';
import { loadOnnxRuntime, providerLibraryInstalled, type OnnxRuntime } from './runtime.js';

export type Device = 'auto' | 'cpu' | 'cuda' | 'coreml';
export type ProviderName = 'cpu' | 'cuda' | 'coreml';
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda', 'coreml'];

/** CoreML EP flags (coreml_provider_factory.h). */
export const COREML_FLAGS = {
  USE_CPU_ONLY: 0x001,
  ENABLE_ON_SUBGRAPH: 0x002,
  ONLY_ENABLE_DEVICE_WITH_ANE: 0x004,
  ONLY_ALLOW_STATIC_INPUT_SHAPES: 0x008,
  CREATE_MLPROGRAM: 0x010,
  USE_CPU_AND_GPU: 0x020,
} as const;

/**
 * The session options framesift sets: a subset of onnxruntime-common's
 * InferenceSession.SessionOptions, declared here so that framesift's types do not need the
 * optional onnxruntime-node.
 */
export interface SessionOptions {
  graphOptimizationLevel?: GraphOptimization;
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  enableCpuMemArena?: boolean;
  enableMemPattern?: boolean;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  extra?: Record<string, unknown>;
  executionProviders?: Array<string | { name: string; [option: string]: unknown }>;
}

export interface ProviderConfig {
  /** Default 'auto'. */
  device?: Device;
  /** Fail with ERR_FRAMESIFT_PROVIDER instead of falling back to CPU. Default false. */
  strict?: boolean;
  /** CUDA device ordinal. Default 0. */
  deviceId?: number;
  /** CoreML flags; default CREATE_MLPROGRAM (ML Program supports LayerNorm/GELU/attention ops). */
  coremlFlags?: number;
  /** onnxruntime intra-op threads; default: all available cores (see defaultIntraOpThreads). */
  intraOpThreads?: number;
  /** Default 'all'. */
  graphOptimization?: GraphOptimization;
  /** CPU memory arena (faster repeated runs, memory kept between runs). Default true. */
  memoryArena?: boolean;
  /** Pre-plan buffers for repeated same-shape runs. Default true. */
  memoryPattern?: boolean;
}

export interface ProviderAttempt {
  provider: ProviderName;
  /** True when the user asked for this provider by name (its failure warns or fails). */
  requested: boolean;
  /**
   * Whether onnxruntime-node lists a backend for it. onnxruntime-common silently drops
   * unlisted providers from executionProviders (the session then runs on CPU), so an unlisted
   * provider is treated as not loadable without trying it.
   */
  listed: boolean;
  sessionOptions: SessionOptions;
}

export interface ProviderEnvironment {
  platform: NodeJS.Platform;
  /** onnxruntime-node's listSupportedBackends() names. */
  backends: readonly string[];
  /**
   * Whether onnxruntime-node's CUDA provider library was installed beside its binding (the
   * CPU install lists a cuda backend but lacks the library). auto only tries CUDA when true,
   * which spares CPU machines onnxruntime's load-failure error log on every run.
   */
  cudaLibraryPresent?: boolean;
}

/** The environment device 'auto' plans for (imports onnxruntime-node: see runtime.ts). */
export async function currentProviderEnvironment(): Promise<ProviderEnvironment> {
  const ort = await loadOnnxRuntime();
  return {
    platform: process.platform,
    backends: ort.listSupportedBackends().map((b) => b.name),
    cudaLibraryPresent: providerLibraryInstalled('cuda'),
  };
}

/**
 * Intra-op threads: every core. Embedding runs while decode is idle or throttled by the
 * frame pool; callers running other CPU-heavy stages in parallel pass a smaller number.
 */
export function defaultIntraOpThreads(): number {
  return Math.max(1, availableParallelism());
}

export function validateProviderConfig(config: ProviderConfig): Required<Omit<ProviderConfig, 'coremlFlags'>> & { coremlFlags: number } {
  const device = config.device ?? 'auto';
  if (!DEVICES.includes(device)) throw invalidArg('device', `one of ${DEVICES.join(', ')}`, device);
  const intInRange = (name: string, value: number | undefined, min: number, max: number, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min || value > max) throw invalidArg(name, `an integer from ${min} to ${max}`, value);
    return value;
  };
  const levels: GraphOptimization[] = ['disabled', 'basic', 'extended', 'all'];
  const graphOptimization = config.graphOptimization ?? 'all';
  if (!levels.includes(graphOptimization)) throw invalidArg('graphOptimization', `one of ${levels.join(', ')}`, graphOptimization);
  for (const key of ['strict', 'memoryArena', 'memoryPattern'] as const) {
    if (config[key] !== undefined && typeof config[key] !== 'boolean') throw invalidArg(key, 'a boolean', config[key]);
  }
  return {
    device,
    strict: config.strict ?? false,
    deviceId: intInRange('deviceId', config.deviceId, 0, 64, 0),
    coremlFlags: intInRange('coremlFlags', config.coremlFlags, 0, 0xff, COREML_FLAGS.CREATE_MLPROGRAM),
    intraOpThreads: intInRange('intraOpThreads', config.intraOpThreads, 1, 1024, defaultIntraOpThreads()),
    graphOptimization,
    memoryArena: config.memoryArena ?? true,
    memoryPattern: config.memoryPattern ?? true,
  };
}

/** The ordered provider attempts for a config on an environment (pure: unit-tested on CPU). */
export function planProviders(config: ProviderConfig, env: ProviderEnvironment): ProviderAttempt[] {
  const c = validateProviderConfig(config);
  const base: SessionOptions = {
    graphOptimizationLevel: c.graphOptimization,
    intraOpNumThreads: c.intraOpThreads,
    // One model, one run at a time: inter-op parallelism would only oversubscribe the cores.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: c.memoryArena,
    enableMemPattern: c.memoryPattern,
    // Idle threads sleep instead of spinning: decode and metrics share these cores.
    extra: { session: { 'intra_op.allow_spinning': '0' } },
    logSeverityLevel: 3,
  };
  const listed = (name: ProviderName) => env.backends.includes(name);
  const cpu: ProviderAttempt = { provider: 'cpu', requested: c.device === 'cpu', listed: true, sessionOptions: { ...base, executionProviders: ['cpu'] } };
  const cuda = (requested: boolean): ProviderAttempt => ({
    provider: 'cuda',
    requested,
    listed: listed('cuda'),
    sessionOptions: { ...base, executionProviders: [{ name: 'cuda', deviceId: c.deviceId }, 'cpu'] },
  });
  const coreml = (requested: boolean): ProviderAttempt => ({
    provider: 'coreml',
    requested,
    listed: listed('coreml'),
    sessionOptions: { ...base, executionProviders: [{ name: 'coreml', coreMlFlags: c.coremlFlags }, 'cpu'] },
  });
  switch (c.device) {
    case 'cpu':
      return [cpu];
    case 'cuda':
      return [cuda(true), cpu];
    case 'coreml':
      return [coreml(true), cpu];
    case 'auto': {
      const attempts: ProviderAttempt[] = [];
      if (env.platform === 'darwin') attempts.push(coreml(false));
      else if (env.backends.includes('cuda') && env.cudaLibraryPresent !== false) attempts.push(cuda(false));
      attempts.push(cpu);
      return attempts;
    }
  }
}

export type SessionFactory = (modelPath: string, options: SessionOptions) => Promise<SessionLike>;

/**
 * onnxruntime prints provider load failures (a CUDA library missing) to stderr at ERROR level
 * although framesift handles them (fallback with its own warning). Its own log stays quiet
 * unless framesift logs at debug level.
 */
function quietRuntimeLog(ort: OnnxRuntime): void {
  const level = process.env.FRAMESIFT_LOG_LEVEL;
  if (level !== 'debug' && level !== 'trace') ort.env.logLevel = 'fatal';
}

export const defaultSessionFactory: SessionFactory = async (modelPath, options) => {
  const ort = await loadOnnxRuntime(modelPath);
  quietRuntimeLog(ort);
  return ort.InferenceSession.create(modelPath, options as Parameters<typeof ort.InferenceSession.create>[1]) as unknown as Promise<SessionLike>;
};

export interface ProviderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface SessionChoice {
  session: SessionLike;
  provider: ProviderName;
  /** Set when the first choice could not load. */
  fallback?: { from: ProviderName; reason: string };
}

/** Messages of a provider that cannot load (vs a model that cannot load). */
const PROVIDER_LOAD_PATTERNS = [
  /Failed to load (shared )?library/i,
  /libonnxruntime_providers_\w+/i,
  /backend not found/i,
  /no available backend/i,
  /executionProviders\[\d+\] is unsupported/i,
  /CUDA_PATH is set but CUDA wasn'?t able to be loaded/i,
  /cudaErrorNoDevice|cudaErrorInsufficientDriver|no CUDA-capable device/i,
  /CoreML/i,
];

export function isProviderLoadError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return PROVIDER_LOAD_PATTERNS.some((p) => p.test(message));
}

const PROVIDER_LABEL: Record<ProviderName, string> = { cpu: 'CPU', cuda: 'CUDA', coreml: 'CoreML' };

/**
 * Creates the session with the first provider that loads. CPU failures are model errors and
 * are returned to the caller as they are (it names the file).
 */
export async function createSessionWithFallback(
  modelPath: string,
  attempts: ProviderAttempt[],
  options: { strict: boolean; factory?: SessionFactory; logger?: ProviderLogger },
): Promise<SessionChoice> {
  const factory = options.factory ?? defaultSessionFactory;
  let fallback: SessionChoice['fallback'];
  for (const attempt of attempts) {
    try {
      if (!attempt.listed) {
        throw new Error(`this onnxruntime-node build has no ${attempt.provider} backend on ${process.platform}-${process.arch}`);
      }
      const session = await factory(modelPath, attempt.sessionOptions);
      options.logger?.info({ provider: attempt.provider, fallbackFrom: fallback?.from }, `onnxruntime session on ${PROVIDER_LABEL[attempt.provider]}`);
      return { session, provider: attempt.provider, fallback };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt.provider === 'cpu' || (attempt.listed && !isProviderLoadError(err))) throw err;
      const label = PROVIDER_LABEL[attempt.provider];
      if (options.strict && attempt.requested) {
        throw new FramesiftError(
          `The ${label} execution provider could not be loaded and strict device mode forbids falling back to CPU: ${reason}`,
          'ERR_FRAMESIFT_PROVIDER',
          { input: modelPath, cause: err },
        );
      }
      fallback = { from: attempt.provider, reason };
      if (attempt.requested) {
        options.logger?.warn(
          { provider: attempt.provider, reason },
          `${label} execution provider could not be loaded; falling back to CPU (see docs/models.md for the ${label} setup; \`framesift doctor\` shows each provider's state)`,
        );
      } else {
        options.logger?.info({ provider: attempt.provider, reason }, `device auto: ${label} not available, trying the next provider`);
      }
    }
  }
  throw new FramesiftError('No execution provider could be loaded', 'ERR_FRAMESIFT_PROVIDER', { input: modelPath });
}
