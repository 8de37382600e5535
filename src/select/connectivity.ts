/**
 * SfM connectivity: every consecutive pair of picks must share at least minInliers verified
 * inliers with real parallax. A weak link is repaired by inserting a bridging candidate or by
 * moving one end; a link that cannot be repaired (a scene cut, a lost track) splits the
 * selection into separate sequences. Verifier results are cached and the calls are bounded.
 */
import type { FrameTable, LinkReport, LinkStatus, PairVerdict, PairVerifier, SequenceReport } from './types.js';

export interface ConnectivityContext {
  table: FrameTable;
  verifier: PairVerifier;
  minInliers: number;
  minParallaxPx: number;
  /** Below this many inliers an unrepaired link is broken (else weak). Default minInliers / 3. */
  brokenInliers?: number;
  /** Candidates tried per weak link (for bridging, then again for moving). */
  tries: number;
  /** Maximum verifier calls. */
  budget: number;
  /** When set, the number of picks must not exceed it (a bridge then costs a removal elsewhere). */
  maxPicks: number | undefined;
  minSpacingSec: number;
  progress: Float64Array;
  scoreOf: (row: number) => number;
  /** Verifier calls in flight at once. */
  concurrency?: number;
}

export interface ConnectivityResult {
  picks: number[];
  links: LinkReport[];
  sequences: SequenceReport[];
  /** Sequence number of each pick. */
  sequenceOf: number[];
  bridged: number[];
  /** Replacement row -> replaced row. */
  moved: Map<number, number>;
  removed: number[];
  calls: number;
  warnings: string[];
}

export function isDegenerate(v: PairVerdict): boolean {
  return v.degenerate === true || (v.degeneracy ?? 0) >= 0.5;
}

class CachedVerifier {
  calls = 0;
  private cache = new Map<string, Promise<PairVerdict | undefined>>();
  constructor(private ctx: ConnectivityContext) {}

  /** Verdict for rows a < b; undefined once the budget is spent. */
  get(a: number, b: number): Promise<PairVerdict | undefined> {
    const key = `${a},${b}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    if (this.calls >= this.ctx.budget) return Promise.resolve(undefined);
    this.calls++;
    const t = this.ctx.table;
    const p = this.ctx.verifier(t.index[a], t.index[b]);
    this.cache.set(key, p);
    return p;
  }

  peek(a: number, b: number): Promise<PairVerdict | undefined> | undefined {
    return this.cache.get(`${a},${b}`);
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function ensureConnectivity(
  ctx: ConnectivityContext,
  initialPicks: readonly number[],
  candidates: Int32Array,
): Promise<ConnectivityResult> {
  const verify = new CachedVerifier(ctx);
  const good = (v: PairVerdict | undefined) =>
    v !== undefined && v.inliers >= ctx.minInliers && !isDegenerate(v) && v.parallaxPx >= ctx.minParallaxPx;
  const isGood = async (a: number, b: number) => good(await verify.get(a, b));
  const picks = [...initialPicks];
  const status = new Map<string, LinkStatus>();
  const bridged: number[] = [];
  const moved = new Map<number, number>();
  const removed: number[] = [];
  const warnings: string[] = [];
  const pts = ctx.table.ptsSec;
  const idx = ctx.table.index;
  const pairs = picks.slice(1).map((b, k) => [picks[k], b] as const);
  await mapLimit(pairs, ctx.concurrency ?? 4, ([a, b]) => verify.get(a, b));

  const used = () => new Set([...picks, ...removed]);
  const spaced = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || pts[b] - pts[a] >= ctx.minSpacingSec;
  /** Unused candidates strictly between rows lo and hi, clear of the spacing, nearest to `aim` first. */
  const between = (lo: number, hi: number, aim: number) => {
    const taken = used();
    const out: number[] = [];
    for (const c of candidates) {
      if (c <= lo || c >= hi || taken.has(c) || !spaced(lo, c) || !spaced(c, hi)) continue;
      out.push(c);
    }
    out.sort((x, y) => Math.abs(ctx.progress[x] - aim) - Math.abs(ctx.progress[y] - aim) || ctx.scoreOf(y) - ctx.scoreOf(x));
    return out.slice(0, ctx.tries);
  };

  /** A candidate linking well to both ends; else, in `partial`, one linking well to `a` only. */
  let partial: number | undefined;
  const tryBridge = async (k: number): Promise<number | undefined> => {
    const a = picks[k];
    const b = picks[k + 1];
    partial = undefined;
    for (const c of between(a, b, (ctx.progress[a] + ctx.progress[b]) / 2)) {
      if (!(await isGood(a, c))) continue;
      if (await isGood(c, b)) return c;
      if (partial === undefined || c > partial) partial = c;
    }
    if (partial === undefined && ctx.maxPicks === undefined) {
      // Nothing near the middle links to `a`: look for a shorter first step (a third of the way).
      for (const c of between(a, b, ctx.progress[a] + (ctx.progress[b] - ctx.progress[a]) / 3).slice(0, 2)) {
        if (await isGood(a, c)) {
          partial = c;
          break;
        }
      }
    }
    return undefined;
  };
  /** Chained bridges per original link (a gap too wide for one bridge is bisected). */
  const MAX_CHAIN = 4;
  const chainDepth = new Map<number, number>();

  /** Replaces picks[k + 1] by a candidate that links well to both its neighbours. */
  const tryMove = async (k: number, lowParallax: boolean): Promise<number | undefined> => {
    const a = picks[k];
    const b = picks[k + 1];
    const next = picks[k + 2];
    const options = lowParallax
      ? between(b, next ?? ctx.table.length, ctx.progress[b]).filter((c) => spaced(a, c))
      : between(a, b, (ctx.progress[a] + ctx.progress[b]) / 2).filter((c) => spaced(c, next));
    for (const c of options) {
      if ((await isGood(a, c)) && (next === undefined || (await isGood(c, next)))) return c;
    }
    return undefined;
  };

  /** Frees one slot for a bridge: the lowest-scoring pick whose neighbours link well without it. */
  const tryFreeSlot = async (protect: Set<number>): Promise<boolean> => {
    const order = picks
      .map((row, k) => ({ row, k }))
      .filter(({ row, k }) => k > 0 && k < picks.length - 1 && !protect.has(row))
      .sort((x, y) => ctx.scoreOf(x.row) - ctx.scoreOf(y.row))
      .slice(0, Math.max(1, ctx.tries - 1));
    for (const { row, k } of order) {
      if (await isGood(picks[k - 1], picks[k + 1])) {
        picks.splice(k, 1);
        removed.push(row);
        return true;
      }
    }
    return false;
  };

  for (let k = 0; k + 1 < picks.length; k++) {
    const a = picks[k];
    const b = picks[k + 1];
    const v = await verify.get(a, b);
    if (v === undefined) {
      status.set(`${a},${b}`, 'unverified');
      continue;
    }
    if (good(v)) continue;
    const lowParallax = v.inliers >= ctx.minInliers; // linked, but degenerate or without parallax
    const brokenBelow = ctx.brokenInliers ?? ctx.minInliers / 3;
    if (!lowParallax && (ctx.maxPicks === undefined || picks.length < ctx.maxPicks)) {
      const c = await tryBridge(k);
      if (c !== undefined) {
        picks.splice(k + 1, 0, c);
        bridged.push(c);
        status.set(`${a},${c}`, 'bridged').set(`${c},${b}`, 'bridged');
        k++;
        continue;
      }
      const depth = chainDepth.get(b) ?? 0;
      if (partial !== undefined && depth < MAX_CHAIN && ctx.maxPicks === undefined) {
        // Half a bridge: keep the part that links, then repair the rest (next iteration).
        picks.splice(k + 1, 0, partial);
        bridged.push(partial);
        status.set(`${a},${partial}`, 'bridged');
        chainDepth.set(b, depth + 1);
        continue;
      }
    }
    const m = await tryMove(k, lowParallax);
    if (m !== undefined) {
      picks[k + 1] = m;
      moved.set(m, b);
      removed.push(b);
      status.set(`${a},${m}`, 'moved');
      if (picks[k + 2] !== undefined) status.set(`${m},${picks[k + 2]}`, 'moved');
      continue;
    }
    if (!lowParallax && ctx.maxPicks !== undefined) {
      const c = await tryBridge(k);
      if (c !== undefined && (await tryFreeSlot(new Set([a, b])))) {
        const at = picks.indexOf(a);
        picks.splice(at + 1, 0, c);
        bridged.push(c);
        status.set(`${a},${c}`, 'bridged').set(`${c},${b}`, 'bridged');
        k = at + 1;
        continue;
      }
    }
    if (lowParallax) {
      status.set(`${a},${b}`, 'weak');
      warnings.push(`Frames ${idx[a]} and ${idx[b]} match (${v.inliers} inliers) with little parallax or degenerate geometry and could not be improved`);
    } else if (v.inliers >= brokenBelow) {
      status.set(`${a},${b}`, 'weak');
      warnings.push(`Frames ${idx[a]} and ${idx[b]} share only ${v.inliers} inliers (< ${ctx.minInliers}) and could not be bridged`);
    } else {
      status.set(`${a},${b}`, 'broken');
      warnings.push(`Frames ${idx[a]} and ${idx[b]} share ${v.inliers} inliers (< ${ctx.minInliers}) and no bridge was found: the selection splits into separate sequences there`);
    }
  }

  const links: LinkReport[] = [];
  const sequences: SequenceReport[] = [];
  const sequenceOf: number[] = [];
  let seqStart = 0;
  for (let k = 0; k < picks.length; k++) {
    sequenceOf.push(sequences.length);
    const a = picks[k];
    const b = picks[k + 1];
    let broken = b === undefined;
    if (b !== undefined) {
      const cached = verify.peek(a, b);
      const v = cached ? await cached : await verify.get(a, b);
      let s = status.get(`${a},${b}`);
      if (s === undefined) {
        s = v === undefined ? 'unverified' : good(v) ? 'ok' : v.inliers >= (ctx.brokenInliers ?? ctx.minInliers / 3) ? 'weak' : 'broken';
      }
      links.push({
        fromFrame: idx[a],
        toFrame: idx[b],
        inliers: v?.inliers ?? NaN,
        parallaxPx: v?.parallaxPx ?? NaN,
        degenerate: v ? isDegenerate(v) : false,
        status: s,
      });
      broken = s === 'broken';
    }
    if (broken) {
      sequences.push({ firstFrame: idx[picks[seqStart]], lastFrame: idx[a], picks: k - seqStart + 1 });
      seqStart = k + 1;
    }
  }
  if (verify.calls >= ctx.budget) warnings.push(`Pair verification stopped at its budget of ${ctx.budget} calls; remaining links are unverified`);
  return { picks, links, sequences, sequenceOf, bridged, moved, removed, calls: verify.calls, warnings };
}
