/**
 * Camera motion from tracked features (issue 11): the measure must see an orbit, a dolly and
 * depth where a global image shift reads about zero, and must read a true freeze as still.
 */
import { describe, expect, test } from 'vitest';

import { measureFrames } from '../src/core/metrics.js';
import { findCandidates, selectFrames } from '../src/select/index.js';
import * as S from './helpers/synthetic-images.js';
import { blackRows, stationaryRows, synthetic } from './helpers/select-fixtures.js';

const W = 640;
const H = 360;
const scene = S.valueNoise(1100, 700, 31);
const background = S.valueNoise(1100, 700, 57);

/** A view of `scene` moved by (dx, dy) and scaled by `zoom` about its centre. */
function view(dx: number, dy: number, zoom = 1): S.GrayImage {
  return S.fromFunction(W, H, (x, y) => S.sampleBilinear(scene, 230 + dx + (x - W / 2) / zoom + W / 2, 170 + dy + (y - H / 2) / zoom + H / 2));
}

/**
 * An orbit around what the camera keeps in view: the object in the middle (most of the frame)
 * stays put, the background around it sweeps by `sweep` px per frame.
 */
function orbit(frame: number, sweep: number): S.GrayImage {
  return S.fromFunction(W, H, (x, y) => {
    const inObject = Math.abs(x - W / 2) < 0.36 * W && Math.abs(y - H / 2) < 0.38 * H;
    return inObject ? S.sampleBilinear(scene, 230 + x, 170 + y) : S.sampleBilinear(background, 200 + x + frame * sweep, 150 + y);
  });
}

const motionFields = ['phaseCorrelation', 'cameraMotion'] as const;

describe('camera motion (sparse feature displacement and parallax)', () => {
  test('a translation reads as its magnitude, with no parallax', async () => {
    const steps = [0, 1.5, 4, 9];
    const m = await measureFrames([view(0, 0), ...steps.map((d) => view(d, d / 2))], { metrics: [...motionFields], threads: 1 });
    // row k + 1 moved by steps[k] from row k's position: pairs measure the difference
    const positions = [0, ...steps];
    for (let k = 2; k < positions.length; k++) {
      const d = positions[k]! - positions[k - 1]!;
      const expected = Math.hypot(d, d / 2);
      expect(Math.abs(m.motionMedianPx![k]! - expected), `median at step ${d}`).toBeLessThan(0.15);
      expect(m.parallaxPx![k]!, `parallax at step ${d}`).toBeLessThan(0.2);
      expect(m.motionTracked![k]!).toBeGreaterThan(0.8);
    }
    expect(m.motionMedianPx![0]).toBeNaN(); // no previous frame
  });

  test('an orbit and a dolly move the features while the global shift stays near zero', async () => {
    const orbitM = await measureFrames([orbit(0, 2), orbit(1, 2), orbit(2, 2)], { metrics: [...motionFields], threads: 1 });
    for (const k of [1, 2]) {
      expect(Math.hypot(orbitM.shiftX![k]!, orbitM.shiftY![k]!), 'global shift of the orbit').toBeLessThan(0.3);
      expect(orbitM.motionP90Px![k]!, 'background features move').toBeGreaterThan(1.5);
      expect(orbitM.parallaxPx![k]!, 'no homography explains both layers').toBeGreaterThan(1);
    }
    const dolly = await measureFrames([view(0, 0, 1), view(0, 0, 1.01), view(0, 0, 1.02)], { metrics: [...motionFields], threads: 1 });
    for (const k of [1, 2]) {
      expect(Math.hypot(dolly.shiftX![k]!, dolly.shiftY![k]!), 'global shift of the dolly').toBeLessThan(0.3);
      expect(dolly.motionMedianPx![k]!, 'features spread out').toBeGreaterThan(1);
      expect(dolly.motionP90Px![k]!).toBeGreaterThan(dolly.motionMedianPx![k]!);
    }
  });

  test('grows with the motion, and a freeze reads as tracking noise', async () => {
    const sweeps = [0.5, 1, 2, 4];
    const p90: number[] = [];
    for (const sweep of sweeps) {
      const m = await measureFrames([orbit(0, sweep), orbit(1, sweep)], { metrics: ['cameraMotion'], threads: 1 });
      p90.push(m.motionP90Px![1]!);
    }
    for (let k = 1; k < p90.length; k++) expect(p90[k]!, `p90 at sweep ${sweeps[k]}`).toBeGreaterThan(p90[k - 1]!);
    const still = view(3, 2);
    const frozen = await measureFrames([S.addNoise(still, 2, 1), S.addNoise(still, 2, 2), S.addNoise(still, 2, 3)], { metrics: ['cameraMotion'], threads: 1 });
    for (const k of [1, 2]) {
      expect(frozen.motionP90Px![k]!, 'p90 of a freeze').toBeLessThan(0.25);
      expect(frozen.motionMedianPx![k]!, 'median of a freeze').toBeLessThan(0.1);
    }
  });

  test('a plain view gives unknown motion, not zero', async () => {
    const m = await measureFrames([S.flat(W, H, 120), S.flat(W, H, 121)], { metrics: ['cameraMotion'], threads: 1 });
    expect(m.motionMedianPx![1]).toBeNaN();
    expect(m.motionTracked![1]).toBe(0);
  });
});

describe('selection on slow camera motion', () => {
  test('a slow orbit (sub-pixel motion, one hash) keeps its frames; a true freeze is rejected', async () => {
    // 20 s at 25 fps, 0.4 px per frame: a drone circling a building. The old rule took every
    // row under 0.0015 of the view (0.96 px) with a similar hash as standing still.
    const s = synthetic(500, { seed: 5, motionPx: 0.4, fps: 25 });
    for (let i = 0; i < 500; i++) {
      s.table.hashHi[i] = 0x12345678;
      s.table.hashLo[i] = 0x9abcdef0;
    }
    const orbit = await selectFrames(s.table, { count: 40 });
    expect(orbit.picks.length).toBe(40);
    expect(orbit.rejectedByReason.duplicate).toBe(0);
    expect(orbit.warnings.filter((w) => w.includes('usable'))).toEqual([]);

    stationaryRows(s, 200, 260); // 2.4 s standing still
    const frozen = findCandidates(s.table, { count: 40 });
    const still = Array.from({ length: 61 }, (_, k) => 199 + k).filter((r) => frozen.defects.reject[r] === 6);
    expect(still.length).toBe(60); // every row but one representative
  });

  test('a collapse to a few usable frames for one reason is reported with its numbers', async () => {
    const s = synthetic(300, { seed: 8, fps: 25 });
    stationaryRows(s, 3, 298); // leaves 3 + 2 moving rows and one representative
    const sel = await selectFrames(s.table, { count: 10 });
    const warning = sel.warnings.find((w) => w.startsWith('Only '));
    expect(warning).toMatch(/^Only \d+ of 300 analysed frames \([\d.]+%\) are usable; \d+ were rejected as duplicate/);
    const shortfall = sel.warnings.find((w) => w.startsWith('Selected '));
    expect(shortfall).toMatch(/Selected \d of the 10 frames asked for: \d+ of 300 analysed frames are usable \(rejected duplicate \d+/);
  });
});

describe('low frame rates', () => {
  test('at 10 fps a defect run still loses three rows on each side to its guard band', () => {
    const s = synthetic(140, { seed: 3, fps: 10 });
    blackRows(s, 60, 70);
    const stage = findCandidates(s.table, { count: 14 });
    const reject = stage.defects.reject;
    // 0.15 s is a single row at 10 fps: rows 57-59 and 70-72 go with the run, 56 and 73 stay.
    for (const r of [57, 58, 59, 70, 71, 72]) expect(reject[r], `row ${r}`).not.toBe(0);
    for (const r of [56, 73]) expect(reject[r], `row ${r}`).toBe(0);
  });

  test('rows as sparse as fast mode samples get no minimum guard rows', async () => {
    const { guardDefectRuns, REJECT } = await import('../src/select/defects.js');
    const { table } = synthetic(60, { seed: 3, fps: 2 }); // one row every 0.5 s
    const reject = new Uint8Array(60);
    for (let r = 30; r < 35; r++) reject[r] = REJECT.blur;
    guardDefectRuns(table, reject, 3, 0.15);
    expect(reject[29]).toBe(0);
    expect(reject[35]).toBe(0);
  });

  test('the guard band starts beyond the cut rows of a swing into a defect', async () => {
    const { guardDefectRuns, REJECT } = await import('../src/select/defects.js');
    const { table } = synthetic(100, { seed: 3, fps: 10 });
    const reject = new Uint8Array(100);
    for (let r = 50; r < 60; r++) reject[r] = REJECT.textureless; // the plain wall
    for (const r of [47, 48, 49, 60, 61]) reject[r] = REJECT.cut; // the swing in and out
    guardDefectRuns(table, reject, 3, 0.15);
    // Three rows past the cut rows on each side; before, the guard stopped at the cut rows and 46, 62 stayed.
    for (const r of [44, 45, 46, 62, 63, 64]) expect(reject[r], `row ${r}`).toBe(REJECT.textureless);
    for (const r of [43, 65]) expect(reject[r], `row ${r}`).toBe(0);
    for (const r of [47, 61]) expect(reject[r], `row ${r}`).toBe(REJECT.cut);
  });
});
