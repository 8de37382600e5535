/**
 * The public API as a user's program writes it: compiled with `tsc --noEmit` (strict,
 * skipLibCheck off) inside a fresh project that installed the packed tarball
 * (test/package/pack-install.test.ts). The @ts-expect-error lines must stay errors: they pin
 * what `framesift` does not export or accept.
 */
import { extractFrames, FramesiftError, isFramesiftError, openVideo, probe, runDoctor, validateManifest, type DoctorReport, type ExtractOptions, type Manifest, type Progress, type VideoInfo } from 'framesift';
import { Embedder, measureFrames, type EmbedderOptions } from 'framesift/internals';

export async function example(video: string): Promise<void> {
  const info: VideoInfo = await probe(video);
  const width: number = info.width;
  const controller = new AbortController();
  const options: ExtractOptions = {
    outDir: 'out/walk',
    count: 40,
    mode: 'balanced',
    signal: controller.signal,
    onProgress: (p: Progress) => console.log(p.stage, p.done, p.total, p.etaSec ?? 0, width),
  };
  const manifest: Manifest = await extractFrames(video, options);
  const files: string[] = manifest.frames.map((f) => f.file);
  console.log(files, validateManifest(manifest));

  const decoder = await openVideo(video, { analysisSize: 640, sampling: 'fps', fps: 2 });
  for await (const batch of decoder.batches()) {
    for (const frame of batch.frames) {
      const gray: Buffer | undefined = frame.gray;
      console.log(gray?.length);
      frame.release();
    }
  }

  const report: DoctorReport = await runDoctor({ outDir: 'out' });
  if (!report.extractCanRun) console.log(report.checks.filter((c) => c.status === 'fail').map((c) => c.fix));

  try {
    await probe('missing.mp4');
  } catch (err) {
    if (isFramesiftError(err, 'ERR_FRAMESIFT_NOT_FOUND')) console.log(err.code, err.input);
    if (err instanceof FramesiftError && err.code === 'ERR_FRAMESIFT_ONNXRUNTIME_MISSING') console.log(err.message);
  }

  const embedderOptions: EmbedderOptions = { model: 'model.onnx', device: 'cpu' };
  const embedder = await Embedder.create(embedderOptions);
  console.log(embedder.info.provider, typeof measureFrames);

  // @ts-expect-error stage internals are not part of the main entry point
  await import('framesift').then((m) => m.measureFrames);
  // @ts-expect-error count is a number
  await extractFrames(video, { outDir: 'out', count: 'forty' });
  // @ts-expect-error mode is one of fast | balanced | high_quality
  await extractFrames(video, { outDir: 'out', mode: 'slow' });
}
