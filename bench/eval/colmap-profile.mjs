#!/usr/bin/env node
// colmap-profile.mjs RUN_DIR [FEATURES]: where the colmap stage's time goes on a finished
// extract's written picks (decode, SIFT on 2 threads, the COLMAP layout, exact matching of pairs.txt and of
// the loop candidates, the same without RANSAC, and on 1 thread). Needs `npm run build`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
const G = await import('../../dist/src/core/geometry.js');
const C = await import('../../dist/src/pipeline/stages/colmap.js');
const run = process.argv[2]; const feats = Number(process.argv[3] || C.DATABASE_FEATURES);
const dir = join(run, 'images');
const names = readdirSync(dir).filter((f) => /\.jpe?g$/.test(f)).sort();
const t = () => performance.now() / 1000;
let t0 = t();
const grays = [];
for (const n of names) grays.push(await sharp(join(dir, n)).grayscale().raw().toBuffer({ resolveWithObject: true }));
let t1 = t(); console.log('decode', (t1 - t0).toFixed(2), 'per image', ((t1 - t0) / names.length).toFixed(3));
const sets = await G.extractFeaturesBatch(grays.map((g) => ({ data: g.data, width: g.info.width, height: g.info.height })), { detector: 'sift', maxFeatures: feats, contrastThreshold: C.FULL_CONTRAST_THRESHOLD, unshift: true, threads: 2 });
let t2 = t(); console.log('sift 2 threads', (t2 - t1).toFixed(2), 'per image', ((t2 - t1) / names.length).toFixed(3), 'count', sets[0].count);
const scales = sets.map(() => [1, 1]);
const cf = await G.colmapFeatures(sets, scales);
let t3 = t(); console.log('colmapFeatures', (t3 - t2).toFixed(2));
const index = new Map(names.map((n, k) => [n, k]));
const pairs = readFileSync(join(run, 'pairs.txt'), 'utf8').split('\n').filter(Boolean).map((l) => { const [a, b] = l.split(' ').map((n) => index.get(n)); return a < b ? [a, b] : [b, a]; });
const listed = new Set(pairs.map(([i, j]) => `${i},${j}`));
const loops = C.loopCandidates(sets.length).filter(([i, j]) => !listed.has(`${i},${j}`));
const common = { keepGraph: false, keepMatches: true, threads: 2, exact: true, fThresholdPx: 4 };
let r1 = await G.matchPairs(sets, pairs, common);
let t4 = t(); console.log('match listed', pairs.length, (t4 - t3).toFixed(2), 'per pair', ((t4 - t3) / pairs.length).toFixed(4));
let r2 = await G.matchPairs(sets, loops, { ...common, minMatches: 15 });
let t5 = t(); console.log('match loops', loops.length, (t5 - t4).toFixed(2), 'per pair', ((t5 - t4) / loops.length).toFixed(4), 'verified', r2.pairs.filter((p) => p.verified).length, 'under15', r2.pairs.filter((p) => p.matches < 15).length);
// matching only (no RANSAC): minMatches huge
let r3 = await G.matchPairs(sets, loops, { ...common, minMatches: 1000000 });
let t6 = t(); console.log('match loops no ransac', (t6 - t5).toFixed(2), 'per pair', ((t6 - t5) / loops.length).toFixed(4));
let r4 = await G.matchPairs(sets, loops, { ...common, minMatches: 1000000, threads: 1 });
let t7 = t(); console.log('match loops no ransac 1 thread', (t7 - t6).toFixed(2));
