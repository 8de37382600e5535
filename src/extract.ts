/**
 * extractFrames(): the whole job. Streams the video once at analysis size for the cheap metrics,
 * picks candidates, describes only them (SIFT, DINO), selects with SfM checks, then fetches the
 * chosen frames at full resolution and writes images, manifest, COLMAP lists and analysis.csv.
 * Memory stays bounded: no stage holds more than a few batches of frames.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from '../bindings/index.js';
import { Embedder } from './embed/index.js';
import { FramesiftError } from './errors.js';
import { silentLogger } from './log.js';
import {
  AnalysisCsv,
  cleanupPartial,
  ImageWriter,
  imageName,
  imageNameDigits,
  prepareOutputDir,
  writeImageList,
  writeManifest,
  writePairs,
  type Manifest,
  type ManifestColmap,
  type ManifestFrame,
} from './output/index.js';
import { CandidateImages } from './pipeline/candidate-images.js';
import { colmapStage } from './pipeline/colmap-export.js';
import { describeCandidates, Descriptions } from './pipeline/describe.js';
import { fetchFullFrames } from './pipeline/fetch.js';
import { buildFrameTable } from './pipeline/frame-table.js';
import { makeVerifier, pickGraph } from './pipeline/links.js';
import { measureVideo, PASS1_FIELDS } from './pipeline/measure.js';
import { resolveExtractOptions, type ExtractOptions, type ResolvedExtractOptions } from './pipeline/options.js';
import { ProgressReporter, type Stage } from './pipeline/progress.js';
import { findColmap, reconstruct } from './pipeline/reconstruct.js';
import { fateLabel, findCandidates, selectFrames, type FrameTable, type Selection } from './select/index.js';

export type { ExtractOptions } from './pipeline/options.js';
export type { Progress } from './pipeline/progress.js';
export type { Manifest } from './output/index.js';

function toolVersion(): string {
  return JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')).version;
}

/** Seconds per stage, and the peak resident memory seen at stage boundaries. */
class StageClock {
  readonly timings: Record<string, number> = {};
  peakRss = process.memoryUsage().rss;
  #current: Stage | undefined;
  #started = 0;
  start(stage: Stage): void {
    this.stop();
    this.#current = stage;
    this.#started = performance.now();
  }
  stop(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
    if (this.#current) this.timings[this.#current] = (this.timings[this.#current] ?? 0) + (performance.now() - this.#started) / 1000;
    this.#current = undefined;
  }
}

export async function extractFrames(input: string, options: ExtractOptions): Promise<Manifest> {
  const resolved = resolveExtractOptions(options);
  const checkpoint = () => {
    if (resolved.signal?.aborted) throw new FramesiftError(`${input}: aborted`, 'ERR_FRAMESIFT_ABORTED', { input });
  };
  checkpoint();
  const logger = options.logger ?? silentLogger;
  const progress = new ProgressReporter(options.onProgress);
  const clock = new StageClock();
  // A missing COLMAP fails now, not after the extraction.
  const colmapBinary = resolved.reconstruct ? await findColmap() : undefined;
  const out = await prepareOutputDir(resolved.outDir, { force: resolved.force });
  let embedder: Embedder | undefined;
  let descriptions: Descriptions | undefined;
  let candidateImages: CandidateImages | undefined;
  const sampler = setInterval(() => (clock.peakRss = Math.max(clock.peakRss, process.memoryUsage().rss)), 250);
  sampler.unref();
  try {
    if (resolved.model) {
      embedder = await Embedder.create({
        model: resolved.model,
        device: resolved.device,
        strict: resolved.strictDevice,
        ...(resolved.maxMemoryMB ? { maxMemory: resolved.maxMemoryMB * 1024 * 1024 } : {}),
        logger,
      });
      logger.info({ provider: embedder.info.provider, fallback: embedder.info.fallback }, 'model loaded');
    }

    clock.start('measure');
    candidateImages = new CandidateImages(out.imagesDir, resolved.format, resolved.quality, resolved.signal);
    descriptions = new Descriptions({
      detector: resolved.preset.detector,
      maxFeatures: resolved.preset.maxFeatures,
      threads: resolved.threads,
      embedder,
      images: candidateImages,
    });
    // Fast mode on a video describes and encodes during this pass already (single-pass.ts).
    const measured = await measureVideo(input, resolved, progress, logger, descriptions);
    const warnings = [...measured.warnings];
    if (measured.columns.length === 0) {
      throw new FramesiftError(`${input}: no frame could be analysed`, 'ERR_FRAMESIFT_DECODE', { input });
    }
    const longestSide = Math.max(measured.analysisWidth, measured.analysisHeight);
    const table = buildFrameTable(measured.columns, longestSide, embedder !== undefined);
    descriptions.applyTo(table);

    checkpoint();
    clock.start('candidates');
    progress.stage('candidates');
    let eligible: Uint8Array | undefined;
    if (measured.kept) {
      eligible = new Uint8Array(table.length);
      for (const row of measured.kept) eligible[row] = 1;
    }
    const stage = findCandidates(table, resolved.select, eligible);

    checkpoint();
    clock.start('describe');
    await describeCandidates(input, table, stage.candidates, resolved, descriptions, progress, measured.keyframeTimes);

    checkpoint();
    clock.start('select');
    progress.stage('select');
    const selection = await selectFrames(table, resolved.select, makeVerifier(table, descriptions), stage);
    warnings.push(...selection.warnings);

    checkpoint();
    clock.start('tracks');
    progress.stage('tracks');
    const pickRows = selection.picks.map((p) => p.row);
    const graph = await pickGraph(pickRows, table, descriptions, resolved.preset.matchWindow, resolved.colmap);

    checkpoint();
    clock.start('write');
    const digits = imageNameDigits(Math.max(measured.info.frameCount, table.index[table.length - 1]! + 1));
    const names = selection.picks.map((p) => imageName(p.frameIndex, resolved.format, digits));
    // Chosen candidates were encoded during the describe pass: rename them into place. Only a
    // pick without its image (an encode that failed) is decoded again.
    progress.stage('write', selection.picks.length);
    await candidateImages.flush();
    const written = new Set<string>();
    const missing: number[] = [];
    for (const [k, pick] of selection.picks.entries()) {
      if (candidateImages.has(pick.row)) {
        await candidateImages.promote(pick.row, names[k]!);
        written.add(names[k]!);
      } else missing.push(k);
    }
    await candidateImages.discardRest();
    if (missing.length > 0) {
      const nameByPts = new Map(missing.map((k) => [selection.picks[k]!.ptsSec.toFixed(4), names[k]!]));
      const writer = new ImageWriter(out.imagesDir, { format: resolved.format, quality: resolved.quality, ...(resolved.signal ? { signal: resolved.signal } : {}) });
      await fetchFullFrames(input, missing.map((k) => selection.picks[k]!.ptsSec), resolved, progress, measured.keyframeTimes, async (frame) => {
        const name = nameByPts.get(frame.ptsSec.toFixed(4));
        if (!name) return frame.release();
        await writer.ready();
        // The writer reads the pixels asynchronously: release the frame once it is encoded.
        writer.write(name, frame.rgb, frame.width, frame.height).then(() => void written.add(name), () => undefined).finally(() => frame.release());
      });
      await writer.flush();
    }
    checkpoint();
    const unwritten = selection.picks.length - written.size;
    if (unwritten > 0) warnings.push(`${unwritten} chosen frames could not be written at full resolution`);

    const frames = manifestFrames(selection, table, names, measured.columns.fields).filter((f) => written.has(f.file));
    await writeImageList(out.dir, frames.map((f) => f.file));
    const pairs = pairsToMatch(selection, graph.verifiedPairs, names, table, resolved.preset.matchWindow);
    await writePairs(out.dir, pairs);
    await writeAnalysisCsv(out.dir, table, selection, measured.columns);
    let colmap: ManifestColmap | undefined;
    if (resolved.colmap) {
      clock.start('colmap');
      progress.stage('colmap', frames.length);
      const features = pickRows.map((row) => descriptions!.features.get(row));
      colmap = await colmapStage({ outDir: out.dir, imagesDir: out.imagesDir, names, written, features, matched: graph.matched, pairs, ...(resolved.signal ? { signal: resolved.signal } : {}) });
      if (colmapBinary) {
        checkpoint();
        clock.start('reconstruct');
        progress.stage('reconstruct', frames.length);
        colmap.reconstruction = await reconstruct({
          colmap: colmapBinary,
          outDir: out.dir,
          databasePath: join(out.dir, colmap.database),
          imagesDir: out.imagesDir,
          images: frames.length,
          threads: resolved.threads,
          logger,
          onProgress: (registered) => progress.update(registered, frames.length),
          ...(resolved.signal ? { signal: resolved.signal } : {}),
        });
        if (colmap.reconstruction.error) warnings.push(colmap.reconstruction.error);
      }
    }
    clock.stop();

    const manifest: Manifest = {
      schemaVersion: 1,
      tool: { name: 'framesift', version: toolVersion() },
      createdAt: new Date().toISOString(),
      input: { path: input, probe: { ...measured.info } },
      config: effectiveConfig(resolved, selection),
      device: embedder ? { provider: embedder.info.provider, requested: resolved.device, ...(embedder.info.fallback ? { fallback: embedder.info.fallback.reason } : {}) } : null,
      frames,
      rejected: { total: Object.values(selection.rejectedByReason).reduce((a, b) => a + b, 0), byReason: { ...selection.rejectedByReason } },
      counts: {
        analysed: table.length,
        candidates: selection.stats.candidates,
        chosen: frames.length,
        rejected: Object.values(selection.rejectedByReason).reduce((a, b) => a + b, 0),
      },
      sequences: selection.sequences.map((s, id) => ({ id, firstFrame: s.firstFrame, lastFrame: s.lastFrame, count: s.picks })),
      links: selection.links.map((l) => ({ fromFrame: l.fromFrame, toFrame: l.toFrame, inliers: l.inliers, parallaxPx: l.parallaxPx, degenerate: l.degenerate, status: l.status })),
      tracks: graph.tracks ? { tracks2: graph.tracks.tracks2, tracks3: graph.tracks.tracks3, meanLength: graph.tracks.meanLength, histogram: graph.tracks.histogram } : null,
      timings: clock.timings,
      peakRssMB: Math.round(clock.peakRss / 2 ** 20),
      warnings: embedder?.info.fallback ? [`${resolved.device} unavailable (${embedder.info.fallback.reason}); ran on ${embedder.info.provider}`, ...warnings] : warnings,
      ...(colmap ? { colmap } : {}),
    };
    checkpoint();
    await writeManifest(out.dir, manifest);
    progress.stage('done');
    return manifest;
  } catch (err) {
    // Nothing half-written stays behind: temporary files go; complete images stay.
    await candidateImages?.flush().catch(() => undefined);
    await cleanupPartial(out.dir).catch(() => undefined);
    if (resolved.signal?.aborted && !(err instanceof FramesiftError && err.code === 'ERR_FRAMESIFT_ABORTED')) {
      throw new FramesiftError(`${input}: aborted`, 'ERR_FRAMESIFT_ABORTED', { input, cause: err });
    }
    throw err;
  } finally {
    clearInterval(sampler);
    descriptions?.dispose();
    await embedder?.close();
  }
}

/** The metric columns reported per chosen frame (raw values and scores of pass 1). */
function manifestFrames(selection: Selection, table: FrameTable, names: string[], fields: Record<string, Float32Array>): ManifestFrame[] {
  return selection.picks.map((pick, k) => {
    const metrics: Record<string, number> = {};
    for (const [name, column] of Object.entries(fields)) {
      const value = column[pick.row]!;
      if (Number.isFinite(value)) metrics[name] = round(value);
    }
    const subScores: Record<string, number> = {};
    for (const [name, value] of Object.entries(pick.subScores)) if (typeof value === 'number' && Number.isFinite(value)) subScores[name] = round(value);
    return {
      file: names[k]!,
      frameIndex: pick.frameIndex,
      ptsSec: round(pick.ptsSec, 6),
      score: round(pick.score),
      sequence: pick.sequence,
      metrics,
      subScores,
      reasons: [...pick.reasons],
      explanation: pick.explanation,
    };
  });
}

function round(value: number, digits = 5): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Consecutive links, window neighbours that verified, and revisits by embedding. */
function pairsToMatch(selection: Selection, verified: Array<[number, number]>, names: string[], table: FrameTable, window: number): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const n = selection.picks.length;
  for (let i = 0; i + 1 < n; i++) pairs.push([names[i]!, names[i + 1]!]);
  for (const [i, j] of verified) pairs.push([names[i]!, names[j]!]);
  const embedding = table.embedding;
  if (embedding) {
    // A revisit: a pick far in the sequence that looks like this one (loop closure for COLMAP).
    const vectors = selection.picks.map((p) => embedding.get(p.row));
    for (let i = 0; i < n; i++) {
      for (let j = i + window + 1; j < n; j++) {
        const a = vectors[i];
        const b = vectors[j];
        if (!a || !b) continue;
        let dot = 0;
        for (let d = 0; d < a.length; d++) dot += a[d]! * b[d]!;
        if (dot >= 0.85) pairs.push([names[i]!, names[j]!]);
      }
    }
  }
  return pairs;
}

async function writeAnalysisCsv(dir: string, table: FrameTable, selection: Selection, columns: { fields: Record<string, Float32Array> }): Promise<void> {
  const csv = await AnalysisCsv.open(dir);
  try {
    const n = table.length;
    const fate = Array.from(selection.fate.subarray(0, n), (code) => fateLabel(code));
    const metricColumns: Record<string, ArrayLike<number>> = {};
    for (const name of PASS1_FIELDS) metricColumns[name] = columns.fields[name]!.subarray(0, n);
    await csv.addRows(
      {
        frameIndex: table.index.subarray(0, n),
        ptsSec: table.ptsSec.subarray(0, n),
        ...metricColumns,
        features: table.features.subarray(0, n),
        featureCoverage: table.coverage.subarray(0, n),
        motion: table.motionPx.subarray(0, n),
        fate,
      },
      n,
    );
    await csv.close();
  } catch (err) {
    await csv.abort();
    throw err;
  }
}

function effectiveConfig(resolved: ResolvedExtractOptions, selection: Selection): Record<string, unknown> {
  const { select: _select, signal: _signal, ...rest } = resolved;
  return { ...rest, select: selection.options };
}
