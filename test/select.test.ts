import { describe, expect, it } from 'vitest';
import {
  createFrameTable,
  ensureConnectivity,
  fateLabel,
  findCandidates,
  optimiseChain,
  partitionSlots,
  removeRedundant,
  resolveSelectOptions,
  selectFrames,
  validateWeights,
  scoreRow,
  MODEL_WEIGHTS,
  type ChainProblem,
  type FrameTable,
} from '../src/select/index.js';
import { isFramesiftError } from '../src/errors.js';
import {
  blackRows,
  blurRows,
  cutAt,
  mockVerifier,
  rowsOf,
  stationaryRows,
  synthetic,
  texturelessRows,
  type Synthetic,
} from './helpers/select-fixtures.js';

const inRange = (rows: number[], from: number, to: number) => rows.filter((r) => r >= from && r < to);

/** 40 s at 30 fps with every kind of defect at known rows. */
function defectVideo(): { s: Synthetic; blurred: number[] } {
  const s = synthetic(1200, { seed: 7 });
  const blurred: number[] = [];
  for (let start = 20; start < 1200; start += 45) {
    for (let i = start; i < Math.min(1200, start + 4); i++) blurred.push(i);
    blurRows(s, start, Math.min(1200, start + 4));
  }
  blackRows(s, 300, 360);
  stationaryRows(s, 500, 590);
  texturelessRows(s, 700, 760);
  cutAt(s, 900);
  return { s, blurred };
}

describe('defect rejection', () => {
  it('never chooses blurred, black, textureless or cut frames, and at most one stationary frame', async () => {
    const { s, blurred } = defectVideo();
    for (const count of [20, 40]) {
      const sel = await selectFrames(s.table, { count }, mockVerifier(s));
      const rows = rowsOf(sel.picks);
      expect(rows.filter((r) => blurred.includes(r))).toEqual([]);
      expect(inRange(rows, 300, 360)).toEqual([]);
      expect(inRange(rows, 700, 760)).toEqual([]);
      expect(rows).not.toContain(900);
      expect(inRange(rows, 500, 590).length).toBeLessThanOrEqual(1);
      expect(rows.length).toBe(count);
    }
  });

  it('labels each defect with its reason', async () => {
    const { s, blurred } = defectVideo();
    const sel = await selectFrames(s.table, { count: 30 });
    const label = (r: number) => fateLabel(sel.fate[r]);
    const blurOutsideBlack = blurred.filter((r) => r < 300 || r >= 360);
    expect(blurOutsideBlack.filter((r) => label(r) === 'rejected:blur').length).toBeGreaterThanOrEqual(blurOutsideBlack.length - 1);
    expect(inRange([...Array(60).keys()].map((k) => 300 + k), 0, 1e9).every((r) => label(r) === 'rejected:exposure')).toBe(true);
    const notBlurred = (from: number, to: number) => [...Array(to - from).keys()].map((k) => from + k).filter((r) => !blurred.includes(r));
    expect(notBlurred(700, 760).map(label).every((l) => l === 'rejected:textureless')).toBe(true);
    const still = notBlurred(499, 590).map(label); // 499: the frame where the camera stopped
    // rows within the guard band of a blurred run take its reason; every still row but one goes
    expect(still.filter((l) => l.startsWith('rejected:')).length).toBe(still.length - 1);
    expect(still.filter((l) => l === 'rejected:duplicate').length).toBeGreaterThan(still.length / 2);
    expect(label(900)).toBe('rejected:cut');
    expect(sel.rejectedByReason.exposure).toBeGreaterThanOrEqual(60);
    expect(sel.rejectedByReason.duplicate).toBe(still.filter((l) => l === 'rejected:duplicate').length);
    // usable frames are mostly kept: the defects, plus guard bands of up to 0.15 s on each side of a defect run
    const runs = blurred.length / 4 + 2;
    expect(sel.stats.usable).toBeGreaterThan(1200 - blurred.length - 60 - 90 - 60 - 30 - 2 * 5 * runs);
  });

  it('rejects defect ramps and their transition frames by ratio to the local level (raw detail and brightness)', async () => {
    const s = synthetic(900, { seed: 17 });
    s.table.detail = new Float32Array(900).fill(600);
    s.table.brightness = new Float32Array(900).fill(150);
    for (let i = 0; i < 900; i++) s.table.detail[i] = 600 * (1 + 0.3 * Math.sin(i / 40));
    // defocus pulse 300..320 with soft edges (detail at 45% then 8% of the level): scores untouched
    for (let i = 300; i <= 320; i++) s.table.detail[i] *= i < 304 || i > 316 ? 0.45 : 0.08;
    // exposure ramp 600..640: brightness x1.15 at the edges, x1.5 in the core
    for (let i = 600; i <= 640; i++) s.table.brightness[i] = i < 606 || i > 634 ? 172 : 225;
    const sel = await selectFrames(s.table, { count: 60 });
    const label = (r: number) => fateLabel(sel.fate[r]);
    for (let r = 300; r <= 320; r++) expect(label(r), `row ${r}`).toBe('rejected:blur');
    for (let r = 600; r <= 640; r++) expect(label(r), `row ${r}`).toBe('rejected:exposure');
    // guard band: a few transition frames on each side, not more
    expect(label(298)).toBe('rejected:blur');
    expect(label(330)).not.toMatch(/rejected/);
    expect(inRange(rowsOf(sel.picks), 296, 325)).toEqual([]);
    expect(inRange(rowsOf(sel.picks), 596, 645)).toEqual([]);
    expect(sel.picks.length).toBe(60);
    // a uniformly soft video (low detail everywhere) keeps its frames
    const soft = synthetic(600, { seed: 17 });
    soft.table.detail = new Float32Array(600).fill(12);
    soft.table.brightness = new Float32Array(600).fill(90);
    const softSel = await selectFrames(soft.table, { count: 20 });
    expect(softSel.stats.usable).toBeGreaterThan(580);
  });

  it('a plainer stretch beside a defect is not a ramp: only the guard band goes', async () => {
    const s = synthetic(900, { seed: 23 });
    // A plain stretch (detail 400) then a detailed one (1000) from row 470: the window's sharp
    // level near row 440 is the detailed stretch's. Motion blur at rows 440..449.
    s.table.detail = Float32Array.from({ length: 900 }, (_, i) => (i < 470 ? 400 : 1000) * (1 + 0.02 * Math.sin(i)));
    s.table.brightness = new Float32Array(900).fill(140);
    for (let i = 440; i < 450; i++) s.table.detail[i] = 40;
    const sel = await selectFrames(s.table, { count: 30 });
    const label = (r: number) => fateLabel(sel.fate[r]);
    for (let r = 440; r < 450; r++) expect(label(r)).toBe('rejected:blur');
    expect(label(438)).toBe('rejected:blur'); // guard band (0.15 s)
    for (let r = 420; r <= 434; r++) expect(label(r), `row ${r}`).not.toMatch(/rejected/);
  });

  it('gives exactly N at high density with long defect stretches (N = 80 in 18 s)', async () => {
    const s = synthetic(540, { seed: 19, motionPx: 3 });
    blackRows(s, 60, 100);
    stationaryRows(s, 200, 260);
    texturelessRows(s, 300, 340);
    for (let start = 20; start < 540; start += 90) blurRows(s, start, start + 10);
    const sel = await selectFrames(s.table, { count: 80 }, mockVerifier(s));
    const rows = rowsOf(sel.picks);
    expect(rows.length).toBe(80);
    expect(inRange(rows, 60, 100)).toEqual([]);
    expect(inRange(rows, 300, 340)).toEqual([]);
    expect(inRange(rows, 200, 260).length).toBeLessThanOrEqual(1);
    for (let k = 1; k < rows.length; k++) expect(sel.picks[k].ptsSec - sel.picks[k - 1].ptsSec).toBeGreaterThanOrEqual(sel.options.minSpacingSec - 1e-9);
  });

  it('keeps a uniformly soft, plain, dark video', async () => {
    const s = synthetic(900, { level: 0.18, jitter: 0.03, seed: 3 });
    for (let i = 0; i < 900; i++) s.table.exposure[i] = 0.1 + (i % 7) * 0.005;
    const sel = await selectFrames(s.table, { count: 20 });
    expect(sel.picks.length).toBe(20);
    expect(sel.stats.usable).toBeGreaterThan(850);
  });

  it('measures features on candidates only (two-stage) and still avoids the plain wall', async () => {
    const s = synthetic(900, { measured: false, seed: 11 });
    texturelessRows(s, 400, 460);
    for (let i = 400; i < 460; i++) s.table.texture[i] = 0.3; // texture alone does not tell
    const stage = findCandidates(s.table, { count: 15 });
    for (const row of stage.candidates) {
      const plain = row >= 400 && row < 460;
      s.table.features[row] = plain ? 0.02 : 0.65;
      s.table.coverage[row] = plain ? 0.05 : 0.6;
    }
    const sel = await selectFrames(s.table, { count: 15 }, undefined, stage);
    expect(inRange(rowsOf(sel.picks), 400, 460)).toEqual([]);
    expect(sel.picks.length).toBe(15);
  });
});

describe('count, max-frames, automatic', () => {
  it('keeps the candidates in proportion to the count, not to the length of the video', async () => {
    // 10x the video at the same count: about as many candidates (and SIFT descriptors in memory).
    const short = findCandidates(synthetic(1800, { seed: 4, motionPx: 12 }).table, { count: 10 });
    const longStage = findCandidates(synthetic(18000, { seed: 4, motionPx: 12 }).table, { count: 10 });
    expect(longStage.autoCount).toBeGreaterThan(10 * 2 * 3);
    expect(longStage.candidates.length).toBeLessThanOrEqual(2 * 10 * 3 + 3);
    expect(longStage.candidates.length).toBeLessThan(2 * short.candidates.length);
    const long = synthetic(18000, { seed: 4, motionPx: 12 });
    const sel = await selectFrames(long.table, { count: 10 });
    expect(sel.picks.length).toBe(10);
    // Still spread over the whole video: no gap (ends included) over 1.5 tenths of it.
    const rows = [0, ...sel.picks.map((p) => p.row).sort((a, b) => a - b), 18000];
    for (let k = 1; k < rows.length; k++) expect(rows[k] - rows[k - 1]).toBeLessThan(1.5 * 1800);
  });

  it('gives exactly N when the video allows and fewer with a warning when not', async () => {
    const s = synthetic(600, { seed: 5 });
    for (const count of [1, 7, 25, 60]) {
      const sel = await selectFrames(s.table, { count });
      expect(sel.picks.length).toBe(count);
      expect(sel.warnings.filter((w) => /Selected/.test(w))).toEqual([]);
    }
    // the default spacing scales with the count: 300 picks in 20 s is possible
    const dense = await selectFrames(s.table, { count: 300 });
    expect(dense.picks.length).toBe(300);
    expect(dense.options.minSpacingSec).toBeLessThan(0.25);
    // an explicit spacing is kept: then the video cannot give 500
    const tooMany = await selectFrames(s.table, { count: 500, minSpacingSec: 0.25 });
    expect(tooMany.picks.length).toBeLessThan(500);
    expect(tooMany.picks.length).toBeGreaterThan(50);
    expect(tooMany.warnings.some((w) => /Selected \d+ of the 500/.test(w))).toBe(true);
    for (let k = 1; k < tooMany.picks.length; k++) {
      expect(tooMany.picks[k].ptsSec - tooMany.picks[k - 1].ptsSec).toBeGreaterThanOrEqual(0.25 - 1e-9);
    }
  });

  it('derives the automatic count from motion and overlap, and caps it with maxFrames', async () => {
    const slow = synthetic(900, { motionPx: 3, seed: 2 });
    const fast = synthetic(900, { motionPx: 12, seed: 2 });
    const a = await selectFrames(slow.table, {});
    const b = await selectFrames(fast.table, {});
    expect(b.picks.length).toBeGreaterThan(1.6 * a.picks.length);
    const lessOverlap = await selectFrames(fast.table, { overlap: 0.5 });
    expect(lessOverlap.picks.length).toBeLessThan(b.picks.length);
    const capped = await selectFrames(fast.table, { maxFrames: 10 });
    expect(capped.picks.length).toBe(10);
    expect(b.stats.autoCount).toBe(b.picks.length);
  });

  it('validates options and weights with ERR_FRAMESIFT_INVALID_ARG', () => {
    const bad: unknown[] = [
      { count: 0 },
      { count: 2.5 },
      { count: 3, maxFrames: 4 },
      { mode: 'slow' },
      { overlap: 1.2 },
      { minSpacingSec: -1 },
      { weights: { sharpness: 0.5, features: 0.4 } },
      { weights: { sharpness: 1.2, features: -0.2 } },
      { weights: { sharpness: 0.5, bogus: 0.5 } },
      { weights: { sharpness: 0.5, features: Number.NaN, coverage: 0.5 } },
      { weights: { spatialComplexity: 1 } }, // model key without a model
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        resolveSelectOptions(options as never);
      } catch (err) {
        error = err;
      }
      expect(isFramesiftError(error, 'ERR_FRAMESIFT_INVALID_ARG'), JSON.stringify(options)).toBe(true);
    }
    expect(() => validateWeights({ sharpness: 0.3, features: 0.3, coverage: 0.2, texture: 0.1, exposure: 0.1 }, 'classical')).not.toThrow();
    expect(() => validateWeights({ sharpness: 0.3, features: 0.3, coverage: 0.2, texture: 0.1, exposure: 0.1 + 5e-7 }, 'classical')).not.toThrow();
    expect(validateWeights(undefined, 'model')).toEqual({ spatialComplexity: 0.35, semanticRichness: 0.25, geometric: 0.25, texture: 0.15 });
    expect(() => validateWeights({ spatialComplexity: 0.5, semanticRichness: 0.5 }, 'model')).not.toThrow();
    expect(() => resolveSelectOptions({ weights: { texture: 1 } }, true)).not.toThrow();
    expect(/Expected weights summing to 1 for options.weights/.test(catchMessage(() => resolveSelectOptions({ weights: { sharpness: 0.5 } })))).toBe(true);
  });

  it('rejects malformed tables with ERR_FRAMESIFT_INVALID_ARG', async () => {
    const t = createFrameTable(10);
    for (let i = 0; i < 10; i++) t.index[i] = i;
    const broken = { ...t, sharpness: new Float32Array(3) } as FrameTable;
    await expect(selectFrames(broken)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
    const unordered = { ...t, index: Uint32Array.from([0, 1, 2, 2, 4, 5, 6, 7, 8, 9]) } as FrameTable;
    await expect(selectFrames(unordered)).rejects.toMatchObject({ code: 'ERR_FRAMESIFT_INVALID_ARG' });
  });

  it('returns no picks and a warning when nothing is usable', async () => {
    const s = synthetic(300, { seed: 1 });
    for (let i = 0; i < 300; i++) s.table.sharpness[i] = NaN;
    const sel = await selectFrames(s.table, { count: 5 });
    expect(sel.picks).toEqual([]);
    expect(sel.warnings.some((w) => /No usable frame/.test(w))).toBe(true);
    expect(sel.rejectedByReason.invalid).toBe(300);
  });
});

function catchMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('score and modes', () => {
  it('uses the model weights with DINO statistics and the classical ones without', () => {
    const t = createFrameTable(2, 640, true);
    for (const col of [t.sharpness, t.blur, t.exposure, t.noise, t.texture, t.features, t.coverage, t.spatialComplexity!, t.semanticRichness!]) col.fill(1);
    t.semanticRichness![1] = 0;
    const w = resolveSelectOptions({}, true).weights;
    expect(w).toEqual(MODEL_WEIGHTS);
    expect(scoreRow(t, 0, w).score).toBeCloseTo(1, 6);
    expect(scoreRow(t, 1, w).score).toBeCloseTo(0.75, 6);
    t.coverage[1] = NaN; // geometric = features alone
    t.features[1] = 0.5;
    expect(scoreRow(t, 1, w).base).toBeCloseTo(0.35 + 0.25 * 0.5 + 0.15, 6);
    expect(() => resolveSelectOptions({ weights: { sharpness: 1 } }, true)).toThrow(/one of the model weight keys/);
  });

  it('gates the score: a noisy or dark frame loses to a clean one, monotonically', () => {
    const t = createFrameTable(6);
    for (const col of [t.sharpness, t.blur, t.exposure, t.noise, t.texture]) col.fill(0.9);
    const w = resolveSelectOptions({}).weights;
    const scores = [0.9, 0.5, 0.4, 0.3, 0.2, 0.05].map((noise, i) => {
      t.noise[i] = noise;
      return scoreRow(t, i, w).score;
    });
    expect(scores[0]).toBeCloseTo(scores[1], 9); // above the knee: no penalty
    for (let i = 2; i < 6; i++) expect(scores[i]).toBeLessThan(scores[i - 1]);
  });

  it('uses noisy stretches only where coverage needs them', async () => {
    const s = synthetic(900, { seed: 13 });
    for (let i = 0; i < 900; i++) if (Math.floor(i / 10) % 2 === 1) s.table.noise[i] = 0.1;
    const sel = await selectFrames(s.table, { count: 20 });
    const noisy = sel.picks.filter((p) => Math.floor(p.row / 10) % 2 === 1);
    expect(noisy.length).toBeLessThanOrEqual(1);
    const allNoisy = synthetic(300, { seed: 13 });
    for (let i = 100; i < 200; i++) allNoisy.table.noise[i] = 0.1;
    const cov = await selectFrames(allNoisy.table, { count: 9 });
    expect(inRange(rowsOf(cov.picks), 100, 200).length).toBeGreaterThanOrEqual(2);
  });

  it('modes change the number of candidates, not the count honoured', async () => {
    const s = synthetic(900, { seed: 6 });
    const n: number[] = [];
    for (const mode of ['fast', 'balanced', 'high_quality'] as const) {
      const sel = await selectFrames(s.table, { count: 12, mode }, mockVerifier(s));
      expect(sel.picks.length).toBe(12);
      n.push(sel.stats.candidates);
    }
    expect(n[0]).toBeLessThan(n[1]);
    expect(n[1]).toBeLessThan(n[2]);
  });
});

describe('optimiser', () => {
  function problem(cands: { t: number; s: number }[]): ChainProblem {
    const m = cands.length;
    const p: ChainProblem = {
      progress: Float64Array.from(cands, (c) => c.t),
      timeSec: Float64Array.from(cands, (c) => c.t),
      activeSec: Float64Array.from(cands, (c) => c.t),
      cumMotion: new Float64Array(m),
      score: Float64Array.from(cands, (c) => c.s),
    };
    return p;
  }
  const constraints = { minSpacingSec: 0.5, maxGapSec: 100, maxGapMotion: 100, spacingWeight: 0, from: 0, to: 3 };

  /** Best per slot in time order, skipping candidates too close to the previous pick. */
  function greedy(p: ChainProblem, slots: Int32Array): number {
    let total = 0;
    let last = -Infinity;
    for (let k = 0; k + 1 < slots.length; k++) {
      const order = [];
      for (let j = slots[k]; j < slots[k + 1]; j++) order.push(j);
      order.sort((a, b) => p.score[b] - p.score[a]);
      const pick = order.find((j) => p.timeSec[j] - last >= constraints.minSpacingSec);
      if (pick === undefined) return -Infinity;
      total += p.score[pick];
      last = p.timeSec[pick];
    }
    return total;
  }

  it('beats greedy where the best of one stretch blocks the best of the next', () => {
    const p = problem([
      { t: 0.1, s: 0.6 },
      { t: 0.9, s: 0.62 },
      { t: 1.1, s: 1.0 },
      { t: 1.8, s: 0.3 },
      { t: 2.2, s: 0.7 },
      { t: 2.9, s: 0.5 },
    ]);
    const slots = partitionSlots(p.progress, 0, 3, 3);
    expect(Array.from(slots)).toEqual([0, 2, 4, 6]);
    const dp = optimiseChain(p, slots, constraints);
    expect(greedy(p, slots)).toBeCloseTo(0.62 + 0.3 + 0.5, 6);
    expect(dp.objective).toBeCloseTo(0.6 + 1.0 + 0.7, 6);
    expect(Array.from(dp.chosen)).toEqual([0, 2, 4]);
    // exhaustive check: DP is optimal over one-per-slot choices respecting the spacing
    let best = -Infinity;
    for (const a of [0, 1]) for (const b of [2, 3]) for (const c of [4, 5]) {
      const ok = p.timeSec[b] - p.timeSec[a] >= 0.5 && p.timeSec[c] - p.timeSec[b] >= 0.5;
      if (ok) best = Math.max(best, p.score[a] + p.score[b] + p.score[c]);
    }
    expect(dp.objective).toBeCloseTo(best, 9);
  });

  it('partitions into exactly N non-empty slots even with empty stretches', () => {
    const progress = Float64Array.from([0.1, 0.2, 0.3, 5.1, 5.2, 9.9]);
    for (let n = 1; n <= 6; n++) {
      const b = partitionSlots(progress, 0, 10, n);
      expect(b.length).toBe(n + 1);
      for (let k = 0; k < n; k++) expect(b[k + 1]).toBeGreaterThan(b[k]);
    }
  });

  it('keeps picks in a long mediocre stretch next to a high-scoring one, within the max gap', async () => {
    const s = synthetic(1800, { seed: 9, motionPx: 3 }); // 60 s, 8.4 views
    for (let i = 0; i < 900; i++) {
      s.table.sharpness[i] = 0.45 + (i % 5) * 0.01;
      s.table.features[i] = 0.3;
      s.table.coverage[i] = 0.3;
      s.table.texture[i] = 0.35;
    }
    for (let i = 900; i < 1800; i++) {
      s.table.sharpness[i] = 0.95;
      s.table.features[i] = 0.95;
      s.table.coverage[i] = 0.9;
    }
    const sel = await selectFrames(s.table, { count: 24, maxGapSec: 4 });
    const rows = rowsOf(sel.picks);
    expect(sel.picks.length).toBe(24);
    expect(inRange(rows, 0, 900).length).toBeGreaterThanOrEqual(10);
    const pts = sel.picks.map((p) => p.ptsSec);
    for (let k = 1; k < pts.length; k++) expect(pts[k] - pts[k - 1]).toBeLessThanOrEqual(4);
    expect(pts[0]).toBeLessThan(4);
    expect(60 - pts[pts.length - 1]).toBeLessThan(4);
    const motion = rows.map((r) => s.pos[r]);
    for (let k = 1; k < motion.length; k++) expect(motion[k] - motion[k - 1]).toBeLessThanOrEqual(sel.options.maxGapMotion);
    expect(sel.picks.some((p) => p.reasons.includes('best_in_slot'))).toBe(true);
  });
});

describe('redundancy', () => {
  it('drops a pick with the same embedding as its neighbour and fills the widest gap', () => {
    const s = synthetic(600, { seed: 4 });
    const emb = new Map<number, Float32Array>();
    const candidates = Int32Array.from([30, 100, 150, 160, 250, 330, 420, 480, 560]);
    for (const r of candidates) emb.set(r, Float32Array.from({ length: 8 }, (_, k) => Math.sin(r * 0.37 + k * 1.7)));
    emb.set(160, emb.get(150)!.slice());
    s.table.embedding = emb;
    const { progress, cumMotion } = findCandidates(s.table, {}).timeline;
    const ctx = { table: s.table, cumMotion, progress, overlapStep: 0.3, cosineThreshold: 0.98, minSpacingSec: 0.25, scoreOf: (r: number) => (r === 160 ? 0.9 : 0.5) };
    const res = removeRedundant(ctx, [30, 150, 160, 250, 560], candidates);
    expect(res.removed).toEqual([150]);
    expect(res.added.length).toBe(1);
    expect(res.added[0]).toBeGreaterThan(250);
    expect(res.added[0]).toBeLessThan(560);
    expect(res.picks).toEqual([30, 160, 250, res.added[0], 560]);
  });

  it('without embeddings, uses motion and hash: a still pair is redundant, a moving one is not', () => {
    const s = synthetic(600, { seed: 4 });
    stationaryRows(s, 200, 260);
    const { progress, cumMotion } = findCandidates(s.table, {}).timeline;
    const ctx = { table: s.table, cumMotion, progress, overlapStep: 0.3, cosineThreshold: 0.98, minSpacingSec: 0.25, scoreOf: () => 0.5 };
    const still = removeRedundant(ctx, [100, 210, 250, 400], Int32Array.from([100, 210, 250, 400, 500]));
    expect(still.removed).toEqual([250]);
    const moving = removeRedundant(ctx, [100, 150, 300, 400], Int32Array.from([100, 150, 300, 400]));
    expect(moving.removed).toEqual([]);
  });
});

describe('connectivity', () => {
  const base = (s: Synthetic, maxPicks?: number) => {
    const stage = findCandidates(s.table, {});
    return {
      stage,
      ctx: {
        table: s.table,
        verifier: mockVerifier(s),
        minInliers: 60,
        minParallaxPx: 2,
        tries: 3,
        budget: 100,
        maxPicks,
        minSpacingSec: 0.25,
        progress: stage.timeline.progress,
        scoreOf: () => 0.5,
      },
    };
  };

  it('inserts a verified bridge where a link is weak', async () => {
    const s = synthetic(900, { seed: 8 });
    const { stage, ctx } = base(s);
    // rows 100 -> 220: about 1.1 views apart: 0 inliers in the mock; one bridge halves it
    const picks = [20, 100, 220, 260];
    const res = await ensureConnectivity(ctx, picks, stage.candidates);
    expect(res.bridged.length).toBeGreaterThanOrEqual(1);
    expect(res.sequences.length).toBe(1);
    expect(res.links.every((l) => l.status === 'ok' || l.status === 'bridged')).toBe(true);
    for (const l of res.links) expect(l.inliers).toBeGreaterThanOrEqual(60);
    expect(res.calls).toBeLessThanOrEqual(100);
  });

  it('chains bridges across a gap too wide for one', async () => {
    const s = synthetic(900, { seed: 8 });
    const { stage, ctx } = base(s);
    // rows 100 -> 300: about 1.9 views: one bridge leaves ~0.95-view halves (0 inliers)
    const res = await ensureConnectivity(ctx, [20, 100, 300, 340], stage.candidates);
    expect(res.bridged.length).toBeGreaterThanOrEqual(2);
    expect(res.sequences.length).toBe(1);
    for (const l of res.links) expect(l.inliers).toBeGreaterThanOrEqual(60);
  });

  it('keeps the count when bounded, by moving or trading a pick', async () => {
    const s = synthetic(900, { seed: 8 });
    const { stage, ctx } = base(s, 6);
    const picks = [20, 60, 100, 140, 200, 280];
    const res = await ensureConnectivity(ctx, picks, stage.candidates);
    expect(res.picks.length).toBeLessThanOrEqual(6);
    expect(res.links.filter((l) => l.status === 'broken')).toEqual([]);
  });

  it('reports separate sequences at an unfixable cut, through selectFrames', async () => {
    const s = synthetic(900, { seed: 12 });
    cutAt(s, 450);
    const calls = { n: 0 };
    const sel = await selectFrames(s.table, { count: 20 }, mockVerifier(s, calls));
    expect(sel.sequences.length).toBe(2);
    expect(sel.links.filter((l) => l.status === 'broken').length).toBe(1);
    const broken = sel.links.find((l) => l.status === 'broken')!;
    expect(broken.fromFrame).toBeLessThan(450);
    expect(broken.toFrame).toBeGreaterThan(450);
    expect(sel.picks.every((p) => p.sequence === (p.frameIndex < 450 ? 0 : 1))).toBe(true);
    expect(sel.sequences[0].picks + sel.sequences[1].picks).toBe(20);
    expect(calls.n).toBe(sel.stats.verifierCalls);
    expect(calls.n).toBeLessThanOrEqual(4 * 20 + 16);
  });
});

describe('scale', () => {
  it('selects from 200,000 frames well under the bound', async () => {
    const s = synthetic(200_000, { seed: 21, motionPx: 4 });
    for (let start = 500; start < 200_000; start += 3000) blurRows(s, start, start + 20);
    // CPU time of this process, not wall time: on a shared machine other processes stretch the
    // wall clock (12.9 s of wall against 4 s at load 28), not the work done here.
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const t0 = cpuMs();
    const auto = await selectFrames(s.table, {});
    const t1 = cpuMs();
    const counted = await selectFrames(s.table, { count: 80 }, mockVerifier(s));
    const t2 = cpuMs();
    expect(auto.picks.length).toBe(auto.stats.autoCount);
    expect(auto.picks.length).toBeGreaterThan(1000);
    expect(counted.picks.length).toBe(80);
    console.log(`200k rows: auto ${(t1 - t0).toFixed(0)} ms CPU (${auto.picks.length} picks), count 80 ${(t2 - t1).toFixed(0)} ms CPU`);
    expect(t1 - t0).toBeLessThan(4000);
    expect(t2 - t1).toBeLessThan(4000);
  });
});

describe('candidates', () => {
  it('offers each stretch its sharpest frames, not a fixed lattice, when bins are shorter than the spacing', async () => {
    const { chooseCandidates, segmentTimeline } = await import('../src/select/index.js');
    // 10 fps, 60 rows, segments of 6 rows with 3 bins each (2 rows): shorter than a 0.25 s spacing.
    const n = 60;
    const pts = Float64Array.from({ length: n }, (_, i) => i / 10);
    const progress = Float64Array.from({ length: n }, (_, i) => i / 6);
    const seg = segmentTimeline(progress, new Uint8Array(n), 1, n);
    const sharp = new Set([4, 11, 25, 38, 52]); // never on the every-third-frame lattice from row 0
    const quality = (row: number) => (sharp.has(row) ? 10 : 1 + (row % 7) * 0.01);
    const rows = Array.from(chooseCandidates(seg, new Uint8Array(n), quality, 3, pts, 0.25));
    for (const row of sharp) expect(rows).toContain(row);
    for (let k = 1; k < rows.length; k++) expect(pts[rows[k]] - pts[rows[k - 1]]).toBeGreaterThanOrEqual(0.25 - 1e-9);
    // Still spread: every segment offers at least one candidate.
    for (let s = 0; s < seg.count; s++) expect(rows.some((r) => r >= seg.start[s] && r < seg.end[s])).toBe(true);
    // And about as many as the lattice (one per 0.3 s): the empty bins were filled in a second round.
    expect(rows.length).toBeGreaterThanOrEqual(15);
  });
});
