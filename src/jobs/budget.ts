/**
 * The joint frame budget (`--total-frames N`): N frames shared among the clips by what each
 * needs (its automatic count from the motion timeline, pass 1), every clip between a floor
 * and a ceiling, the shares summing to exactly N when the clips have that many usable frames.
 */

export interface ClipNeed {
  id: number;
  /** Automatic count of the clip (pass 1 with maxFrames = N). */
  need: number;
  /** Usable frames (analysed minus defects): no count gets more out of the clip. */
  capacity: number;
}

export interface ClipShare {
  id: number;
  share: number;
  reason: string;
}

/** Every clip gets at least this many frames when N allows it (a reconstruction needs a few views). */
export const FLOOR_PER_CLIP = 3;

export function shareBudget(clips: readonly ClipNeed[], total: number): ClipShare[] {
  if (clips.length === 0) return [];
  const floorAll = Math.min(FLOOR_PER_CLIP, Math.floor(total / clips.length));
  const ceiling = clips.map((c) => Math.max(0, Math.min(c.capacity, total)));
  const floor = clips.map((c, i) => Math.min(floorAll, ceiling[i]!));
  const need = clips.map((c) => Math.max(1, c.need));
  const reachable = ceiling.reduce((a, b) => a + b, 0);
  const target = Math.min(total, reachable);

  // Water-filling: the factor k with sum(clamp(k * need, floor, ceiling)) = target.
  const fill = (k: number) => need.map((n, i) => Math.min(ceiling[i]!, Math.max(floor[i]!, k * n)));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  let lo = 0;
  let hi = Math.max(1, total) / Math.min(...need) + 1;
  for (let iter = 0; iter < 100; iter++) {
    const mid = (lo + hi) / 2;
    if (sum(fill(mid)) < target) lo = mid;
    else hi = mid;
  }
  const exact = fill(hi);
  // Whole frames by largest remainder, never past a clip's ceiling nor under its floor.
  const shares = exact.map((x, i) => Math.max(floor[i]!, Math.min(ceiling[i]!, Math.floor(x + 1e-9))));
  let left = target - sum(shares);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x + 1e-9) })).sort((a, b) => b.frac - a.frac || need[b.i]! - need[a.i]!);
  while (left > 0) {
    let moved = false;
    for (const { i } of order) {
      if (left === 0) break;
      if (shares[i]! < ceiling[i]!) {
        shares[i]!++;
        left--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  while (left < 0) {
    // Floors over the target (cannot happen with floorAll <= N / clips, kept for safety).
    const i = shares.indexOf(Math.max(...shares));
    shares[i]!--;
    left++;
  }

  const k = hi;
  return clips.map((clip, i) => {
    const share = shares[i]!;
    let reason: string;
    if (share === 0) reason = `no frame: ${total} frames for ${clips.length} clips, and its need (${clip.need}) is among the smallest`;
    else if (share >= ceiling[i]! && ceiling[i]! < k * need[i]!) reason = `capped at its ${ceiling[i]} usable frames (need ${clip.need})`;
    else if (share <= floor[i]! && floor[i]! > k * need[i]!) reason = `raised to the floor of ${floor[i]} frames (need ${clip.need})`;
    else reason = `need ${clip.need} (its automatic count), scaled by ${k.toFixed(2)} to share ${target} frames`;
    return { id: clip.id, share, reason };
  });
}
