/**
 * `framesift doctor`: what this machine gives framesift, each check with its fix. Extract can
 * run when Node, the native addon and (with --out) the output folder pass; the rest (decoders
 * beyond H.264, 10-bit, onnxruntime and its providers, GPUs, the ffmpeg binary) are warnings
 * that name what is missing and how to get it.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, freemem, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { nativeLoadInfo, packageRoot, type NativeCodecKey } from '../bindings/index.js';
import { nvidiaGpus } from './bench/machine.js';
import { openVideo } from './core/decode.js';
import { checkProviders } from './embed/provider-check.js';
import { ONNXRUNTIME_INSTALL_HINT } from './embed/runtime.js';
import { native } from './core/native.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'n/a';

export interface DoctorCheck {
  /** Stable identifier (JSON consumers branch on it). */
  id: string;
  status: CheckStatus;
  /** One line: what was found. */
  detail: string;
  /** What to do, for warn and fail. */
  fix?: string;
  data?: Record<string, unknown>;
}

export interface DoctorReport {
  framesift: string;
  node: string;
  platform: string;
  /** True when `framesift extract` can run here (no check failed). */
  extractCanRun: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Check that this output folder can be written (or created). */
  outDir?: string;
}

const CODEC_LABEL: Record<NativeCodecKey, string> = { h264: 'H.264', hevc: 'HEVC', vp9: 'VP9', av1: 'AV1', prores: 'ProRes', mjpeg: 'MJPEG' };
const LIBAV_FIX =
  'decoders come with the libavcodec the addon links (Debian 12: libavcodec59 has all six); elsewhere use an FFmpeg build with them and build framesift from source (npm rebuild framesift)';

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function nodeCheck(): DoctorCheck {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 20
    ? { id: 'node', status: 'ok', detail: `Node ${process.version}` }
    : { id: 'node', status: 'fail', detail: `Node ${process.version}: framesift needs Node 20 or later`, fix: 'install Node 20 or later (https://nodejs.org)' };
}

function addonChecks(): { loaded: boolean; checks: DoctorCheck[] } {
  try {
    const addon = native();
    const info = nativeLoadInfo();
    const v = addon.versions;
    const checks: DoctorCheck[] = [
      {
        id: 'addon',
        status: 'ok',
        detail: `${info?.source ?? 'loaded'} ${info?.path ?? ''}`.trim(),
        data: { path: info?.path, source: info?.source, skipped: info?.skipped ?? [] },
      },
      {
        id: 'libraries',
        status: 'ok',
        detail: `libav ${v.ffmpeg} (libavformat ${v.libavformat}, libavcodec ${v.libavcodec}, libswscale ${v.libswscale}, libavutil ${v.libavutil}), OpenCV ${v.opencv}, N-API ${v.napi}`,
        data: { ...v },
      },
    ];
    return { loaded: true, checks };
  } catch (err) {
    const [first, ...rest] = errorText(err).split('\n');
    return {
      loaded: false,
      checks: [
        { id: 'addon', status: 'fail', detail: first!, fix: rest.join('\n') || 'reinstall framesift' },
        { id: 'libraries', status: 'fail', detail: 'unknown: the addon did not load', fix: 'fix the addon first (above)' },
      ],
    };
  }
}

function decoderCheck(): DoctorCheck {
  const decoders = native().decoders();
  const present: string[] = [];
  const missing: string[] = [];
  for (const key of Object.keys(CODEC_LABEL) as NativeCodecKey[]) {
    const names = (decoders[key] ?? []).map((d) => d.name);
    if (names.length) present.push(`${CODEC_LABEL[key]} (${names.join(', ')})`);
    else missing.push(CODEC_LABEL[key]);
  }
  const data = Object.fromEntries((Object.keys(CODEC_LABEL) as NativeCodecKey[]).map((k) => [k, decoders[k]]));
  if (missing.length === 0) return { id: 'decoders', status: 'ok', detail: present.join(', '), data };
  return {
    id: 'decoders',
    status: missing.includes('H.264') ? 'fail' : 'warn',
    detail: `missing: ${missing.join(', ')}${present.length ? `; present: ${present.join(', ')}` : ''}`,
    fix: LIBAV_FIX,
    data,
  };
}

/** The ffmpeg binary framesift's benchmarks and this doctor use to generate clips. */
async function ffmpegBinary(): Promise<{ path?: string; version?: string; reason?: string }> {
  let path: string | undefined;
  try {
    path = ((await import('@ffmpeg-installer/ffmpeg')) as { default: { path: string } }).default.path;
  } catch (err) {
    return { reason: `@ffmpeg-installer/ffmpeg has no binary here: ${errorText(err).split('\n')[0]}` };
  }
  const run = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return { path, reason: `${path} does not run: ${run.error?.message ?? run.stderr.trim()}` };
  return { path, version: /ffmpeg version (\S+)/.exec(run.stdout)?.[1] ?? 'unknown' };
}

function ffmpegCheck(binary: Awaited<ReturnType<typeof ffmpegBinary>>): DoctorCheck {
  const platform = `${process.platform}-${process.arch}`;
  if (binary.version) return { id: 'ffmpeg', status: 'ok', detail: `${binary.path} (ffmpeg ${binary.version})`, data: { ...binary } };
  return {
    id: 'ffmpeg',
    status: 'warn',
    detail: binary.reason!,
    fix: `only \`framesift bench\` and the 10-bit check need it: \`npm rebuild @ffmpeg-installer/${platform}\` (its install step makes the binary executable; under npm 12 approve it first: \`npm approve-scripts @ffmpeg-installer/${platform}\`)`,
    data: { ...binary },
  };
}

/**
 * 10-bit: a one-frame 10-bit HEVC clip (mid gray) made by the ffmpeg binary, decoded by
 * framesift's own decoder into gray8: the path a phone's HDR video takes.
 */
async function tenBitCheck(binary: Awaited<ReturnType<typeof ffmpegBinary>>): Promise<DoctorCheck> {
  if (!binary.version) return { id: '10-bit', status: 'warn', detail: 'not checked: no working ffmpeg binary to make the test clip', fix: 'see the ffmpeg check' };
  const dir = mkdtempSync(join(tmpdir(), 'framesift-doctor-'));
  try {
    const clip = join(dir, 'ten-bit.mp4');
    const make = spawnSync(
      binary.path!,
      ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0x808080:s=64x64:d=0.04', '-frames:v', '1', '-c:v', 'libx265', '-pix_fmt', 'yuv420p10le', '-x265-params', 'log-level=error', clip],
      { encoding: 'utf8' },
    );
    if (make.status !== 0) return { id: '10-bit', status: 'warn', detail: `not checked: the ffmpeg binary cannot encode 10-bit HEVC (${make.stderr.trim().split('\n')[0]})`, fix: 'use an ffmpeg build with libx265' };
    const decoder = await openVideo(clip, { analysisSize: 'source' });
    try {
      let gray: number | undefined;
      for await (const batch of decoder.batches()) {
        for (const frame of batch.frames) {
          if (gray === undefined) gray = frame.gray!.reduce((a, b) => a + b, 0) / frame.gray!.length;
          frame.release();
        }
      }
      const depth = decoder.info.bitDepth;
      if (depth === 10 && gray !== undefined && Math.abs(gray - 128) < 4) {
        return { id: '10-bit', status: 'ok', detail: `10-bit HEVC (${decoder.info.pixelFormat}) decodes to gray ${gray.toFixed(1)} (expected 128)` };
      }
      return { id: '10-bit', status: 'warn', detail: `10-bit HEVC decoded as ${depth}-bit with mean gray ${gray?.toFixed(1) ?? 'none'} (expected 10-bit, 128)`, fix: LIBAV_FIX };
    } finally {
      await decoder.close();
    }
  } catch (err) {
    return { id: '10-bit', status: 'warn', detail: `10-bit HEVC does not decode: ${errorText(err).split('\n')[0]}`, fix: LIBAV_FIX };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PROVIDER_FIX: Record<string, string> = {
  cuda: 'CUDA 12 + cuDNN 9 and onnxruntime-node\'s CUDA build: README "GPU servers"',
  tensorrt: 'TensorRT 10 on top of the CUDA set-up: README "GPU servers"',
  coreml: 'CoreML is macOS only',
  cpu: 'reinstall onnxruntime-node (CPU): ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
};

async function onnxChecks(): Promise<DoctorCheck[]> {
  let result: Awaited<ReturnType<typeof checkProviders>>;
  try {
    result = await checkProviders();
  } catch (err) {
    return [{ id: 'onnxruntime', status: 'warn', detail: `${errorText(err).split('. ')[0]}: everything but --model works`, fix: ONNXRUNTIME_INSTALL_HINT }];
  }
  const checks: DoctorCheck[] = [{ id: 'onnxruntime', status: 'ok', detail: `onnxruntime-node ${result.version} (backends ${result.backends.join(', ')})`, data: { version: result.version, backends: result.backends } }];
  for (const p of result.providers) {
    const offPlatform = p.provider === 'coreml' && process.platform !== 'darwin';
    checks.push({
      id: `provider:${p.provider}`,
      status: p.loads ? 'ok' : offPlatform ? 'n/a' : 'warn',
      detail: p.loads ? 'loads (a test session ran)' : p.reason!,
      ...(p.loads || offPlatform ? {} : { fix: PROVIDER_FIX[p.provider] }),
      data: { ...p },
    });
  }
  return checks;
}

function gpuCheck(): DoctorCheck {
  const { gpus, note } = nvidiaGpus();
  if (gpus.length) return { id: 'gpus', status: 'ok', detail: gpus.map((g) => `${g.name} (${g.memoryMiB} MiB, driver ${g.driver})`).join('; '), data: { gpus } };
  return { id: 'gpus', status: 'n/a', detail: `no NVIDIA GPU (${note})`, data: { gpus } };
}

function machineCheck(): DoctorCheck {
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  return {
    id: 'machine',
    status: 'ok',
    detail: `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${gib(totalmem())} GiB memory (${gib(freemem())} GiB free)`,
    data: { cores: availableParallelism(), memoryBytes: totalmem(), freeMemoryBytes: freemem() },
  };
}

/** The folder, or the nearest existing folder above it (extract creates the rest), is writable. */
function outputCheck(outDir: string | undefined): DoctorCheck {
  if (outDir === undefined) return { id: 'output', status: 'n/a', detail: 'not checked: pass --out DIR' };
  const target = resolve(outDir);
  let dir = target;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const isFolder = statSync(dir).isDirectory();
  try {
    if (!isFolder) throw new Error(`${dir} is a file, not a folder`);
    accessSync(dir, constants.W_OK | constants.X_OK);
    const probe = mkdtempSync(join(dir, '.framesift-doctor-'));
    rmSync(probe, { recursive: true, force: true });
    return { id: 'output', status: 'ok', detail: dir === target ? `${target} is writable` : `${target} can be created (in ${dir})`, data: { path: target } };
  } catch (err) {
    return { id: 'output', status: 'fail', detail: `${target} cannot be written: ${errorText(err)}`, fix: isFolder ? `choose another -o folder or give this user write access to ${dir}` : 'choose another -o folder', data: { path: target } };
  }
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [nodeCheck()];
  const addon = addonChecks();
  checks.push(...addon.checks);
  const binary = await ffmpegBinary();
  if (addon.loaded) checks.push(decoderCheck(), await tenBitCheck(binary));
  else checks.push({ id: 'decoders', status: 'fail', detail: 'unknown: the addon did not load', fix: 'fix the addon first (above)' });
  checks.push(...(await onnxChecks()), gpuCheck(), machineCheck(), ffmpegCheck(binary), outputCheck(options.outDir));
  return {
    framesift: version(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    extractCanRun: checks.every((c) => c.status !== 'fail'),
    checks,
  };
}

/** The report as aligned lines, each failed or warned check followed by its fix. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = [`framesift ${report.framesift} doctor (Node ${report.node.slice(1)}, ${report.platform})`];
  const width = Math.max(...report.checks.map((c) => c.id.length));
  for (const c of report.checks) {
    lines.push(`  ${c.status.padEnd(4)}  ${c.id.padEnd(width)}  ${c.detail.split('\n').join(`\n${' '.repeat(width + 10)}`)}`);
    if (c.fix && c.status !== 'ok') for (const fix of c.fix.split('\n')) lines.push(`${' '.repeat(width + 10)}fix: ${fix.trim()}`);
  }
  lines.push(report.extractCanRun ? 'framesift extract can run here.' : 'framesift extract cannot run here: fix the failed checks above.');
  return lines.join('\n') + '\n';
}
