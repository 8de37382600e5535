/**
 * The short account of one run: what `extract --json` prints and what a queue job stores as
 * its result. Everything else is in the manifest it summarises.
 */
import type { Manifest, ManifestColmap } from './manifest.js';

export interface RunSummary {
  outDir: string;
  chosen: number;
  analysed: number;
  rejected: Record<string, number>;
  sequences: number;
  /** Execution provider of the model, null without one. */
  provider: string | null;
  /** Seconds of all stages together. */
  seconds: number;
  warnings: string[];
  /** With --colmap: the database and, with --reconstruct, the mapper's result. */
  colmap?: ManifestColmap;
}

export function runSummary(manifest: Manifest, outDir: string): RunSummary {
  return {
    outDir,
    chosen: manifest.counts.chosen,
    analysed: manifest.counts.analysed,
    rejected: manifest.rejected.byReason,
    sequences: manifest.sequences.length,
    provider: manifest.device?.provider ?? null,
    seconds: Object.values(manifest.timings).reduce((a, b) => a + b, 0),
    warnings: manifest.warnings,
    ...(manifest.colmap ? { colmap: manifest.colmap } : {}),
  };
}
