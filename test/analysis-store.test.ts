import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { extractFeatures, featureSetFromBuffer, matchPairs } from '../src/core/geometry.js';
import { decodeAnalysisFile, encodeAnalysisFile, encodeAnalysisParts } from '../src/report/analysis-file.js';
import { checkFingerprint, fingerprintInput } from '../src/report/fingerprint.js';
import { texturedImage } from './helpers/geometry-scenes.js';

describe('FeatureSet bytes', () => {
  it('round-trips keypoints and descriptors: the copy matches the original exactly', async () => {
    const image = texturedImage(320, 240, 7);
    const set = await extractFeatures(image, { maxFeatures: 500 });
    expect(set.count).toBeGreaterThan(100);
    const bytes = set.toBuffer();
    expect(bytes.length).toBe(32 + set.count * (12 + 128));
    const copy = featureSetFromBuffer(bytes);
    expect([copy.count, copy.width, copy.height, copy.kind]).toEqual([set.count, set.width, set.height, set.kind]);
    expect(Array.from(copy.keypoints())).toEqual(Array.from(set.keypoints()));
    // Same descriptors: matching the copy against the original pairs every feature with itself.
    const { pairs } = await matchPairs([set, copy], new Uint32Array([0, 1]), { keepGraph: false });
    expect(pairs[0]!.matches).toBe(set.count);
    expect(Buffer.compare(copy.toBuffer(), bytes)).toBe(0);
    set.dispose();
    copy.dispose();
  });

  it('refuses bytes that are not a feature set', () => {
    expect(() => featureSetFromBuffer(new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'ERR_FRAMESIFT_INVALID_ARG' }));
    const bogus = Buffer.alloc(64);
    bogus.write('FSFS', 0, 'latin1');
    bogus.writeUInt32LE(1, 4);
    bogus.writeUInt32LE(10, 24); // 10 features announced, none present
    bogus.writeUInt32LE(128, 28);
    expect(() => featureSetFromBuffer(bogus)).toThrow(/Expected 1432 bytes of saved features but received 64/);
    // @ts-expect-error a string is not bytes
    expect(() => featureSetFromBuffer('FSFS')).toThrow(expect.objectContaining({ code: 'ERR_FRAMESIFT_INVALID_ARG' }));
  });
});

describe('analysis file container', () => {
  it('reads back typed arrays and JSON as written, views aligned', () => {
    const value = {
      name: 'x',
      columns: { a: Float32Array.from([1.5, NaN, -2]), b: new Float64Array([Math.PI]), c: Uint8Array.from([1, 2, 3]) },
      rows: [{ row: 3, bytes: Buffer.from([9, 8, 7, 6, 5]) }],
      empty: new Uint32Array(0),
    };
    const decoded = decodeAnalysisFile<typeof value>(encodeAnalysisFile(value, 3), 3, 'x.bin');
    expect(decoded.name).toBe('x');
    expect(decoded.columns.a).toBeInstanceOf(Float32Array);
    expect(Array.from(decoded.columns.a)).toEqual([1.5, NaN, -2]);
    expect(decoded.columns.b[0]).toBe(Math.PI);
    expect(Array.from(decoded.columns.c)).toEqual([1, 2, 3]);
    expect(Array.from(decoded.rows[0]!.bytes)).toEqual([9, 8, 7, 6, 5]);
    expect(decoded.empty.length).toBe(0);
  });

  it('as parts: the typed arrays are written from their own memory, padded to 8 bytes, the same bytes as one Buffer', () => {
    const features = Uint8Array.from({ length: 13 }, (_, k) => k * 7);
    const column = Float32Array.from([0.25, 4]);
    const value = { features, column, note: 'n' };
    const parts = encodeAnalysisParts(value, 2);
    // Not copied: a long run's feature bytes would be held twice at its end.
    expect(parts.some((p) => p.buffer === features.buffer && p.byteLength === 13)).toBe(true);
    expect(parts.some((p) => p.buffer === column.buffer)).toBe(true);
    const joined = Buffer.concat(parts);
    expect(joined.length % 8).toBe(0);
    expect(joined.equals(encodeAnalysisFile(value, 2))).toBe(true);
    const back = decodeAnalysisFile<typeof value>(joined, 2, 'x.bin');
    expect(Array.from(back.features)).toEqual(Array.from(features));
    expect(Array.from(back.column)).toEqual([0.25, 4]);
  });

  it('refuses another version, another file and a cut file with ERR_FRAMESIFT_SAVED_ANALYSIS', () => {
    const bytes = encodeAnalysisFile({ a: new Float64Array(100) }, 1);
    const code = expect.objectContaining({ code: 'ERR_FRAMESIFT_SAVED_ANALYSIS' });
    expect(() => decodeAnalysisFile(bytes, 2, 'a.bin')).toThrow(/analysis format 1, this one reads 2/);
    expect(() => decodeAnalysisFile(Buffer.from('hello world, not ours'), 1, 'a.bin')).toThrow(code);
    expect(() => decodeAnalysisFile(bytes.subarray(0, bytes.length - 8), 1, 'a.bin')).toThrow(/runs past the end/);
  });
});

describe('input fingerprint', () => {
  it('passes for the same file and names what changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'framesift-fp-'));
    const file = join(dir, 'v.mp4');
    writeFileSync(file, Buffer.alloc(3 << 20, 1));
    const saved = await fingerprintInput(file);
    expect(saved).toMatchObject({ kind: 'video', size: 3 << 20 });
    await expect(checkFingerprint(saved, 'frames must be decoded')).resolves.toBeUndefined();
    // Same size, one byte changed in the middle chunk.
    const changed = Buffer.alloc(3 << 20, 1);
    changed[(3 << 20) / 2] = 2;
    writeFileSync(file, changed);
    utimesSync(file, saved.mtimeMs / 1000, saved.mtimeMs / 1000);
    await expect(checkFingerprint(saved, 'frames must be decoded')).rejects.toThrow(expect.objectContaining({ code: 'ERR_FRAMESIFT_INPUT_CHANGED', message: expect.stringContaining('its content differs') }));
    writeFileSync(file, Buffer.alloc(10));
    await expect(checkFingerprint(saved, 'frames must be decoded')).rejects.toThrow(/its size is 10, was 3145728/);
  });

  it('a missing input is ERR_FRAMESIFT_NOT_FOUND naming why it was needed', async () => {
    const saved = { kind: 'video' as const, input: '/nonexistent/v.mp4', size: 1, mtimeMs: 0, hash: '' };
    await expect(checkFingerprint(saved, '3 candidates must be decoded')).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_FRAMESIFT_NOT_FOUND', message: expect.stringMatching(/^\/nonexistent\/v.mp4: the input of this run is gone .*3 candidates must be decoded/) }),
    );
  });
});
