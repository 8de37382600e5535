/**
 * What a DINO-style ONNX model looks like from outside: input name, element type and spatial
 * size, output name, patch size, register-token count, hidden size. Patch size and register
 * count come from metadata_props (`patch_size`, `num_register_tokens`) when the export wrote
 * them, else from the output shape of a probe run: with T tokens for a PxP-patch grid,
 * T = 1 + R + (H/p)(W/p) must hold with 0 <= R <= 16 for exactly one candidate p in 16, 14, 8.
 * Any model that does not fit fails with ERR_FRAMESIFT_MODEL naming the file and the problem.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { FramesiftError } from '../errors.js';
import { readOnnxMetadata } from './onnx-metadata.js';

export type ModelDtype = 'float32' | 'float16';

/** The slice of onnxruntime's InferenceSession framesift uses (a test can wrap or fake it). */
export interface SessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly SessionValueMetadata[];
  readonly outputMetadata: readonly SessionValueMetadata[];
  run(feeds: Record<string, TensorLike>): Promise<Record<string, TensorLike>>;
  release(): Promise<void>;
}

export interface SessionValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

export interface TensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}

export type TensorFactory = (type: ModelDtype, data: Float32Array | Uint16Array, dims: number[]) => TensorLike;

export interface ModelInfo {
  path: string;
  inputName: string;
  outputName: string;
  dtype: ModelDtype;
  /** Fixed input height/width from the model, or null when the export has dynamic sizes. */
  fixedHeight: number | null;
  fixedWidth: number | null;
  patchSize: number;
  numRegisterTokens: number;
  hiddenSize: number;
  /** Where patch size and register count came from. */
  layoutSource: 'metadata' | 'probe' | 'options';
}

export interface ModelLayoutOverrides {
  patchSize?: number;
  numRegisterTokens?: number;
}

const PATCH_CANDIDATES = [16, 14, 8];
const MAX_REGISTERS = 16;
/** Probe size for models with dynamic spatial dims: DINO's training resolution. */
const PROBE_SIDE = 224;

export function modelError(path: string, problem: string, cause?: unknown): FramesiftError {
  return new FramesiftError(`Model ${basename(path)} (${path}): ${problem}`, 'ERR_FRAMESIFT_MODEL', { input: path, cause });
}

/**
 * Reads the file once to check it is an ONNX ModelProto and to pick up metadata_props.
 * Missing file -> ERR_FRAMESIFT_NOT_FOUND; not ONNX -> ERR_FRAMESIFT_MODEL.
 */
export async function readModelMetadata(path: string): Promise<Map<string, string>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new FramesiftError(`Model file not found: ${path}`, 'ERR_FRAMESIFT_NOT_FOUND', { input: path, cause: err });
    }
    throw modelError(path, `cannot be read (${(err as Error).message})`, err);
  }
  const meta = readOnnxMetadata(bytes);
  if (!meta) throw modelError(path, 'is not an ONNX model (no ModelProto with a graph could be parsed)');
  return meta;
}

function metaInt(meta: Map<string, string>, keys: string[]): number | undefined {
  for (const key of keys) {
    const raw = meta.get(key);
    if (raw !== undefined && /^\d+$/.test(raw.trim())) return Number(raw.trim());
  }
  return undefined;
}

interface IoChoice {
  inputName: string;
  outputName: string;
  dtype: ModelDtype;
  fixedHeight: number | null;
  fixedWidth: number | null;
}

/** Picks and checks the image input and the token output from the session's metadata. */
export function chooseModelIo(session: SessionLike, path: string): IoChoice {
  const inputs = session.inputMetadata;
  if (inputs.length === 0) throw modelError(path, 'has no input; expected pixel_values [batch, 3, height, width]');
  const input = inputs.find((m) => m.name === 'pixel_values') ?? (inputs.length === 1 ? inputs[0] : undefined);
  if (!input) {
    throw modelError(path, `has no input named pixel_values (inputs: ${inputs.map((m) => m.name).join(', ')})`);
  }
  if (!input.isTensor || (input.type !== 'float32' && input.type !== 'float16')) {
    throw modelError(path, `input ${input.name} must be a float32 or float16 tensor, found ${input.type ?? 'a non-tensor'}`);
  }
  const shape = input.shape ?? [];
  if (shape.length !== 4) {
    throw modelError(path, `input ${input.name} has rank ${shape.length} ([${shape.join(', ')}]); expected rank 4 [batch, 3, height, width]`);
  }
  if (typeof shape[1] === 'number' && shape[1] !== 3) {
    throw modelError(path, `input ${input.name} has ${shape[1]} channels; expected 3 (RGB)`);
  }
  const outputs = session.outputMetadata;
  const output =
    outputs.find((m) => m.name === 'last_hidden_state') ?? outputs.find((m) => m.isTensor && (m.shape?.length ?? 0) === 3);
  if (!output) {
    throw modelError(path, `has no output last_hidden_state [batch, tokens, dim] (outputs: ${outputs.map((m) => m.name).join(', ') || 'none'})`);
  }
  if (output.shape && output.shape.length !== 3) {
    throw modelError(path, `output ${output.name} has rank ${output.shape.length}; expected rank 3 [batch, tokens, dim]`);
  }
  return {
    inputName: input.name,
    outputName: output.name,
    dtype: input.type,
    fixedHeight: typeof shape[2] === 'number' ? shape[2] : null,
    fixedWidth: typeof shape[3] === 'number' ? shape[3] : null,
  };
}

/** Patch size and register count that explain `numTokens` tokens at height x width. */
export function inferLayout(numTokens: number, height: number, width: number, patchSize?: number): { patchSize: number; numRegisterTokens: number }[] {
  const candidates = patchSize ? [patchSize] : PATCH_CANDIDATES;
  const fits: { patchSize: number; numRegisterTokens: number }[] = [];
  for (const p of candidates) {
    if (height % p !== 0 || width % p !== 0) continue;
    const registers = numTokens - 1 - (height / p) * (width / p);
    if (registers >= 0 && registers <= MAX_REGISTERS) fits.push({ patchSize: p, numRegisterTokens: registers });
  }
  return fits;
}

/**
 * Describes a loaded session: input/output choice, then one probe run (batch 1, zeros) that
 * checks the token count and, without metadata or overrides, infers patch size and registers.
 */
export async function describeModel(
  session: SessionLike,
  path: string,
  metadata: Map<string, string>,
  makeTensor: TensorFactory,
  overrides: ModelLayoutOverrides = {},
): Promise<ModelInfo> {
  const io = chooseModelIo(session, path);
  const metaPatch = metaInt(metadata, ['patch_size', 'patchSize']);
  const metaRegs = metaInt(metadata, ['num_register_tokens', 'num_registers', 'numRegisterTokens']);
  const patchHint = overrides.patchSize ?? metaPatch;
  const regsHint = overrides.numRegisterTokens ?? metaRegs;
  const layoutSource = overrides.patchSize !== undefined || overrides.numRegisterTokens !== undefined
    ? 'options'
    : metaPatch !== undefined && metaRegs !== undefined ? 'metadata' : 'probe';

  const probeSide = (fixed: number | null) => fixed ?? (patchHint ? Math.round(PROBE_SIDE / patchHint) * patchHint : PROBE_SIDE);
  const height = probeSide(io.fixedHeight);
  const width = probeSide(io.fixedWidth);
  const data = io.dtype === 'float16' ? new Uint16Array(3 * height * width) : new Float32Array(3 * height * width);
  let out: TensorLike;
  try {
    const result = await session.run({ [io.inputName]: makeTensor(io.dtype, data, [1, 3, height, width]) });
    out = result[io.outputName];
  } catch (err) {
    throw modelError(path, `probe run at 1x3x${height}x${width} failed: ${(err as Error).message}`, err);
  }
  if (!out || out.dims.length !== 3) {
    throw modelError(path, `output ${io.outputName} has shape [${out?.dims.join(', ') ?? ''}] at the probe run; expected [batch, tokens, dim]`);
  }
  const [, numTokens, hiddenSize] = out.dims;
  out.dispose?.();

  const fits = inferLayout(numTokens, height, width, patchHint).filter((f) => regsHint === undefined || f.numRegisterTokens === regsHint);
  if (fits.length === 0) {
    const hint = patchHint !== undefined ? ` with patch size ${patchHint}${regsHint !== undefined ? ` and ${regsHint} registers` : ''}` : '';
    throw modelError(path, `output has ${numTokens} tokens for a ${height}x${width} input, which no ViT layout${hint} explains (1 CLS + registers + patches)`);
  }
  if (fits.length > 1) {
    throw modelError(path, `token count ${numTokens} at ${height}x${width} fits several patch sizes (${fits.map((f) => f.patchSize).join(', ')}); set patchSize`);
  }
  const { patchSize, numRegisterTokens } = fits[0];
  if (io.fixedHeight !== null && io.fixedHeight % patchSize !== 0) {
    throw modelError(path, `fixed input height ${io.fixedHeight} is not a multiple of the patch size ${patchSize}`);
  }
  return { path, ...io, patchSize, numRegisterTokens, hiddenSize, layoutSource };
}
