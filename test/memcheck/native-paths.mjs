// Exercises the addon's native paths for valgrind (scripts/memcheck.sh): video and image
// decoding into pooled frames (odd sizes, rotation, full-resolution RGB, GOP heads), metrics, SIFT and
// matching. Plain JS on the built addon, small inputs: valgrind makes everything ~50x slower.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..', '..');
const addon = require(join(root, 'build', 'Release', 'framesift.node'));
const ffmpeg = require('@ffmpeg-installer/ffmpeg').path;
const sharp = require('sharp');

const dir = mkdtempSync(join(tmpdir(), 'framesift-memcheck-'));
const video = join(dir, 'rot.mp4');
execFileSync(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=270x150:rate=10', '-t', '1', '-c:v', 'libx264', '-metadata:s:v:0', 'rotate=90', video]);
const images = join(dir, 'images');
mkdirSync(images);
for (let i = 0; i < 3; i++) {
  // Odd, portrait sizes: packed rows whose ends are not SIMD-aligned.
  await sharp({ create: { width: 271, height: 483 - i, channels: 3, background: { r: 40 * i, g: 120, b: 200 } } })
    .composite([{ input: Buffer.from(`<svg width="271" height="400"><circle cx="${80 + 20 * i}" cy="120" r="50" fill="#f30"/><rect x="150" y="200" width="60" height="90" fill="#0a4"/></svg>`), top: 0, left: 0 }])
    .jpeg()
    .withMetadata({ orientation: i === 1 ? 6 : 1 })
    .toFile(join(images, `f${i}.jpg`));
}
const files = [0, 1, 2].map((i) => join(images, `f${i}.jpg`));

const base = { files: [], sequenceFps: 1, sampling: 'all', fps: 0, start: 0, end: -1, threads: 2, maxPixels: 1e8, applyRotation: true, poolSize: 6 };
const runs = [
  { ...base, input: video, analysisSize: 101, gray: true, rgb: true },
  { ...base, input: video, analysisSize: 0, gray: true, rgb: true, rgbFullResolution: true, wantedPts: [0.2, 0.7] },
  // fast mode's single pass: GOP heads grown from the container index, sampled rate, full-resolution RGB
  { ...base, input: video, analysisSize: 101, gray: true, rgb: true, rgbFullResolution: true, sampling: 'fps', fps: 6, gopHeadSec: 0.3, gopMaxSkipSec: 0.2 },
  { ...base, input: images, files, analysisSize: 0, gray: false, rgb: true },
  { ...base, input: images, files, analysisSize: 97, gray: true, rgb: true, rgbFullResolution: true },
];
// Failed opens of each kind: every one must free what it opened (a definite leak fails).
const bad = join(dir, 'bad');
mkdirSync(bad);
execFileSync(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=0.2', join(bad, 'audio.wav')]);
writeFileSync(join(bad, 'text.mp4'), 'not a video\n'.repeat(40));
writeFileSync(join(bad, 'absurd.y4m'), Buffer.concat([Buffer.from('YUV4MPEG2 W16000 H16000 F30:1 Ip A1:1 C420jpeg\nFRAME\n'), Buffer.alloc(4096, 128)]));
const mkv = join(bad, 'src.mkv');
execFileSync(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10', '-t', '0.3', '-c:v', 'libx264', '-f', 'matroska', mkv]);
const renamed = readFileSync(mkv);
renamed.write('V_FRAMESIFT_XYZ', renamed.indexOf('V_MPEG4/ISO/AVC'));
writeFileSync(join(bad, 'unsupported.mkv'), renamed);
const failures = [];
for (const [input, extra] of [['audio.wav', {}], ['text.mp4', {}], ['absurd.y4m', {}], ['unsupported.mkv', {}], ['images', { files: [join(bad, 'audio.wav')] }]]) {
  const decoder = new addon.Decoder();
  const code = await decoder.open({ ...base, input: join(bad, input), analysisSize: 64, gray: true, rgb: false, ...extra }).then(() => 'opened', (e) => e.code);
  await decoder.close();
  failures.push(code);
}
if (failures.includes('opened')) throw new Error(`a bad input opened: ${failures}`);

const kept = [];
for (const options of runs) {
  const decoder = new addon.Decoder();
  await decoder.open(options);
  for (;;) {
    const result = await decoder.read(2);
    for (const frame of result.frames) {
      if (frame.gray && kept.length < 4) kept.push({ data: Buffer.from(frame.gray), width: frame.width, height: frame.height });
      decoder.release(frame.handle);
    }
    if (result.done) break;
  }
  await decoder.close();
}
const metrics = await addon.measureFrames(kept, { metrics: 0x3ffff, threads: 2 });
const sets = await Promise.all(kept.map((image) => addon.extractFeatures(image, { kind: 0, maxFeatures: 300, rootSift: false, downscale: 1, contrastThreshold: 0.04 })));
const { pairs, graph } = await addon.matchPairs(sets, Uint32Array.from([0, 1, 1, 2]), { threads: 2, keepGraph: true });
await addon.buildTracks(graph, {});
graph.dispose();
// Saved features (re-selection): to bytes and back, matched again; and refused bytes.
const restored = sets.map((s) => addon.featureSetFromBuffer(s.toBuffer()));
await addon.matchPairs(restored, Uint32Array.from([0, 1]), { threads: 2, keepGraph: false });
const bytes = sets[0].toBuffer();
try {
  addon.featureSetFromBuffer(bytes.subarray(0, bytes.length - 1));
} catch {
  // a short buffer is refused before any read past its end
}
restored.forEach((s) => s.dispose());
sets.forEach((s) => s.dispose());
console.log(`memcheck paths ok: ${failures.length} failed opens (${failures.join(', ')}), ${metrics.count} frames measured, ${pairs.length} pairs`);
