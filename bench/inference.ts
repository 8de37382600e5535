/**
 * Embedding throughput on CPU: images/s for batch sizes 1, 4, 16 with the tiny test ViT, a
 * ViT-S-sized generated model (D=384, 6 heads, MLP x4, 224x224, --blocks N, default 12 = the
 * real depth) and, with --model PATH, a real export. In the same run: preprocessing time per
 * frame vs inference time per frame, for the native (addon/OpenCV, default) and typed-array
 * preprocessing, plus a standalone preprocessing comparison of native, typed-array and
 * sharp/libvips (+ the normalisation loop) as an outside reference.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/inference.js [--model FILE.onnx] [--blocks 12]
 *     [--runs 5] [--frames 32] [--threads N] [--source 1280x720]
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { TEST_MODELS, vitSmallSpec, writeTestModel, type TestModelSpec } from '../scripts/make-test-model.js';
import { stats } from '../src/bench/common.js';
import { Embedder } from '../src/embed/embedder.js';
import { IMAGENET_MEAN, IMAGENET_STD, Preprocessor, type PreprocessBackend } from '../src/embed/preprocess.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Number(arg('runs', '5'));
const frameCount = Number(arg('frames', '32'));
const blocks = Number(arg('blocks', '12'));
const threads = Number(arg('threads', String(availableParallelism())));
const [srcW, srcH] = arg('source', '1280x720').split('x').map(Number);
const realModel = arg('model', '');

function summary(values: number[]): string {
  const s = stats(values);
  const f = (v: number) => v.toFixed(v < 10 ? 2 : 1);
  return `min ${f(s.min)} / median ${f(s.median)} / max ${f(s.max)}`;
}
const median = (values: number[]) => stats(values).median;

function syntheticFrame(width: number, height: number, seed: number) {
  const rgb = Buffer.alloc(width * height * 3);
  let x = seed >>> 0;
  for (let i = 0; i < rgb.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    rgb[i] = ((i % (width * 3)) + (x >>> 28)) & 0xff;
  }
  return { rgb, width, height };
}

/** Native reference: libvips resize (sharp) then the same normalisation into NCHW. */
async function sharpPreprocess(frame: { rgb: Buffer; width: number; height: number }, w: number, h: number, out: Float32Array, offset: number): Promise<void> {
  const raw = await sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  const plane = w * h;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * IMAGENET_STD[c]);
    const bias = -IMAGENET_MEAN[c] / IMAGENET_STD[c];
    for (let i = 0; i < plane; i++) out[offset + c * plane + i] = raw[i * 3 + c] * scale + bias;
  }
}

/** Wall and CPU (process-wide user+system) milliseconds per frame of `fn` over `n` frames. */
async function measure(n: number, fn: () => Promise<void>): Promise<[number, number]> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return [(performance.now() - t) / n, (used.user + used.system) / 1000 / n];
}

async function benchPreprocess(frames: ReturnType<typeof syntheticFrame>[], w: number, h: number): Promise<Record<string, { wall: number[]; cpu: number[] }>> {
  const out = new Float32Array(frames.length * 3 * w * h);
  const perFrame = 3 * w * h;
  const typed = new Preprocessor('stretch', 'typed-array');
  const addon = new Preprocessor('stretch', 'native');
  const variants: Record<string, () => Promise<void>> = {
    'typed-array': () => typed.writeBatch(frames, { width: w, height: h }, out, 0),
    'native (addon, OpenCV)': () => addon.writeBatch(frames, { width: w, height: h }, out, 0),
    'sharp (libvips) + TS normalise': async () => {
      for (let i = 0; i < frames.length; i++) await sharpPreprocess(frames[i], w, h, out, i * perFrame);
    },
  };
  const result: Record<string, { wall: number[]; cpu: number[] }> = {};
  for (let r = 0; r < runs; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const [wall, cpu] = await measure(frames.length, fn);
      (result[name] ??= { wall: [], cpu: [] }).wall.push(wall);
      result[name].cpu.push(cpu);
    }
  }
  return result;
}

async function benchModel(label: string, path: string, frames: ReturnType<typeof syntheticFrame>[]): Promise<void> {
  console.log(`\n## ${label}  (${path})`);
  const rows: [number, PreprocessBackend][] = [[1, 'native'], [4, 'native'], [16, 'native'], [4, 'typed-array']];
  for (const [batch, preprocess] of rows) {
    const embedder = await Embedder.create({ model: path, device: 'cpu', intraOpThreads: threads, maxBatch: batch, stats: false, aspect: 'stretch', preprocess });
    await embedder.embed(frames.slice(0, batch)); // warm-up: arena and memory pattern
    const ips: number[] = [];
    const prePerFrame: number[] = [];
    const inferPerFrame: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = { ...embedder.timings };
      const start = performance.now();
      await embedder.embed(frames);
      const wall = performance.now() - start;
      const n = embedder.timings.frames - t0.frames;
      ips.push((n / wall) * 1000);
      prePerFrame.push((embedder.timings.preprocessMs - t0.preprocessMs) / n);
      inferPerFrame.push((embedder.timings.inferenceMs - t0.inferenceMs) / n);
    }
    const m = embedder.info.model;
    console.log(
      `batch ${String(batch).padStart(2)} (${preprocess.padEnd(11)}): ${summary(ips)} images/s | per frame: preprocess ${median(prePerFrame).toFixed(2)} ms, inference ${median(inferPerFrame).toFixed(2)} ms, ` +
        `preprocess/inference ${((100 * median(prePerFrame)) / median(inferPerFrame)).toFixed(1)}%  [${m.fixedWidth ?? 'dyn'}x${m.fixedHeight ?? 'dyn'}, patch ${m.patchSize}, R ${m.numRegisterTokens}, D ${m.hiddenSize}, ${m.dtype}]`,
    );
    await embedder.close();
  }
  // Dense statistics cost, once, at batch 4.
  const withStats = await Embedder.create({ model: path, device: 'cpu', intraOpThreads: threads, maxBatch: 4, aspect: 'stretch' });
  await withStats.embed(frames.slice(0, 4));
  const before = { ...withStats.timings };
  await withStats.embed(frames.slice(0, 16));
  console.log(`dense stats: ${((withStats.timings.statsMs - before.statsMs) / 16).toFixed(2)} ms per frame`);
  await withStats.close();
}

async function main(): Promise<void> {
  const work = join(process.cwd(), 'bench', '.work');
  await mkdir(work, { recursive: true });
  console.log(`# bench/inference  node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, intra-op threads ${threads}, runs ${runs}, ${frameCount} frames of ${srcW}x${srcH} RGB`);
  const frames = Array.from({ length: frameCount }, (_, i) => syntheticFrame(srcW, srcH, i + 1));

  const pre = await benchPreprocess(frames.slice(0, 16), 224, 224);
  console.log(`preprocess ${srcW}x${srcH} -> 224x224 float32 NCHW into the tensor, ms/frame (16 frames per run; CPU = process user+system, robust to other load):`);
  const ref = median(pre['typed-array'].cpu);
  for (const [name, v] of Object.entries(pre)) {
    console.log(`  ${name.padEnd(32)} wall ${summary(v.wall)} | CPU ${summary(v.cpu)}   CPU x${(ref / median(v.cpu)).toFixed(1)} vs typed-array`);
  }

  const tiny = await writeTestModel(join(work, 'tiny-dinov3.onnx'), TEST_MODELS['dinov3-f32'] as TestModelSpec);
  await benchModel('tiny test ViT (DINOv3 layout, 64x64, D=32, 2 blocks)', tiny, frames);
  const t = performance.now();
  const vits = await writeTestModel(join(work, `vits-${blocks}.onnx`), vitSmallSpec(blocks));
  console.log(`\n(generated ViT-S ${blocks} blocks in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  await benchModel(`ViT-S-sized generated model (D=384, 6 heads, ${blocks} blocks, 224x224, patch 16, 4 registers)`, vits, frames);
  if (realModel) await benchModel('real model', realModel, frames);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
