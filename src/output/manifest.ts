/**
 * DIR/manifest.json: what was chosen from which video, why, and what was left out. The JSON
 * Schema (manifest.schema.json, draft 2020-12) is the contract; the Manifest type mirrors it.
 * writeManifest() validates before writing, so a bug that builds an invalid manifest fails
 * loudly (ERR_FRAMESIFT_INTERNAL) instead of handing users a file their tools reject.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

import { FramesiftError, invalidArg } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { MANIFEST_FILE } from './out-dir.js';
import schema from './manifest.schema.json' with { type: 'json' };

export const MANIFEST_SCHEMA_VERSION = 1;
/** Absolute path of manifest.schema.json (shipped beside this module). */
export const MANIFEST_SCHEMA_PATH: string = fileURLToPath(new URL('./manifest.schema.json', import.meta.url));
export const manifestSchema: object = schema;

export interface ManifestProbe {
  container: string;
  codec: string;
  width: number;
  height: number;
  /** Clockwise degrees applied to display the frames upright: 0, 90, 180 or 270. */
  rotation: number;
  pixelFormat: string;
  bitDepth: number;
  avgFrameRate: number;
  durationSec: number;
  /** -1 when the container does not declare it. */
  frameCount: number;
  variableFrameRate: boolean;
  isImageSequence: boolean;
  /** Further probe fields are kept as they are. */
  [field: string]: unknown;
}

export interface ManifestFrame {
  /** File name inside DIR/images. */
  file: string;
  frameIndex: number;
  ptsSec: number;
  score: number;
  /** Id of the sequence (ManifestSequence.id) the frame belongs to. */
  sequence: number;
  metrics: Record<string, number>;
  subScores: Record<string, number>;
  reasons: string[];
  explanation: string;
}

export interface ManifestSequence {
  id: number;
  firstFrame: number;
  lastFrame: number;
  count: number;
}

export type ManifestLinkStatus = 'ok' | 'bridged' | 'moved' | 'weak' | 'broken' | 'unverified';

export interface ManifestLink {
  fromFrame: number;
  toFrame: number;
  inliers: number;
  parallaxPx: number;
  degenerate: boolean;
  status: ManifestLinkStatus;
}

export interface ManifestTracks {
  tracks2: number;
  tracks3: number;
  meanLength: number;
  /** histogram[k]: tracks of length k. */
  histogram: number[];
}

/** colmap mapper's result (--reconstruct), from model_analyzer on the largest model. */
export interface ManifestReconstruction {
  status: 'ok' | 'failed';
  /** Relative to DIR; models in numbered subfolders. */
  sparseDir: string;
  command: string;
  models: number;
  bestModel: string | null;
  imagesRegistered: number;
  images: number;
  points3D: number;
  observations: number;
  meanTrackLength: number | null;
  meanReprojectionErrorPx: number | null;
  seconds: number;
  error?: string;
}

/** --colmap: what DIR/colmap/database.db holds. */
export interface ManifestColmap {
  /** Relative to DIR. */
  database: string;
  features: 'analysis' | 'full' | 'mixed';
  camera: { model: string; width: number; height: number; focalPx: number; priorFocalLength: boolean };
  cameras: number;
  images: number;
  keypoints: number;
  matchedPairs: number;
  verifiedPairs: number;
  /** Verified pairs beyond pairs.txt (loop candidates matched for the database). */
  loopPairs: number;
  inlierMatches: number;
  seconds: number;
  reconstruction: ManifestReconstruction | null;
}

export interface Manifest {
  schemaVersion: 1;
  tool: { name: string; version: string };
  /** ISO 8601 (new Date().toISOString()). */
  createdAt: string;
  input: { path: string; probe: ManifestProbe };
  /** Effective options after defaults, config file and flags. */
  config: Record<string, unknown>;
  /** Null when no model ran. */
  device: { provider: string; requested: string; fallback?: string } | null;
  frames: ManifestFrame[];
  rejected: { total: number; byReason: Record<string, number> };
  counts: { analysed: number; candidates: number; chosen: number; rejected: number };
  sequences: ManifestSequence[];
  links: ManifestLink[];
  tracks: ManifestTracks | null;
  /** Seconds per stage. */
  timings: Record<string, number>;
  /** Process CPU seconds per stage (every thread), beside the wall `timings`. */
  cpuTimings?: Record<string, number>;
  peakRssMB: number;
  warnings: string[];
  /** Only with --colmap. */
  colmap?: ManifestColmap;
  /** How the video was decoded: one pass, or a second for candidates pass 1 did not keep. */
  decode?: ManifestDecode;
}

export interface ManifestDecode {
  /** 1: every image came from pass 1; 2: some candidates were decoded again. */
  passes: 1 | 2;
  /** What pass 1 decoded: every frame, or GOP heads at a sampled rate (fast mode). */
  pass1: 'all' | 'gop-heads';
  /** Frames each pass decoded (write: chosen frames whose image had to be fetched again). */
  framesDecoded: { measure: number; describe: number; write?: number };
  /** Frames pass 1 kept, described and encoded. */
  kept: number;
  /** Frames whose local features were extracted (SIFT/ORB), in any pass: a one-pass run describes only the candidates among the kept frames. */
  described?: number;
  /** balanced / high_quality: why pass 1 kept nothing (a count dense in frames, an image sequence, --two-pass). */
  fallback?: 'dense-count' | 'image-sequence' | 'requested';
  /** One pass (balanced, high_quality): the global rule's candidates, kept by pass 1, replaced by a kept row of their bin, or decoded again. */
  candidates?: { global: number; kept: number; replaced: number; fetched: number };
}

export interface ManifestValidation {
  valid: boolean;
  /** "<JSON pointer> <problem>" lines; empty when valid. */
  errors: string[];
}

// strictNumbers: NaN and Infinity are not numbers a JSON reader can get back.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictNumbers: true });
const schemaCheck = ajv.compile(schema);

/**
 * Checks a manifest object against the schema and the rules a schema cannot say (counts that
 * must agree, frames in time order, unique file names). Validates what JSON.stringify would
 * write, so NaN (written as null) or a Date (written as a string) are judged as on disk.
 */
export function validateManifest(value: unknown): ManifestValidation {
  let data: unknown;
  try {
    data = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  } catch (err) {
    return { valid: false, errors: [`/ cannot be written as JSON: ${(err as Error).message}`] };
  }
  if (!schemaCheck(data)) {
    const errors = (schemaCheck.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    return { valid: false, errors };
  }
  const errors = consistencyErrors(data as unknown as Manifest);
  return { valid: errors.length === 0, errors };
}

/** Validates, then writes DIR/manifest.json atomically. Returns the file's path. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<string> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('dir', 'a folder path', dir);
  const check = validateManifest(manifest);
  if (!check.valid) {
    throw new FramesiftError(
      `Internal error: the manifest does not match its schema (${check.errors.slice(0, 5).join('; ')})`,
      'ERR_FRAMESIFT_INTERNAL',
    );
  }
  const path = join(dir, MANIFEST_FILE);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return path;
}

function consistencyErrors(m: Manifest): string[] {
  const errors: string[] = [];
  if (m.counts.chosen !== m.frames.length) {
    errors.push(`/counts/chosen is ${m.counts.chosen} but frames holds ${m.frames.length}`);
  }
  const byReasonSum = Object.values(m.rejected.byReason).reduce((a, b) => a + b, 0);
  if (byReasonSum !== m.rejected.total) errors.push(`/rejected/total is ${m.rejected.total} but byReason sums to ${byReasonSum}`);
  if (m.counts.rejected !== m.rejected.total) {
    errors.push(`/counts/rejected is ${m.counts.rejected} but rejected.total is ${m.rejected.total}`);
  }
  const files = new Set<string>();
  const sequenceIds = new Set(m.sequences.map((s) => s.id));
  m.frames.forEach((frame, i) => {
    if (i > 0 && frame.frameIndex <= m.frames[i - 1]!.frameIndex) errors.push(`/frames/${i}/frameIndex is not after the previous frame's`);
    if (files.has(frame.file)) errors.push(`/frames/${i}/file ${frame.file} is listed twice`);
    files.add(frame.file);
    if (m.sequences.length > 0 && !sequenceIds.has(frame.sequence)) errors.push(`/frames/${i}/sequence ${frame.sequence} is not a sequence id`);
  });
  m.sequences.forEach((s, i) => {
    if (s.lastFrame < s.firstFrame) errors.push(`/sequences/${i} ends (${s.lastFrame}) before it starts (${s.firstFrame})`);
  });
  return errors;
}
