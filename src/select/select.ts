/**
 * The selection stage: defects -> motion timeline and segments -> candidates -> scores ->
 * DP over slots -> redundancy -> SfM connectivity. Two entry points so the pipeline can measure
 * the expensive metrics (SIFT features, DINO) on the candidates only:
 *   const stage = findCandidates(table, options);       // cheap metrics only
 *   ... fill table.features/coverage/DINO for stage.candidates ...
 *   const selection = await selectFrames(table, options, verifier, stage);
 */
import { FramesiftError } from '../errors.js';
import { detectDefects, REJECT, REJECT_REASONS, DEFECT_THRESHOLDS, type DefectResult } from './defects.js';
import { buildTimeline, type Timeline } from './motion.js';
import { resolveSelectOptions, tableHasModel, verifierBudget } from './options.js';
import { planPicks, type ChainProblem } from './optimise.js';
import { removeRedundant, REDUNDANT_MOTION_STEPS } from './redundancy.js';
import { cheapQuality, relativeQuality, scoreRow, type RowScore } from './score.js';
import { chooseCandidates, countUsableSegments, segmentTimeline, type Segmentation } from './segments.js';
import { ensureConnectivity } from './connectivity.js';
import { globalRobust, medianStepSec } from './stats.js';
import { validateFrameTable } from './table.js';
import {
  FATE_CANDIDATE,
  FATE_CHOSEN,
  FATE_REJECTED_BASE,
  FATE_USABLE,
  type FramePick,
  type FrameTable,
  type LinkReport,
  type PairVerifier,
  type PickReason,
  type RejectReason,
  type ResolvedSelectOptions,
  type SelectOptions,
  type Selection,
  type SequenceReport,
} from './types.js';

/** Default minimum spacing: at most this share of the usable time per target pick (and at most the 0.25 s default). */
const SPACING_SHARE = 0.5;
/** Segments (of candidatesPerSegment candidates each) per target pick. */
const SEGMENTS_PER_PICK = 2;

export interface CandidateStage {
  options: ResolvedSelectOptions;
  defects: DefectResult;
  timeline: Timeline;
  /** Segments the candidates were chosen from. */
  segments: Segmentation;
  /** Candidate rows, increasing. */
  candidates: Int32Array;
  targetCount: number;
  autoCount: number;
}

/**
 * Stage 1 (cheap metrics only): defects, motion timeline, segments, candidates, target count.
 * `eligible` (optional, per row): the rows already described (fast mode's single pass); the
 * usable ones among them are the candidates, the others still count for defects and coverage.
 */
export function findCandidates(table: FrameTable, options: SelectOptions = {}, eligible?: Uint8Array): CandidateStage {
  validateFrameTable(table);
  const opts = resolveSelectOptions(options, tableHasModel(table));
  const n = table.length;
  const defects = detectDefects(table, opts);
  const timeline = buildTimeline(table, defects.motion, defects.frozen, opts.overlap, opts.maxGapSec);
  const total = n > 0 ? timeline.progress[n - 1] : 0;
  const overlapSegments = segmentTimeline(timeline.progress, defects.cut, 1, n);
  const autoCount = countUsableSegments(overlapSegments, defects.reject);
  const targetCount = opts.count ?? Math.min(autoCount, opts.maxFrames ?? Infinity);
  if (options.minSpacingSec === undefined && targetCount > 0) {
    // The default spacing must leave room for the count: at most half the usable time per pick.
    let usable = 0;
    for (let i = 0; i < n; i++) if (!defects.reject[i]) usable++;
    const usableSec = usable * medianStepSec(table.ptsSec, n);
    opts.minSpacingSec = Math.min(opts.minSpacingSec, (SPACING_SHARE * usableSec) / targetCount);
  }
  // Several candidates per target pick, whatever the video's length: segments of a fraction of
  // the overlap step when the count asks for more picks than there are overlap steps, of
  // several steps when it asks for fewer (a long video then keeps its candidates, and the
  // memory of their descriptors, in proportion to the count, not to its length).
  const wanted = SEGMENTS_PER_PICK * targetCount;
  const unit = wanted === autoCount || total <= 0 ? 1 : Math.max(1e-9, total / wanted);
  const segments = unit === 1 ? overlapSegments : segmentTimeline(timeline.progress, defects.cut, unit, n);
  // Described already (fast mode's single pass): every usable one is a candidate, at no cost.
  const candidates = eligible
    ? Int32Array.from({ length: n }, (_, row) => row).filter((row) => eligible[row] === 1 && !defects.reject[row])
    : chooseCandidates(
        segments,
        defects.reject,
        (row) => cheapQuality(table, row) * relativeQuality(table, defects.levels, row),
        opts.candidatesPerSegment,
        table.ptsSec,
        opts.minSpacingSec,
      );
  return { options: opts, defects, timeline, segments, candidates, targetCount, autoCount };
}

/** Candidates whose measured features are far below the other candidates' are plain after all. */
function rejectPlainCandidates(table: FrameTable, stage: CandidateStage, reject: Uint8Array): Int32Array {
  const feats = Array.from(stage.candidates, (r) => table.features[r]);
  const { median } = globalRobust(feats);
  if (!Number.isFinite(median)) return stage.candidates;
  const t = DEFECT_THRESHOLDS;
  return stage.candidates.filter((row) => {
    const f = table.features[row];
    const plain = Number.isFinite(f) && f < t.featuresFloor && f < t.textureRatio * median;
    if (plain) reject[row] = REJECT.textureless;
    return !plain;
  });
}

/** Rejections by reason, largest first: "blur 134, exposure 101". */
function rejectionSummary(reject: Uint8Array, n: number): Array<[RejectReason, number]> {
  const counts = new Map<RejectReason, number>();
  for (let i = 0; i < n; i++) if (reject[i]) counts.set(REJECT_REASONS[reject[i]] as RejectReason, (counts.get(REJECT_REASONS[reject[i]] as RejectReason) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

/** Why a count could not be met, with the numbers a user needs to see which limit bit. */
function shortfallWarning(chosen: number, asked: number, n: number, reject: Uint8Array, candidates: number, autoCount: number, minSpacingSec: number): string {
  const rejected = rejectionSummary(reject, n);
  const usable = n - rejected.reduce((a, [, c]) => a + c, 0);
  const why = rejected.length ? `rejected ${rejected.map(([r, c]) => `${r} ${c}`).join(', ')}` : 'none rejected';
  return (
    `Selected ${chosen} of the ${asked} frames asked for: ${usable} of ${n} analysed frames are usable (${why}), ` +
    `${candidates} candidates at least ${minSpacingSec.toFixed(2)} s apart, and the motion allows ${autoCount} overlap steps`
  );
}

/** Share of usable frames under which one rejection reason is suspected of misfiring. */
const COLLAPSE_USABLE_SHARE = 0.1;

/**
 * A self-check: a video left with a tiny share of usable frames, mostly for one reason, more
 * likely met a threshold that misfired than a video that is that bad. Say so with the numbers.
 */
function collapseWarning(n: number, reject: Uint8Array): string | undefined {
  if (n < 20) return undefined;
  const rejected = rejectionSummary(reject, n);
  const usable = n - rejected.reduce((a, [, c]) => a + c, 0);
  if (usable >= COLLAPSE_USABLE_SHARE * n || rejected.length === 0) return undefined;
  const [reason, count] = rejected[0]!;
  return (
    `Only ${usable} of ${n} analysed frames (${((100 * usable) / n).toFixed(1)}%) are usable; ${count} were rejected as ${reason}. ` +
    `If the video does not look like that, the ${reason} threshold misfired: check the ${reason === 'duplicate' ? 'motion columns' : reason} column of analysis.csv`
  );
}

function ordinal(k: number): string {
  return k === 1 ? 'best' : k === 2 ? '2nd' : k === 3 ? '3rd' : `${k}th`;
}

/**
 * Stage 2: scores the candidates (using features/coverage/DINO where measured), optimises, drops
 * redundant picks and, with a verifier, repairs connectivity. Never throws for a video that
 * leaves nothing usable: it returns no picks and a warning.
 */
export async function selectFrames(
  table: FrameTable,
  options: SelectOptions = {},
  verifier?: PairVerifier,
  stage?: CandidateStage,
): Promise<Selection> {
  if (verifier !== undefined && typeof verifier !== 'function') {
    throw new FramesiftError(`Expected a function for verifier but received ${typeof verifier}`, 'ERR_FRAMESIFT_INVALID_ARG');
  }
  const st = stage ?? findCandidates(table, options);
  const opts = st.options;
  const n = table.length;
  const warnings: string[] = [];
  const reject = st.defects.reject.slice();
  const candidates = rejectPlainCandidates(table, st, reject);

  const scores = new Map<number, RowScore>();
  const scoreOfRow = (row: number): RowScore => {
    let s = scores.get(row);
    if (!s) {
      const raw = scoreRow(table, row, opts.weights);
      // The gate includes the quality relative to the neighbourhood (sharpest, cleanest locally).
      const rel = relativeQuality(table, st.defects.levels, row);
      s = { score: raw.score * rel, base: raw.base, gate: raw.gate * rel };
      scores.set(row, s);
    }
    return s;
  };
  const scoreOf = (row: number) => scoreOfRow(row).score;

  const { progress, cumMotion, activeSec } = st.timeline;
  const m = candidates.length;
  const problem: ChainProblem = {
    progress: new Float64Array(m),
    timeSec: new Float64Array(m),
    activeSec: new Float64Array(m),
    cumMotion: new Float64Array(m),
    score: new Float64Array(m),
  };
  for (let k = 0; k < m; k++) {
    const row = candidates[k];
    problem.progress[k] = progress[row];
    problem.timeSec[k] = table.ptsSec[row];
    problem.activeSec[k] = activeSec[row];
    problem.cumMotion[k] = cumMotion[row];
    problem.score[k] = scoreOf(row);
  }
  const constraints = {
    minSpacingSec: opts.minSpacingSec,
    maxGapSec: opts.maxGapSec,
    maxGapMotion: opts.maxGapMotion,
    from: n > 0 ? progress[0] : 0,
    to: n > 0 ? progress[n - 1] : 0,
  };
  const plan = planPicks(problem, st.targetCount, constraints);
  if (m === 0) warnings.push('No usable frame: every analysed frame was rejected as a defect');
  if (plan.gapViolations > 0) {
    warnings.push(
      `${plan.gapViolations} gap(s) between consecutive picks exceed ${opts.maxGapSec} s or ${opts.maxGapMotion.toFixed(2)} of the view (too few picks or a long defect stretch)`,
    );
  }

  // Why each DP pick: the best of its slot, or traded for spacing/coverage.
  const reasons = new Map<number, PickReason[]>();
  const notes = new Map<number, string>();
  // plan.chosen[s] lies in slot s (unless spacing forced a drop: then look the slot up).
  for (let c = 0; c < plan.chosen.length; c++) {
    const k = plan.chosen[c];
    let s = c;
    if (!(k >= plan.slots[s] && k < plan.slots[s + 1])) {
      s = 0;
      while (s + 1 < plan.slots.length && plan.slots[s + 1] <= k) s++;
    }
    let rank = 1;
    for (let j = plan.slots[s]; j < plan.slots[s + 1]; j++) if (problem.score[j] > problem.score[k]) rank++;
    const size = plan.slots[s + 1] - plan.slots[s];
    const row = candidates[k];
    reasons.set(row, [rank === 1 ? 'best_in_slot' : 'coverage']);
    notes.set(
      row,
      rank === 1
        ? `best of ${size} candidate(s) in its stretch`
        : `${ordinal(rank)} of ${size} candidates in its stretch, chosen to keep spacing and coverage with its neighbours`,
    );
  }

  let picks = Array.from(plan.chosen, (k) => candidates[k]);
  let restored = 0;
  const redundancy = removeRedundant(
    {
      table,
      cumMotion,
      progress,
      overlapStep: 1 - opts.overlap,
      // A dense count asks for close picks: same view only under a quarter of the motion per pick.
      sameViewMotion: Math.min(
        REDUNDANT_MOTION_STEPS * (1 - opts.overlap),
        n > 0 && st.targetCount > 0 ? (0.25 * cumMotion[n - 1]) / st.targetCount : Infinity,
      ),
      cosineThreshold: opts.redundancyCosine,
      minSpacingSec: opts.minSpacingSec,
      scoreOf,
    },
    picks,
    candidates,
  );
  picks = redundancy.picks;
  const target = opts.count ?? opts.maxFrames;
  if (target !== undefined && picks.length < Math.min(target, plan.chosen.length)) {
    // A count is a contract: a redundant pick with no replacement stays (the nearest to its
    // neighbours' middle is still a view, only a close one).
    const kept = new Set(picks);
    for (const row of redundancy.removed) {
      if (picks.length >= target) break;
      const at = picks.findIndex((p) => p > row);
      const prev = at < 0 ? picks[picks.length - 1] : picks[at - 1];
      const next = at < 0 ? undefined : picks[at];
      const clear = (a: number | undefined, b: number | undefined) => a === undefined || b === undefined || table.ptsSec[b] - table.ptsSec[a] >= opts.minSpacingSec;
      if (kept.has(row) || !clear(prev, row) || !clear(row, next)) continue;
      picks.splice(at < 0 ? picks.length : at, 0, row);
      kept.add(row);
      restored++;
    }
  }
  for (const row of redundancy.added) {
    reasons.set(row, ['replacement']);
    notes.set(row, 'replaces a redundant pick (same view as its neighbour) in the least covered stretch');
  }
  if (redundancy.removed.length > restored) {
    warnings.push(`${redundancy.removed.length - restored} redundant pick(s) removed (same view as a neighbour); ${redundancy.added.length} replaced`);
  }

  let links: LinkReport[] = [];
  let sequences: SequenceReport[];
  let sequenceOf: number[];
  let verifierCalls = 0;
  if (verifier && picks.length > 1) {
    const conn = await ensureConnectivity(
      {
        table,
        verifier,
        minInliers: opts.minInliers,
        minParallaxPx: opts.minParallaxPx,
        tries: opts.bridgeTries,
        budget: verifierBudget(opts, st.targetCount),
        maxPicks: opts.count ?? opts.maxFrames,
        minSpacingSec: opts.minSpacingSec,
        progress,
        scoreOf,
      },
      picks,
      candidates,
    );
    picks = conn.picks;
    links = conn.links;
    sequences = conn.sequences;
    sequenceOf = conn.sequenceOf;
    verifierCalls = conn.calls;
    warnings.push(...conn.warnings);
    for (const row of conn.bridged) {
      reasons.set(row, ['bridge']);
      notes.set(row, 'inserted to connect two picks that did not share enough verified inliers');
    }
    for (const [row, old] of conn.moved) {
      reasons.set(row, ['moved']);
      notes.set(row, `replaces frame ${table.index[old]}, whose link to the previous pick was weak`);
    }
  } else {
    sequences = picks.length ? [{ firstFrame: table.index[picks[0]], lastFrame: table.index[picks[picks.length - 1]], picks: picks.length }] : [];
    sequenceOf = picks.map(() => 0);
  }

  if (opts.count !== undefined && picks.length < opts.count && m > 0) {
    warnings.push(shortfallWarning(picks.length, opts.count, n, reject, candidates.length, st.autoCount, opts.minSpacingSec));
  }
  const collapse = collapseWarning(n, reject);
  if (collapse) warnings.push(collapse);

  const fate = new Uint8Array(n);
  for (let i = 0; i < n; i++) fate[i] = reject[i] ? FATE_REJECTED_BASE + reject[i] : FATE_USABLE;
  for (const row of candidates) fate[row] = FATE_CANDIDATE;
  for (const row of picks) fate[row] = FATE_CHOSEN;
  const rejectedByReason = { invalid: 0, exposure: 0, cut: 0, blur: 0, textureless: 0, duplicate: 0 } as Record<RejectReason, number>;
  for (let i = 0; i < n; i++) if (reject[i]) rejectedByReason[REJECT_REASONS[reject[i]] as RejectReason]++;

  const result: FramePick[] = picks.map((row, k) => {
    const s = scoreOfRow(row);
    const subScores: FramePick['subScores'] = {
      sharpness: table.sharpness[row],
      blur: table.blur[row],
      exposure: table.exposure[row],
      noise: table.noise[row],
      texture: table.texture[row],
      features: table.features[row],
      coverage: table.coverage[row],
    };
    if (table.spatialComplexity) subScores.spatialComplexity = table.spatialComplexity[row];
    if (table.semanticRichness) subScores.semanticRichness = table.semanticRichness[row];
    return {
      row,
      frameIndex: table.index[row],
      ptsSec: table.ptsSec[row],
      score: s.score,
      base: s.base,
      gate: s.gate,
      subScores,
      reasons: reasons.get(row) ?? ['best_in_slot'],
      explanation: `score ${s.score.toFixed(3)} (weighted ${s.base.toFixed(3)} x quality gate ${s.gate.toFixed(3)}); ${notes.get(row) ?? 'chosen by the optimiser'}`,
      sequence: sequenceOf[k],
    };
  });

  let usable = 0;
  for (let i = 0; i < n; i++) if (!reject[i]) usable++;
  return {
    picks: result,
    fate,
    rejectedByReason,
    links,
    sequences,
    warnings,
    stats: {
      rows: n,
      usable,
      candidates: candidates.length,
      segments: st.segments.count,
      targetCount: st.targetCount,
      autoCount: st.autoCount,
      verifierCalls,
    },
    options: opts,
  };
}

/** 'chosen' | 'candidate' | 'usable' | 'rejected:<reason>' for a Selection.fate code. */
export function fateLabel(code: number): string {
  if (code === FATE_CHOSEN) return 'chosen';
  if (code === FATE_CANDIDATE) return 'candidate';
  if (code === FATE_USABLE) return 'usable';
  return `rejected:${REJECT_REASONS[code - FATE_REJECTED_BASE] || 'unknown'}`;
}
