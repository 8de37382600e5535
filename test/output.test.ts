import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { isFramesiftError } from '../src/errors.js';
import {
  AnalysisCsv,
  ImageWriter,
  MANIFEST_SCHEMA_PATH,
  cleanupPartial,
  formatNumber,
  imageName,
  imageNameDigits,
  isTempName,
  prepareOutputDir,
  tempPathFor,
  validateManifest,
  writeImage,
  writeImageList,
  writeManifest,
  writePairs,
  type ImageFormat,
  type Manifest,
} from '../src/output/index.js';
import { decodeRgb, fullManifest, gradientRgb, listTree, psnr, tempDir } from './helpers/output-fixtures.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<Error> {
  let err: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (e) {
    err = e;
  }
  expect(isFramesiftError(err), `expected a FramesiftError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  return err as Error;
}

const tempsIn = (folder: string) => readdirSync(folder).filter(isTempName);

describe('images', () => {
  const width = 320;
  const height = 200;
  const rgb = gradientRgb(width, height);

  it.each([
    ['jpg', 'jpeg', 35],
    ['png', 'png', Infinity],
    ['webp', 'webp', 30],
  ] as Array<[ImageFormat, string, number]>)('%s: complete, right size, close to the input, no metadata', async (format, sharpFormat, minPsnr) => {
    const name = imageName(7, format);
    const written = await writeImage(dir, name, rgb, width, height, { format });
    expect(written.name).toBe(name);
    expect(written.bytes).toBe(readFileSync(join(dir, name)).length);
    const meta = await sharp(join(dir, name)).metadata();
    expect(meta.format).toBe(sharpFormat);
    expect([meta.width, meta.height]).toEqual([width, height]);
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.iptc).toBeUndefined();
    expect(meta.hasProfile).toBe(false);
    if (format === 'jpg') expect(meta.chromaSubsampling).toBe('4:4:4');
    const bytes = readFileSync(join(dir, name)).toString('latin1');
    for (const tag of ['Exif\0', 'ICC_PROFILE', 'http://ns.adobe.com/xap', 'eXIf', 'iCCP']) expect(bytes).not.toContain(tag);
    const back = await decodeRgb(join(dir, name));
    if (minPsnr === Infinity) expect(back.data.equals(rgb)).toBe(true);
    else expect(psnr(back.data, rgb)).toBeGreaterThan(minPsnr);
    expect(tempsIn(dir)).toEqual([]);
  });

  it('jpg uses the standard Huffman tables (no optimising pass: 2.5-3.5x the encode time)', async () => {
    await writeImage(dir, 'huffman.jpg', rgb, width, height, { format: 'jpg' });
    const file = readFileSync(join(dir, 'huffman.jpg'));
    // Every DHT segment's tables (class/id byte, 16 code-length counts, values).
    const tables: number[][] = [];
    for (let at = 2; at + 4 <= file.length && file[at] === 0xff; ) {
      const marker = file[at + 1]!;
      const length = file.readUInt16BE(at + 2);
      if (marker === 0xc4) {
        for (let t = at + 4; t < at + 2 + length; ) {
          const counts = [...file.subarray(t + 1, t + 17)];
          tables.push([file[t]!, ...counts]);
          t += 17 + counts.reduce((a, b) => a + b, 0);
        }
      }
      if (marker === 0xda) break; // entropy-coded data follows
      at += 2 + length;
    }
    // ITU T.81 Annex K.3: the luminance DC table (class 0, id 0) has these code-length counts.
    expect(tables.find((t) => t[0] === 0x00)?.slice(1)).toEqual([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(tables.find((t) => t[0] === 0x10)?.slice(1, 17).reduce((a, b) => a + b, 0)).toBe(162); // the standard AC table's 162 codes
  });

  it('quality lowers jpg size and fidelity; options are validated', async () => {
    const hi = await writeImage(dir, 'hi.jpg', rgb, width, height, { format: 'jpg', quality: 95 });
    const lo = await writeImage(dir, 'lo.jpg', rgb, width, height, { format: 'jpg', quality: 20 });
    expect(lo.bytes).toBeLessThan(hi.bytes);
    expect(psnr((await decodeRgb(lo.path)).data, rgb)).toBeLessThan(psnr((await decodeRgb(hi.path)).data, rgb));
    await expectCode(writeImage(dir, 'x.jpg', rgb, width, height, { quality: 0 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(writeImage(dir, 'x.jpg', rgb, width, height, { quality: 95.5 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(writeImage(dir, 'x.jpg', rgb, width, height, { format: 'tiff' as ImageFormat }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(writeImage(dir, 'x.jpg', rgb, width + 1, height), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(writeImage(dir, '../x.jpg', rgb, width, height), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(writeImage(join(dir, 'missing'), 'x.jpg', rgb, width, height), 'ERR_FRAMESIFT_OUTPUT');
    expect(readdirSync(dir).sort()).toEqual(['hi.jpg', 'lo.jpg']);
  });

  it('names carry the frame index and sort in time order', () => {
    expect(imageName(123, 'jpg')).toBe('frame_000123.jpg');
    expect(imageName(0, 'png')).toBe('frame_000000.png');
    expect(imageName(1234567, 'webp')).toBe('frame_1234567.webp');
    expect(imageNameDigits(-1)).toBe(6);
    expect(imageNameDigits(1_000_000)).toBe(6);
    expect(imageNameDigits(1_000_001)).toBe(7);
    const digits = imageNameDigits(2_500_000);
    const indices = [0, 9, 10, 99, 999_999, 1_000_000, 2_499_999, 123_456];
    const names = indices.map((i) => imageName(i, 'jpg', digits));
    const byName = [...names].sort();
    expect(byName.map((n) => Number(/\d+/.exec(n)![0]))).toEqual([...indices].sort((a, b) => a - b));
    expect(() => imageName(-1)).toThrow(/frameIndex/);
    expect(() => imageName(1.5)).toThrow(/frameIndex/);
  });
});

describe('ImageWriter', () => {
  const width = 640;
  const height = 360;
  const rgb = gradientRgb(width, height);

  it('writes every queued image with at most `concurrency` jobs and back-pressure', async () => {
    const writer = new ImageWriter(dir, { format: 'png', concurrency: 2, maxPending: 3 });
    let maxPending = 0;
    for (let i = 0; i < 8; i++) {
      await writer.ready();
      void writer.write(imageName(i * 10, 'png'), rgb, width, height);
      maxPending = Math.max(maxPending, writer.pending);
    }
    const images = await writer.flush();
    expect(maxPending).toBeLessThanOrEqual(3);
    expect(images.map((i) => i.name).sort()).toEqual(Array.from({ length: 8 }, (_, i) => imageName(i * 10, 'png')));
    expect(readdirSync(dir).sort()).toEqual(images.map((i) => i.name).sort());
    for (const image of images) expect((await decodeRgb(image.path)).data.equals(rgb)).toBe(true);
  });

  it('an abort drops the queue, leaves no temporary files and only complete images', async () => {
    const big = gradientRgb(1920, 1080);
    const controller = new AbortController();
    const writer = new ImageWriter(dir, { format: 'jpg', concurrency: 2, signal: controller.signal });
    const results = Array.from({ length: 10 }, (_, i) => writer.write(imageName(i, 'jpg'), big, 1920, 1080));
    await results[0];
    controller.abort();
    await expectCode(writer.flush(), 'ERR_FRAMESIFT_ABORTED');
    const settled = await Promise.allSettled(results);
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(5);
    expect(tempsIn(dir)).toEqual([]);
    const files = readdirSync(dir);
    expect(files.length).toBeLessThan(10);
    expect(files.length).toBe(settled.filter((s) => s.status === 'fulfilled').length);
    for (const file of files) {
      const meta = await sharp(join(dir, file)).metadata();
      expect([meta.width, meta.height]).toEqual([1920, 1080]);
    }
    await expectCode(writer.write('frame_000099.jpg', big, 1920, 1080), 'ERR_FRAMESIFT_ABORTED');
  });

  it('a failed write rejects flush() with ERR_FRAMESIFT_OUTPUT and leaves no temporary files', async () => {
    const writer = new ImageWriter(join(dir, 'missing'), { concurrency: 1 });
    const first = writer.write('frame_000001.jpg', rgb, width, height);
    const second = writer.write('frame_000002.jpg', rgb, width, height);
    await expectCode(first, 'ERR_FRAMESIFT_OUTPUT');
    await expectCode(second, 'ERR_FRAMESIFT_OUTPUT');
    await expectCode(writer.flush(), 'ERR_FRAMESIFT_OUTPUT');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('validates its options', async () => {
    await expectCode(() => new ImageWriter(dir, { concurrency: 0 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(() => new ImageWriter(dir, { concurrency: 2, maxPending: 1 }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(() => new ImageWriter(dir, { format: 'gif' as ImageFormat }), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(() => new ImageWriter(dir).write('a.jpg', Buffer.alloc(10), 4, 4), 'ERR_FRAMESIFT_INVALID_ARG');
  });
});

describe('output folder', () => {
  it('creates DIR/images, refuses a non-empty folder without force', async () => {
    const out = join(dir, 'out');
    const made = await prepareOutputDir(out);
    expect(made).toEqual({ dir: out, imagesDir: join(out, 'images'), staleRemoved: 0 });
    expect(existsSync(join(out, 'images'))).toBe(true);
    // Empty DIR/images only: still empty of files, but not empty as a folder.
    const err = await expectCode(prepareOutputDir(out), 'ERR_FRAMESIFT_OUTPUT');
    expect(err.message).toContain(out);
    expect(err.message).toContain('--force');
    await prepareOutputDir(join(dir, 'empty-ok'));
    mkdirSync(join(dir, 'existing-empty'));
    await prepareOutputDir(join(dir, 'existing-empty'));
    writeFileSync(join(dir, 'file'), 'x');
    await expectCode(prepareOutputDir(join(dir, 'file'), { force: true }), 'ERR_FRAMESIFT_OUTPUT');
    await expectCode(prepareOutputDir(''), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(prepareOutputDir(out, { force: 'yes' as unknown as boolean }), 'ERR_FRAMESIFT_INVALID_ARG');
  });

  it('force removes only what framesift writes and keeps user files', async () => {
    const out = join(dir, 'out');
    await prepareOutputDir(out);
    const ours = ['manifest.json', 'images.txt', 'pairs.txt', 'analysis.csv', '.manifest.json.1-ab.framesift-tmp'];
    for (const name of ours) writeFileSync(join(out, name), 'old');
    writeFileSync(join(out, 'images', 'frame_000001.jpg'), 'old');
    writeFileSync(join(out, 'images', '.frame_000002.jpg.1-cd.framesift-tmp'), 'half');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    mkdirSync(join(out, 'colmap'));
    writeFileSync(join(out, 'colmap', 'database.db'), 'mine');
    await prepareOutputDir(out, { force: true });
    expect(listTree(out)).toEqual(['colmap', 'colmap/database.db', 'images', 'notes.txt']);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('force refuses to mix or delete foreign files inside images/', async () => {
    const out = join(dir, 'out');
    await prepareOutputDir(out);
    writeFileSync(join(out, 'images', 'frame_000001.jpg'), 'old');
    writeFileSync(join(out, 'images', 'holiday.jpg'), 'mine');
    const err = await expectCode(prepareOutputDir(out, { force: true }), 'ERR_FRAMESIFT_OUTPUT');
    expect(err.message).toContain('holiday.jpg');
    expect(listTree(out)).toEqual(['images', 'images/frame_000001.jpg', 'images/holiday.jpg']);
  });

  it('cleanupPartial removes only temporary files', async () => {
    const { dir: out, imagesDir } = await prepareOutputDir(join(dir, 'out'));
    writeFileSync(tempPathFor(join(out, 'manifest.json')), '{');
    writeFileSync(tempPathFor(join(imagesDir, 'frame_000001.jpg')), 'half');
    writeFileSync(join(imagesDir, 'frame_000000.jpg'), 'done');
    expect(await cleanupPartial(out)).toBe(2);
    expect(listTree(out)).toEqual(['images', 'images/frame_000000.jpg']);
    expect(await cleanupPartial(join(dir, 'nowhere'))).toBe(0);
  });

  it("a dead run's temporary files in every folder it writes go before the next run; a live run's make the folder busy", async () => {
    const out = join(dir, 'out');
    const folders = ['', 'images', '.framesift', '.framesift/candidates', 'colmap', 'report'];
    // Named as a run with pid 2^22 + 1 would name them: above Linux's pid_max, so never alive.
    const dead = (folder: string) => join(out, folder, `.file.${2 ** 22 + 1}-0a0b0c0d.framesift-tmp`);
    for (const folder of folders) mkdirSync(join(out, folder), { recursive: true });
    for (const folder of folders) writeFileSync(dead(folder), 'half');
    const made = await prepareOutputDir(out);
    expect(made.staleRemoved).toBe(folders.length);
    expect(listTree(out)).toEqual(['images']);

    writeFileSync(tempPathFor(join(out, 'images', 'frame_000001.jpg')), 'half');
    const busy = await expectCode(prepareOutputDir(out), 'ERR_FRAMESIFT_OUTPUT');
    expect(busy.message).toContain(`process ${process.pid}`);
    expect(await cleanupPartial(out)).toBe(1);
  });
});

describe('manifest', () => {
  it('the schema file is valid draft 2020-12 and accepts a full example', async () => {
    const schema = JSON.parse(readFileSync(MANIFEST_SCHEMA_PATH, 'utf8'));
    const check = new Ajv2020({ strict: true }).compile(schema);
    expect(check(fullManifest())).toBe(true);
    expect(validateManifest(fullManifest())).toEqual({ valid: true, errors: [] });
    const minimal: Manifest = {
      ...fullManifest(),
      device: null,
      tracks: null,
      frames: [],
      sequences: [],
      links: [],
      counts: { analysed: 0, candidates: 0, chosen: 0, rejected: 0 },
      rejected: { total: 0, byReason: {} },
    };
    expect(validateManifest(minimal).errors).toEqual([]);
  });

  const broken: Array<[string, (m: any) => void, RegExp]> = [
    ['missing schemaVersion', (m) => delete m.schemaVersion, /schemaVersion/],
    ['another schemaVersion', (m) => (m.schemaVersion = 2), /schemaVersion/],
    ['negative frameIndex', (m) => (m.frames[0].frameIndex = -1), /frames\/0\/frameIndex/],
    ['fractional frameIndex', (m) => (m.frames[0].frameIndex = 1.5), /frames\/0\/frameIndex/],
    ['NaN metric', (m) => (m.frames[0].metrics.laplacianVar = NaN), /frames\/0\/metrics\/laplacianVar/],
    ['string score', (m) => (m.frames[1].score = '0.7'), /frames\/1\/score/],
    ['missing reasons', (m) => delete m.frames[0].reasons, /reasons/],
    ['unknown top-level field', (m) => (m.extra = 1), /additional/],
    ['bad createdAt', (m) => (m.createdAt = 'yesterday'), /createdAt/],
    ['bad link status', (m) => (m.links[0].status = 'fine'), /links\/0\/status/],
    ['bad rotation', (m) => (m.input.probe.rotation = 45), /rotation/],
    ['device without provider', (m) => delete m.device.provider, /device/],
    ['negative timing', (m) => (m.timings.decode = -1), /timings\/decode/],
    ['chosen count disagrees', (m) => (m.counts.chosen = 3), /counts\/chosen/],
    ['rejected total disagrees', (m) => (m.rejected.byReason.blur = 21), /rejected\/total/],
    ['frames out of order', (m) => (m.frames[1].frameIndex = 5), /frames\/1\/frameIndex/],
    ['unknown sequence', (m) => (m.frames[1].sequence = 4), /frames\/1\/sequence/],
  ];
  it.each(broken)('rejects %s', (_label, breakIt, expected) => {
    const m = fullManifest();
    breakIt(m);
    const result = validateManifest(m);
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(expected);
  });

  it('writeManifest writes valid JSON atomically and fails loudly on an invalid manifest', async () => {
    const path = await writeManifest(dir, fullManifest());
    expect(path).toBe(join(dir, 'manifest.json'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(fullManifest());
    const bad = fullManifest();
    (bad.frames[0] as { frameIndex: number }).frameIndex = -3;
    const err = await expectCode(writeManifest(join(dir, 'other'), bad), 'ERR_FRAMESIFT_INTERNAL');
    expect(err.message).toContain('/frames/0/frameIndex');
    await expectCode(writeManifest(join(dir, 'missing'), fullManifest()), 'ERR_FRAMESIFT_OUTPUT');
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });
});

describe('COLMAP lists', () => {
  it('images.txt: one name per line, in order; duplicates and white space refused', async () => {
    const names = ['frame_000012.jpg', 'frame_000345.jpg', 'frame_001000.jpg'];
    await writeImageList(dir, names);
    expect(readFileSync(join(dir, 'images.txt'), 'utf8')).toBe('frame_000012.jpg\nframe_000345.jpg\nframe_001000.jpg\n');
    await expectCode(writeImageList(dir, ['a.jpg', 'a.jpg']), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(writeImageList(dir, ['my frame.jpg']), 'ERR_FRAMESIFT_INVALID_ARG');
    await writeImageList(dir, []);
    expect(readFileSync(join(dir, 'images.txt'), 'utf8')).toBe('');
  });

  it('pairs.txt: "a b" lines, unordered duplicates and self pairs dropped, first order kept', async () => {
    const { count } = await writePairs(dir, [
      ['f1.jpg', 'f2.jpg'],
      ['f2.jpg', 'f3.jpg'],
      ['f2.jpg', 'f1.jpg'],
      ['f3.jpg', 'f3.jpg'],
      ['f1.jpg', 'f3.jpg'],
      ['f3.jpg', 'f2.jpg'],
      ['f1.jpg', 'f2.jpg'],
    ]);
    expect(count).toBe(3);
    expect(readFileSync(join(dir, 'pairs.txt'), 'utf8')).toBe('f1.jpg f2.jpg\nf2.jpg f3.jpg\nf1.jpg f3.jpg\n');
    await expectCode(writePairs(dir, [['a b.jpg', 'c.jpg']]), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(writePairs(dir, [['a.jpg'] as unknown as [string, string]]), 'ERR_FRAMESIFT_INVALID_ARG');
    expect(tempsIn(dir)).toEqual([]);
  });
});

describe('analysis.csv', () => {
  it('writes columns in order, batch by batch, with compact numbers and RFC 4180 quoting', async () => {
    const csv = await AnalysisCsv.open(dir);
    await csv.addRows(
      {
        fate: ['chosen', 'rejected:blur'],
        motion: new Float32Array([0.5, 12.25]),
        sharpness: [123.4567891, NaN],
        ptsSec: [0, 0.0333667],
        frameIndex: new Int32Array([0, 1]),
        note: ['a, "quoted" one', 'line\nbreak'],
      },
      2,
    );
    // Same columns in another order, longer arrays than count: only `count` rows are taken.
    await csv.addRows(
      {
        frameIndex: [2, 3, 99],
        ptsSec: [3723.4567891, 1e-7, 0],
        sharpness: [1e-9, Infinity, 0],
        note: ['plain', ' padded', 'x'],
        motion: [1234567.89, -0.1, 0],
        fate: ['candidate', 'usable', 'x'],
      },
      2,
    );
    expect(csv.header).toEqual(['frameIndex', 'ptsSec', 'sharpness', 'note', 'motion', 'fate']);
    expect(existsSync(join(dir, 'analysis.csv'))).toBe(false);
    expect(await csv.close()).toBe(join(dir, 'analysis.csv'));
    expect(readFileSync(join(dir, 'analysis.csv'), 'utf8')).toBe(
      [
        'frameIndex,ptsSec,sharpness,note,motion,fate',
        '0,0,123.457,"a, ""quoted"" one",0.5,chosen',
        '1,0.033367,,"line\nbreak",12.25,rejected:blur',
        '2,3723.456789,1e-9,plain,1234570,candidate',
        '3,0,inf," padded",-0.1,usable',
        '',
      ].join('\n'),
    );
    expect(csv.rows).toBe(4);
    expect(tempsIn(dir)).toEqual([]);
    await expectCode(() => csv.addRows({}, 0), 'ERR_FRAMESIFT_CLOSED');
  });

  it('abort removes the temporary file; bad batches are refused', async () => {
    const csv = await AnalysisCsv.open(dir);
    expect(tempsIn(dir).length).toBe(1);
    const cols = { frameIndex: [0], ptsSec: [0], motion: [0], fate: ['usable'] };
    void csv.addRows(cols, 1);
    await expectCode(() => csv.addRows({ frameIndex: [0], ptsSec: [0], fate: ['usable'] }, 1), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(() => csv.addRows({ ...cols, blur: [1] }, 1), 'ERR_FRAMESIFT_INVALID_ARG');
    await expectCode(() => csv.addRows(cols, 2), 'ERR_FRAMESIFT_INVALID_ARG');
    await csv.abort();
    expect(readdirSync(dir)).toEqual([]);
    await csv.abort();
    const other = await AnalysisCsv.open(dir);
    await expectCode(() => other.addRows({ frameIndex: [0], ptsSec: [0] }, 1), 'ERR_FRAMESIFT_INVALID_ARG');
    await other.close();
    expect(readFileSync(join(dir, 'analysis.csv'), 'utf8')).toBe('frameIndex,ptsSec,motion,fate\n');
  });

  it('formats numbers compactly', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(2 / 3)).toBe('0.666667');
    expect(formatNumber(-Infinity)).toBe('-inf');
    expect(formatNumber(12.3456789, true)).toBe('12.345679');
  });
});
