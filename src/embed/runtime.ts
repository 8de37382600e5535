/**
 * onnxruntime-node is an optional peer dependency of framesift: only `--model` needs it, and
 * its own install step can fail (it downloads CUDA libraries from outside the npm registry).
 * So it is imported on first use, never when framesift is imported; when it is missing or
 * does not load, the error says how to install it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import type * as Ort from 'onnxruntime-node';

import { FramesiftError } from '../errors.js';

export type OnnxRuntime = typeof Ort;

/** The fix printed by --model, the loader and `framesift doctor`. */
export const ONNXRUNTIME_INSTALL_HINT =
  'Install it beside framesift. CPU: `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` ' +
  '(its CPU build is in the npm package; the skipped install step would only download CUDA libraries). ' +
  'GPU servers with CUDA 12: see "GPU servers" in framesift\'s README. `npx framesift doctor` shows each provider\'s state.';

let loading: Promise<OnnxRuntime> | undefined;

function isNotInstalled(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && /onnxruntime-node/.test(e.message ?? '');
}

/** onnxruntime-node, imported once; ERR_FRAMESIFT_ONNXRUNTIME_MISSING when it cannot be. */
export function loadOnnxRuntime(input?: string): Promise<OnnxRuntime> {
  loading ??= import('onnxruntime-node').then(
    (mod) => mod as OnnxRuntime,
    (err: unknown) => {
      loading = undefined;
      const reason = isNotInstalled(err)
        ? 'onnxruntime-node (an optional peer dependency of framesift, needed only for --model) is not installed.'
        : `onnxruntime-node is installed but does not load: ${(err as Error)?.message ?? String(err)}.`;
      throw new FramesiftError(`${reason} ${ONNXRUNTIME_INSTALL_HINT}`, 'ERR_FRAMESIFT_ONNXRUNTIME_MISSING', {
        ...(input !== undefined ? { input } : {}),
        cause: err,
      });
    },
  );
  return loading;
}

/** The provider library onnxruntime-node's install step puts beside its binding (CUDA build only). */
export function providerLibraryInstalled(provider: 'cuda' | 'tensorrt'): boolean {
  try {
    const root = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
    const file = process.platform === 'win32' ? `onnxruntime_providers_${provider}.dll` : `libonnxruntime_providers_${provider}.so`;
    return readdirSync(root).some((napi) => existsSync(join(root, napi, process.platform, process.arch, file)));
  } catch {
    return false;
  }
}
