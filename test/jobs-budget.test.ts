import { describe, expect, it } from 'vitest';

import { FLOOR_PER_CLIP, shareBudget, type ClipNeed } from '../src/jobs/budget.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const clips = (...needs: Array<[number, number]>): ClipNeed[] => needs.map(([need, capacity], id) => ({ id, need, capacity }));

describe('shareBudget', () => {
  it('shares N in proportion to need, summing to exactly N', () => {
    const shares = shareBudget(clips([40, 1000], [20, 1000], [10, 1000]), 140);
    expect(shares.map((s) => s.share)).toEqual([80, 40, 20]);
    expect(shares.every((s) => /need \d+/.test(s.reason))).toBe(true);
  });

  it('rounds by largest remainder and still sums to N', () => {
    for (const total of [7, 11, 50, 101, 333]) {
      const shares = shareBudget(clips([13, 500], [7, 500], [29, 500], [3, 500]), total);
      expect(sum(shares.map((s) => s.share))).toBe(total);
      // Monotone in need: more need never gets fewer frames.
      const byNeed = [...shares].sort((a, b) => [13, 7, 29, 3][a.id]! - [13, 7, 29, 3][b.id]!);
      for (let i = 1; i < byNeed.length; i++) expect(byNeed[i]!.share).toBeGreaterThanOrEqual(byNeed[i - 1]!.share);
    }
  });

  it('lifts a small need to the floor and takes it from the others', () => {
    const shares = shareBudget(clips([1, 100], [50, 100], [49, 100]), 40);
    expect(shares[0]!.share).toBe(FLOOR_PER_CLIP);
    expect(shares[0]!.reason).toMatch(/floor/);
    expect(sum(shares.map((s) => s.share))).toBe(40);
  });

  it('caps a clip at its usable frames and gives the rest to the others', () => {
    const shares = shareBudget(clips([100, 12], [10, 500], [10, 500]), 60);
    expect(shares[0]!.share).toBe(12);
    expect(shares[0]!.reason).toMatch(/capped at its 12 usable frames/);
    expect(shares[1]!.share + shares[2]!.share).toBe(48);
  });

  it('gives every usable frame when the clips hold fewer than N', () => {
    const shares = shareBudget(clips([5, 8], [5, 9]), 100);
    expect(shares.map((s) => s.share)).toEqual([8, 9]);
  });

  it('with fewer frames than clips, the smallest needs get none and the sum is still N', () => {
    const shares = shareBudget(clips([9, 50], [1, 50], [5, 50], [2, 50]), 2);
    expect(sum(shares.map((s) => s.share))).toBe(2);
    expect(shares[0]!.share).toBeGreaterThan(0);
    expect(shares[1]!.share).toBe(0);
    expect(shares[1]!.reason).toMatch(/no frame/);
  });
});
