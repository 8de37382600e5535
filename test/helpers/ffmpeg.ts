/** The bundled ffmpeg binary as a reference: generating clips, frame timestamps, reference decodes. */
import { execFileSync, spawnSync } from 'node:child_process';

import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

export const ffmpegPath: string = ffmpegInstaller.path;

export function ffmpeg(args: string[]): Buffer {
  return execFileSync(ffmpegPath, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', ...args], {
    maxBuffer: 1 << 30,
  });
}

export interface ShowinfoFrame {
  ptsSec: number;
  keyframe: boolean;
}

/** Every decoded frame's pts (relative to the container start, as ffmpeg reports it) and key flag. */
export function showinfo(path: string, inputArgs: string[] = []): ShowinfoFrame[] {
  const run = spawnSync(
    ffmpegPath,
    ['-hide_banner', '-nostdin', ...inputArgs, '-i', path, '-an', '-vf', 'showinfo', '-f', 'null', '-'],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (run.status !== 0) throw new Error(`ffmpeg showinfo failed on ${path}: ${run.stderr.slice(-500)}`);
  const frames: ShowinfoFrame[] = [];
  for (const line of run.stderr.split('\n')) {
    const pts = /pts_time:\s*(-?[\d.e+-]+)/.exec(line);
    if (pts) frames.push({ ptsSec: Number(pts[1]), keyframe: /iskey:1/.test(line) });
  }
  return frames;
}

export interface PacketInfo {
  dtsSec: number;
  ptsSec: number;
  keyframe: boolean;
}

/** The video packets in decode order (stream copy through framecrc), times relative to the first frame's pts. */
export function packets(path: string): PacketInfo[] {
  const text = ffmpeg(['-i', path, '-an', '-c', 'copy', '-f', 'framecrc', '-']).toString('utf8');
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(text);
  if (!tb) throw new Error(`no time base in framecrc output of ${path}`);
  const seconds = Number(tb[1]) / Number(tb[2]);
  const list = [...text.matchAll(/^0,\s*(-?\d+),\s*(-?\d+),[^\n]*?(?:, F=(0x[0-9a-fA-F]+))?$/gm)].map((m) => ({
    dtsSec: Number(m[1]) * seconds,
    ptsSec: Number(m[2]) * seconds,
    keyframe: m[3] === undefined || (Number(m[3]) & 1) === 1,
  }));
  const first = Math.min(...list.map((p) => p.ptsSec));
  return list.map((p) => ({ ...p, dtsSec: p.dtsSec - first, ptsSec: p.ptsSec - first }));
}

/** Picture type (I, P, B) of every decoded frame, in presentation order. */
export function frameTypes(path: string): string[] {
  const run = spawnSync(ffmpegPath, ['-hide_banner', '-nostdin', '-i', path, '-an', '-vf', 'showinfo', '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return [...run.stderr.matchAll(/ type:([IPB])/g)].map((m) => m[1]!);
}

/** Gray8 frames at w x h decoded by the ffmpeg binary (area scaling, autorotate as ffmpeg does). */
export function referenceGray(path: string, width: number, height: number): Buffer[] {
  const raw = ffmpeg(['-i', path, '-an', '-vsync', '0', '-vf', `scale=${width}:${height}:flags=area,format=gray`, '-f', 'rawvideo', '-']);
  const frameSize = width * height;
  const frames: Buffer[] = [];
  for (let offset = 0; offset + frameSize <= raw.length; offset += frameSize) frames.push(raw.subarray(offset, offset + frameSize));
  return frames;
}

/** Packed RGB24 frames at w x h decoded by the ffmpeg binary. */
export function referenceRgb(path: string, width: number, height: number): Buffer[] {
  const raw = ffmpeg(['-i', path, '-an', '-vsync', '0', '-vf', `scale=${width}:${height}:flags=area,format=rgb24`, '-f', 'rawvideo', '-']);
  const frameSize = width * height * 3;
  const frames: Buffer[] = [];
  for (let offset = 0; offset + frameSize <= raw.length; offset += frameSize) frames.push(raw.subarray(offset, offset + frameSize));
  return frames;
}

/** PSNR in dB between two gray images of equal size (Infinity when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}
