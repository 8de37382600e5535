/**
 * bench/geometry: the sift suite of `framesift bench` (SIFT through the addon against the plain
 * C++ cv::SIFT loop build/sift_reference on the same frames, matching + RANSAC pairs/s per
 * thread count, track building over 5,000 frames x 2,000 features) and the geometry issue's
 * targets. The reference binary needs the addon built from source (npx cmake-js compile --out build).
 * Usage: npx tsc -p tsconfig.json && node dist/bench/geometry.js [--video FILE] [--runs 5] [--threads 1,2] [--quick]
 */
import { runScript } from '../src/bench/script.js';

await runScript({
  suites: ['sift'],
  threads: [1, 2],
  targets: [
    { label: 'SIFT addon overhead <= 10% over plain C++', suite: 'sift', figure: 'SIFT features', of: 'ratio', atMost: 1.1 },
    { label: 'tracks of 5,000 frames x 2,000 features < 2 s', suite: 'sift', figure: 'build tracks', params: { frames: 5000 }, of: 'value', atMost: 2000 },
  ],
});
