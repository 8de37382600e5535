import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { isFramesiftError } from '../src/errors.js';
import { BATCH_STORE_FILE, expandInputs } from '../src/jobs/inputs.js';

/** A folder tree from relative paths (contents do not matter: expansion never decodes). */
function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'framesift-inputs-'));
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), 'x');
  }
  return root;
}

describe('expandInputs', () => {
  it('walks a folder recursively: videos by extension, an image-only folder as one sequence, hidden and other files skipped', async () => {
    const root = tree([
      'day1/clip.mp4',
      'day1/notes.txt',
      'day1/thumb.jpg', // beside a video: a thumbnail, not a sequence
      'day2/clip.mp4',
      'day2/B.MOV',
      'day2/.hidden.mp4',
      'stills/frame_2.jpg',
      'stills/frame_10.jpg',
      '.cache/x.mp4',
      'empty/readme.md',
    ]);
    const inputs = await expandInputs([root]);
    expect(inputs).toEqual([
      { input: join(root, 'day1/clip.mp4'), kind: 'video', relName: 'day1__clip' },
      { input: join(root, 'day2/B.MOV'), kind: 'video', relName: 'day2__B' },
      { input: join(root, 'day2/clip.mp4'), kind: 'video', relName: 'day2__clip' },
      { input: join(root, 'stills'), kind: 'images', relName: 'stills' },
    ]);
  });

  it('gives two clip.mp4 in different folders different names, named directly or found in a walk', async () => {
    const root = tree(['a/clip.mp4', 'b/clip.mp4', 'b/sub/clip.mp4']);
    const direct = await expandInputs([join(root, 'a/clip.mp4'), join(root, 'b/clip.mp4'), join(root, 'b/sub/clip.mp4')]);
    expect(direct.map((i) => i.relName)).toEqual(['a__clip', 'b__clip', 'b__sub__clip']);
    const walked = await expandInputs([root]);
    expect(walked.map((i) => i.relName)).toEqual(['a__clip', 'b__clip', 'b__sub__clip']);
    expect(new Set(walked.map((i) => i.relName)).size).toBe(3);
  });

  it('separates names that only differ by extension, by case or by a folder/underscore swap, stably', async () => {
    const root = tree(['x/clip.mp4', 'x/clip.mov', 'x/Clip.mkv', 'a__b.mp4', 'a/b.mp4']);
    const first = await expandInputs([root]);
    const names = first.map((i) => i.relName);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(5);
    for (const name of names.filter((n) => n.toLowerCase().startsWith('x__clip'))) expect(name).toMatch(/^x__[cC]lip-[0-9a-f]{8}$/);
    expect(names.filter((n) => n.startsWith('a__b'))).toHaveLength(2);
    const again = await expandInputs([root]);
    expect(again).toEqual(first);
  });

  it('names relative to the folder named, so adding a clip elsewhere in it keeps the names', async () => {
    const root = tree(['deep/one/clip.mp4']);
    const before = await expandInputs([root]);
    expect(before.map((i) => i.relName)).toEqual(['deep__one__clip']);
    writeFileSync(join(root, 'other.mp4'), 'x');
    const after = await expandInputs([root]);
    expect(after).toHaveLength(2);
    expect(after.find((i) => i.input.endsWith('clip.mp4'))!.relName).toBe('deep__one__clip');
    expect(after.find((i) => i.input.endsWith('other.mp4'))!.relName).toBe('other');
  });

  it('expands globs: videos, folders and frames grouped per folder', async () => {
    const root = tree(['v/a.mp4', 'v/b.mkv', 'v/c.txt', 'shots/s1/0001.png', 'shots/s1/0002.png', 'shots/s2/0001.png', 'shots/s2/skip.jpg']);
    const videos = await expandInputs(['v/*'], { cwd: root });
    expect(videos).toEqual([
      { input: join(root, 'v/a.mp4'), kind: 'video', relName: 'a' },
      { input: join(root, 'v/b.mkv'), kind: 'video', relName: 'b' },
    ]);
    const frames = await expandInputs(['shots/*/0*.png'], { cwd: root });
    expect(frames).toEqual([
      { input: join(root, 'shots/s1'), kind: 'images', relName: 's1' },
      // not every image of s2 matched: the job gets the glob over that folder
      { input: join(root, 'shots/s2/0*.png'), kind: 'images', relName: 's2' },
    ]);
    const deep = await expandInputs([join(root, '**/*.mp4')]);
    expect(deep.map((i) => i.relName)).toEqual(['v__a']);
  });

  it('reads @list files and - from stdin, skipping blanks and comments, resolving against cwd', async () => {
    const root = tree(['a/one.mp4', 'b/two.mp4', 'b/three.mp4']);
    writeFileSync(join(root, 'list.txt'), '# clips\na/one.mp4\n\n  b/two.mp4  \r\nnot-there.mp4\n');
    const fromList = await expandInputs(['@list.txt'], { cwd: root });
    expect(fromList).toEqual([
      { input: join(root, 'a/one.mp4'), kind: 'video', relName: 'a__one' },
      { input: join(root, 'b/two.mp4'), kind: 'video', relName: 'b__two' },
      { input: join(root, 'not-there.mp4'), kind: 'missing', relName: 'not-there' },
    ]);
    const fromStdin = await expandInputs(['-', join(root, 'a/one.mp4')], { cwd: root, stdin: Readable.from(['b/three.mp4\n', 'b/two', '.mp4\n']) });
    expect(fromStdin.map((i) => [i.input, i.relName])).toEqual([
      [join(root, 'b/three.mp4'), 'b__three'],
      [join(root, 'b/two.mp4'), 'b__two'],
      [join(root, 'a/one.mp4'), 'a__one'],
    ]);
  });

  it('keeps a missing path, an unmatched glob, a URL and an empty folder as jobs; drops duplicates', async () => {
    const root = tree(['clip.mp4']);
    mkdirSync(join(root, 'empty'));
    const inputs = await expandInputs(
      ['clip.mp4', './clip.mp4', 'gone.mp4', 'nothing/*.mp4', 'https://example.com/cams/walk.mp4', 'empty'],
      { cwd: root },
    );
    expect(inputs).toEqual([
      { input: join(root, 'clip.mp4'), kind: 'video', relName: 'clip' },
      { input: join(root, 'gone.mp4'), kind: 'missing', relName: 'gone' },
      { input: join(root, 'nothing/*.mp4'), kind: 'missing', relName: 'nothing___' },
      { input: 'https://example.com/cams/walk.mp4', kind: 'url', relName: 'example.com__cams__walk' },
      { input: join(root, 'empty'), kind: 'images', relName: 'empty' },
    ]);
  });

  it('skips batch outputs and extract outputs inside a walked folder, and survives a symlink loop', async () => {
    const root = tree(['clip.mp4', `out/${BATCH_STORE_FILE}`, 'out/clip/images/000001.jpg', 'done/manifest.json', 'done/images/000001.jpg']);
    symlinkSync(root, join(root, 'loop'));
    const inputs = await expandInputs([root]);
    expect(inputs).toEqual([{ input: join(root, 'clip.mp4'), kind: 'video', relName: 'clip' }]);
  });

  it('rejects an empty spec and an unreadable list with stable codes', async () => {
    await expect(expandInputs([''])).rejects.toSatisfy((err) => isFramesiftError(err, 'ERR_FRAMESIFT_INVALID_ARG'));
    await expect(expandInputs(['@/nonexistent/list.txt'])).rejects.toSatisfy((err) => isFramesiftError(err, 'ERR_FRAMESIFT_NOT_FOUND'));
  });
});
