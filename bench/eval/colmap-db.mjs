#!/usr/bin/env node
// colmap-db.mjs RUN_DIR OUT_DIR [--features N] [--matcher exact|flann] [--f-threshold PX] [--loop-min N] [--contrast T]: the colmap stage alone on a
// finished extract's written picks (RUN_DIR/images, RUN_DIR/pairs.txt), with SIFT found again on
// every written image: a database for the same picks as a COLMAP reference of RUN_DIR/images,
// without picking again (framesift's picks can differ from run to run on a loaded machine).
// Prints the stage's summary (JSON). Needs `npm run build`.
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeColmapExport } from '../../dist/src/pipeline/stages/colmap.js';

const [run, out, ...rest] = process.argv.slice(2);
if (!run || !out) throw new Error('usage: colmap-db.mjs RUN_DIR OUT_DIR [--features N] [--matcher exact|flann]');
const flag = (name, fallback) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : fallback);
const imagesDir = join(run, 'images');
const names = readdirSync(imagesDir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
const index = new Map(names.map((n, k) => [n, k]));
const pairs = readFileSync(join(run, 'pairs.txt'), 'utf8').split('\n').filter(Boolean).map((line) => {
  const [a, b] = line.split(' ').map((n) => index.get(n));
  return a < b ? [a, b] : [b, a];
});
mkdirSync(out, { recursive: true });
const result = await writeColmapExport({
  outDir: out,
  imagesDir,
  images: names.map((name) => ({ name, features: undefined })),
  pairs,
  matched: new Map(),
  source: 'full',
  maxFeatures: 2000,
  ...(rest.includes('--features') ? { fullFeatures: Number(flag('--features')) } : {}),
  matcher: flag('--matcher', 'exact'),
  threads: 2,
  ...(rest.includes('--f-threshold') ? { fThresholdPx: Number(flag('--f-threshold')) } : {}),
  ...(rest.includes('--contrast') ? { contrastThreshold: Number(flag('--contrast')) } : {}),
  ...(rest.includes('--shifted') ? { unshift: false } : {}),
  ...(rest.includes('--loop-min') ? { loopMinMatches: Number(flag('--loop-min')) } : {}),
});
console.log(JSON.stringify(result));
