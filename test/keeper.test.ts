/**
 * The one-pass keeper's window rule (src/pipeline/single-pass.ts), replayed over real pass-1
 * columns: fast mode's candidates are its kept frames, so frames a window keeps must be the
 * selection's minimum spacing apart, or the count cannot be met (bench60 N = 40 chose 33).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { silentLogger } from '../src/log.js';
import { CandidateImages } from '../src/pipeline/candidate-images.js';
import { Descriptions } from '../src/pipeline/descriptions.js';
import { RowQuality } from '../src/pipeline/frame-table.js';
import { resolveExtractOptions } from '../src/pipeline/options.js';
import { ProgressReporter } from '../src/pipeline/progress.js';
import { replayKeeper, type KeepPlan } from '../src/pipeline/single-pass.js';
import { measureVideo } from '../src/pipeline/stages/measure.js';
import { fixtures } from './helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'framesift-keeper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keep windows with a minimum spacing', () => {
  it('keep their frames the minimum spacing apart first, best first', async () => {
    const options = resolveExtractOptions({ outDir: join(dir, 'fast'), count: 4, twoPass: true });
    const descriptions = new Descriptions({ detector: 'sift', maxFeatures: 10, threads: 1, embedder: undefined, images: new CandidateImages(dir, 'jpg', 90) });
    const measured = await measureVideo(fixtures.cfr(), options, new ProgressReporter(), silentLogger, descriptions);
    const cols = measured.columns;
    const longest = Math.max(measured.analysisWidth, measured.analysisHeight);
    const spacing = 0.25;
    const plan: KeepPlan = { decode: {}, windowSec: 1, keepPerWindow: 3, maxHeld: 1000, expectedFrames: cols.length, minKeptSpacingSec: spacing };
    const kept = [...(await replayKeeper(plan, cols, longest))].sort((a, b) => a - b);
    // Per 1 s window (30 frames): best first, each at least `spacing` from those taken and from
    // the previous window's last kept frame.
    const quality = new RowQuality(longest);
    const expected: number[] = [];
    let closeTopPicks = 0;
    for (let start = 0; start < cols.length; start += 30) {
      const rows = Array.from({ length: Math.min(30, cols.length - start) }, (_, k) => start + k).sort((a, b) => quality.of(cols, b) - quality.of(cols, a) || a - b);
      const top = rows.slice(0, 3).sort((a, b) => a - b);
      if (top.some((r, k) => k > 0 && cols.ptsSec[r]! - cols.ptsSec[top[k - 1]!]! < spacing)) closeTopPicks++;
      const taken: number[] = [];
      const last = expected.at(-1);
      for (const r of rows) {
        if (taken.length === 3) break;
        const far = (o: number) => Math.abs(cols.ptsSec[r]! - cols.ptsSec[o]!) >= spacing;
        if ((last === undefined || far(last)) && taken.every(far)) taken.push(r);
      }
      expected.push(...taken.sort((a, b) => a - b));
    }
    // The rule matters on this clip: some window's three best frames lie closer than the spacing.
    expect(closeTopPicks).toBeGreaterThan(0);
    expect(kept).toEqual(expected);
    for (let k = 1; k < kept.length; k++) expect(cols.ptsSec[kept[k]!]! - cols.ptsSec[kept[k - 1]!]!).toBeGreaterThanOrEqual(spacing);
  });
});
