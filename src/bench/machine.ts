/** The machine a benchmark ran on: CPU, memory, GPUs, library versions, onnxruntime providers. */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

import { currentProviderEnvironment, type ProviderEnvironment } from '../embed/providers.js';
import { loadOnnxRuntime } from '../embed/runtime.js';
import { native } from '../core/native.js';
import { ffmpegPath } from './common.js';

export interface GpuInfo {
  name: string;
  driver: string;
  memoryMiB: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  /** 1-minute load average when the run started (a shared machine shows it here). */
  loadAverage: number;
  gpus: GpuInfo[];
  /** Why `gpus` is empty, when it is. */
  gpuNote?: string;
  versions: Record<string, string>;
  /** onnxruntime-node backends; `cudaLibrary`: whether its CUDA provider library is installed. */
  providers: { backends: string[]; cudaLibrary: boolean };
}

/** GPUs through nvidia-smi, when it exists. */
export function nvidiaGpus(): { gpus: GpuInfo[]; note?: string } {
  const run = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
  if (run.error) return { gpus: [], note: 'nvidia-smi not found' };
  if (run.status !== 0) return { gpus: [], note: `nvidia-smi failed: ${run.stderr.trim() || run.status}` };
  const gpus = run.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', driver = '', memory = '0'] = line.split(',').map((s) => s.trim());
      return { name, driver, memoryMiB: Number(memory) };
    });
  return gpus.length ? { gpus } : { gpus, note: 'nvidia-smi lists no GPU' };
}

function ffmpegBinaryVersion(): string {
  const run = spawnSync(ffmpegPath, ['-version'], { encoding: 'utf8' });
  return /ffmpeg version (\S+)/.exec(run.stdout ?? '')?.[1] ?? 'unknown';
}

/** onnxruntime's version and providers, or 'not installed' (it is an optional peer dependency). */
async function onnxRuntimeInfo(): Promise<{ version: string; env: ProviderEnvironment }> {
  try {
    const ort = await loadOnnxRuntime();
    return { version: ort.env.versions.node ?? ort.env.versions.common ?? 'unknown', env: await currentProviderEnvironment() };
  } catch {
    return { version: 'not installed', env: { platform: process.platform, backends: [] } };
  }
}

export async function describeMachine(): Promise<MachineInfo> {
  const v = native().versions;
  const { version: onnxruntime, env } = await onnxRuntimeInfo();
  const { gpus, note } = nvidiaGpus();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    node: process.version,
    loadAverage: +loadavg()[0]!.toFixed(2),
    gpus,
    ...(note ? { gpuNote: note } : {}),
    versions: {
      libav: v.ffmpeg,
      libavcodec: v.libavcodec,
      libavformat: v.libavformat,
      libswscale: v.libswscale,
      opencv: v.opencv,
      onnxruntime,
      ffmpegBinary: ffmpegBinaryVersion(),
    },
    providers: { backends: [...env.backends], cudaLibrary: Boolean(env.cudaLibraryPresent) },
  };
}
