/**
 * Named test inputs, generated at test time with the bundled ffmpeg binary into test/.fixtures/
 * (gitignored) and reused across runs. Each is written under a temporary name and renamed,
 * so parallel test files never see half-written fixtures.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ffmpeg } from './ffmpeg.js';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '.fixtures');

function make(name: string, create: (tmpPath: string) => void): string {
  const path = join(fixturesDir, name);
  if (existsSync(path)) return path;
  mkdirSync(fixturesDir, { recursive: true });
  const tmp = join(fixturesDir, `.tmp-${process.pid}-${name}`);
  create(tmp);
  renameSync(tmp, path);
  return path;
}

const testsrc = (size: string, rate: number, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`, '-t', String(seconds)];

export const fixtures = {
  /** 320x240, 30 fps, 3 s = 90 frames, H.264 with B-frames, a keyframe every 15 frames. */
  /** 30 fps, 4 s, keyframes at 0, 0.5 and 3 s only: GOPs of 0.5, 2.5 and 1 s. */
  irregularGop: () => make('irregular-gop.mp4', (p) => ffmpeg([...testsrc('320x240', 30, 4), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '1000', '-sc_threshold', '0', '-force_key_frames', '0,0.5,3', '-f', 'mp4', p])),
  cfr: () => make('cfr.mp4', (p) => ffmpeg([...testsrc('320x240', 30, 3), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '15', '-keyint_min', '15', '-sc_threshold', '0', '-f', 'mp4', p])),
  /** cfr with a display-rotation tag (ffmpeg's legacy `rotate` metadata). */
  rotated: (degrees: 90 | 180 | 270) =>
    make(`rot${degrees}.mp4`, (p) => ffmpeg(['-i', fixtures.cfr(), '-c', 'copy', '-metadata:s:v:0', `rotate=${degrees}`, '-f', 'mp4', p])),
  /** Variable frame rate: 30 fps for 1 s, 10 fps for 3 s, 30 fps for 1 s. */
  vfr: () =>
    make('vfr.mp4', (p) =>
      ffmpeg([...testsrc('320x240', 30, 5), '-vf', "setpts='if(lt(N,30),N/30,if(lt(N,60),1+(N-30)/10,4+(N-60)/30))/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-f', 'mp4', p]),
    ),
  /** MPEG-TS whose timestamps start at 10 s (plus the muxer's own offset). */
  offset: () => make('offset.ts', (p) => ffmpeg([...testsrc('320x240', 25, 2), '-c:v', 'libx264', '-output_ts_offset', '10', '-f', 'mpegts', p])),
  /** 1 s, 64x48 in a given pixel format. */
  pixelFormat: (format: 'yuv420p' | 'yuv422p' | 'yuv444p' | 'nv12' | 'yuv420p10le') => {
    const codec = format === 'nv12' ? ['-c:v', 'rawvideo', '-f', 'nut'] : format === 'yuv420p10le' ? ['-c:v', 'ffv1', '-f', 'matroska'] : ['-c:v', 'libx264', '-f', 'mp4'];
    const name = `fmt-${format}${format === 'nv12' ? '.nut' : format === 'yuv420p10le' ? '.mkv' : '.mp4'}`;
    return make(name, (p) => ffmpeg([...testsrc('64x48', 30, 1), '-pix_fmt', format, ...codec, p]));
  },
  /** 1920x1080 for load tests (event loop, RSS). */
  big: () => make('big1080.mp4', (p) => ffmpeg([...testsrc('1920x1080', 30, 4), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mp4', p])),
  /** cfr with 3 KB of garbage in the middle of the media data. */
  corruptMiddle: () =>
    make('corrupt-middle.mp4', (p) => {
      const data = Buffer.from(readFileSync(fixtures.cfr()));
      let seed = 1;
      const start = Math.floor(data.length * 0.4);
      for (let i = start; i < start + 3000; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        data[i] = seed >>> 24;
      }
      writeFileSync(p, data);
    }),
  /** Index at the front (faststart), media data cut at 60%. */
  truncated: () =>
    make('truncated.mp4', (p) => {
      const full = join(fixturesDir, 'faststart.mp4');
      if (!existsSync(full)) make('faststart.mp4', (q) => ffmpeg(['-i', fixtures.cfr(), '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', q]));
      const data = readFileSync(full);
      writeFileSync(p, data.subarray(0, Math.floor(data.length * 0.6)));
    }),
  /** Index at the end, file cut at 60%: the index is lost. */
  truncatedNoIndex: () => make('truncated-noindex.mp4', (p) => writeFileSync(p, readFileSync(fixtures.cfr()).subarray(0, Math.floor(readFileSync(fixtures.cfr()).length * 0.6)))),
  notVideo: () => make('not-video.mp4', (p) => writeFileSync(p, 'this is plain text, not a video\n'.repeat(50))),
  empty: () => make('empty.mp4', (p) => writeFileSync(p, '')),
  /** Matroska whose codec id was renamed to one no decoder knows. */
  unsupportedCodec: () =>
    make('unsupported.mkv', (p) => {
      const tmp = join(fixturesDir, 'unsupported-src.mkv');
      if (!existsSync(tmp)) make('unsupported-src.mkv', (q) => ffmpeg([...testsrc('64x48', 30, 1), '-c:v', 'libx264', '-f', 'matroska', q]));
      const data = Buffer.from(readFileSync(tmp));
      const at = data.indexOf('V_MPEG4/ISO/AVC');
      if (at < 0) throw new Error('codec id not found in the matroska fixture');
      data.write('V_FRAMESIFT_XYZ', at); // same length: the file stays well-formed
      writeFileSync(p, data);
    }),
  /** A WAV file: a valid container without a video stream. */
  audioOnly: () => make('audio-only.wav', (p) => ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.3', '-f', 'wav', p])),
  /** A Y4M header that declares 16000x16000 pixels per frame, with almost no data. */
  absurdSize: () => make('absurd.y4m', (p) => writeFileSync(p, Buffer.concat([Buffer.from('YUV4MPEG2 W16000 H16000 F30:1 Ip A1:1 C420jpeg\nFRAME\n'), Buffer.alloc(4096, 128)]))),
};

/**
 * A small SfM-style clip with known defects (scripts/make-sample.ts): 480x270, 15 fps, 10 s =
 * 150 frames; heavy blur 2.0-2.6 s (frames 30-39), near-black 4.0-4.6 s (60-69), camera still
 * 5.5-6.5 s (82-97), and a cut to a different wall at 8.0 s (frame 120).
 */
export const DEFECT_CLIP = { width: 480, height: 270, fps: 15, seconds: 10, blur: [2, 2.6] as [number, number], dark: [4, 4.6] as [number, number], still: [5.5, 6.5] as [number, number], cutAt: 8 };

export async function defectClip(): Promise<string> {
  const path = join(fixturesDir, 'defects.mp4');
  if (existsSync(path)) return path;
  mkdirSync(fixturesDir, { recursive: true });
  const { makeClip } = await import('../../scripts/make-sample.js');
  const tmp = join(fixturesDir, `.tmp-${process.pid}-defects.mp4`);
  await makeClip(tmp, DEFECT_CLIP);
  renameSync(tmp, path);
  return path;
}
