/**
 * Writes a tiny ViT in ONNX with the signature of a DINOv3/DINOv2 export:
 *   input  pixel_values       [batch, 3, H, W]   (float32 or float16)
 *   output last_hidden_state  [batch, 1+R+P, D]  (CLS, R register tokens, P patch tokens)
 * Patch embedding conv, CLS + register tokens, learned positional embedding, pre-norm
 * transformer blocks (multi-head attention, GELU MLP), final LayerNorm. Weights are seeded
 * random numbers, so the same spec always gives the same file and the tests can rebuild the
 * weights to compute a reference forward pass in plain TS.
 *
 * float16 variants store float16 weights and take/return float16 tensors; the arithmetic
 * runs in float32 after Cast nodes, because onnxruntime's CPU provider lacks float16 kernels
 * for several of these ops (a real float16 export would run them natively on CUDA/CoreML).
 *
 * CLI: node dist/scripts/make-test-model.js OUT_DIR [--vits]   (writes every TEST_MODELS entry)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import { roundToHalf, toHalfBits } from '../src/embed/float16.js';
import { seededRandom } from './prng.js';

const { onnx } = onnxProto;

export interface TestModelSpec {
  patchSize: number;
  numRegisterTokens: number;
  hiddenSize: number;
  numHeads: number;
  numBlocks: number;
  mlpRatio: number;
  /** Fixed input height and width (multiples of patchSize). */
  imageSize: [number, number];
  dtype: 'float32' | 'float16';
  /** Write patch_size and num_register_tokens into metadata_props. */
  withMetadata: boolean;
  seed: number;
}

const tiny = { hiddenSize: 32, numHeads: 2, numBlocks: 2, mlpRatio: 2, seed: 7 };

/** The models the tests use: both layouts, both precisions, with and without metadata. */
export const TEST_MODELS = {
  'dinov3-f32': { ...tiny, patchSize: 16, numRegisterTokens: 4, imageSize: [64, 64], dtype: 'float32', withMetadata: true },
  'dinov3-f16': { ...tiny, patchSize: 16, numRegisterTokens: 4, imageSize: [64, 64], dtype: 'float16', withMetadata: false },
  'dinov2-f32': { ...tiny, patchSize: 14, numRegisterTokens: 0, imageSize: [56, 56], dtype: 'float32', withMetadata: false },
  'dinov2-f16': { ...tiny, patchSize: 14, numRegisterTokens: 0, imageSize: [56, 56], dtype: 'float16', withMetadata: true },
} satisfies Record<string, TestModelSpec>;

/** ViT-S width (D=384, 6 heads, MLP x4) at 224x224 with `numBlocks` blocks (12 is the real depth). */
export function vitSmallSpec(numBlocks: number, dtype: 'float32' | 'float16' = 'float32'): TestModelSpec {
  return {
    patchSize: 16, numRegisterTokens: 4, hiddenSize: 384, numHeads: 6, numBlocks, mlpRatio: 4,
    imageSize: [224, 224], dtype, withMetadata: true, seed: 11,
  };
}

export interface BlockWeights {
  ln1g: Float32Array; ln1b: Float32Array;
  /** Linear weights are [in, out] (x @ W). */
  wq: Float32Array; bq: Float32Array; wk: Float32Array; bk: Float32Array;
  wv: Float32Array; bv: Float32Array; wo: Float32Array; bo: Float32Array;
  ln2g: Float32Array; ln2b: Float32Array;
  w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array;
}

export interface TestModelWeights {
  /** Conv weight [D, 3, p, p] and bias [D]. */
  patchW: Float32Array; patchB: Float32Array;
  /** CLS then register tokens, [(1+R), D]. */
  prefix: Float32Array;
  /** Positional embedding for every token, [(1+R+P), D]. */
  pos: Float32Array;
  blocks: BlockWeights[];
  lnfG: Float32Array; lnfB: Float32Array;
}

/** Token count and grid of a spec. */
export function tokenLayout(spec: TestModelSpec): { gridH: number; gridW: number; numPatches: number; numTokens: number } {
  const gridH = spec.imageSize[0] / spec.patchSize;
  const gridW = spec.imageSize[1] / spec.patchSize;
  const numPatches = gridH * gridW;
  return { gridH, gridW, numPatches, numTokens: 1 + spec.numRegisterTokens + numPatches };
}

/** mulberry32 + Box-Muller: small, seeded, identical on every platform. */
function gaussianSource(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

/** The weights of a spec (float16 specs get float16-rounded values, as stored in the file). */
export function makeTestWeights(spec: TestModelSpec): TestModelWeights {
  const gauss = gaussianSource(spec.seed);
  const round = spec.dtype === 'float16' ? roundToHalf : (v: number) => v;
  const normal = (n: number, std: number, mean = 0): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = round(mean + std * gauss());
    return out;
  };
  const D = spec.hiddenSize;
  const M = D * spec.mlpRatio;
  const p = spec.patchSize;
  const { numTokens } = tokenLayout(spec);
  const lin = (inp: number, out: number) => normal(inp * out, 1 / Math.sqrt(inp));
  const blocks: BlockWeights[] = [];
  const patchW = normal(D * 3 * p * p, 1 / Math.sqrt(3 * p * p));
  const patchB = normal(D, 0.02);
  const prefix = normal((1 + spec.numRegisterTokens) * D, 1);
  const pos = normal(numTokens * D, 0.02);
  for (let b = 0; b < spec.numBlocks; b++) {
    blocks.push({
      ln1g: normal(D, 0.1, 1), ln1b: normal(D, 0.02),
      wq: lin(D, D), bq: normal(D, 0.02), wk: lin(D, D), bk: normal(D, 0.02),
      wv: lin(D, D), bv: normal(D, 0.02), wo: lin(D, D), bo: normal(D, 0.02),
      ln2g: normal(D, 0.1, 1), ln2b: normal(D, 0.02),
      w1: lin(D, M), b1: normal(M, 0.02), w2: lin(M, D), b2: normal(D, 0.02),
    });
  }
  return { patchW, patchB, prefix, pos, blocks, lnfG: normal(D, 0.1, 1), lnfB: normal(D, 0.02) };
}

const FLOAT = 1;
const INT64 = 7;
const FLOAT16 = 10;

class GraphBuilder {
  nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;
  constructor(private readonly half: boolean) {}

  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** A weight initializer; in float16 models it is stored as float16 and cast to float32. */
  weight(name: string, dims: number[], data: Float32Array): string {
    if (!this.half) {
      // raw_data (little-endian bytes) keeps ViT-S-sized weights fast to encode.
      const raw = new Uint8Array(data.length * 4);
      const view = new DataView(raw.buffer);
      for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
      this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: raw }));
      return name;
    }
    const raw = new Uint8Array(data.length * 2);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < data.length; i++) view.setUint16(i * 2, toHalfBits(data[i]), true);
    this.initializers.push(onnx.TensorProto.create({ name: `${name}_f16`, dims, dataType: FLOAT16, rawData: raw }));
    return this.node('Cast', [`${name}_f16`], { to: FLOAT }, name);
  }

  scalar(value: number): string {
    const name = this.fresh('scalar');
    this.initializers.push(onnx.TensorProto.create({ name, dims: [], dataType: FLOAT, floatData: [value] }));
    return name;
  }

  ints(values: number[]): string {
    const name = this.fresh('ints');
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, int64Data: values }));
    return name;
  }

  node(opType: string, inputs: string[], attrs: Record<string, number | number[]> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    const attribute = Object.entries(attrs).map(([name, value]) => {
      if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: value });
      if (Number.isInteger(value)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
      return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value });
    });
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [out], name: out, attribute }));
    return out;
  }

  linear(x: string, w: Float32Array, b: Float32Array, inp: number, out: number, name: string): string {
    const mm = this.node('MatMul', [x, this.weight(`${name}.weight`, [inp, out], w)]);
    return this.node('Add', [mm, this.weight(`${name}.bias`, [out], b)]);
  }

  layerNorm(x: string, g: Float32Array, b: Float32Array, name: string): string {
    const D = g.length;
    return this.node('LayerNormalization', [x, this.weight(`${name}.weight`, [D], g), this.weight(`${name}.bias`, [D], b)], { axis: -1, epsilon: 1e-6 });
  }
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Serialises the model of a spec to ONNX bytes. */
export function buildTestModel(spec: TestModelSpec): Uint8Array {
  const w = makeTestWeights(spec);
  const half = spec.dtype === 'float16';
  const g = new GraphBuilder(half);
  const D = spec.hiddenSize;
  const M = D * spec.mlpRatio;
  const H = spec.numHeads;
  const dh = D / H;
  const p = spec.patchSize;
  const R = spec.numRegisterTokens;
  const { numTokens } = tokenLayout(spec);

  const pixels = half ? g.node('Cast', ['pixel_values'], { to: FLOAT }) : 'pixel_values';
  const conv = g.node('Conv', [pixels, g.weight('patch_embed.weight', [D, 3, p, p], w.patchW), g.weight('patch_embed.bias', [D], w.patchB)], {
    kernel_shape: [p, p], strides: [p, p],
  });
  const flat = g.node('Reshape', [conv, g.ints([0, D, -1])]);
  const patches = g.node('Transpose', [flat], { perm: [0, 2, 1] });
  // Broadcast CLS + registers over the batch: shape [batch, 1+R, D] from the input's batch dim.
  const batchDim = g.node('Slice', [g.node('Shape', [pixels]), g.ints([0]), g.ints([1])]);
  const prefixShape = g.node('Concat', [batchDim, g.ints([1 + R, D])], { axis: 0 });
  const prefix = g.node('Expand', [g.weight('prefix_tokens', [1, 1 + R, D], w.prefix), prefixShape]);
  let x = g.node('Concat', [prefix, patches], { axis: 1 });
  x = g.node('Add', [x, g.weight('pos_embed', [1, numTokens, D], w.pos)]);

  const scale = g.scalar(1 / Math.sqrt(dh));
  const half05 = g.scalar(0.5);
  const one = g.scalar(1);
  const invSqrt2 = g.scalar(Math.SQRT1_2);
  w.blocks.forEach((bw, i) => {
    const n = `blocks.${i}`;
    const h = g.layerNorm(x, bw.ln1g, bw.ln1b, `${n}.norm1`);
    const heads = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, g.ints([0, 0, H, dh])])], { perm });
    const q = heads(g.linear(h, bw.wq, bw.bq, D, D, `${n}.attn.q`), [0, 2, 1, 3]);
    const k = heads(g.linear(h, bw.wk, bw.bk, D, D, `${n}.attn.k`), [0, 2, 3, 1]);
    const v = heads(g.linear(h, bw.wv, bw.bv, D, D, `${n}.attn.v`), [0, 2, 1, 3]);
    const probs = g.node('Softmax', [g.node('Mul', [g.node('MatMul', [q, k]), scale])], { axis: -1 });
    const ctx = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, D])]);
    x = g.node('Add', [x, g.linear(ctx, bw.wo, bw.bo, D, D, `${n}.attn.proj`)]);
    const h2 = g.layerNorm(x, bw.ln2g, bw.ln2b, `${n}.norm2`);
    const m = g.linear(h2, bw.w1, bw.b1, D, M, `${n}.mlp.fc1`);
    const erf = g.node('Erf', [g.node('Mul', [m, invSqrt2])]);
    const gelu = g.node('Mul', [g.node('Mul', [m, half05]), g.node('Add', [erf, one])]);
    x = g.node('Add', [x, g.linear(gelu, bw.w2, bw.b2, M, D, `${n}.mlp.fc2`)]);
  });
  const out = g.layerNorm(x, w.lnfG, w.lnfB, 'norm');
  if (half) g.node('Cast', [out], { to: FLOAT16 }, 'last_hidden_state');
  else g.node('Identity', [out], {}, 'last_hidden_state');

  const elem = half ? FLOAT16 : FLOAT;
  const graph = onnx.GraphProto.create({
    name: 'framesift_tiny_vit',
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo('pixel_values', elem, ['batch', 3, spec.imageSize[0], spec.imageSize[1]])],
    output: [valueInfo('last_hidden_state', elem, ['batch', numTokens, D])],
  });
  const metadataProps = spec.withMetadata
    ? [
        { key: 'patch_size', value: String(p) },
        { key: 'num_register_tokens', value: String(R) },
      ]
    : [];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'framesift make-test-model',
    opsetImport: [{ domain: '', version: 17 }],
    graph,
    metadataProps,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Writes the model of a spec to `path` (creating its folder). */
export async function writeTestModel(path: string, spec: TestModelSpec): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, buildTestModel(spec));
  return path;
}

/**
 * Small models that are not valid DINO exports, for the model-error tests: `rank` has a rank-2
 * input, `noInput` has no input at all (its output comes from a constant).
 */
export function buildBrokenModel(kind: 'rank' | 'noInput'): Uint8Array {
  const g = new GraphBuilder(false);
  const inputs = kind === 'rank' ? [valueInfo('pixel_values', FLOAT, ['batch', 3])] : [];
  if (kind === 'rank') g.node('Identity', ['pixel_values'], {}, 'last_hidden_state');
  else g.node('Identity', [g.weight('const', [1, 2, 4], new Float32Array(8))], {}, 'last_hidden_state');
  const graph = onnx.GraphProto.create({
    name: `broken_${kind}`,
    node: g.nodes,
    initializer: g.initializers,
    input: inputs,
    output: [valueInfo('last_hidden_state', FLOAT, kind === 'rank' ? ['batch', 3] : [1, 2, 4])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? 'test/.fixtures/models';
  for (const [name, spec] of Object.entries(TEST_MODELS)) {
    console.log(await writeTestModel(join(outDir, `${name}.onnx`), spec));
  }
  if (process.argv.includes('--vits')) {
    console.log(await writeTestModel(join(outDir, 'vits-12.onnx'), vitSmallSpec(12)));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
