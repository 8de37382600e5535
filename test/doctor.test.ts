/**
 * `framesift doctor` on this machine (src/doctor.ts): what extract needs passes, onnxruntime's
 * CPU provider runs the built-in Identity model, CUDA names its missing library, a folder that
 * cannot be written fails the report with its fix. The whole CLI in an installed package is
 * tested by test/package/pack-install.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { formatDoctorReport, runDoctor, type DoctorReport } from '../src/doctor.js';
import { identityModel } from '../src/embed/provider-check.js';
import { loadOnnxRuntime } from '../src/embed/runtime.js';

const work = mkdtempSync(join(tmpdir(), 'framesift-doctor-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const check = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id)!;

describe('doctor', () => {
  it('passes on this machine and reports every area', async () => {
    const report = await runDoctor({ outDir: join(work, 'new', 'out') });
    expect(report.extractCanRun).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(['node', 'addon', 'libraries', 'decoders', '10-bit', 'onnxruntime', 'provider:cpu', 'provider:cuda', 'provider:tensorrt', 'provider:coreml', 'gpus', 'machine', 'ffmpeg', 'output']);
    expect(check(report, 'libraries').detail).toMatch(/^libav \S+ \(libavformat \d+\.\d+\.\d+, libavcodec \d+\.\d+\.\d+.*OpenCV 4\.\d+\.\d+/);
    expect(check(report, 'decoders').status).toBe('ok');
    expect(check(report, '10-bit')).toMatchObject({ status: 'ok' });
    expect(check(report, 'provider:cpu')).toMatchObject({ status: 'ok', detail: 'loads (a test session ran)' });
    // No GPU here: CUDA is a warning with the reason and the fix, never a failure.
    expect(check(report, 'provider:cuda').status).toBe('warn');
    expect(check(report, 'provider:cuda').detail).toContain('libonnxruntime_providers_cuda.so');
    expect(check(report, 'provider:cuda').fix).toContain('GPU servers');
    expect(check(report, 'output')).toMatchObject({ status: 'ok', detail: `${join(work, 'new', 'out')} can be created (in ${work})` });
    const text = formatDoctorReport(report);
    expect(text).toContain('framesift extract can run here.');
    expect(text).toMatch(/warn\s+provider:cuda .*\n\s+fix: CUDA 12/);
  });

  it('fails when the output folder cannot be written, with the fix', async () => {
    writeFileSync(join(work, 'a-file'), '');
    const report = await runDoctor({ outDir: join(work, 'a-file', 'out') });
    expect(report.extractCanRun).toBe(false);
    expect(check(report, 'output')).toMatchObject({ status: 'fail', detail: `${join(work, 'a-file', 'out')} cannot be written: ${join(work, 'a-file')} is a file, not a folder`, fix: 'choose another -o folder' });
    expect(formatDoctorReport(report)).toContain('framesift extract cannot run here: fix the failed checks above.');
  });

  it('builds an ONNX model onnxruntime accepts: y = x', async () => {
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(identityModel(), { executionProviders: ['cpu'] });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(-3.25), [1]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([-3.25]);
    expect(session.inputNames).toEqual(['x']);
    await session.release();
  });
});
