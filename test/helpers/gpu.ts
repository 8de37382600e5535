/**
 * What the machine has, for tests whose outcome differs on a GPU server that followed the
 * README ("GPU servers"): here (no GPU) CUDA falls back to CPU; there it loads.
 */
import * as ort from 'onnxruntime-node';

import { nvidiaGpus } from '../../src/bench/machine.js';
import { currentProviderEnvironment } from '../../src/embed/providers.js';

/** An NVIDIA GPU answers nvidia-smi and onnxruntime-node's CUDA build is installed. */
export function machineHasCuda(): boolean {
  const env = currentProviderEnvironment();
  return nvidiaGpus().gpus.length > 0 && env.backends.includes('cuda') && env.cudaLibraryPresent === true;
}

/** The CUDA execution provider really creates a session for `modelPath` on this machine. */
export async function cudaProviderLoads(modelPath: string): Promise<boolean> {
  try {
    const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cuda'] });
    await session.release();
    return true;
  } catch {
    return false;
  }
}
