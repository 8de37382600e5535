/**
 * bench/inference: the inference suite of `framesift bench`: images/s through the Embedder
 * (preprocessing, onnxruntime, dense statistics) per batch size and precision, for generated
 * ViTs with the DINOv3 signature (tiny, and ViT-S-sized unless --quick) or --model FILE; the
 * reference figure is the preprocessing share of the embedding time in the same run.
 * Usage: npx tsc -p tsconfig.json && node dist/bench/inference.js [--model FILE.onnx] [--runs 5] [--quick]
 */
import { runScript } from '../src/bench/script.js';

await runScript({
  suites: ['inference'],
  targets: [],
});
